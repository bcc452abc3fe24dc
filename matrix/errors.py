"""One error class per exit code, each with a message that says what to do next.

Like cibuildwheel's ``errors.py``: the CLI catches :class:`MatrixError`, prints its one
sentence and exits with its ``return_code``; nothing else turns into a traceback.
"""

from __future__ import annotations


class MatrixError(Exception):
    """Base of the errors a user can fix; ``str(error)`` is the sentence to print."""

    return_code = 1


class ConfigError(MatrixError):
    """The matrix definition (TOML) is wrong: unknown key, distribution or version."""

    return_code = 2


class NothingToDo(MatrixError):
    """The selection matched no cell: a run that does nothing must not look green."""

    return_code = 3


class IndexUnreachable(MatrixError):
    """The package index could not be reached, so nothing could be resolved."""

    return_code = 5
