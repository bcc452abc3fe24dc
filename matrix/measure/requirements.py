"""A pip requirements file, read as pip reads it.

Continuation lines are joined, comments and ``--hash`` options dropped, ``-r`` and ``-c``
files followed (relative to the file that names them; each file once), and other pip
options (an index, ``--pre``) left out: the matrix's own index is used. A user's suite is
installed from these lines (:mod:`matrix.measure.suite`); ``check`` reads a project's pins
from them (:mod:`matrix.search.pins`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path

from packaging.requirements import Requirement

from matrix import masking

_OPTION = re.compile(r"^(-[a-zA-Z]|--[a-z-]+)(?:\s*=\s*|\s+)?(.*)$")
#: ``name @ url``: a named direct reference (PEP 508), unlike a bare URL or path.
_NAMED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@")


@dataclasses.dataclass(frozen=True)
class Line:
    """One requirement of the file (or of a file it names), where it was written."""

    text: str
    source: Path
    number: int
    constraint: bool = False  # from a ``-c`` file
    editable: bool = False  # given with ``-e``

    @property
    def local(self) -> bool:
        """A folder or file to install (``-e``, ``./path``, ``/path``, ``file:``)."""
        return self.editable or self.text.startswith((".", "/", "file:")) or "@ file:" in self.text

    @property
    def named(self) -> bool:
        """A requirement by name (``pytest>=8``, ``x @ https://...``), not a bare URL or path."""
        return not self.local and ("://" not in self.text or bool(_NAMED.match(self.text)))


#: Bytes of one requirements file read at most (pip's own files are a few KB).
MAX_BYTES = 2**20


def read(
    path: Path,
    missing: Callable[[Path], Exception],
    constraint: bool = False,
    seen: set[Path] | None = None,
    root: Path | None = None,
) -> list[Line]:
    """Every requirement line of ``path`` and of the files it names with ``-r`` and ``-c``;
    ``missing(file)`` is raised for a file that does not exist, and an error of the same
    class for a file outside ``root`` (default: the first file's folder), by its path, links
    resolved (``-r /proc/self/environ`` is never read), or one too large to be a list of
    requirements."""
    seen = set() if seen is None else seen
    root = (root or path.parent).resolve()
    if not path.resolve().is_relative_to(root):
        raise type(missing(path))(
            f"{path} is outside {root}: requirement files are read only inside the project "
            "(its content is never shown); copy the file into the project and name it there."
        )
    if not path.is_file():
        raise missing(path)
    if path.resolve() in seen:
        return []
    seen.add(path.resolve())
    if path.stat().st_size > MAX_BYTES:
        raise type(missing(path))(
            f"{path} is larger than {MAX_BYTES // 2**20} MB, too large for a requirements "
            "file; give the project's own requirements or lock file."
        )
    found: list[Line] = []
    for number, raw in _joined(path.read_text(encoding="utf-8", errors="replace")):
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        line = re.sub(r"\s--hash[= ]\S+", "", line).strip()
        option = _OPTION.match(line) if line.startswith("-") else None
        if option:
            flag, value = option.groups()
            if flag in ("-r", "--requirement", "-c", "--constraint"):
                limits = constraint or flag in ("-c", "--constraint")
                found += read(path.parent / value, missing, limits, seen, root)
            elif flag in ("-e", "--editable"):
                found.append(Line(value, path, number, constraint, editable=True))
        elif line:
            found.append(Line(line, path, number, constraint))
    return found


def _joined(text: str) -> list[tuple[int, str]]:
    """The file's logical lines (a line ending in a backslash goes on), each with the number
    of the line it starts on."""
    # The pieces of a logical line are joined once it ends: adding each piece to the text
    # so far copied it again for every continuation line (quadratic: a 1 MB file of
    # backslashes took seconds, and memory many times its size).
    out: list[tuple[int, str]] = []
    start, pieces = 0, []
    for number, raw in enumerate(text.splitlines(), 1):
        if not pieces:
            start = number
        if raw.endswith("\\"):
            pieces += (raw[:-1], " ")
            continue
        pieces.append(raw)
        out.append((start, "".join(pieces)))
        pieces = []
    if pieces:
        out.append((start, "".join(pieces)))
    return out


def quoted(text: str, secrets: frozenset[str] = frozenset(), limit: int = 60) -> str:
    """A line of a user's file as an error message may show it: masked, then cut to
    ``limit`` characters (the console escapes control characters). Masked first: a value
    cut in two is no longer one the console can find and mask."""
    text = masking.mask(text, secrets)
    return text if len(text) <= limit else f"{text[:limit]}…"


def exact_version(requirement: Requirement) -> str | None:
    """The version a requirement pins exactly (``name==1.2.3``), or None for a range, a
    wildcard (``==1.2.*``) or no version."""
    specs = list(requirement.specifier)
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        return specs[0].version
    return None
