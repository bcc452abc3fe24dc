"""Bisect: parsing the target, ordering releases, the search, reuse of recorded cells.

The search is tested against a recorded table instead of real cells:
``tests/data/bisect-grid.jsonl`` holds the records of a real full grid (every final
pytest-asyncio from 0.21.2 to 1.5.0 on Python 3.13 with pytest-playwright 0.7.1 and
playwright 1.56.0, pytest left to the resolver; scenarios control and e2e-first), with
``resolved`` trimmed to the tracked distributions and each record's signature set (read
from its JUnit XML when it was recorded) added as ``signatures``. The fake ``look``
answers a release from that table and counts how often it was asked.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
from pathlib import Path

import pytest

from matrix import options as matrix_options
from matrix.define import definition, releases
from matrix.define.cell import Cell
from matrix.errors import ConfigError
from matrix.measure import runner
from matrix.results import findings, store
from matrix.results.record import Counts, Outcome, Record
from matrix.search import bisect, bisect_report, bisection, trials
from matrix.search.bisection import search
from matrix.search.trials import Observation

OTHERS = {"pytest-playwright": "0.7.1", "playwright": "1.56.0"}


@pytest.fixture(scope="module")
def snapshot() -> releases.Snapshot:
    return releases.load()


def grid(path: Path) -> dict[str, Observation]:
    """The recorded table: release -> observation (scenarios in run order)."""
    rows: dict[str, list[dict]] = {}
    for line in path.read_text().splitlines():
        data = json.loads(line)
        rows.setdefault(data["requested"]["pytest-asyncio"], []).append(data)
    table = {}
    for version, datas in rows.items():
        records = [Record.from_json(d) for d in datas]
        cell = Cell.make("3.13", {**OTHERS, "pytest-asyncio": version})
        table[version] = Observation(
            cell=cell,
            records=tuple(records),
            signatures=tuple(tuple(d["signatures"]) for d in datas),
        )
    return table


class Fake:
    """``look`` answering from the table, counting every question."""

    def __init__(self, table: dict[str, Observation]) -> None:
        self.table, self.asked = table, []

    def __call__(self, version: str) -> Observation:
        self.asked.append(version)
        return self.table[version]


@pytest.fixture
def table(data) -> dict[str, Observation]:
    return grid(data / "bisect-grid.jsonl")


def grid_changes(versions, table, compare="set") -> list[tuple[str, str]]:
    """What the full grid shows: every pair of neighbours whose keys differ."""
    keys = [table[v].key(compare) for v in versions]
    return [
        (versions[i], versions[i + 1]) for i in range(len(versions) - 1) if keys[i] != keys[i + 1]
    ]


def hint(snapshot):
    return lambda v: bisection.expected_resolution(
        "3.13", {**OTHERS, "pytest-asyncio": v}, snapshot
    )


# --------------------------------------------------------------------------- the target


def test_pins_and_a_cell_id_give_the_same_target() -> None:
    pins = trials.parse_target(["python=3.13", "pytest-playwright=0.7.1", "playwright==1.56.0"])
    assert pins == ("3.13", {"pytest-playwright": "0.7.1", "playwright": "1.56.0"})
    assert trials.parse_target(["py3.13-sync0.7.1-pw1.56.0"]) == pins
    cell = Cell.make(
        "3.13",
        {
            "pytest-asyncio": "1.4.1.post1",
            "pytest-playwright-asyncio": "0.7.1",
            "pytest-cov": "7.0.0",
            "coverage": "7.10.6",
        },
    )
    assert trials.parse_target([cell.id]) == ("3.13", dict(cell.pins))


@pytest.mark.parametrize(
    ("words", "says"),
    [
        (["python=3.13", "pytest-asyncio"], "is not a pin"),
        (["python=3.13", "pytest-asyncio=latest"], "is not an exact version"),
        (["python=3.13", "pytest-asyncoi=1.2.0"], "unknown distribution 'pytest-asyncoi'"),
        (["python=3"], "is not a Python minor version"),
        (["pytest-asyncio=1.2.0"], "names no Python"),
        (["py3.13-asyncio1.2.0-sync0.7.1-async0.7.1"], "cannot be pinned together"),
        (["py3.13-banana1.0"], "is neither a cell id"),
    ],
)
def test_malformed_targets_are_one_sentence(words, says) -> None:
    with pytest.raises(ConfigError, match=says):
        trials.parse_target(words)


# --------------------------------------------------------------------------- the releases


def test_default_ends_are_the_oldest_and_newest_final_releases_the_pins_allow(snapshot) -> None:
    axis = bisection.axis_releases("pytest-asyncio", "3.13", OTHERS, snapshot)
    assert (axis.versions[0], axis.versions[-1]) == ("0.20.3", "1.5.0")
    assert "1.4.0a1" not in axis.versions and "0.23.5.post1" in axis.versions


def test_releases_the_other_pins_rule_out_are_listed_not_searched(snapshot) -> None:
    pins = {"pytest-playwright-asyncio": "0.7.1", "playwright": "1.56.0"}
    axis = bisection.axis_releases("pytest-asyncio", "3.13", pins, snapshot, end="0.25.3")
    assert axis.versions == ("0.24.0", "0.25.0", "0.25.1", "0.25.2", "0.25.3")
    assert axis.ruled_out == ()  # only those inside the range are reported
    axis = bisection.axis_releases(
        "pytest-asyncio", "3.13", pins, snapshot, start="0.24.0", end="0.25.0"
    )
    assert axis.versions == ("0.24.0", "0.25.0")
    with pytest.raises(ConfigError, match="requires pytest-asyncio>=0.24.0"):
        bisection.axis_releases("pytest-asyncio", "3.13", pins, snapshot, start="0.23.8")


def test_minors_keep_the_newest_patch_of_each_minor_and_both_ends(snapshot) -> None:
    axis = bisection.axis_releases(
        "pytest-asyncio", "3.13", OTHERS, snapshot, start="0.21.2", end="1.5.0", every="minors"
    )
    assert axis.versions == (
        "0.21.2",
        "0.23.8",
        "0.24.0",
        "0.25.3",
        "0.26.0",
        "1.0.0",
        "1.1.1",
        "1.2.0",
        "1.3.0",
        "1.4.1.post1",
        "1.5.0",
    )
    fix = bisection.axis_releases(
        "pytest-asyncio", "3.13", OTHERS, snapshot, start="1.5.0", end="1.1.0", every="minors"
    )
    assert fix.versions == (
        "1.5.0",
        "1.4.1.post1",
        "1.3.0",
        "1.2.0",
        "1.1.1",
        "1.1.0",
    )  # good end first


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"axis": "pytest-asyncoi"}, "unknown axis 'pytest-asyncoi'"),
        ({"start": "9.9.9"}, "not a final release in the releases snapshot"),
        ({"start": "1.2.0", "end": "1.2.0"}, "give two different releases"),
    ],
)
def test_bad_axis_input_is_one_sentence(snapshot, kwargs, says) -> None:
    kwargs = {"axis": "pytest-asyncio", **kwargs}
    with pytest.raises(ConfigError, match=says):
        bisection.axis_releases(kwargs.pop("axis"), "3.13", OTHERS, snapshot, **kwargs)


def test_the_resolver_is_expected_to_pick_pytest_7_for_pytest_asyncio_0_23_4(snapshot) -> None:
    picks = hint(snapshot)
    assert picks("0.23.4") == (("pytest", "7.4.4"),)  # it declares pytest<8
    assert picks("0.23.3") == picks("1.2.0") == (("pytest", "8.4.2"),)  # the plugin says <9


# --------------------------------------------------------------------------- the search


def test_bisect_finds_every_change_the_full_grid_shows_with_fewer_cells(table, snapshot) -> None:
    versions = bisection.axis_releases(
        "pytest-asyncio", "3.13", OTHERS, snapshot, start="0.21.2"
    ).versions
    look = Fake(table)
    found = search(versions, look, hint=hint(snapshot))
    assert [(c.last, c.first) for c in found.changes] == grid_changes(versions, table)
    assert ("1.0.0", "1.1.0") in [(c.last, c.first) for c in found.changes]
    assert ("1.1.1", "1.2.0") in [(c.last, c.first) for c in found.changes]
    assert len(look.asked) == len(set(look.asked)) < len(versions)  # each release at most once
    assert len(found.observed) + sum(g.skipped for g in found.gaps) == len(versions)


def test_without_the_resolver_hint_a_change_that_reverts_inside_a_stretch_is_missed(
    table, snapshot
) -> None:
    versions = bisection.axis_releases(
        "pytest-asyncio", "3.13", OTHERS, snapshot, start="0.21.2"
    ).versions
    found = search(versions, Fake(table))
    missed = set(grid_changes(versions, table)) - {(c.last, c.first) for c in found.changes}
    assert missed == {("0.23.3", "0.23.4"), ("0.23.4", "0.23.5")}  # pytest 7.4.4 there
    assert any(g.start <= "0.23.4" and "0.23.4" <= g.end for g in found.gaps)  # and it says so


def test_the_primary_signature_alone_hides_most_changes(table, snapshot) -> None:
    versions = bisection.axis_releases(
        "pytest-asyncio", "3.13", OTHERS, snapshot, start="0.21.2"
    ).versions
    found = search(versions, Fake(table), compare="primary", hint=hint(snapshot))
    assert len(found.changes) < len(grid_changes(versions, table, "set"))
    assert ("1.0.0", "1.1.0") in [(c.last, c.first) for c in found.changes]


def test_verify_gaps_looks_once_inside_each_stretch_whose_ends_agree(table, snapshot) -> None:
    versions = bisection.axis_releases(
        "pytest-asyncio", "3.13", OTHERS, snapshot, start="0.21.2", every="minors"
    ).versions
    plain = search(versions, Fake(table), hint=hint(snapshot))
    checked = search(versions, Fake(table), hint=hint(snapshot), verify_gaps=True)
    assert ("0.24.0", "0.25.3") not in [
        (c.last, c.first) for c in plain.changes
    ]  # 0.24 = 1.0 there
    assert [(c.last, c.first) for c in checked.changes] == grid_changes(versions, table)


def unusable(obs: Observation, why: str = "no matching distribution") -> Observation:
    records = tuple(
        dataclasses.replace(r, outcome=Outcome.UNRESOLVABLE, signature="unresolvable", message=why)
        for r in obs.records
    )
    return dataclasses.replace(
        obs, records=records, signatures=tuple(("unresolvable",) for _ in records)
    )


def test_an_unmeasurable_middle_is_stepped_around_and_reported(table) -> None:
    versions = ["1.0.0", "1.1.0", "1.1.1", "1.2.0", "1.3.0"]
    table = {**table, "1.1.1": unusable(table["1.1.1"])}
    look = Fake(table)
    found = search(versions, look)
    assert [(c.last, c.first) for c in found.changes] == [("1.0.0", "1.1.0"), ("1.1.0", "1.2.0")]
    assert found.changes[1].unusable == ("1.1.1",)
    assert [v for v, _ in found.stepped] == ["1.1.1"]
    assert "1.1.1" in look.asked and "unresolvable" in found.stepped[0][1]


def test_unmeasurable_ends_move_inwards(table) -> None:
    versions = ["0.26.0", "1.0.0", "1.1.0", "1.2.0"]
    table = {**table, "0.26.0": unusable(table["0.26.0"]), "1.2.0": unusable(table["1.2.0"])}
    found = search(versions, Fake(table))
    assert [(c.last, c.first) for c in found.changes] == [("1.0.0", "1.1.0")]
    assert [v for v, _ in found.stepped] == ["0.26.0", "1.2.0"]


def test_nothing_measurable_gives_no_change_and_no_error(table) -> None:
    versions = ["1.1.0", "1.2.0"]
    found = search(versions, Fake({v: unusable(table[v]) for v in versions}))
    assert found.changes == () and len(found.stepped) == 2


# --------------------------------------------------------------------------- recorded cells


def options(out: Path, snapshot) -> runner.RunOptions:
    settings = matrix_options.read(
        {"MATRIX_OUT": str(out), "HOME": str(out), "MATRIX_RUN_ID": "now"}
    )
    return trials.searched_options(
        runner.RunOptions(settings=settings, timeout=60, reruns=0, exclude_newer=snapshot.taken_at)
    )


def record_for(
    cell: Cell, scenario: str, opts: runner.RunOptions, names: list[str], **kw
) -> Record:
    base = {
        "run_id": "earlier",
        "cell_id": cell.id,
        "python": "3.13.0",
        "requested": cell.requested,
        "resolved": {"pytest": "8.4.2"},
        "probe": cell.probe,
        "scenario": scenario,
        "outcome": Outcome.PASS,
        "signature": None,
        "message": None,
        "tests": Counts(passed=7),
        "duration_s": 1.0,
        "started_at": "2026-11-25T00:00:00Z",
        "repro": "nox ...",
        "log": f"logs/{cell.id}/{scenario}.log",
        "fingerprint": runner.fingerprint(cell, names, opts),
    }
    return Record(**{**base, **kw})


def test_a_recorded_cell_is_reused_and_a_missing_scenario_alone_is_run(
    tmp_path, snapshot, monkeypatch
) -> None:
    opts = options(tmp_path, snapshot)
    cell = Cell.make("3.13", {**OTHERS, "pytest-asyncio": "1.2.0"})
    everything = [s.name for s in trials.scenarios.for_cell(cell)]  # as `nox -s matrix` ran it
    store.append(tmp_path, record_for(cell, "control", opts, everything))
    calls = []

    def fake_run_cell(cell, chosen, opts, done, previous=()):
        calls.append(({s.name for s in chosen}, done))
        return [
            record_for(
                cell,
                "e2e-first",
                opts,
                ["control", "e2e-first"],
                outcome=Outcome.BUG,
                signature="runner-in-running-loop",
            )
        ]

    monkeypatch.setattr(runner, "run_cell", fake_run_cell)
    bench = trials.Bench(opts, bisect.DEFAULT_SCENARIOS, say=lambda line: None)
    assert (
        bench.lookup(cell) is None
        and bench.lookup(cell, partial=True).records[0].scenario == "control"
    )
    obs = bench.measure(cell)
    assert calls == [({"control", "e2e-first"}, frozenset({"control"}))] and bench.ran == 1
    assert obs.key() == (("control", "pass", ()), ("e2e-first", "bug", ("runner-in-running-loop",)))
    store.append(tmp_path, obs.records[1])  # what run_cell itself does
    again = trials.Bench(opts, bisect.DEFAULT_SCENARIOS).measure(cell)
    assert not again.ran and len(calls) == 1


def test_records_of_other_probe_code_are_not_reused(tmp_path, snapshot) -> None:
    opts = options(tmp_path, snapshot)
    cell = Cell.make("3.13", {**OTHERS, "pytest-asyncio": "1.2.0"})
    for name in ("control", "e2e-first"):
        store.append(
            tmp_path,
            dataclasses.replace(
                record_for(cell, name, opts, ["control"]), fingerprint="0123456789abcdef"
            ),
        )
    assert trials.Bench(opts, bisect.DEFAULT_SCENARIOS).lookup(cell, partial=True) is None


def test_the_signature_set_is_read_from_the_junit_xml_beside_the_log(
    tmp_path, data, snapshot
) -> None:
    cell = Cell.make("3.13", {**OTHERS, "pytest-asyncio": "0.26.0"})
    folder = tmp_path / "logs" / cell.id
    folder.mkdir(parents=True)
    shutil.copy(data / "junit-e2e-first-0.26-teardown.xml", folder / "e2e-first.2.junit-1.xml")
    record = record_for(
        cell,
        "e2e-first",
        options(tmp_path, snapshot),
        [],
        outcome=Outcome.BUG,
        signature="loop-another-running",
        log=f"logs/{cell.id}/e2e-first.2.log",
    )
    assert trials.signature_set(tmp_path, record) == (
        "loop-another-running",
        "close-running-loop",
        "loop-already-running",
    )
    assert trials.signature_set(tmp_path / "elsewhere", record) == ("loop-another-running",)


def test_searched_cells_form_a_definition_so_their_repro_commands_work(tmp_path, snapshot) -> None:
    opts = options(tmp_path, snapshot)
    cells = [Cell.make("3.13", {**OTHERS, "pytest-asyncio": v}) for v in ("1.1.0", "1.4.1.post1")]
    for cell in (*cells, cells[0]):
        trials.remember(tmp_path, cell, opts)
    profile = definition.load(tmp_path / trials.SEARCHED, trials.SEARCHED_PROFILE)
    assert [Cell.make(c.pop("python"), c).id for c in map(dict, profile.cells)] == [
        c.id for c in cells
    ]
    assert opts.repro_prefix.startswith(
        f"MATRIX_CONFIG={tmp_path / trials.SEARCHED} MATRIX_PROFILE={trials.SEARCHED_PROFILE} "
    )


# --------------------------------------------------------------------------- the command


def test_the_report_and_the_findings_line_name_each_change_and_its_repro(
    table, snapshot, tmp_path
) -> None:
    axis = bisection.axis_releases(
        "pytest-asyncio", "3.13", OTHERS, snapshot, start="1.0.0", end="1.3.0"
    )
    found = search(axis.versions, Fake(table), hint=hint(snapshot))
    text = bisect_report.report(found, axis, "set", ran=3, took=75)
    assert (
        "1. 1.0.0 -> 1.1.0: e2e-first signature set {loop-already-running, loop-another-running}"
        " -> {loop-already-running, runner-in-running-loop}" in text
    )
    assert (
        "2. 1.1.1 -> 1.2.0: e2e-first signature set {loop-already-running, "
        "runner-in-running-loop} -> {runner-in-running-loop}" in text
    )
    assert "every release in the range passes control (pass at each)" in text
    assert "every release in the range fails e2e-first (bug at each)" in text
    assert "good" not in text and "bad" not in text
    assert (
        "reproduce: nox -s 'cell(py3.13-asyncio1.2.0-sync0.7.1-pw1.56.0)' -- --scenario e2e-first"
        in text
    )
    assert "of the 5 a full grid of this range needs; 1 min 15 s" in text
    finding = bisect_report.finding_json(
        found,
        axis,
        "3.13",
        OTHERS,
        ["control", "e2e-first"],
        "set",
        run_id="r1",
        started_at="2026-11-25T00:00:00Z",
        took=75,
        ran=3,
    )
    findings.append_finding(tmp_path / bisect.FINDINGS, finding)
    (line,) = _lines(tmp_path / bisect.FINDINGS)
    assert [(c["last_good"], c["first_bad"]) for c in line["changes"]] == [
        ("1.0.0", "1.1.0"),
        ("1.1.1", "1.2.0"),
    ]
    assert line["measured"][0]["scenarios"]["e2e-first"]["signatures"] == [
        "loop-another-running",
        "loop-already-running",
    ]
    assert (line["grid_size"], line["cells_measured"]) == (5, len(found.observed))


def _lines(path) -> list[dict]:
    """The findings file as written, line by line (what the writer put there)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_the_command_line_takes_the_documented_form() -> None:
    parser = argparse.ArgumentParser()
    bisect.add_arguments(parser)
    args = parser.parse_args(
        [
            "python=3.13",
            "pytest-playwright=0.7.1",
            "playwright=1.56.0",
            "--axis",
            "pytest-asyncio",
            "--from",
            "0.21.2",
            "--to",
            "1.5.0",
        ]
    )
    assert (args.axis, args.start, args.end, args.releases, args.compare) == (
        "pytest-asyncio",
        "0.21.2",
        "1.5.0",
        "all",
        "set",
    )
    old = parser.parse_args(
        ["py3.13-sync0.7.1", "--axis", "pytest-asyncio", "--good", "0.21.2", "--bad", "1.5.0"]
    )  # the earlier spelling still works
    assert (old.start, old.end) == ("0.21.2", "1.5.0")


