"""The failure-signature catalogue and the classifier that turns failures into outcomes.

A *loop-conflict* signature is one of the ways the Playwright sync API's running loop
breaks pytest-asyncio; those make a scenario a ``bug``, but only when the control
scenario (the async tests alone, same environment) does not fail the same way. Every
other failure gets a normalised signature (exception type and message, with paths,
addresses and numbers stripped) so that equal causes group together.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence

from matrix.record import Outcome


@dataclasses.dataclass(frozen=True, kw_only=True)
class Signature:
    """A known failure, recognised by a regular expression over the failure text."""

    id: str
    pattern: re.Pattern[str]
    meaning: str
    loop_conflict: bool = True
    infra: bool = False


def _sig(id: str, pattern: str, meaning: str, **kw: bool) -> Signature:
    return Signature(id=id, pattern=re.compile(pattern), meaning=meaning, **kw)


CATALOGUE: tuple[Signature, ...] = (
    _sig("sync-api-in-asyncio", r"using Playwright Sync API inside the asyncio loop",
         "Playwright's sync API was started while an asyncio loop was running in the thread."),
    _sig("loop-already-running", r"This event loop is already running",
         "pytest-asyncio asked for the thread's loop and got Playwright's, which is marked "
         "running; running it again is refused."),
    _sig("loop-another-running", r"Cannot run the event loop while another loop is running",
         "pytest-asyncio tried to run its own loop while Playwright's loop is marked as the "
         "thread's running loop."),
    _sig("runner-in-running-loop", r"Runner\.run\(\) cannot be called from a running event loop",
         "pytest-asyncio (asyncio.Runner based releases) refuses to start while Playwright's "
         "loop is marked running."),
    _sig("asyncio-run-in-running-loop",
         r"asyncio\.run\(\) cannot be called from a running event loop",
         "asyncio.run() refuses to start while Playwright's loop is marked running."),
    _sig("different-loop", r"attached to a different loop",
         "A future or task made on one loop was awaited on another."),
    _sig("close-running-loop", r"Cannot close a running event loop",
         "pytest-asyncio tried to close the thread's loop at teardown and found Playwright's, "
         "which is marked running."),
    _sig("loop-closed", r"Event loop is closed",
         "A loop was used after it was closed (Playwright's at its exit, or pytest-asyncio's)."),
    _sig("browser-missing", r"Executable doesn't exist at|Host system is missing dependencies",
         "Playwright could not find or start a browser on this machine.",
         loop_conflict=False, infra=True),
)

_NOISE = (
    (re.compile(r"(?:[A-Za-z]:)?(?:/[\w.@+~-]+){2,}/?"), "<path>"),
    (re.compile(r"0x[0-9a-fA-F]+"), "<addr>"),
    (re.compile(r"\b\d+(?:\.\d+)*\b"), "N"),
    (re.compile(r"\s+"), " "),
)
_WRAPPER = re.compile(r'^failed on (?:setup|teardown|call) with "(.*)"$', re.S)
MAX_SIGNATURE = 160
MAX_MESSAGE = 300


def match(text: str) -> Signature | None:
    """The first catalogue entry whose pattern occurs in ``text``."""
    for sig in CATALOGUE:
        if sig.pattern.search(text):
            return sig
    return None


def first_line(message: str) -> str:
    """The first distinctive line of a failure message, as the user would see it."""
    message = _WRAPPER.sub(r"\1", message.strip())
    for line in message.splitlines():
        line = line.strip()
        if line:
            return line[:MAX_MESSAGE]
    return ""


def normalise(message: str) -> str:
    """A signature for an unknown failure: equal causes give equal strings."""
    text = first_line(message)
    for pattern, repl in _NOISE:
        text = pattern.sub(repl, text)
    return text.strip()[:MAX_SIGNATURE] or "unknown failure"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Failure:
    """One failing test (or a whole-run failure when ``test`` is empty)."""

    test: str
    message: str
    text: str = ""  # the traceback or log excerpt, searched when the message says too little

    @property
    def known(self) -> Signature | None:
        return match(self.message) or match(self.text)

    @property
    def signature(self) -> str:
        known = self.known
        return known.id if known else normalise(self.message or self.text)

    @property
    def line(self) -> str:
        known = self.known
        if known and not known.pattern.search(self.message):
            # the message is a wrapper; show the line that carries the signature
            for line in self.text.splitlines():
                if known.pattern.search(line):
                    return first_line(line.lstrip("E "))
        return first_line(self.message or self.text)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Verdict:
    """The classifier's answer for one scenario."""

    outcome: Outcome
    signature: str | None = None
    message: str | None = None
    control_signature: str | None = None


def classify(failures: Sequence[Failure], control: Iterable[Failure] = ()) -> Verdict:
    """Outcome, signature and message for a scenario, given the control's failures.

    A loop-conflict failure is a ``bug`` only if the control does not show the same
    signature for the same test: failures of pytest x pytest-asyncio by themselves are
    never blamed on Playwright.
    """
    control = list(control)
    control_sig = control[0].signature if control else None
    if not failures:
        return Verdict(outcome=Outcome.PASS, control_signature=control_sig)
    seen_in_control = {(f.test, f.signature) for f in control}
    for failure in failures:
        known = failure.known
        if known and known.infra:
            return Verdict(outcome=Outcome.INFRA, signature=known.id, message=failure.line,
                           control_signature=control_sig)
    for failure in failures:
        known = failure.known
        if known and known.loop_conflict and (failure.test, known.id) not in seen_in_control:
            return Verdict(outcome=Outcome.BUG, signature=known.id, message=failure.line,
                           control_signature=control_sig)
    first = failures[0]
    return Verdict(outcome=Outcome.FAIL, signature=first.signature, message=first.line,
                   control_signature=control_sig)
