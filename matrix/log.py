"""One logger for the product: plain lines locally, GitHub's workflow commands on Actions.

Like cibuildwheel's logger: progress and notes go to stderr as ``[matrix] ...`` lines,
warnings and errors as ``warning: ...`` / ``error: ...``; on GitHub Actions they become
``::warning::`` / ``::error::`` annotations (shown in the run's summary) and each cell is
a collapsible ``::group::``. ``-q`` keeps warnings and errors only, ``-v`` adds details.
A command's own answer (a table, a list) is not logging: it goes to stdout with
:func:`answer`, whatever the level.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator

QUIET, NORMAL, VERBOSE = -1, 0, 1
_state = {"level": NORMAL, "github": False}


def configure(*, verbosity: int = NORMAL, github_actions: bool = False) -> None:
    """Set the level (``-q`` -1, default 0, ``-v`` 1) and whether to speak to Actions."""
    _state["level"] = max(QUIET, min(VERBOSE, verbosity))
    _state["github"] = github_actions


def info(message: str) -> None:
    """A progress line or note (hidden with ``-q``)."""
    if _state["level"] >= NORMAL:
        _emit(f"[matrix] {message}")


def detail(message: str) -> None:
    """A line only ``-v`` shows."""
    if _state["level"] >= VERBOSE:
        _emit(f"[matrix] {message}")


def warning(message: str) -> None:
    """Something the user should look at; the run goes on."""
    _emit(_command("warning", message) if _state["github"] else f"warning: {message}")


def error(message: str) -> None:
    """Why the command stops, in one sentence."""
    _emit(_command("error", message) if _state["github"] else f"error: {message}")


@contextlib.contextmanager
def group(title: str) -> Iterator[None]:
    """A collapsible section on Actions; a heading line elsewhere."""
    if _state["github"]:
        _emit(f"::group::{_escape(title)}")
        try:
            yield
        finally:
            _emit("::endgroup::")
    else:
        info(title)
        yield


def answer(text: str) -> None:
    """A command's result, on stdout, at every level (its lines kept, escapes shown)."""
    print(printable(text, lines=True), flush=True)


#: What a terminal or a GitHub page would obey rather than show: C0 and C1 controls (ESC
#: starts the sequences that set a title or clear the screen), DEL, and the Unicode
#: controls that reorder or split lines (bidi overrides, line and paragraph separators).
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_BREAKS = re.compile("[\n\t]")


def printable(text: str, *, lines: bool = False) -> str:
    """``text`` with every control character written as its escape (``\\x1b``), so what a
    record, an argument or a file says is shown, never obeyed; ``lines`` keeps newlines
    and tabs (a table, a comment), otherwise they are escaped too (one line, a title)."""
    text = _CONTROL.sub(_escaped, str(text))
    return text if lines else _BREAKS.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _emit(line: str) -> None:
    # Messages may span lines (a resolver's reason); each line is shown, none obeyed.
    print(printable(line, lines=True), file=sys.stderr, flush=True)


def _command(kind: str, message: str) -> str:
    return f"::{kind}::{_escape(message)}"


def _escape(text: str) -> str:
    # Workflow commands end at a newline; GitHub's own escaping keeps a message one command.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
