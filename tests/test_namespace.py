"""The public surface: what ``import microviral as mv`` shows, and module names that mean one thing."""

import importlib
import pkgutil
from pathlib import Path

import microviral as mv


def test_dir_shows_only_the_public_names():
    assert dir(mv) == sorted(mv.__all__)
    assert len(set(mv.__all__)) == len(mv.__all__)
    for name in mv.__all__:
        assert hasattr(mv, name), name
    for hidden in ("graph", "results", "simulation", "compare_module", "_rng", "_kernels", "_validation", "io"):
        assert hidden not in dir(mv)
    assert not [n for n in dir(mv) if n.startswith("_") and n != "__version__"]


def test_no_module_shares_a_name_with_a_public_function():
    modules = {m.name for m in pkgutil.iter_modules(mv.__path__)}
    functions = {n for n in mv.__all__ if callable(getattr(mv, n)) and not isinstance(getattr(mv, n), type)}
    assert not modules & functions, modules & functions   # e.g. `import microviral.simulate` must not exist
    assert not (Path(mv.__file__).parent / "simulate.py").exists()
    assert callable(mv.simulate) and importlib.import_module("microviral.simulation").simulate is mv.simulate
