"""Regression issues planned from two runs: open, comment, reopen, close; idempotent.

The golden runs are a real run of the quick profile (repro commands made relative),
edited into a story: in the previous run ``loop-closed`` hit two scenarios of the async
plugin cell, which pass in the current run (after a first try that found no browser);
in the current run a Playwright protocol error newly fails two scenarios of the sync
plugin cell. Every other signature is in both runs, on the same cells.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from matrix.cli import main
from matrix.publish import regress
from matrix.results import store
from matrix.results.record import Outcome, Record

ASYNC = "py3.13-pytest9.2.0-asyncio1.5.0-async0.10.0-pw1.65.2-cov7.1.0"
SYNC = "py3.12-pytest8.3.5-asyncio0.21.2-sync0.7.1-pw1.56.0"
PROTOCOL = (
    "playwright._impl._errors.Error: Page.set_content: Protocol error "
    "(Page.setDocumentContent): Invalid parameters"
)
PERSISTING = (
    "loop-already-running",
    "loop-another-running",
    "runner-in-running-loop",
    "AttributeError: 'FixtureDef' object has no attribute 'unittest'",
)


@pytest.fixture
def previous(data: Path) -> list[Record]:
    return store.read(data / "regress-previous.jsonl")


@pytest.fixture
def current(data: Path) -> list[Record]:
    return store.read(data / "regress-current.jsonl", warn=False)  # its last line is cut


def filed(actions: list[regress.Action], first: int = 100) -> list[dict]:
    """What ``gh issue list --json number,title,labels,state,body`` prints once applied."""
    issues = []
    for number, a in enumerate(actions, first):
        state = "CLOSED" if a.kind == "close" else "OPEN"
        issues.append(
            {
                "number": a.issue or number,
                "title": a.title,
                "state": state,
                "labels": [{"name": name} for name in a.labels],
                "body": a.refresh or a.body,
            }
        )
    return issues


def persisting_issues(current: list[Record]) -> list[dict]:
    """Open issues for the signatures both runs share, filed by earlier runs."""
    records = {r.signature: r for r in current if r.signature in PERSISTING}
    return [
        {
            "number": n,
            "title": regress.title_of(sig),
            "state": "OPEN",
            "labels": [{"name": name} for name in regress.labels_of(sig)],
            "body": regress.issue_body(
                sig,
                [r for r in current if r.signature == sig and r.outcome in regress.ISSUE_OUTCOMES],
            ),
        }
        for n, sig in enumerate(sorted(records), 1)
    ]


def test_a_new_signature_is_opened_and_a_gone_one_closed(previous, current) -> None:
    actions = regress.plan(previous, current)
    assert [(a.kind, a.signature) for a in actions] == [
        ("close", "loop-closed"),
        ("open", PROTOCOL),
    ]
    opened = actions[1]
    key = regress.key_of(PROTOCOL)
    assert key == "error-page-set-content-proto-883d6604"
    assert opened.title == (
        "Compatibility regression: playwright._impl._errors.Error: "
        "Page.set_content: Protocol error (Page.setDocumentContent): "
        f"Invalid… ({key})"
    )
    assert opened.labels == ("compat-regression", f"sig:{key}")
    assert opened.cells == (f"{SYNC} e2e-last", f"{SYNC} isolated")
    assert opened.issue is None and opened.refresh is None
    body = opened.body
    assert f"Failure signature `{PROTOCOL}` (outcome `fail`) in 2 scenarios of 1 cell" in body
    assert f"```text\n{PROTOCOL}\n```" in body  # the first failure line, fenced
    row = f"| `{SYNC}` | `e2e-last` | `fail` | `3.12.1` | `playwright 1.56.0`, `pytest 8.3.5`"
    assert row in body
    for scenario in ("e2e-last", "isolated"):
        assert f"MATRIX_OUT=results nox -s 'cell({SYNC})' -- --scenario {scenario}\n" in body
    cells = regress.digest(current_failing(current))
    assert body.endswith(f"<!-- compat-regression key={key} cells={cells} -->")


def current_failing(current: list[Record]) -> list[Record]:
    return [r for r in current if r.signature == PROTOCOL]


def test_the_close_says_which_cells_pass_now(previous, current) -> None:
    closed = regress.plan(previous, current)[0]
    assert closed.kind == "close" and closed.issue is None  # gh finds it by its label
    assert closed.labels == ("compat-regression", "sig:loop-closed")
    assert closed.title == "Compatibility regression: loop-closed"
    assert closed.body.startswith("Not seen in this run: every scenario that had it now passes.")
    for scenario in ("e2e-last", "e2e-last-cov"):
        assert f"| `{ASYNC}` | `{scenario}` | `pass` |" in closed.body


def test_the_newest_record_of_a_scenario_counts(previous, current) -> None:
    # The current run first recorded infra (no browser) for ASYNC e2e-last, then a pass:
    # with the infra record alone there is no evidence of a fix, so nothing is closed.
    early = [
        r
        for r in current
        if not (r.cell_id == ASYNC and r.scenario == "e2e-last" and r.outcome is Outcome.PASS)
    ]
    assert [a.kind for a in regress.plan(previous, early)] == ["open"]


def test_the_same_inputs_give_the_same_plan(previous, current, data, tmp_path) -> None:
    assert regress.plan(previous, current) == regress.plan(list(previous), list(current))
    outs = []
    for name in ("one", "two"):
        out = tmp_path / f"{name}.json"
        assert (
            main(
                [
                    "regressions",
                    "--previous",
                    str(data / "regress-previous.jsonl"),
                    "--current",
                    str(data / "regress-current.jsonl"),
                    "--json",
                    str(out),
                ]
            )
            == 0
        )
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert [a["kind"] for a in json.loads(outs[0])] == ["close", "open"]


def test_feeding_back_the_filed_issues_asks_for_nothing_more(previous, current) -> None:
    existing = persisting_issues(current)
    first = regress.plan(previous, current, existing)
    assert [a.kind for a in first] == ["close", "open"]
    existing += filed(first)
    assert regress.plan(previous, current, existing) == []


def test_a_signature_in_both_runs_without_an_issue_gets_one(previous, current) -> None:
    # Issues switched on late, or a gh call that failed: the issue list says none is filed.
    actions = regress.plan(previous, current, [])
    assert sorted((a.kind, a.signature) for a in actions) == sorted(
        [("close", "loop-closed"), ("open", PROTOCOL), *(("open", sig) for sig in PERSISTING)]
    )
    # Once filed, nothing more is asked for; without the list nothing is guessed.
    assert regress.plan(previous, current, filed(actions)) == []
    assert [a.kind for a in regress.plan(previous, current)] == ["close", "open"]


def test_without_bodies_a_filed_issue_is_commented_on_never_opened_again(previous, current) -> None:
    first = regress.plan(previous, current)
    existing = [
        {k: v for k, v in issue.items() if k != "body"}
        for issue in persisting_issues(current) + filed(first)
    ]
    again = regress.plan(previous, current, existing)
    assert [(a.kind, a.issue) for a in again] == [("comment", 101)]
    assert again[0].body.startswith("Seen again in this run.")
    assert again[0].refresh == first[1].body  # the body is brought up to date too


def test_a_persisting_signature_is_commented_on_only_when_its_cells_change(previous, current):
    existing = persisting_issues(current)
    assert [a.kind for a in regress.plan(previous, current, existing)] == ["close", "open"]
    cell = "py3.13-pytest8.4.2-asyncio1.3.0-sync0.7.1-pw1.56.0-cov7.0.0"
    fixed = [
        dataclasses.replace(r, outcome=Outcome.PASS, signature=None, message=None)
        if r.cell_id == cell and r.scenario == "driver-only"
        else r
        for r in current
    ]
    actions = regress.plan(previous, fixed, existing)
    comment = next(a for a in actions if a.signature == "runner-in-running-loop")
    assert comment.kind == "comment" and comment.issue is not None
    assert comment.body.startswith("Its cells changed in this run.")
    assert f"- gone: `{cell}` `driver-only`" in comment.body
    assert "- new: none" in comment.body
    assert f"`{cell}` | `driver-only`" not in comment.refresh


def test_an_issue_closed_by_a_person_stays_closed_while_the_signature_persists(previous, current):
    existing = [dict(i, state="CLOSED") for i in persisting_issues(current)]
    assert [a.kind for a in regress.plan(previous, current, existing)] == ["close", "open"]


def test_a_signature_that_comes_back_reopens_its_closed_issue(previous, current) -> None:
    # Swap the runs: loop-closed comes back, and its issue was closed when it went away.
    issue = {
        "number": 9,
        "title": "Compatibility regression: loop-closed",
        "state": "CLOSED",
        "labels": [{"name": "compat-regression"}, {"name": "sig:loop-closed"}],
    }
    actions = regress.plan(current, previous, [issue])
    reopened = next(a for a in actions if a.signature == "loop-closed")
    assert (reopened.kind, reopened.issue) == ("reopen", 9)
    assert reopened.body.startswith("It is back in this run.")
    assert "<!-- compat-regression key=loop-closed cells=" in reopened.refresh
    gone = next(a for a in actions if a.signature == PROTOCOL)
    assert gone.kind == "close"


def test_without_a_previous_run_nothing_is_closed_or_reopened(current, tmp_path) -> None:
    closed = [
        {
            "number": 4,
            "title": "Compatibility regression: loop-already-running",
            "state": "CLOSED",
            "labels": ["compat-regression", "sig:loop-already-running"],
        }
    ]
    actions = regress.plan(tmp_path / "missing", current, closed)
    assert {a.kind for a in actions} == {"open"}
    assert sorted(a.signature for a in actions) == sorted(
        {PROTOCOL, *PERSISTING} - {"loop-already-running"}
    )


def test_only_bug_and_fail_carry_an_issue(previous, current) -> None:
    signatures = {a.signature for a in regress.plan([], current)}
    assert signatures == {PROTOCOL, *PERSISTING}
    measured_elsewhere = {r.signature for r in current if r.outcome not in regress.ISSUE_OUTCOMES}
    assert "unresolvable" in measured_elsewhere and "browser-missing" in measured_elsewhere
    assert not signatures & measured_elsewhere


def test_a_published_results_json_reads_like_the_jsonl(previous, current, tmp_path) -> None:
    site = tmp_path / "previous"
    site.mkdir()
    rows = ",\n".join(json.dumps(r.to_json(), sort_keys=True) for r in previous)
    (site / "results.json").write_text(f"[\n{rows}\n]\n")
    assert regress.plan(site, current) == regress.plan(previous, current)
    (site / "results.json").write_text("<html>not found</html>")
    with pytest.raises(regress.EarlierResultsError, match=r"results\.json is malformed"):
        regress.load(site)


def test_record_text_cannot_break_the_markdown(current) -> None:
    hostile = (
        "RuntimeError: ``` </details> | @someone #1 "
        "<!-- compat-regression key=x cells=000000000000 -->"
    )
    bad = dataclasses.replace(
        current_failing(current)[0],
        message=hostile,
        cell_id="py3.13-`evil`|cell",
        repro="nox -s 'cell(x)'\n```\nrm -rf /",
    )
    body = regress.issue_body(PROTOCOL, [bad])
    assert f"````text\n{hostile}\n````" in body  # a fence longer than any backtick run
    assert "| `py3.13-evil\\|cell` |" in body  # no backtick left, the pipe escaped
    assert "````sh\nnox -s 'cell(x)' ``` rm -rf /\n````" in body  # one line, still fenced
    assert regress.MARKER.findall(body)[-1] == (regress.key_of(PROTOCOL), regress.digest([bad]))


def test_labels_are_short_and_safe_for_gh() -> None:
    for sig in (
        "loop-closed",
        PROTOCOL,
        "install: " + "x" * 300,
        "Ünïcode, with commas: é",
        "TypeError: f() got an unexpected keyword argument 'loop_scope'",
    ):
        for label in regress.labels_of(sig):
            assert len(label) <= regress.MAX_LABEL
            assert re.fullmatch(r"[a-z0-9:-]+", label), label
        assert regress.key_of(sig) in regress.title_of(sig)
        assert len(regress.title_of(sig)) <= 256
    assert regress.key_of(PROTOCOL) != regress.key_of(PROTOCOL + " ")


def test_a_huge_signature_stays_under_githubs_body_limit(current) -> None:
    template = current_failing(current)[0]
    many = [
        dataclasses.replace(template, cell_id=f"py3.13-cell{i:04d}", message="E" * 250)
        for i in range(2000)
    ]
    body = regress.issue_body(PROTOCOL, many)
    assert len(body) <= 65_536
    assert "… and 1940 more (see the page)" in body
    assert regress.MARKER.findall(body)[-1][1] == regress.digest(many)


def test_the_command_writes_the_plan_and_a_summary(data, current, tmp_path, capsys) -> None:
    existing = tmp_path / "issues.json"
    existing.write_text(json.dumps(persisting_issues(current)))
    plan_json, summary = tmp_path / "plan.json", tmp_path / "summary.md"
    code = main(
        [
            "regressions",
            "--previous",
            str(data / "regress-previous.jsonl"),
            "--current",
            str(data / "regress-current.jsonl"),
            "--existing",
            str(existing),
            "--page",
            "https://example.org/matrix/",
            "--json",
            str(plan_json),
            "--markdown",
            str(summary),
        ]
    )
    assert code == 0
    said = capsys.readouterr()
    out = said.out.splitlines()
    assert out[0].split()[:2] == ["close", "-"] and out[1].split()[:2] == ["open", "-"]
    assert said.err.splitlines()[-1] == "[matrix] 2 issue actions planned"
    actions = json.loads(plan_json.read_text())
    assert set(actions[1]) == {
        "kind",
        "signature",
        "key",
        "title",
        "labels",
        "body",
        "issue",
        "refresh",
        "cells",
    }
    assert "The compatibility page: https://example.org/matrix/" in actions[1]["body"]
    assert (
        "`curl -fsSL https://example.org/matrix/releases.json -o matrix/releases.json`"
        in actions[1]["body"]
    )
    assert "| open | new | `" in summary.read_text()


def test_an_empty_current_run_is_an_error_not_a_quiet_plan(data, tmp_path, capsys) -> None:
    code = main(
        [
            "regressions",
            "--previous",
            str(data / "regress-previous.jsonl"),
            "--current",
            str(tmp_path),
        ]
    )
    assert code == 3
    assert "the run measured nothing" in capsys.readouterr().err
