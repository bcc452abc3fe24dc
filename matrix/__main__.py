"""``python -m matrix``: the same commands as ``loop-compat`` (see :mod:`matrix.cli`)."""

import sys

from matrix.cli import main

if __name__ == "__main__":
    sys.exit(main())
