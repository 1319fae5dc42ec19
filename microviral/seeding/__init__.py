"""Seeding strategies: which ``k`` nodes to activate first.

Every strategy is called the same way::

    seeds = strategy(graph, k, *, target=None, rng=None, **options)

and returns ``k`` node indices (an int64 array) in selection order, the same for
the same ``rng``; ties go to the lowest node index. :data:`STRATEGIES` maps the
names that :func:`microviral.compare` and the command line accept to these
callables. A name means one thing however it is called: ``STRATEGIES[name]`` *is*
the function ``microviral.seeding.<name>``, so ``get_strategy("imm")(g, k, target=T)``
and ``mv.seeding.imm(g, k, target=T)`` give the same seeds.

=================== ==============================================================
name                seeds
=================== ==============================================================
``random``          uniform over the graph
``random_target``   uniform inside the target
``degree``          highest out-degree
``degree_target``   highest out-degree inside the target
``degree_insiders`` highest number of arcs to other target members, inside the target
``degree_discount`` degree discount (Chen, Wang, Yang 2009), per-arc probabilities
``pagerank``        highest influence PageRank (walk along reversed arcs)
``kcore``           highest coreness, then degree
``celf``            CELF greedy on common worlds: expected activated target members
                    when a target is given, else expected reach
``celf_target``     ``celf`` with the target required
``celf_reach``      CELF greedy on common worlds, expected reach (target ignored)
``imm``             IMM (Tang, Shi, Xiao 2015): expected activated target members
                    (RR roots in the target) when a target is given, else expected reach
``imm_target``      ``imm`` with the target required
``imm_reach``       IMM, expected reach (target ignored)
``opim_c``          OPIM-C (Tang, Tang, Xiao, Yuan 2018): expected activated target
                    members (RR roots in the target) when a target is given, else expected reach
``opim_c_target``   ``opim_c`` with the target required
``opim_c_reach``    OPIM-C, expected reach (target ignored)
=================== ==============================================================

Strategies that do not use the target ignore it; those that need it raise a
``ValueError`` when it is None. The IMM and OPIM-C strategies also take
``backend="dask"`` and ``client`` to keep their RR sets on Dask workers (same seeds
as ``backend="local"``; see :func:`~microviral.seeding.imm`). The ``*_reach`` variants are the global
strategies to compare against targeted ones on the same target: they optimise
reach over the whole graph whatever target the comparison measures.

Examples
--------
>>> import microviral as mv
>>> g = mv.CommunityGraph.from_edges([0, 0, 1], [1, 2, 2], community=["a", "b", "b"])
>>> mv.seeding.get_strategy("degree")(g, 1).tolist()
[0]
>>> sorted(mv.seeding.STRATEGIES)[:3]
['celf', 'celf_reach', 'celf_target']
"""

from . import heuristics
from ._common import check_unused as _check_unused
from .celf import celf
from .heuristics import (
    degree,
    degree_discount,
    degree_insiders,
    degree_target,
    kcore,
    pagerank,
    random,
    random_target,
)
from ._seedset import SeedSet
from .imm import imm, rr_estimate
from .opim import opim_c

__all__ = [
    "STRATEGIES",
    "get_strategy",
    "random",
    "random_target",
    "degree",
    "degree_target",
    "degree_insiders",
    "degree_discount",
    "pagerank",
    "kcore",
    "celf",
    "celf_target",
    "celf_reach",
    "imm",
    "imm_target",
    "imm_reach",
    "opim_c",
    "opim_c_target",
    "opim_c_reach",
    "SeedSet",
    "rr_estimate",
]


def celf_target(graph, k, *, target=None, rng=None, n_runs=200, model="ic"):
    """CELF maximising the expected number of activated ``target`` members (required).

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 0, 0, 4], [1, 2, 3, 5], prob=1.0, community=list("aaaabb"))
    >>> mv.seeding.celf_target(g, 1, target="b", n_runs=5, rng=0).tolist()
    [4]
    """
    if target is None:
        raise ValueError("'target' is required by the 'celf_target' strategy. Got None.")
    return celf(graph, k, target=target, rng=rng, n_runs=n_runs, objective="target", model=model)


