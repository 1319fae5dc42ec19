"""SeedSet: the seeds an algorithm chose, plus what it certified about them."""

import numpy as np

__all__ = ["SeedSet"]


class SeedSet(np.ndarray):
    """Seeds (int64 node indices, in selection order) carrying the algorithm's report in ``info``.

    A SeedSet is an ordinary 1-d ``int64`` array everywhere an array is expected
    (``simulate``, ``compare``, indexing, ``tolist()``); :func:`~microviral.seeding.imm`
    and :func:`~microviral.seeding.opim_c` return one so that the guarantee travels
    with the seeds instead of needing a second return value. Slices and arithmetic
    give plain arrays: the report is about the whole set.

    Attributes
    ----------
    info : dict
        What the algorithm measured and certified (keys documented by each algorithm).
    certified_ratio : float or None
        ``info["certified_ratio"]``: with the algorithm's stated probability, the
        expected value of these seeds is at least this fraction of the optimum.

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 0, 0, 4, 4], [1, 2, 3, 5, 6], prob=0.9)
    >>> seeds = mv.seeding.opim_c(g, 1, rng=0)
    >>> seeds.tolist(), 0.5 < seeds.certified_ratio <= 1.0
    ([0], True)
    >>> type(seeds[:1]).__name__
    'ndarray'
    """

    def __new__(cls, seeds, info=None):
        obj = np.asarray(seeds, dtype=np.int64).view(cls)
        obj.info = dict(info or {})
        return obj

    def __array_finalize__(self, obj):
        self.info = getattr(obj, "info", {})

    def __getitem__(self, item):
        return self.view(np.ndarray)[item]

    def __array_wrap__(self, arr, context=None, return_scalar=False):
        out = np.asarray(arr).view(np.ndarray)
        return out[()] if return_scalar else out

    def __reduce__(self):
        return (SeedSet, (self.view(np.ndarray).copy(), self.info))

    def __repr__(self):
        return f"SeedSet({self.view(np.ndarray).tolist()!r})"

    @property
    def certified_ratio(self):
        return self.info.get("certified_ratio")
