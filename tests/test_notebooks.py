"""Execute every notebook in notebooks/ so they never rot.

Marked ``notebooks``: ``pytest -m notebooks`` runs only these, ``pytest -m "not notebooks"`` skips them;
a plain ``pytest`` runs them too. Run counts come from each notebook's parameter cell (small by default).
"""

import os
import sys
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))

pytestmark = pytest.mark.notebooks


def test_notebooks_present():
    names = [p.name for p in PATHS]
    assert names == ["01_quickstart.ipynb", "02_comparing_strategies.ipynb", "03_real_data.ipynb",
                     "04_resonance.ipynb", "05_dask.ipynb", "06_anatomy.ipynb",
                     "07_ic_vs_lt.ipynb"]


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_committed_without_outputs(path):
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: strip the outputs"
    assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells), f"{path.name}: no parameter cell"


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_executes(path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    # The kernel spec installed by ipykernel runs "python" from PATH: make that this interpreter, so the
    # kernel sees the same environment (microviral installed) whether or not the venv is activated.
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.delenv("MICROVIRAL_NB_RUNS", raising=False)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
