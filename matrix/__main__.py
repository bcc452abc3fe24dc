"""``python -m matrix``: the same commands as ``loop-compat`` (see :mod:`matrix.cli`)."""

from matrix.cli import entry, main

__all__ = ["entry", "main"]

if __name__ == "__main__":
    entry()
