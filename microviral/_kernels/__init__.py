"""numba kernels: the only package that imports numba.

Kernels take contiguous typed arrays and scalars, do no validation and never
call ``np.random``; randomness comes from a stateless hash of (key, arc).
"""
