"""The record: one line of ``results.jsonl``, the result of one scenario of one cell."""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Callable
from functools import partial
from typing import Any

SCHEMA = 1


class Outcome(str, enum.Enum):
    """What happened to one scenario of one cell."""

    PASS = "pass"
    BUG = "bug"  # a loop-conflict signature that the control scenario does not show
    FAIL = "fail"  # any other failure
    HOLLOW = "hollow"  # passed, but browser code never ran (a coroutine never awaited)
    UNRESOLVABLE = "unresolvable"  # the resolver refused the pins
    NO_INTERPRETER = "no-interpreter"  # the requested Python is not on this machine
    INFRA = "infra"  # the harness could not run it (no browser, index unreachable, ...)
    TIMEOUT = "timeout"
    FLAKY = "flaky"  # a rerun gave a different outcome

    def __str__(self) -> str:
        return self.value


@dataclasses.dataclass(frozen=True, kw_only=True)
class Counts:
    """Test counts read from JUnit XML."""

    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            passed=self.passed + other.passed,
            failed=self.failed + other.failed,
            errors=self.errors + other.errors,
            skipped=self.skipped + other.skipped,
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Record:
    """One scenario run of one cell, as written to ``results.jsonl``."""

    run_id: str
    cell_id: str
    python: str | None  # full interpreter version, None when there is none
    requested: dict[str, str]
    resolved: dict[str, str]
    probe: str
    scenario: str
    outcome: Outcome
    signature: str | None
    message: str | None
    tests: Counts
    duration_s: float
    started_at: str
    repro: str
    log: str | None
    control_signature: str | None = None
    attempt: int = 1
    fingerprint: str = ""
    #: What the outcome depends on once resolved: code, Python patch release, every
    #: installed distribution, the scenario (see ``runner.inputs_key``); "" when unknown.
    inputs: str = ""
    #: Set on a record carried over from an earlier run with equal ``inputs``: the run it
    #: was measured in (``run_id`` is then the run that carried it over).
    measured_in: str | None = None
    carried_over: bool = False
    schema: int = SCHEMA
    variant: str = "baseline"  # the change made to the probe (probes/variants.toml)
    hang: dict[str, str] | None = None  # a timeout's last test and phase: {"test", "phase"}
    # A user's suite only (left out of the JSON when empty, so probe records stay as they were):
    suite: str | None = None  # the suite's key (name and a short hash of its folder)
    found: dict[str, int] | None = None  # tests collected: "tests", "browser", "async"
    hollow: tuple[str, ...] = ()  # "test id: why" for every test that passed hollow
    relaxed: tuple[str, ...] = ()  # the suite's own pins that gave way to resolve
    note: str | None = None  # what the reader should know (e.g. no browser test found)
    #: Every distinct failure signature of the run, its own first: kept in the record where
    #: the JUnit XML beside the log is not (the reference dataset ships no logs).
    signatures: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON-ready dict (outcome as its string value)."""
        data = dataclasses.asdict(self)
        data["outcome"] = self.outcome.value
        for field in OPTIONAL:
            if not data[field]:
                del data[field]
            elif isinstance(data[field], tuple):
                data[field] = list(data[field])
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        """Rebuild a record from a parsed JSON line, every field checked for its type
        (:class:`RecordError` names the first wrong one); unknown keys are ignored and a
        long message is cut to :data:`MAX_RECORD_MESSAGE` characters."""
        if not isinstance(data, dict):
            raise RecordError("a JSON object was expected")
        missing = sorted(_REQUIRED - data.keys())
        if missing:
            raise RecordError(f"{missing[0]} is missing")
        kwargs = {
            name: check(name, data[name])
            for name, check in _CHECKS.items()
            if name in data and not (name == "tests" and data[name] is None)
        }
        kwargs.setdefault("tests", Counts())  # absent or null: nothing was counted
        kwargs["message"] = cap_message(kwargs.get("message"))
        for name in ("signature", "control_signature"):  # ours are short; a key must stay one line
            if kwargs.get(name):
                kwargs[name] = kwargs[name][:MAX_RECORD_SIGNATURE]
        return cls(**kwargs)


#: Fields a record leaves out when they are empty (a user's suite's; probe records stay as
#: they were).
OPTIONAL = ("suite", "found", "hollow", "relaxed", "note", "signatures")

#: Characters of a message kept in a record and on the page (the log keeps everything).
MAX_RECORD_MESSAGE = 2000
#: Characters of a signature kept (the product writes at most about 170).
MAX_RECORD_SIGNATURE = 500


def cap_message(message: str | None) -> str | None:
    """A message cut to :data:`MAX_RECORD_MESSAGE` characters, saying how much was cut."""
    if message is None or len(message) <= MAX_RECORD_MESSAGE:
        return message
    cut = len(message) - MAX_RECORD_MESSAGE
    return f"{message[:MAX_RECORD_MESSAGE]}… ({cut} more characters in the log)"


class RecordError(ValueError):
    """A line that is JSON but not a record: the reason names the field."""


def _text(name: str, value: Any, *, optional: bool = False, empty: bool = True) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise RecordError(f"{name} is {_shown(value)}, not text")
    if not value and not empty:
        raise RecordError(f"{name} is empty")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate such as \ud800: not writable as UTF-8
        raise RecordError(f"{name} holds a lone surrogate, not text") from None
    return value


def _whole(name: str, value: Any, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise RecordError(f"{name} is {_shown(value)}, not a whole number >= {least}")
    return value


def _mapping(name: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise RecordError(f"{name} is {_shown(value)}, not an object")
    return {_text(f"a key of {name}", k): _text(f"{name}[{k!r}]", v) for k, v in value.items()}


def _seconds(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1e9:
        raise RecordError(f"{name} is {_shown(value)}, not a number of seconds")
    return value


def _outcome(name: str, value: Any) -> Outcome:
    try:
        return Outcome(value)
    except (ValueError, TypeError):
        raise RecordError(
            f"{name} is {_shown(value)}, not one of {', '.join(o.value for o in Outcome)}"
        ) from None


def _counts(name: str, value: Any) -> Counts:
    if not isinstance(value, dict):
        raise RecordError(f"{name} is {_shown(value)}, not an object of counts")
    fields = [f.name for f in dataclasses.fields(Counts)]
    return Counts(**{k: _whole(f"{name}.{k}", value[k], 0) for k in fields if k in value})


def _hang(name: str, value: Any) -> dict[str, str] | None:
    """Where a timeout hung: None, or ``{"phase": ..., "test": ...}``."""
    return None if value is None else _mapping(name, value)


def _shown(value: Any) -> str:
    """A wrong value, short, for the warning."""
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}{'…' if len(text) > 40 else ''}"


def _time(name: str, value: Any) -> str:
    text = _text(name, value)
    if not _STAMP.match(text):
        raise RecordError(f"{name} is {_shown(value)}, not a time such as 2026-01-31T04:17:00Z")
    return text


def _counted(name: str, value: Any) -> dict[str, int] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RecordError(f"{name} is {_shown(value)}, not an object of counts")
    return {_text(f"a key of {name}", k): _whole(f"{name}[{k!r}]", v, 0) for k, v in value.items()}


def _texts(name: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise RecordError(f"{name} is {_shown(value)}, not a list")
    return tuple(_text(f"{name}[{i}]", v) for i, v in enumerate(value))


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise RecordError(f"{name} is {_shown(value)}, not true or false")
    return value


#: Fields a record cannot do without (the others have defaults).
_REQUIRED = frozenset(
    f.name
    for f in dataclasses.fields(Record)
    if f.default is dataclasses.MISSING and f.name != "tests"
)


_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
_Check = Callable[[str, Any], Any]
#: The check of every field: its type, and what a value of that type may be.
_CHECKS: dict[str, _Check] = {
    "run_id": _text,
    "repro": _text,
    "fingerprint": _text,
    "started_at": _time,
    "cell_id": partial(_text, empty=False),
    "probe": partial(_text, empty=False),
    "scenario": partial(_text, empty=False),
    "python": partial(_text, optional=True),
    "signature": partial(_text, optional=True),
    "message": partial(_text, optional=True),
    "log": partial(_text, optional=True),
    "control_signature": partial(_text, optional=True),
    "requested": _mapping,
    "resolved": _mapping,
    "outcome": _outcome,
    "tests": _counts,
    "duration_s": _seconds,
    "attempt": partial(_whole, least=1),
    "schema": partial(_whole, least=1),
    # a user's suite:
    "suite": partial(_text, optional=True),
    "note": partial(_text, optional=True),
    "found": _counted,
    "hollow": _texts,
    "relaxed": _texts,
    "signatures": _texts,
    # carried over from an earlier run (incremental runs):
    "inputs": _text,
    "measured_in": partial(_text, optional=True),
    "carried_over": _flag,
    "variant": partial(_text, empty=False),
    "hang": lambda name, value: _hang(name, value),
}