# --------------------------------------------------------------------------- a real one


@pytest.mark.integration
def test_a_real_short_bisect_finds_the_runner_releases(tmp_path, monkeypatch) -> None:
    """pytest-asyncio 1.0.0 .. 1.2.0: four real cells, two change points (1.1.0 and 1.2.0)."""
    monkeypatch.setenv("MATRIX_OUT", str(tmp_path))
    parser = argparse.ArgumentParser()
    bisect.add_arguments(parser)
    args = parser.parse_args(
        [
            "python=3.13",
            "pytest-playwright=0.7.1",
            "playwright=1.56.0",
            "--axis",
            "pytest-asyncio",
            "--from",
            "1.0.0",
            "--to",
            "1.2.0",
            "--reruns",
            "0",
        ]
    )
    settings = matrix_options.read(
        {**os.environ, "MATRIX_OUT": str(tmp_path), "MATRIX_RUN_ID": "b1"}
    )
    base = runner.RunOptions(
        settings=settings,
        timeout=args.timeout,
        reruns=args.reruns,
        exclude_newer=releases.load().taken_at,
    )
    assert bisect.run(args, base) == 0
    (finding,) = _lines(tmp_path / bisect.FINDINGS)
    assert [(c["last_good"], c["first_bad"]) for c in finding["changes"]] == [
        ("1.0.0", "1.1.0"),
        ("1.1.1", "1.2.0"),
    ]
    sigs = {
        m["version"]: set(m["scenarios"]["e2e-first"]["signatures"]) for m in finding["measured"]
    }
    assert "runner-in-running-loop" not in sigs["1.0.0"]
    assert {"runner-in-running-loop", "loop-already-running"} <= sigs["1.1.0"]
    assert sigs["1.2.0"] == {"runner-in-running-loop"}
    assert len(store.read(tmp_path)) == 2 * finding["cells_run"] <= 8


