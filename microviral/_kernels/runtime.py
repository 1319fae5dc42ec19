"""numba's thread count and the guard around parallel kernel launches, for every caller of a kernel.

numba is imported when one of these is first called, not when this module is
imported, so ``import microviral`` stays fast.
"""

import threading
from contextlib import contextmanager, nullcontext

__all__ = ["parallel_guard", "threads", "num_threads", "max_threads", "parallel_chunksize"]

_WORKQUEUE_LOCK = threading.Lock()


def parallel_guard():
    """Context that serialises parallel kernel launches when numba's threading layer is not thread-safe.

    numba's fallback ``workqueue`` layer aborts the whole process when two Python
    threads launch ``parallel=True`` kernels at once; ``omp`` and ``tbb`` are safe.
    Until the first parallel kernel has run the layer is unknown, so that call is
    serialised too. Every caller of a parallel kernel should launch it inside this.
    """
    import numba

    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet in this process
        layer = None
    return _WORKQUEUE_LOCK if layer in (None, "workqueue") else nullcontext()


def num_threads():
    """numba's current thread count for this Python thread."""
    import numba

    return numba.get_num_threads()


def max_threads():
    """The most threads numba can use in this process (``NUMBA_NUM_THREADS``)."""
    import numba

    return numba.config.NUMBA_NUM_THREADS


@contextmanager
def threads(n_threads):
    """Run the block with ``n_threads`` numba threads (None: leave the setting); yield the count in use.

    The previous setting is restored on exit, also after an error or a KeyboardInterrupt.
    """
    import numba

    if n_threads is None:
        yield numba.get_num_threads()
        return
    old = numba.get_num_threads()
    numba.set_num_threads(n_threads)
    try:
        yield n_threads
    finally:
        numba.set_num_threads(old)


@contextmanager
def parallel_chunksize(size):
    """Run the block with numba's parallel chunk size set to ``size`` (restored on exit)."""
    import numba

    old = numba.set_parallel_chunksize(size)
    try:
        yield
    finally:
        numba.set_parallel_chunksize(old)
