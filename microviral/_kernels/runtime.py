"""numba's thread count and the guard around parallel kernel launches, for every caller of a kernel.

numba is imported when one of these is first called, not when this module is
imported, so ``import microviral`` stays fast.
"""

import os
import threading
import types
from contextlib import contextmanager, nullcontext

__all__ = ["parallel_guard", "threads", "num_threads", "max_threads", "parallel_chunksize", "threading_layer",
           "serial", "run_parts"]

_WORKQUEUE_LOCK = threading.Lock()
_LAYER_ENV = ("NUMBA_THREADING_LAYER", "NUMBA_THREADING_LAYER_PRIORITY")
_layer_chosen = False
_SERIAL = {}
_SERIAL_LOCK = threading.Lock()


def _numba():
    """numba, with a fork-safe threading layer requested before its thread pool first starts.

    numba's default priority puts GNU OpenMP before its own ``workqueue`` pool, and
    numba's OpenMP layer kills every child ``fork()``-ed after a parallel region
    (``multiprocessing``'s default start method on Linux, joblib, many notebook
    tools), after which a ``Pool`` hangs. ``"forksafe"`` picks TBB when it is
    installed, else OpenMP where it is not GNU's, else ``workqueue``. A layer the
    user chose (the ``NUMBA_THREADING_LAYER*`` variables, or ``numba.config`` set
    before microviral's first parallel call) is left alone, and once the pool has
    started it cannot change.
    """
    global _layer_chosen
    import numba

    if not _layer_chosen:
        _layer_chosen = True
        user_choice = any(os.environ.get(name) for name in _LAYER_ENV) or numba.config.THREADING_LAYER != "default"
        if not user_choice and not _pool_started(numba):
            numba.config.THREADING_LAYER = "forksafe"
    return numba


def _pool_started(numba):
    try:
        numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet in this process
        return False
    return True


def threading_layer():
    """The threading layer numba runs parallel kernels on (None until the first parallel kernel has run)."""
    numba = _numba()
    return numba.threading_layer() if _pool_started(numba) else None


def parallel_guard():
    """Context that serialises parallel kernel launches when numba's threading layer is not thread-safe.

    numba's fallback ``workqueue`` layer aborts the whole process when two Python
    threads launch ``parallel=True`` kernels at once; ``omp`` and ``tbb`` are safe.
    Until the first parallel kernel has run the layer is unknown, so that call is
    serialised too. Every caller of a parallel kernel should launch it inside this.
    """
    layer = threading_layer()
    return _WORKQUEUE_LOCK if layer in (None, "workqueue") else nullcontext()


def num_threads():
    """numba's current thread count for this Python thread."""
    numba = _numba()

    return numba.get_num_threads()


def max_threads():
    """The most threads numba can use in this process (``NUMBA_NUM_THREADS``)."""
    numba = _numba()

    return numba.config.NUMBA_NUM_THREADS


@contextmanager
def threads(n_threads):
    """Run the block with ``n_threads`` numba threads (None: leave the setting); yield the count in use.

    The previous setting is restored on exit, also after an error or a KeyboardInterrupt.
    """
    numba = _numba()

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
    numba = _numba()

    old = numba.set_parallel_chunksize(size)
    try:
        yield
    finally:
        numba.set_parallel_chunksize(old)


def serial(kernel):
    """``kernel`` (a ``parallel=True`` dispatcher) compiled without ``parallel``: its ``prange`` loops run on the calling thread.

    Same code, same results; used for calls too short to gain from a second thread, where starting a parallel
    region costs more than the work (about 0.1 ms per launch on the fork-safe ``workqueue`` layer, 4x ``omp``'s).
    The twin has its own name, so numba caches it beside the parallel version instead of over it.
    """
    twin = _SERIAL.get(kernel)
    if twin is None:
        with _SERIAL_LOCK:
            twin = _SERIAL.get(kernel)
            if twin is None:
                from .._config import JIT

                numba = _numba()
                f = kernel.py_func
                g = types.FunctionType(f.__code__, f.__globals__, f.__name__ + "_serial", f.__defaults__,
                                       f.__closure__)
                g.__qualname__ = f.__qualname__ + "_serial"
                g.__module__ = f.__module__
                g.__doc__ = f.__doc__
                twin = _SERIAL[kernel] = numba.njit(**JIT)(g)
    return twin


def run_parts(part, n_parts):
    """Call ``part(i)`` for every ``i < n_parts`` at once: ``part(0)`` on this thread, the others on new threads.

    For serial numba kernels compiled with ``nogil=True``, which then run side by
    side, each on its own slice of the work. Nothing outlives the call, so a later
    ``fork()`` is safe, and the calling thread works too: a 2-thread ``prange`` kernel
    on the fork-safe ``workqueue`` layer, launched between bouts of Python work, often
    ran no faster than one thread (both workers on one core while the caller waited;
    OPIM-C on NetHEPT: 35 ms either way, 24 ms with ``omp`` or ``tbb``). The first
    exception a part raised is raised again once every part has ended.
    """
    if n_parts <= 1:
        part(0)
        return
    errors = [None] * n_parts

    def run(i):
        try:
            part(i)
        except BaseException as exc:  # noqa: B036 - handed to the calling thread
            errors[i] = exc

    helpers = [threading.Thread(target=run, args=(i,), name=f"microviral-part-{i}", daemon=True)
               for i in range(1, n_parts)]
    for helper in helpers:
        helper.start()
    run(0)
    for helper in helpers:
        helper.join()
    for exc in errors:
        if exc is not None:
            raise exc
