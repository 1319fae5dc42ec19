"""Output files that appear whole: one file atomically, or a set of files all together or not at all.

A file is written to a temporary file in its own folder, synced, then renamed over its path with
:func:`os.replace` (atomic on POSIX and Windows), so a reader sees the old content or the new, never a part.
A *set* of files (one command's outputs) is first written completely to temporary files; the renames then
run with SIGINT, SIGTERM and SIGHUP deferred, so an interrupt arriving during the renames takes effect only
once every file is in place. Until then any interrupt or error removes every temporary file and leaves the
previous outputs untouched. Only what no process can catch (SIGKILL, a power cut) can stop the renames half
way; the manifest that the command line writes last lets a reader tell that case (see ``microviral.cli``).
"""

import contextlib
import os
import signal
import tempfile
import time

__all__ = ["write_atomic", "write_set", "terminate_raises", "Terminated"]

_HELD = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))

# A test hook: "STAGE:READY:GO" makes write_set create the file READY at STAGE ("temps": every temporary file
# written, nothing renamed; "renames": half the files renamed, signals held) and wait (at most 60 s) until the
# file GO exists, so a test can send a signal at that exact point. Unset in normal use.
_HOOK_ENV = "MICROVIRAL_TEST_OUTPUT_HOOK"


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_temp(path, write):
    """Write ``path``'s content to a synced temporary file beside it; return the temporary path."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual permissions
    except BaseException:
        _remove(tmp)
        raise
    return tmp


def _remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def write_atomic(path, write):
    """Write a file atomically: ``write(f)`` fills a temporary file beside ``path``, then it is renamed.

    A reader never sees a half-written file, and an interrupted write leaves no
    partial file behind. Missing parent folders are created.

    Parameters
    ----------
    path : str or os.PathLike
    write : callable
        Called with a binary file object open for writing.

    Returns
    -------
    str
        ``path``.

    Examples
    --------
    >>> import os, tempfile
    >>> from microviral.demo import write_atomic
    >>> path = os.path.join(tempfile.mkdtemp(), "sub", "x.txt")
    >>> _ = write_atomic(path, lambda f: f.write(b"hello"))
    >>> open(path).read(), os.listdir(os.path.dirname(path))
    ('hello', ['x.txt'])
    """
    path = os.fspath(path)
    tmp = _write_temp(path, write)
    try:
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise
    return path


@contextlib.contextmanager
def _signals_held():
    """Defer SIGINT/SIGTERM/SIGHUP until the block ends, then deliver the first one that came.

    Python runs signal handlers in the main thread whichever thread the signal
    hit (numba's worker threads included), so swapping the Python-level handlers
    holds a signal back reliably where an OS signal mask of one thread would not.
    Outside the main thread handlers cannot be swapped and nothing is deferred.
    """
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending = []
    old = {}
    try:
        for sig in _HELD:
            current = signal.getsignal(sig)
            if current not in (signal.SIG_IGN, None):
                old[sig] = signal.signal(sig, lambda signum, frame: pending.append(signum))
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        if pending:
            signal.raise_signal(pending[0])


def _hook(stage):
    spec = os.environ.get(_HOOK_ENV)
    if not spec:
        return
    want, ready, go = spec.split(":")
    if want != stage:
        return
    open(ready, "w").close()
    deadline = time.monotonic() + 60
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.01)


def write_set(files, remove=()):
    """Write several files so that they appear all together or not at all.

    Parameters
    ----------
    files : dict
        Path -> ``write(f)`` callable (as for :func:`write_atomic`), in the order
        the files are renamed into place (put a manifest last).
    remove : iterable of paths
        Files of an earlier run that this set does not include (they are removed
        with the renames, so no stale file sits beside the new set).

    Returns
    -------
    list of str
        The paths written.

    Examples
    --------
    >>> import os, tempfile
    >>> from microviral._outputs import write_set
    >>> d = tempfile.mkdtemp()
    >>> paths = write_set({os.path.join(d, "a.csv"): lambda f: f.write(b"x\\n1\\n"),
    ...                    os.path.join(d, "a.json"): lambda f: f.write(b"{}")})
    >>> sorted(os.listdir(d))
    ['a.csv', 'a.json']
    """
    temps = {}
    try:
        for path, write in files.items():
            temps[os.fspath(path)] = _write_temp(path, write)
        _hook("temps")
        with _signals_held():
            for i, (path, tmp) in enumerate(temps.items()):
                if i == len(temps) // 2:
                    _hook("renames")
                os.replace(tmp, path)
                temps[path] = None
            for path in remove:
                _remove(path)
    finally:
        for tmp in temps.values():
            if tmp is not None:
                _remove(tmp)
    return list(temps)


class Terminated(BaseException):
    """Raised in the main thread on SIGTERM or SIGHUP, so that ``finally`` blocks clean up as for Ctrl-C."""


@contextlib.contextmanager
def terminate_raises():
    """Within this context SIGTERM and SIGHUP raise :class:`Terminated` (only in the main thread)."""
    import threading

    names = [name for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated(signum)

    old = {}
    try:
        for name in names:
            sig = getattr(signal, name)
            old[sig] = signal.signal(sig, handler)
        yield
    finally:
        for sig, previous in old.items():
            signal.signal(sig, previous)
