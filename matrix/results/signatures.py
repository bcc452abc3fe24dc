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

from matrix.results.record import Outcome


@dataclasses.dataclass(frozen=True, kw_only=True)
class Signature:
    """A known failure, recognised by a regular expression over the failure text."""

    id: str
    pattern: re.Pattern[str]
    example: str  # the line as the user sees it in pytest's output
    meaning: str
    fixes: tuple[str, ...] = ()
    loop_conflict: bool = True
    infra: bool = False


ASYNC_FIX = "use pytest-playwright-asyncio (async tests and e2e tests share one session loop)"
PROCESS_FIX = "run the e2e tests in a separate pytest process from the async tests"
_LOOP_FIXES = (ASYNC_FIX, PROCESS_FIX)


def _sig(
    id: str,
    pattern: str,
    example: str,
    meaning: str,
    fixes: tuple[str, ...] = _LOOP_FIXES,
    **kw: bool,
) -> Signature:
    return Signature(
        id=id, pattern=re.compile(pattern), example=example, meaning=meaning, fixes=fixes, **kw
    )


CATALOGUE: tuple[Signature, ...] = (
    _sig(
        "sync-api-in-asyncio",
        r"using Playwright Sync API inside the asyncio loop",
        "Error: It looks like you are using Playwright Sync API inside the asyncio loop",
        "Playwright's sync API was started while an asyncio loop was running in the thread, "
        "e.g. an async test that uses the sync page fixture.",
        ("use Playwright's async API (pytest-playwright-asyncio) from async tests",),
    ),
    _sig(
        "loop-already-running",
        r"This event loop is already running",
        "RuntimeError: This event loop is already running",
        "pytest-asyncio ran the test on asyncio.get_event_loop(), which returns Playwright's "
        "loop: the sync API marked it as the thread's running loop, so it cannot run again.",
    ),
    _sig(
        "loop-another-running",
        r"Cannot run the event loop while another loop is running",
        "RuntimeError: Cannot run the event loop while another loop is running",
        "pytest-asyncio ran its own loop with run_until_complete while Playwright's loop is "
        "still registered as the thread's running loop.",
    ),
    _sig(
        "runner-in-running-loop",
        r"Runner\.run\(\) cannot be called from a running event loop",
        "RuntimeError: Runner.run() cannot be called from a running event loop",
        "Releases of pytest-asyncio built on asyncio.Runner refuse to start a test or fixture "
        "while Playwright's loop is marked running.",
    ),
    _sig(
        "asyncio-run-in-running-loop",
        r"asyncio\.run\(\) cannot be called from a running event loop",
        "RuntimeError: asyncio.run() cannot be called from a running event loop",
        "Code that calls asyncio.run() after a sync Playwright test finds Playwright's loop "
        "marked running.",
        (PROCESS_FIX, "use Playwright's async API instead of asyncio.run() around sync code"),
    ),
    _sig(
        "close-running-loop",
        r"Cannot close a running event loop",
        "RuntimeError: Cannot close a running event loop",
        "pytest-asyncio tried to close the thread's loop at teardown and found Playwright's, "
        "which is marked running.",
    ),
    _sig(
        "different-loop",
        r"attached to a different loop",
        "RuntimeError: ... attached to a different loop",
        "Playwright's objects were made on one loop and awaited on another: with the async "
        "plugin, tests ran on a function-scoped loop while Playwright lives on the session loop.",
        ("set asyncio_default_test_loop_scope and asyncio_default_fixture_loop_scope to session",),
    ),
    _sig(
        "loop-closed",
        r"Event loop is closed",
        "RuntimeError: Event loop is closed",
        "Playwright closes its own loop when it stops; a test or fixture that kept (or was "
        "handed) that loop later finds it closed.",
    ),
    _sig(
        "both-plugins",
        r"option names \{[^}]*'--browser'[^}]*\} already added",
        "ValueError: option names {'--browser'} already added",
        "pytest-playwright and pytest-playwright-asyncio are both installed: each registers "
        "the same command-line options (--browser, ...), so pytest refuses to start.",
        ("uninstall one of the two plugins (pytest-playwright-asyncio alone for async tests)",),
        loop_conflict=False,
    ),
    _sig(
        "coroutine-never-awaited",
        r"coroutine '[^']*' was never awaited",
        "RuntimeWarning: coroutine 'test_page' was never awaited",
        "A coroutine was made and never awaited: an async test or fixture ran where nothing "
        "awaits it (an async def test on the sync plugin's page, or without pytest-asyncio), "
        "so it passed without running its browser code (a hollow pass).",
        (
            "write browser tests as async def with the asyncio marker on "
            "pytest-playwright-asyncio, or keep them sync on pytest-playwright",
        ),
        loop_conflict=False,
    ),
    _sig(
        "browser-missing",
        r"Executable doesn't exist at|Host system is missing dependencies",
        "Error: BrowserType.launch: Executable doesn't exist at ...",
        "Playwright could not find or start a browser on this machine.",
        ("install Chromium (Debian: apt-get install chromium) or set MATRIX_CHROMIUM",),
        loop_conflict=False,
        infra=True,
    ),
)
BY_ID = {sig.id: sig for sig in CATALOGUE}

_NOISE = (
    (re.compile(r"(?:[A-Za-z]:)?(?:/[\w.@+~-]+){2,}/?"), "<path>"),
    (re.compile(r"0x[0-9a-fA-F]+"), "<addr>"),
    (re.compile(r"\b\d+(?:\.\d+)*\b"), "N"),
    (re.compile(r"\s+"), " "),
)
_WRAPPER = re.compile(r'^failed on (?:setup|teardown|call) with "(.*)"$', re.S)
MAX_SIGNATURE = 160  # characters of a normalised signature
MAX_LINE = 300  # characters of the first distinctive line of a failure message
MIN_OVERLAP = 20  # characters: shorter texts contained in a signature prove nothing


def export() -> dict:
    """The catalogue and the normalisation as data, for the page's script to recognise a
    pasted error the same way (the patterns use no syntax JavaScript lacks)."""
    return {
        "catalogue": [
            {
                "id": sig.id,
                "pattern": sig.pattern.pattern,
                "example": sig.example,
                "meaning": sig.meaning,
                "fixes": list(sig.fixes),
                "loop_conflict": sig.loop_conflict,
            }
            for sig in CATALOGUE
        ],
        "noise": [[pattern.pattern, repl] for pattern, repl in _NOISE],
        "max_signature": MAX_SIGNATURE,
        "min_overlap": MIN_OVERLAP,
    }


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
            return line[:MAX_LINE]
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
    hollow: tuple[str, ...] = ()  # a hollow pass: "test id: why" for each test
    hang: dict[str, str] | None = None  # for a timeout: the test and phase it hung in


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
            return Verdict(
                outcome=Outcome.INFRA,
                signature=known.id,
                message=failure.line,
                control_signature=control_sig,
            )
    for failure in failures:
        known = failure.known
        if known and known.loop_conflict and (failure.test, known.id) not in seen_in_control:
            return Verdict(
                outcome=Outcome.BUG,
                signature=known.id,
                message=failure.line,
                control_signature=control_sig,
            )
    first = failures[0]
    return Verdict(
        outcome=Outcome.FAIL,
        signature=first.signature,
        message=first.line,
        control_signature=control_sig,
    )
