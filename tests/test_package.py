"""The package outside the repository: installed into a fresh venv, run from another folder.

``loop-compat run`` measures the profile's cells with the probes the package carries and
builds the report; the records' repro commands name the console command, and rerun the cell.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest

from matrix.results import store

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parent.parent
ONE_CELL = """\
# One control cell: the async tests alone, a few seconds.
scenarios = ["control"]
[[cell]]
python = "3.11"
pytest = "8.4.2"
pytest-asyncio = "1.2.0"
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A venv outside the repository with the project installed (not editable)."""
    venv = tmp_path_factory.mktemp("installed") / "venv"
    subprocess.run(["uv", "venv", "--quiet", "--python", "3.11", str(venv)], check=True)
    subprocess.run(
        ["uv", "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), str(ROOT)],
        check=True,
        timeout=600,
    )
    return venv


def environ(venv: Path, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("MATRIX_")}
    return {**keep, "PATH": f"{venv / 'bin'}{os.pathsep}{keep['PATH']}", **extra}


def test_installed_run_records_the_cell_builds_the_report_and_repro_reruns_it(
    installed: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "one-cell.toml").write_text(ONE_CELL)
    env = environ(
        installed,
        MATRIX_CONFIG="../one-cell.toml",
        MATRIX_OUT="results",
        MATRIX_ENVS=str(tmp_path / "envs"),
    )
    proc = subprocess.run(
        ["loop-compat", "run"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = elsewhere / "results"
    [record] = store.read(out)
    assert (record.scenario, record.outcome.value) == ("control", "pass")
    assert record.tests.passed > 0
    assert (out / "site" / "index.html").is_file()
    assert str(ROOT) not in record.repro  # the package's own probes, not the checkout's
    assert record.repro.startswith(f"MATRIX_CONFIG={tmp_path / 'one-cell.toml'} ")
    assert f"loop-compat cell {record.cell_id} --scenario control --fresh" in record.repro

    # The repro command, as a user pastes it into a shell anywhere.
    again = subprocess.run(
        ["sh", "-c", record.repro],
        cwd=tmp_path,
        env=environ(installed, MATRIX_ENVS=str(tmp_path / "envs")),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert again.returncode == 0, again.stderr[-3000:]
    rerun = [r for r in store.read(out) if r.cell_id == record.cell_id]
    assert len(rerun) == 2 and rerun[1].outcome.value == "pass"
    assert shlex.split(rerun[1].repro) == shlex.split(record.repro)
