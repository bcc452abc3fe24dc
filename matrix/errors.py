"""One error class per exit code, each with a message that says what to do next.

Like cibuildwheel's ``errors.py``: the CLI catches :class:`MatrixError`, prints its one
sentence and exits with its ``return_code``; nothing else turns into a traceback.

Two codes are answers, not errors, and have no class: ``check`` exits 1 when the pins are
measured bad and 8 when no record answers for them (``matrix.search.check``).
"""

from __future__ import annotations

import errno


class MatrixError(Exception):
    """Base of the errors a user can fix; ``str(error)`` is the sentence to print."""

    return_code = 1


class ConfigError(MatrixError):
    """The matrix definition (TOML) is wrong: unknown key, distribution or version."""

    return_code = 2


class NothingToDo(MatrixError):
    """The selection matched no cell: a run that does nothing must not look green."""

    return_code = 3


class SnapshotError(MatrixError):
    """The releases snapshot (``MATRIX_RELEASES``) is missing, unreadable or not a snapshot:
    nothing can be planned or answered from it. A code of its own: what to do is not to fix
    a definition but to take the snapshot again (``loop-compat releases``) or point
    ``MATRIX_RELEASES`` at one."""

    return_code = 4


class EarlierResultsError(MatrixError):
    """Earlier results (a previous run's folder, ``results.jsonl``, a published
    ``results.json`` or ``summary.json``) are missing, unreadable or malformed. Commands
    that compare with them stop (exit 9: give results this version wrote, or leave the
    option out); those for which they are context (the page's changes, carrying results
    over) say so once and go on."""

    return_code = 9

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing  # nothing there at all: a first run has no previous one


class IndexUnreachable(MatrixError):
    """The package index could not be reached, so nothing could be resolved."""

    return_code = 5


class OutputError(MatrixError):
    """The results or site folder cannot be written: not a folder, read-only, disk full."""

    return_code = 7
    #: errno values that mean "this machine cannot take the output", never a defect here.
    ERRNOS = frozenset(
        {
            errno.ENOSPC,
            errno.EDQUOT,
            errno.EROFS,
            errno.EACCES,
            errno.EPERM,
            errno.ENOTDIR,
            errno.EEXIST,
            errno.EISDIR,
        }
    )

    @classmethod
    def from_os_error(
        cls, exc: OSError, doing: str, kept: str = "everything written before is kept"
    ) -> OutputError:
        """One sentence for a failed write while ``doing`` (e.g. "writing the site")."""
        where = f" ({exc.filename})" if exc.filename else ""
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return cls(
                f"no space left on the device while {doing}{where}; free some space "
                f"and rerun: {kept}."
            )
        if exc.errno in (errno.ENOTDIR, errno.EEXIST):
            return cls(
                f"{exc.filename or 'a path'} is a file where a folder is needed while "
                f"{doing}; point MATRIX_OUT (or --site) at a folder: {kept}."
            )
        return cls(
            f"{exc.filename or 'the output'} cannot be written ({exc.strerror}) while "
            f"{doing}; make it writable or point MATRIX_OUT at another folder: {kept}."
        )
