"""Real cells end to end: real uv envs, real pytest runs of the probes, real Chromium.

These run ``python -m matrix run``, the command every nox cell session calls, on small
definition files in ``tests/data``; one test goes through nox itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from matrix.results import store
from matrix.results.record import Outcome

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parent.parent
FIXTUREDEF = "AttributeError: 'FixtureDef' object has no attribute 'unittest'"


def run(config: Path, out: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m matrix <args>`` (default ``run``) on ``config`` into ``out``."""
    full_env = {**os.environ, "MATRIX_CONFIG": str(config), "MATRIX_OUT": str(out), **env}
    full_env.pop("MATRIX_PROFILE", None)
    return subprocess.run(
        [sys.executable, "-m", "matrix", *(args or ("run",))],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=1800,
    )


def by_scenario(out: Path, cell_prefix: str) -> dict:
    return {r.scenario: r for r in store.read(out) if r.cell_id.startswith(cell_prefix)}


@pytest.fixture(scope="module")
def reported(
    tmp_path_factory,
) -> Path:
    out = tmp_path_factory.mktemp("reported")
    proc = run(ROOT / "tests/data/reported.toml", out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def test_reported_versions_show_the_bug_only_where_the_control_is_clean(reported) -> None:
    records = by_scenario(reported, "py3.13-pytest8.4.2-asyncio0.23.0-sync0.7.1")
    assert records["control"].outcome is Outcome.FAIL
    assert records["control"].signature == FIXTUREDEF
    for scenario in ("e2e-first", "e2e-first-cov"):
        assert records[scenario].outcome is Outcome.BUG
        assert records[scenario].signature == "loop-already-running"
        assert records[scenario].message == "RuntimeError: This event loop is already running"
        assert records[scenario].control_signature == FIXTUREDEF
    for scenario in ("e2e-last", "e2e-last-cov"):
        assert records[scenario].outcome is Outcome.FAIL
        assert records[scenario].signature == FIXTUREDEF


def test_reported_fix_passes_every_scenario_coverage_included(reported) -> None:
    for asyncio_version in ("0.24.0", "1.5.0"):
        records = by_scenario(reported, f"py3.13-pytest8.4.2-asyncio{asyncio_version}-async0.7.1")
        assert set(records) == {
            "control",
            "e2e-first",
            "e2e-first-cov",
            "e2e-last",
            "e2e-last-cov",
            "driver-only",
            "isolated",
        }
        assert {s: r.outcome for s, r in records.items()} == dict.fromkeys(records, Outcome.PASS)
        assert records["e2e-first-cov"].resolved["pytest-cov"] == "7.0.0"
        assert records["e2e-first"].tests.passed >= 5


def test_records_carry_what_reproduces_and_explains_them(reported) -> None:
    record = by_scenario(reported, "py3.13-pytest8.4.2-asyncio0.23.0")["e2e-first"]
    assert record.python.startswith("3.13.")
    assert record.resolved["playwright"] == "1.49.1" and "greenlet" in record.resolved
    assert record.repro.endswith(
        "nox -s 'cell(py3.13-pytest8.4.2-asyncio0.23.0-sync0.7.1-pw1.49.1-cov7.0.0)' "
        "-- --scenario e2e-first"
    )
    assert "This event loop is already running" in (reported / record.log).read_text()
    assert record.tests.failed > 0 and record.duration_s > 0


def test_unresolvable_pins_and_a_missing_interpreter_are_states_of_their_own(tmp_path) -> None:
    envs = tmp_path / "envs"
    proc = run(ROOT / "tests/data/edge-cells.toml", tmp_path / "out", MATRIX_ENVS=str(envs))
    assert proc.returncode == 0, proc.stderr[-3000:]
    unresolvable = by_scenario(tmp_path / "out", "py3.12-pytest7.4.4-asyncio1.0.0")["control"]
    assert unresolvable.outcome is Outcome.UNRESOLVABLE
    assert "pytest-asyncio==1.0.0 depends on pytest>=8.2,<9" in unresolvable.message
    assert not envs.exists() or not any(p.is_dir() for p in envs.iterdir())  # nothing half-built
    missing = by_scenario(tmp_path / "out", "py3.14-")["control"]
    assert missing.outcome is Outcome.NO_INTERPRETER
    assert missing.message == "Python 3.14 is not installed on this machine"


def test_a_hanging_probe_is_killed_at_its_limit_with_nothing_left_behind(tmp_path) -> None:
    started = time.monotonic()
    proc = run(
        ROOT / "tests/data/hang.toml",
        tmp_path / "out",
        MATRIX_PROBES=str(ROOT / "tests/data/probes"),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    [record] = store.read(tmp_path / "out")
    assert record.outcome is Outcome.TIMEOUT
    assert record.duration_s <= 5 + 10
    assert time.monotonic() - started < 120
    leftovers = subprocess.run(["pgrep", "-f", "matrix-hang-marker"], capture_output=True)
    assert leftovers.returncode == 1, leftovers.stdout


@pytest.mark.parametrize(
    "name", ["unknown-key.toml", "unknown-dist.toml", "malformed-version.toml"]
)
def test_nox_refuses_a_bad_definition_in_one_sentence_with_exit_code_2(tmp_path, name) -> None:
    config = ROOT / "tests/data/bad" / name
    env = {
        **os.environ,
        "MATRIX_CONFIG": str(config),
        "MATRIX_OUT": str(tmp_path / "out"),
        "MATRIX_ENVS": str(tmp_path / "envs"),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "nox", "-s", "matrix"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    [line] = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert str(config) in line
    assert not (tmp_path / "envs").exists() and not (tmp_path / "out").exists()
