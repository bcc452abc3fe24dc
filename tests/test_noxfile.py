"""The noxfile plans once per run and does not need a valid definition for other sessions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parent.parent


def nox(*args: str, tmp: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATRIX_")}
    env.update(MATRIX_OUT=str(tmp / "out"), **extra)
    return subprocess.run(
        [sys.executable, "-m", "nox", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.parametrize("broken", ["config", "shard"])
def test_a_broken_definition_or_shard_does_not_stop_the_tests_session(tmp_path, broken):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[cell]]\npython = "3.13"\ncolour = "red"\n')
    setting = {"MATRIX_CONFIG": str(bad)} if broken == "config" else {"MATRIX_SHARD": "40/40"}
    listed = nox("-l", tmp=tmp_path, **setting)
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert "tests" in listed.stdout
    tests = nox(
        "-s",
        "tests",
        "--",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/test_golden.py",
        tmp=tmp_path,
        **setting,
    )
    assert tests.returncode == 0, tests.stderr[-2000:]
    assert "3 passed" in tests.stdout + tests.stderr
    # Asked for the matrix, nox stops at once with the sentence and the definition's code.
    matrix = nox("-s", "matrix", tmp=tmp_path, **setting)
    assert matrix.returncode == (2 if broken == "config" else 3)
    said = "unknown distribution 'colour'" if broken == "config" else "in shard 40/40"
    [line] = [ln for ln in matrix.stderr.splitlines() if ln.startswith("error:")]
    assert said in line


def test_cells_are_listed_from_the_plan_written_once(tmp_path):
    first = nox("-l", "-t", "cells", "--json", tmp=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    written = list((tmp_path / "out" / ".plans").glob("*.json"))
    assert len(written) == 1
    stamp = written[0].stat().st_mtime_ns
    again = nox("-l", "-t", "cells", "--json", tmp=tmp_path)
    assert again.stdout == first.stdout
    assert written[0].stat().st_mtime_ns == stamp  # read, not planned and written again
