"""``python -m microviral``: the same command line as ``microviral``."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
