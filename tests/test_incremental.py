"""Incremental runs on real cells: after a first run, a snapshot with one new release
(pytest 8.4.2) remeasures only the cells whose resolution changed; the rest is carried
over, and the result equals a fresh run of the new snapshot cell for cell.

``tests/data/incremental.toml`` has twelve control-probe cells; six leave pytest to the
resolver. The two snapshots are the repository's, cut at an hour before and after pytest
8.4.2 was uploaded (no other tracked release lies between)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from matrix.define import releases
from matrix.results import store

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parent.parent
PROFILE = ROOT / "tests/data/incremental.toml"
BEFORE, AFTER = "2025-09-04T14:00:00Z", "2025-09-04T15:00:00Z"  # pytest 8.4.2: 14:34:20


def snapshot_at(taken_at: str, folder: Path) -> Path:
    """The repository's snapshot as it would have been taken at ``taken_at``."""
    return releases.as_of(releases.SNAPSHOT_PATH, taken_at, folder)


def matrix(out: Path, snapshot: Path, run_id: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATRIX_")}
    env |= {
        "MATRIX_CONFIG": str(PROFILE),
        "MATRIX_OUT": str(out),
        "MATRIX_RELEASES": str(snapshot),
        "MATRIX_RUN_ID": run_id,
    }
    proc = subprocess.run(
        [sys.executable, "-m", "matrix", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def verdicts(out: Path) -> dict[tuple[str, str], tuple]:
    """What the page shows per scenario, from the site's summary.json."""
    summary = json.loads((out / "site" / "summary.json").read_text())
    return {
        (s["cell_id"], s["scenario"]): (s["outcome"], s.get("signature"))
        for s in summary["scenarios"]
    }


def resolved(out: Path, run_id: str) -> dict[str, dict[str, str]]:
    return {r.cell_id: r.resolved for r in store.read(out) if r.run_id == run_id}


def test_a_new_release_remeasures_only_the_cells_it_changes(tmp_path) -> None:
    before, after = snapshot_at(BEFORE, tmp_path), snapshot_at(AFTER, tmp_path)
    local = tmp_path / "local"
    matrix(local, before, "run1", "run")  # which also builds the page
    published = tmp_path / "published-results.json"  # the page as the next run fetches it
    shutil.copy(local / "site" / "results.json", published)
    first = resolved(local, "run1")
    assert len(first) == 12 and not any(r.carried_over for r in store.read(local))

    # The next run in the same folder, and one in an empty folder given the published page.
    matrix(local, after, "run2", "run")
    given = tmp_path / "given"
    matrix(given, after, "run2", "run", "--previous", str(published))
    changed = {c for c, pins in resolved(local, "run2").items() if pins != first[c]}
    assert len(changed) == 6 and all(first[c]["pytest"] == "8.4.1" for c in changed)
    for out in (local, given):
        mine = [r for r in store.read(out) if r.run_id == "run2"]
        assert {r.cell_id for r in mine if not r.carried_over} == changed
        assert {r.cell_id for r in mine if r.carried_over} == set(first) - changed
        assert {r.measured_in for r in mine if r.carried_over} == {"run1"}

    fresh = tmp_path / "fresh"
    matrix(fresh, after, "fresh", "run")
    assert verdicts(local) == verdicts(given) == verdicts(fresh)
    assert len(verdicts(fresh)) == 12
    page = (given / "site" / "index.html").read_text()
    assert "6 measured in these runs, 6 carried over from an earlier run" in page
