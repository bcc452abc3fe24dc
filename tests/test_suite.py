"""A user's own suite as the probe: read it, run it untouched, answer what to pin."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from matrix.search import answer
from matrix.measure import scenarios, suite
from matrix.results import store
from matrix.define.cell import Cell
from matrix.results.record import Outcome

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def test_the_example_is_read_with_its_e2e_folder_and_its_own_pins() -> None:
    shop = suite.load(EXAMPLES / "shop-sync")
    assert (shop.name, shop.test_root, shop.e2e) == ("shop-sync", "tests", "tests/e2e")
    assert shop.others == ("tests/integration", "tests/unit")
    assert shop.declared_pins() == {"pytest": "8.4.2", "pytest-asyncio": "0.23.0",
                                    "pytest-playwright": "0.7.1", "playwright": "1.49.1",
                                    "pytest-cov": "7.0.0"}


def test_a_suite_gets_as_is_and_e2e_first_and_last_around_its_own_folders() -> None:
    shop = suite.load(EXAMPLES / "shop-sync")
    cell = Cell.make("3.13", {"pytest-playwright": "0.7.1", "pytest-cov": "7.0.0"}, suite=shop.name)
    chosen = {s.name: s.runs for s in scenarios.for_cell(cell, scenarios.NAMES, shop)}
    assert chosen == {
        "control": (("tests/integration", "tests/unit"),),
        "as-is": ((),),
        "e2e-first": (("tests/e2e", "tests/integration", "tests/unit"),),
        "e2e-first-cov": (("tests/e2e", "tests/integration", "tests/unit"),),
        "e2e-last": (("tests/integration", "tests/unit", "tests/e2e"),),
        "e2e-last-cov": (("tests/integration", "tests/unit", "tests/e2e"),),
        "isolated": (("tests/e2e",), ("tests/integration", "tests/unit")),
    }
    assert cell.id.startswith("shop-sync-py3.13-") and cell.probe == "suite:shop-sync"


def test_a_folder_that_is_not_a_pytest_project_is_one_sentence_and_exit_6(data) -> None:
    with pytest.raises(suite.NotASuite) as err:
        suite.load(data / "suites" / "not-pytest")
    assert "is not a pytest project" in str(err.value) and err.value.return_code == 6


def test_the_answer_names_a_passing_combination_and_where_the_pins_stand(data) -> None:
    records = store.read(data / "suite-records.jsonl")
    shop = suite.load(EXAMPLES / "shop-sync")
    lines = answer.for_suite("shop-sync", records, shop.declared_pins())
    assert "as-is bug (loop-already-running)" in lines[1]
    assert lines[3].startswith("  it passes with the e2e tests in a separate pytest process")
    assert lines[4] == ("  pins to write: playwright==1.65.2 pytest==9.2.0 pytest-asyncio==1.5.0 "
                        "pytest-cov==7.1.0 pytest-playwright==0.10.0")
    fixed = answer.for_suite("shop-async", records, suite.load(EXAMPLES / "shop-async").declared_pins())
    assert fixed[1].endswith("every scenario passes")
    assert "pytest-playwright-asyncio==0.10.0" in fixed[3]


def _tree(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(str(path).encode() + path.read_bytes())
    return digest.hexdigest()


def _run(out: Path, config: Path, profile: str | None = None, **extra: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATRIX_")}
    env.update(MATRIX_CONFIG=str(config), MATRIX_OUT=str(out), **extra)
    if profile:
        env["MATRIX_PROFILE"] = profile
    return subprocess.run([sys.executable, "-m", "matrix", "run"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1200)


@pytest.mark.integration
def test_the_examples_show_the_bug_then_the_fix_without_touching_them(tmp_path) -> None:
    before = _tree(EXAMPLES)
    for profile in ("sync", "async"):
        proc = _run(tmp_path, EXAMPLES / "matrix.toml", profile)
        assert proc.returncode == 0, proc.stderr[-3000:]
    assert _tree(EXAMPLES) == before
    table = {(r.cell_id, r.scenario): r for r in store.read(tmp_path)}
    reported = "shop-sync-py3.13-pytest8.4.2-asyncio0.23.0-sync0.7.1-pw1.49.1-cov7.0.0"
    assert table[(reported, "e2e-first")].outcome is Outcome.BUG
    assert table[(reported, "as-is")].outcome is Outcome.BUG
    fixed = [r for (cid, _), r in table.items() if cid.startswith("shop-async-")]
    assert fixed and all(r.outcome is Outcome.PASS for r in fixed)
    lines = answer.for_suite("shop-sync", store.read(tmp_path), {})
    assert any(line.startswith("  pins to write: ") for line in lines)
    # explain works on the suite's recorded cells too (no new cell: --max-cells 0)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATRIX_")}
    env.update(MATRIX_SUITE=str(EXAMPLES / "shop-sync"), MATRIX_OUT=str(tmp_path))
    pins = ["python=3.13", "pytest=8.4.2", "pytest-asyncio=0.23.0", "pytest-playwright=0.7.1",
            "playwright=1.49.1", "pytest-cov=7.0.0"]
    proc = subprocess.run([sys.executable, "-m", "matrix", "explain", *pins, "--max-cells", "0"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"start {reported} (recorded)" in proc.stdout


@pytest.mark.integration
def test_a_suite_whose_own_dependencies_cannot_install_is_told_so(tmp_path, data) -> None:
    proc = _run(tmp_path, data / "suites.toml", MATRIX_SUITE=str(data / "suites/needs-missing-dist"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = store.read(tmp_path)
    assert [r.scenario for r in records] == ["control", "as-is"]  # no e2e folder: no e2e scenarios
    for record in records:
        assert record.outcome is Outcome.UNRESOLVABLE and record.signature == "suite-dependencies"
        assert record.message.startswith("the suite's own dependencies cannot be installed")
        assert "no-such-distribution-for-the-matrix" in record.message


@pytest.mark.integration
def test_nox_refuses_a_path_that_is_not_a_pytest_project(tmp_path, data) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATRIX_")}
    env.update(MATRIX_SUITE=str(data / "suites/not-pytest"), MATRIX_OUT=str(tmp_path))
    proc = subprocess.run([sys.executable, "-m", "nox", "-s", "matrix"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 6
    assert [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")] == [
        f"error: {data / 'suites/not-pytest'} is not a pytest project (no pytest configuration "
        "and no test_*.py files); point MATRIX_SUITE at the folder that holds its tests."]
