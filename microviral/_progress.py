"""When to show a progress bar: one rule for every long-running call.

``progress=None`` means auto: a bar appears once the work left is predicted to
take more than a few seconds and stderr is an interactive terminal; ``True``
forces a bar, ``False`` never shows one.
"""

import sys

from ._validation import check_bool

__all__ = ["check_progress", "wants_bar", "iterate"]

_AUTO_SECONDS = 5.0


def check_progress(progress):
    """``progress`` as None (auto), True or False."""
    return None if progress is None else check_bool(progress, "progress")


def wants_bar(progress, done, total, elapsed):
    """Whether to open a bar now, after ``done`` of ``total`` steps took ``elapsed`` seconds."""
    if progress is not None:
        return progress
    if not done or done >= total:
        return False
    return elapsed / done * (total - done) > _AUTO_SECONDS and sys.stderr.isatty()


def iterate(items, progress, desc, unit):
    """Yield ``items``, with a tqdm bar over them when :func:`wants_bar` says so (opened lazily)."""
    import time

    items = list(items)
    bar = None
    start = time.perf_counter()
    try:
        for done, item in enumerate(items):
            if bar is None and wants_bar(progress, done, len(items), time.perf_counter() - start):
                from tqdm.auto import tqdm

                bar = tqdm(total=len(items), initial=done, desc=desc, unit=unit)
            yield item
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
