"""MkDocs hook: run the notebooks with the Python that runs MkDocs.

The ``python3`` kernel spec that ipykernel installs starts ``python`` from PATH; putting this interpreter's
folder first makes the build work without an activated virtual environment (``.venv/bin/mkdocs build``).
"""

import os
import sys


def on_config(config):
    folder = os.path.dirname(sys.executable)
    path = os.environ.get("PATH", "")
    if not path.startswith(folder + os.pathsep):
        os.environ["PATH"] = folder + os.pathsep + path
    return config
