"""Shared pytest configuration: hypothesis profiles and the optional shared data folder.

Two profiles, both with ``deadline=None`` (the first call of a numba kernel compiles):

- ``default``: a few hundred examples per fuzz strategy, derandomized (the same examples on every run, so
  CI is deterministic); the whole fuzz suite stays
  well under a minute on two cores.
- ``fuzz``: thousands of examples per strategy, for a long hunt
  (``pytest tests/test_fuzz.py --fuzz`` or ``HYPOTHESIS_PROFILE=fuzz pytest ...``).

Tests that want an explicit example count scale it with :func:`examples`.
"""

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# The project's shared data folder (``../shared/datasets`` beside the clone, or MICROVIRAL_DATASETS). A fresh clone
# has none: the tests that compare against it skip, saying so; everything else uses the bundled or generated data.
SHARED_DATASETS = Path(os.environ.get("MICROVIRAL_DATASETS",
                                      Path(__file__).resolve().parents[2] / "shared" / "datasets"))

_SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]

settings.register_profile("default", max_examples=100, deadline=None, suppress_health_check=_SUPPRESS, derandomize=True,
                          print_blob=True)
settings.register_profile("fuzz", max_examples=3000, deadline=None, suppress_health_check=_SUPPRESS,
                          print_blob=True)


def pytest_addoption(parser):
    parser.addoption("--fuzz", action="store_true", default=False,
                     help="run hypothesis tests with the 'fuzz' profile (thousands of examples per strategy)")


def pytest_configure(config):
    profile = "fuzz" if config.getoption("--fuzz", default=False) else os.environ.get("HYPOTHESIS_PROFILE", "default")
    settings.load_profile(profile)


@pytest.fixture
def shared_datasets():
    """The shared data folder, or a skip naming where it was looked for."""
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"no shared data folder at {SHARED_DATASETS} (a clone alone has none; set MICROVIRAL_DATASETS "
                    f"to compare against a copy)")
    return SHARED_DATASETS


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of 2 single-threaded worker processes, one per test module that asks for it."""
    pytest.importorskip("distributed")
    from microviral.distributed import _local_cluster

    lc = _local_cluster(2, 1)
    try:
        yield lc
    finally:
        lc.close()


@pytest.fixture(scope="module")
def client(cluster):
    """A client of :func:`cluster`, once both workers are up."""
    from distributed import Client

    c = Client(cluster)
    try:
        c.wait_for_workers(2, timeout=60)
        yield c
    finally:
        c.close()


def examples(n_default):
    """Example count for a test: ``n_default`` under the default profile, 15x that under ``fuzz``."""
    return n_default * 15 if settings().max_examples >= 1000 else n_default
