"""Refusing up front what would not fit in memory: one check shared by the graph, the engine and seeding."""

import os

__all__ = ["check_memory"]

_MEMORY_FRACTION = 0.5


def _available_memory():
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:  # psutil is optional
        try:
            return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            return 8 * 2**30


def check_memory(n_bytes, what, hint="ask for fewer runs or rounds"):
    """Refuse up front a request whose outputs would not fit in memory."""
    limit = _MEMORY_FRACTION * _available_memory()
    if n_bytes > limit:
        raise MemoryError(
            f"{what} would need about {n_bytes / 2**30:.2f} GiB, more than half of the "
            f"{limit / _MEMORY_FRACTION / 2**30:.2f} GiB available; {hint}."
        )
