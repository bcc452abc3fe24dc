"""The record: one line of ``results.jsonl``, the result of one scenario of one cell."""

from __future__ import annotations

import dataclasses
import enum
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
    schema: int = SCHEMA
    # A user's suite only (left out of the JSON when empty, so probe records stay as they were):
    suite: str | None = None  # the suite's key (name and a short hash of its folder)
    found: dict[str, int] | None = None  # tests collected: "tests", "browser", "async"
    hollow: tuple[str, ...] = ()  # "test id: why" for every test that passed hollow
    relaxed: tuple[str, ...] = ()  # the suite's own pins that gave way to resolve
    note: str | None = None  # what the reader should know (e.g. no browser test found)

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
        """Rebuild a record from a parsed JSON line; unknown keys are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names}
        for field in ("requested", "resolved"):
            if not isinstance(data.get(field), dict):
                raise TypeError(f"{field} is not an object")
        kwargs["outcome"] = Outcome(data["outcome"])
        kwargs["tests"] = Counts(**data.get("tests") or {})
        for field in ("hollow", "relaxed"):
            kwargs[field] = tuple(data.get(field) or ())
        return cls(**kwargs)


#: Fields a record leaves out when they are empty.
OPTIONAL = ("suite", "found", "hollow", "relaxed", "note")
