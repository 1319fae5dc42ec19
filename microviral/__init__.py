"""microviral: independent-cascade simulation measured by penetration of a target community.

Examples
--------
>>> import microviral as mv
>>> g = mv.CommunityGraph.from_edges([0, 1, 2], [1, 2, 3], prob=1.0, community=["a", "a", "b", "b"])
>>> mv.simulate(g, [0], n_runs=4, target="b", rng=0).penetration.tolist()
[1.0, 1.0, 1.0, 1.0]
"""

__version__ = "0.1.0"

from . import probabilities
from .graph import CommunityGraph, DataWarning
from .results import CascadeResult
from .simulation import replay, simulate

__all__ = [
    "CommunityGraph",
    "CascadeResult",
    "DataWarning",
    "probabilities",
    "simulate",
    "__version__",
]

# Each block below belongs to one module; extend only your own block.
# [io]
from .io import read_communities, read_edgelist, write_communities, write_edgelist

__all__ += ["read_edgelist", "read_communities", "write_edgelist", "write_communities"]
# [generators]
from . import generators
from .generators import lfr, niche_in_background, planted_partition, stochastic_block_model

__all__ += ["generators", "stochastic_block_model", "planted_partition", "lfr", "niche_in_background"]
# [datasets]
from . import datasets

__all__ += ["datasets"]
# [seeding]
from . import seeding
__all__ += ["seeding"]
# [compare]
from .comparison import compare
__all__ += ["compare"]
# [plot]
from . import plot
__all__ += ["plot"]
# [rng]
from ._rng import rng_from_record, rng_record

__all__ += ["replay", "rng_record", "rng_from_record"]
# [distributed]
from . import distributed  # dask itself is imported lazily, only when the Dask backend is used

__all__ += ["distributed"]
# [results]
from .results import metric_view

__all__ += ["metric_view"]
# [anatomy]
from .anatomy import Cascade
from .tracing import trace

__all__ += ["Cascade", "trace"]


def __dir__():
    """The public names only: private modules and submodules imported along the way stay hidden."""
    return sorted(__all__)