def test_from_0_23_8_to_1_2_0_every_release_fails_e2e_first_and_four_signature_sets_change(
    table, snapshot
) -> None:
    axis = bisection.axis_releases(
        "pytest-asyncio", "3.13", OTHERS, snapshot, start="0.23.8", end="1.2.0"
    )
    found = search(axis.versions, Fake(table), hint=hint(snapshot))
    assert (
        [(c.last, c.first) for c in found.changes]
        == grid_changes(axis.versions, table)
        == [("0.25.0", "0.25.1"), ("0.26.0", "1.0.0"), ("1.0.0", "1.1.0"), ("1.1.1", "1.2.0")]
    )
    text = bisect_report.report(found, axis, "set", ran=len(found.observed), took=1)
    assert "every release in the range fails e2e-first (bug at each of the" in text
    assert text.count(": e2e-first signature set {") == 4
    assert (
        "0.26.0 -> 1.0.0: e2e-first signature set {close-running-loop, loop-already-running, "
        "loop-another-running} -> {loop-already-running, loop-another-running}" in text
    )
    assert "good" not in text and "bad" not in text


def test_an_outcome_change_says_which_way_it_goes(table, snapshot) -> None:
    versions = ["0.23.3", "0.23.4", "0.23.5"]  # pytest 7.4.4 at 0.23.4: the control passes there
    found = search(versions, Fake(table), hint=hint(snapshot))
    lines = bisect_report.across(found)
    assert "control passes from 0.23.4 on (0.23.3: fail; 0.23.4: pass)" in lines
    assert "control fails from 0.23.5 on (0.23.4: pass; 0.23.5: fail)" in lines
    before, after = table["0.23.3"], table["0.23.4"]
    assert bisect_report.what_changed(before, after)[0].startswith(
        "control fail -> pass, signature set {"
    )
