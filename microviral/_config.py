"""JIT options shared by every numba kernel, kept in one place.

``cache=True`` writes compiled machine code next to the sources (or in
``NUMBA_CACHE_DIR``) so a fresh process does not spend seconds compiling.
``fastmath`` stays off: the kernels compare hash bits against probabilities
and must give the same answer as the pure-Python reference.
"""

JIT = dict(nogil=True, cache=True, fastmath=False, boundscheck=False)
PARALLEL_JIT = dict(JIT, parallel=True)

__all__ = ["JIT", "PARALLEL_JIT"]
