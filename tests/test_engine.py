"""The engine on real cells: shards and merge, interruption and resume, nox listing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from matrix.results import store

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "tests/data/small.toml"


def environ(out: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MATRIX_PROFILE", "MATRIX_SHARD", "MATRIX_RUN_ID")
    }
    return {**env, "MATRIX_CONFIG": str(SMALL), "MATRIX_OUT": str(out), **extra}


def matrix(out: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "matrix", *args],
        cwd=ROOT,
        env=environ(out, **extra),
        capture_output=True,
        text=True,
        timeout=900,
    )


def table(out: Path) -> set[tuple]:
    """What a run found, cell for cell: the comparison the page is built from."""
    return {(r.cell_id, r.scenario, r.outcome.value, r.signature, r.tests) for r in store.read(out)}


@pytest.fixture(scope="module")
def whole(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("whole")
    proc = matrix(out, "run")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


def test_two_shards_merged_equal_one_run_of_the_whole(whole, tmp_path) -> None:
    for i in (1, 2):
        proc = matrix(tmp_path / f"shard{i}", "run", MATRIX_SHARD=f"{i}/2")
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert 0 < len(table(tmp_path / f"shard{i}")) < len(table(whole))
    proc = matrix(
        tmp_path / "merged",
        "merge",
        str(tmp_path / "shard1"),
        str(tmp_path / "shard2"),
        "--out",
        str(tmp_path / "merged"),
    )
    assert proc.returncode == 0
    assert "merged 2 sources: 4 records of 4 cells, 0 duplicates dropped" in proc.stdout
    assert table(tmp_path / "merged") == table(whole)
    planned = json.loads((tmp_path / "merged" / "plan.json").read_text())["cells"]
    assert len(planned) == 4


def test_merging_the_same_results_twice_keeps_each_record_once(whole, tmp_path) -> None:
    proc = matrix(tmp_path, "merge", str(whole), str(whole / store.RESULTS), "--out", str(tmp_path))
    assert "4 duplicates dropped" in proc.stdout
    assert table(tmp_path) == table(whole)


def test_a_shard_past_the_end_is_an_error_not_an_empty_green_run(tmp_path) -> None:
    proc = matrix(tmp_path, "run", MATRIX_SHARD="5/5")
    assert proc.returncode == 3
    assert proc.stderr.strip().endswith("or the shard number.")
    assert not (tmp_path / store.RESULTS).exists()


def test_a_rerun_skips_what_is_recorded(whole, tmp_path) -> None:
    proc = matrix(whole, "run")
    assert proc.stderr.count("already recorded") == 4
    assert len(store.read(whole)) == 4


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killing_nox_halfway_then_rerunning_loses_nothing_and_repeats_nothing(whole, tmp_path, sig):
    nox = [sys.executable, "-m", "nox", "-t", "cells"]
    # nox sometimes goes on after a Ctrl-C that reaches a cell as it starts (about 1 run in
    # 20 here; the cell itself says "interrupted" and ends 130): then nothing was
    # interrupted, and it is tried again in a fresh folder
    for attempt in range(3):
        out = tmp_path / f"out-{attempt}"
        interrupted = _interrupt_halfway(nox, out, sig)
        if interrupted < 4:
            break
    assert 1 <= interrupted < 4
    rerun = subprocess.run(
        nox, cwd=ROOT, env=environ(out), capture_output=True, text=True, timeout=900
    )
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert table(out) == table(whole)
    assert Counter((r.cell_id, r.scenario) for r in store.read(out)).most_common(1)[0][1] == 1


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt_halfway(nox: list[str], out: Path, sig: int) -> int:
    """Start the cells, signal the whole group once a cell is recorded and the next one has
    begun, and return how many records are left. (Signalled as a cell ends, nox takes the
    interrupt as handled by it when it exits 0, and goes on: that would be no test.)"""
    proc = subprocess.Popen(
        nox,
        cwd=ROOT,
        env=environ(out),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        # a suite started in the background (`cmd &` in a script) ignores SIGINT, and so
        # would nox: a terminal's Ctrl-C reaches a foreground nox with the default action
        preexec_fn=_default_sigint,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (
        (out / store.RESULTS).is_file()
        and store.read(out, warn=False)
        and len(list((out / "logs").glob("*/requirements.in"))) >= 2
    ):
        time.sleep(0.02)
    os.killpg(proc.pid, sig)  # the whole group, as a terminal's Ctrl-C or a CI cancel does
    proc.wait(timeout=60)
    return len(store.read(out, warn=False))


def test_nox_lists_the_cells_as_json_for_a_ci_matrix(tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "nox", "-l", "--json", "-t", "cells"],
        cwd=ROOT,
        env=environ(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    sessions = json.loads(proc.stdout)
    assert [s["session"] for s in sessions] == [
        f"cell(py{v}-pytest8.4.2-asyncio1.2.0)" for v in ("3.10", "3.11", "3.12", "3.13")
    ]


def test_a_relative_results_folder_works_from_any_directory(tmp_path) -> None:
    # pytest runs inside a copy of the probe: every path handed to it must be absolute
    env = environ(Path("results"))
    proc = subprocess.run(
        [sys.executable, "-m", "matrix", "run"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    records = store.read(tmp_path / "results")
    assert len(records) == 4 and {r.outcome.value for r in records} == {"pass"}


def test_a_records_repro_command_reruns_exactly_that_cell_and_scenario(whole, tmp_path) -> None:
    out = tmp_path / "out"
    shutil.copytree(whole, out)
    record = store.read(out)[0]
    assert f"MATRIX_OUT={whole} " in record.repro
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATRIX_")}
    proc = subprocess.run(
        ["bash", "-c", record.repro.replace(str(whole), str(out))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    again = [
        r for r in store.read(out) if (r.cell_id, r.scenario) == (record.cell_id, record.scenario)
    ]
    assert len(again) == 2 and again[1].outcome is record.outcome
    assert again[1].run_id != record.run_id