def imm_target(graph, k, *, target=None, rng=None, eps=0.1, ell=1.0, fresh=True, model="ic", backend="local",
               client=None):
    """Targeted IMM: maximise the expected number of activated ``target`` members (required).

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 0, 0, 4, 4], [1, 2, 3, 5, 6], prob=0.9, community=list("aaaabbb"))
    >>> mv.seeding.imm_target(g, 1, target="b", rng=0).tolist()
    [4]
    """
    if target is None:
        raise ValueError("'target' is required by the 'imm_target' strategy. Got None.")
    return imm(graph, k, eps=eps, ell=ell, target=target, rng=rng, fresh=fresh, model=model, backend=backend,
               client=client)


def celf_reach(graph, k, *, target=None, rng=None, n_runs=200, model="ic"):
    """CELF maximising expected reach over the whole graph (``target`` accepted and ignored).

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 0, 0, 4], [1, 2, 3, 5], prob=1.0, community=list("aaaabb"))
    >>> mv.seeding.celf_reach(g, 1, target="b", n_runs=5, rng=0).tolist()
    [0]
    """
    _check_unused(graph, target=target)
    return celf(graph, k, rng=rng, n_runs=n_runs, objective="reach", model=model)


def imm_reach(graph, k, *, target=None, rng=None, eps=0.1, ell=1.0, fresh=True, model="ic", backend="local",
              client=None):
    """IMM maximising expected reach over the whole graph (``target`` accepted and ignored).

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 0, 0, 4, 4], [1, 2, 3, 5, 6], prob=0.9, community=list("aaaabbb"))
    >>> mv.seeding.imm_reach(g, 1, target="b", rng=0).tolist()
    [0]
    """
    _check_unused(graph, target=target)
    return imm(graph, k, eps=eps, ell=ell, rng=rng, fresh=fresh, model=model, backend=backend, client=client)


def opim_c_target(graph, k, *, target=None, rng=None, eps=0.1, delta=None, ratio=None, max_rr_sets=None,
                  model="ic", backend="local", client=None):
    """Targeted OPIM-C: maximise the expected number of activated ``target`` members (required).

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 0, 0, 4, 4], [1, 2, 3, 5, 6], prob=0.9, community=list("aaaabbb"))
    >>> mv.seeding.opim_c_target(g, 1, target="b", rng=0).tolist()
    [4]
    """
    if target is None:
        raise ValueError("'target' is required by the 'opim_c_target' strategy. Got None.")
    return opim_c(graph, k, eps=eps, delta=delta, ratio=ratio, target=target, rng=rng, max_rr_sets=max_rr_sets,
                  model=model, backend=backend, client=client)


def opim_c_reach(graph, k, *, target=None, rng=None, eps=0.1, delta=None, ratio=None, max_rr_sets=None,
                 model="ic", backend="local", client=None):
    """OPIM-C maximising expected reach over the whole graph (``target`` accepted and ignored).

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 0, 0, 4, 4], [1, 2, 3, 5, 6], prob=0.9, community=list("aaaabbb"))
    >>> mv.seeding.opim_c_reach(g, 1, target="b", rng=0).tolist()
    [0]
    """
    _check_unused(graph, target=target)
    return opim_c(graph, k, eps=eps, delta=delta, ratio=ratio, rng=rng, max_rr_sets=max_rr_sets, model=model,
                  backend=backend, client=client)


STRATEGIES = {
    "random": random,
    "random_target": random_target,
    "degree": degree,
    "degree_target": degree_target,
    "degree_insiders": degree_insiders,
    "degree_discount": degree_discount,
    "pagerank": pagerank,
    "kcore": kcore,
    "celf": celf,
    "celf_target": celf_target,
    "celf_reach": celf_reach,
    "imm": imm,
    "imm_target": imm_target,
    "imm_reach": imm_reach,
    "opim_c": opim_c,
    "opim_c_target": opim_c_target,
    "opim_c_reach": opim_c_reach,
}
"""Strategy name -> callable ``f(graph, k, *, target=None, rng=None, **options)``."""


def get_strategy(name):
    """Return the strategy registered under ``name``.

    Raises
    ------
    TypeError
        ``name`` is not a string.
    ValueError
        Unknown name; the message lists the known ones.

    Examples
    --------
    >>> import microviral as mv
    >>> mv.seeding.get_strategy("imm_target").__name__
    'imm_target'
    """
    if not isinstance(name, str):
        raise TypeError(f"'strategy' must be a strategy name (str). Got {type(name).__name__} {name!r}.")
    try:
        return STRATEGIES[name]
    except KeyError:
        raise ValueError(f"Unknown strategy {name!r}. Known strategies: {sorted(STRATEGIES)}.") from None

