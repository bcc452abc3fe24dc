"""The benchmark's pure parts: statistics, table, record and report reading, summaries,
and the hand-written noxfile's parametrization (the same cells and scenarios as the matrix).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from matrix.define import definition, plan, scenarios

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"


def _load(name: str, path: Path):
    """A module from a file of bench/ (a folder of scripts, not a package)."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


bench = _load("bench_main", BENCH / "bench.py")
naive = _load("noxfile_naive", BENCH / "noxfile_naive.py")


def product_cells():
    return plan.build(definition.load(BENCH / "bench.toml")).cells


def cell_time(cell="c1", wall=20.0, pytest_s=18.0, resolve=0.5, env=0.5, tests=10):
    return bench.CellTime(
        cell=cell, wall_s=wall, pytest_s=pytest_s, resolve_s=resolve, env_s=env, tests=tests
    )


def nox_run(label="run", wall=10.0, code=0, sessions=None):
    return bench.NoxRun(
        label=label,
        wall_s=wall,
        returncode=code,
        sessions=sessions or {},
        load=(0.5, 0.5),
        log=f"logs/{label}.log",
    )


def product_run(wall, pytest_s, tests=66, cells=(), code=0):
    return bench.ProductRun(
        nox=nox_run(wall=wall, code=code),
        pytest_s=pytest_s,
        tests=tests,
        cells=tuple(cells),
        outcomes={"pass": 1},
    )


def naive_run(wall, pytest_s, tests=66, code=0):
    return bench.NaiveRun(nox=nox_run(wall=wall, code=code), pytest_s=pytest_s, tests=tests)


def record(cell="c1", scenario="control", duration=1.0, attempt=1, tests=None):
    return {
        "cell_id": cell,
        "scenario": scenario,
        "duration_s": duration,
        "attempt": attempt,
        "tests": tests or {"passed": 1, "failed": 0, "errors": 0, "skipped": 0},
    }


# ---------------------------------------------------------------- numbers


def test_median_ignores_unknown_values_and_rounds():
    assert bench.median([3.0, 1.0, 2.0]) == 2.0
    assert bench.median([4.0, 1.0, None, 2.0, 3.0]) == 2.5
    assert bench.median([1 / 3]) == 0.333
    assert bench.median([None]) is None
    assert bench.median([]) is None


def test_ratio_is_none_when_it_means_nothing():
    assert bench.ratio(30.0, 10.0) == 3.0
    assert bench.ratio(1.0, 3.0) == 0.333
    assert bench.ratio(1.0, 0.0) is None
    assert bench.ratio(None, 2.0) is None
    assert bench.ratio(2.0, None) is None


def test_growth_exponent_tells_linear_from_sublinear():
    assert bench.growth_exponent(1000, 1.0, 10000, 10.0) == 1.0
    assert bench.growth_exponent(1000, 2.0, 10000, 2.0) == 0.0
    assert bench.growth_exponent(1000, 1.0, 10000, 3.16) == 0.5
    assert bench.growth_exponent(1000, None, 10000, 3.0) is None
    assert bench.growth_exponent(1000, 1.0, 1000, 3.0) is None


def test_verdict_words():
    assert [bench.verdict(v) for v in (True, False, None)] == ["met", "MISSED", "n/a"]


def test_format_table_aligns_columns_under_a_rule():
    text = bench.format_table(("measure", "value"), [("a", "1.0 s"), ("longer name", None)])
    lines = text.splitlines()
    assert lines[0] == "measure      value"
    assert lines[1] == "-----------  -----"
    assert lines[2] == "a            1.0 s"
    assert lines[3] == "longer name"  # None prints as nothing, trailing blanks dropped


def test_units():
    assert bench.seconds(12.345) == "12.3 s"
    assert bench.times(5.0) == "5.00x"
    assert bench.percent(0.0512) == "5.1%"
    assert bench.seconds(None) == bench.times(None) == bench.percent(None) == "?"


# ---------------------------------------------------------------- records and reports


def test_pytest_seconds_counts_an_unrecorded_first_attempt_again():
    records = [
        record(scenario="control", duration=1.0),
        record(scenario="e2e-first", duration=4.0, attempt=2),  # same answer twice
        record(scenario="e2e-last", duration=3.0, attempt=1),  # flaky: both kept
        record(scenario="e2e-last", duration=5.0, attempt=2),
    ]
    assert bench.pytest_seconds(records) == 1.0 + 8.0 + 8.0


def test_pytest_seconds_keeps_cells_apart():
    records = [
        record(cell="a", scenario="x", duration=2.0, attempt=2),
        record(cell="b", scenario="x", duration=1.0),
    ]
    assert bench.pytest_seconds(records) == 5.0


def test_tests_run_adds_every_kind():
    tests = {"passed": 3, "failed": 2, "errors": 4, "skipped": 1}
    assert bench.tests_run([record(tests=tests), record()]) == 11


def test_session_durations_keyed_by_parameter():
    report = {
        "sessions": [
            {"name": "cell", "args": {"cell": "py3.13-x"}, "duration": 12.3456},
            {"name": "lint", "args": {}, "duration": 1.0},
        ]
    }
    assert bench.session_durations(report) == {"py3.13-x": 12.346, "lint": 1.0}


def test_pyenv_version_keeps_the_active_first_and_adds_modern_cpythons():
    installed = [
        "2.7.18",
        "3.8.18",
        "3.9.18",
        "3.11.7",
        "3.12.1",
        "3.13.0",
        "3.13t-dev",
        "pypy3.10-7.3.17",
        "system",
    ]
    assert bench.pyenv_version_value("3.11.7", installed) == "3.11.7:3.9.18:3.12.1:3.13.0"
    assert bench.pyenv_version_value("system:3.12.1", ["3.12.1"]) == "system:3.12.1"
    assert bench.pyenv_version_value("", ["3.10.13"]) == "3.10.13"


def test_junit_tests_reads_both_report_shapes(tmp_path: Path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "junit-1.xml").write_text(
        '<testsuites><testsuite name="pytest" tests="7" failures="1"/></testsuites>'
    )
    (tmp_path / "b.xml").write_text('<testsuite name="pytest" tests="3"/>')
    assert bench.junit_tests(tmp_path) == 10


def test_env_timings_from_the_files_a_cell_leaves(tmp_path: Path):
    out, envs, cell = tmp_path / "out", tmp_path / "envs", "py3.13-x"
    logs = out / "logs" / cell
    logs.mkdir(parents=True)
    (envs / "abc").mkdir(parents=True)
    lock = "pytest==8.4.2\n"
    files = {
        logs / "requirements.in": 100.0,
        logs / "requirements.txt": 100.5,
        envs / "abc.txt": 100.6,
        envs / "abc" / ".matrix-ready": 101.4,
        envs / "other.txt": 100.0,
    }
    for path, mtime in files.items():
        path.write_text("other\n" if path.name == "other.txt" else lock)
        os.utime(path, (mtime, mtime))
    assert bench.env_timings(out, envs, cell) == (0.5, 0.8)
    assert bench.env_timings(out, envs, "missing") == (None, None)


# ---------------------------------------------------------------- summaries and table


def test_overhead_summary_takes_per_sample_shares():
    runs = [
        product_run(20, 18, cells=[cell_time(wall=20.0, pytest_s=18.0)]),
        product_run(40, 30, cells=[cell_time(wall=40.0, pytest_s=30.0, env=3.5)]),
    ]
    summary = bench.summarise_overhead(runs)
    (row,) = summary["cells"]
    assert row["wall_s"] == 30.0 and row["setup_s"] == 2.5
    assert row["setup_share"] == bench.median([1.0 / 20, 4.0 / 40])
    assert row["non_pytest_share"] == bench.median([2 / 20, 10 / 40])
    assert summary["met"] is True


def test_overhead_summary_misses_when_one_cell_is_over_the_share():
    runs = [product_run(10, 5, cells=[cell_time("a"), cell_time("b", wall=10.0, env=2.0)])]
    summary = bench.summarise_overhead(runs)
    assert [r["cell"] for r in summary["cells"]] == ["a", "b"]
    assert summary["met"] is False


def test_naive_summary_ratios_of_medians():
    product = [product_run(100, 90), product_run(110, 95), product_run(300, 90)]
    naive = [naive_run(400, 80), naive_run(420, 85), naive_run(500, 90)]
    s = bench.summarise_naive(product, naive)
    assert (s["naive_wall_s"], s["product_wall_s"]) == (420.0, 110.0)
    assert s["speedup"] == round(420 / 110, 3)
    assert s["paired_speedups"] == [4.0, round(420 / 110, 3), round(500 / 300, 3)]
    assert s["speedup_outside_pytest"] == round(335 / 15, 3)
    assert s["speedup_ceiling"] == round(420 / 85, 3)
    assert s["product_tests"] == s["naive_tests"] == [66]
    assert s["met"] is False


def test_parallel_summary_against_the_sequential_pytest_time_per_core():
    sequential = [product_run(200, 180), product_run(220, 190)]
    parallel = [product_run(120, 230), product_run(130, 240)]
    s = bench.summarise_parallel(sequential, parallel, cores=2)
    assert s["parallel_over_sequential"] == round(125 / 210, 3)
    assert s["ideal_s"] == 92.5
    assert s["parallel_over_ideal"] == round(125 / 92.5, 3)
    assert s["met"] is False
    assert s["parallel_runs_pytest_sum_s"] == 235.0


def test_failed_runs_are_left_out_of_every_summary():
    """A run that crashed half way is fast for the wrong reason."""
    s = bench.summarise_parallel(
        [product_run(150, 140), product_run(14, 0, code=1)],
        [product_run(130, 240), product_run(50, 80, code=1)],
        cores=2,
    )
    assert (s["sequential_wall_s"], s["parallel_wall_s"], s["samples"]) == (150, 130, [1, 1])
    n = bench.summarise_naive(
        [product_run(70, 60, code=1), product_run(80, 70)], [naive_run(140, 40), naive_run(150, 45)]
    )
    assert n["product_wall_s"] == 80 and n["paired_speedups"] == [round(150 / 80, 3)]
    assert n["samples"] == [1, 2]
    crashed = product_run(5, 1, cells=[cell_time(wall=5.0)], code=1)
    assert bench.summarise_overhead([crashed])["cells"] == []


def test_site_summary_growth_between_smallest_and_largest():
    rows = [
        {
            "records": 1000,
            "builds": [{"build_s": 1.0, "peak_rss_mb": 100.0, "peak_traced_mb": 20.0}],
            "pages": [{"usable_s": 0.5}],
            "site_mb": 5.0,
            "index_mb": 0.5,
        },
        {
            "records": 10000,
            "builds": [
                {"build_s": 9.0, "peak_rss_mb": 200.0, "peak_traced_mb": 200.0},
                {"build_s": 11.0, "peak_rss_mb": 210.0, "peak_traced_mb": 200.0},
            ],
            "pages": [None, None],
            "site_mb": 50.0,
            "index_mb": 5.0,
        },
    ]
    s = bench.summarise_site(rows)
    assert s["sizes"][1]["build_s"] == 10.0
    assert s["growth"]["build_s"] == {"ratio": 10.0, "exponent": 1.0}
    assert s["growth"]["records_ratio"] == 10.0
    assert s["build_met"] is True
    assert s["usable_met"] is None  # no browser measure: not judged


def test_table_rows_name_each_target_and_its_verdict():
    summary = {
        "overhead": bench.summarise_overhead([product_run(20, 18, cells=[cell_time()])]),
        "naive": bench.summarise_naive([product_run(100, 90)], [naive_run(600, 80)]),
        "parallel": bench.summarise_parallel([product_run(200, 180)], [product_run(100, 190)], 2),
    }
    rows = bench.table_rows(summary)
    assert rows[0][0] == "overhead c1" and rows[0][3] == "met" and "5.0%" in rows[0][1]
    naive_row = next(r for r in rows if r[0].startswith("naive noxfile"))
    assert naive_row[1] == "600.0 s / 100.0 s = 6.00x" and naive_row[3] == "met"
    parallel_row = next(r for r in rows if "cores" in r[0])
    assert parallel_row[1] == "100.0 s / (180.0 s / 2) = 1.11x" and parallel_row[3] == "met"
    assert next(r for r in rows if r[0].startswith("  tests run"))[3] == "met"


def test_failed_runs_found_anywhere_in_the_samples():
    samples = {
        "cells": {
            "warmup": [nox_run("w", code=0)],
            "product": [
                bench.ProductRun(
                    nox=nox_run("p1", code=1), pytest_s=1, tests=1, cells=(), outcomes={}
                )
            ],
            "naive": [bench.NaiveRun(nox=nox_run("n1", code=2), pytest_s=1, tests=1)],
        }
    }
    assert bench.failed_runs(samples) == ["p1", "n1"]


def test_jsonable_keeps_raw_samples():
    data = bench._jsonable({"runs": [product_run(10, 8, cells=[cell_time()])]})
    text = json.dumps(data)
    assert json.loads(text)["runs"][0]["cells"][0]["wall_s"] == 20.0


def test_reps_default_per_section_and_one_for_a_quick_check():
    assert bench.parse_args([]).reps is None
    assert bench.parse_args(["--reps", "1", "--only", "overhead", "--cells", "1"]).cells == 1
    with pytest.raises(SystemExit):
        bench.parse_args(["--reps", "0"])


# ---------------------------------------------------------------- the hand-written noxfile


def test_naive_cases_are_the_bench_cells_times_their_scenarios():
    cases = naive.read_cases(BENCH / "bench.toml")
    cells = product_cells()
    assert len(cells) == 4
    assert list(dict.fromkeys(c.cell for c in cases)) == [c.id for c in cells]
    for cell in cells:
        mine = [c for c in cases if c.cell == cell.id]
        expected = scenarios.for_cell(cell)
        assert [c.scenario for c in mine] == [s.name for s in expected]
        assert [(c.runs, c.coverage) for c in mine] == [(s.runs, s.coverage) for s in expected]
        assert {c.probe for c in mine} == {cell.probe}
        assert {c.python for c in mine} == {cell.python}
        assert mine[0].requirements == cell.requirements


def test_bench_cells_cover_every_probe_and_coverage():
    cells = product_cells()
    assert {c.probe for c in cells} == {"sync-plugin", "async-plugin", "native-async"}
    assert any(c.has_coverage for c in cells)
    quick = plan.build(definition.load(ROOT / "matrix" / "matrix.toml", "quick")).cells
    assert {c.id for c in cells} <= {c.id for c in quick}


def test_naive_pytest_args_match_the_matrix(tmp_path: Path):
    case = next(c for c in naive.read_cases(BENCH / "bench.toml") if c.coverage)
    args = naive.pytest_args(case, case.runs[0], tmp_path / "j.xml")
    assert args == [
        "-p",
        "no:cacheprovider",
        "-q",
        "-rfE",
        f"--junitxml={tmp_path / 'j.xml'}",
        *case.runs[0],
        "--cov=app",
        "--cov-report=",
    ]


def test_naive_scenarios_without_playwright_or_coverage():
    assert naive.scenarios_for({"pytest": "8.4.2", "pytest-asyncio": "1.3.0"}) == ["control"]
    assert "e2e-first-cov" not in naive.scenarios_for({"playwright": "1.56.0"})
    assert "e2e-first-cov" in naive.scenarios_for({"playwright": "1.56.0", "pytest-cov": "7.0.0"})


def test_naive_session_ids_are_unique_and_name_their_cell():
    ids = [c.id for c in naive.read_cases(BENCH / "bench.toml")]
    assert len(ids) == len(set(ids)) == 24
    assert bench.naive_sessions([product_cells()[1].id]) == [
        f"probe({product_cells()[1].id}-{name})"
        for name in ("control", "e2e-first", "e2e-last", "driver-only", "isolated")
    ]


# ---------------------------------------------------------------- the real thing, small


@pytest.mark.integration
def test_overhead_of_one_cell(tmp_path: Path):
    """One repetition of the overhead section on one cell (about 40 s): real nox, real envs."""
    out = tmp_path / "bench.json"
    args = [
        sys.executable,
        str(BENCH / "bench.py"),
        "--reps",
        "1",
        "--only",
        "overhead",
        "--cells",
        "1",
        "--out",
        str(out),
        "--work",
        str(tmp_path / "work"),
    ]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out.read_text())
    (cell,) = report["summary"]["overhead"]["cells"]
    assert cell["cell"] == product_cells()[0].id
    assert cell["wall_s"] > cell["pytest_s"] > 0
    assert cell["resolve_s"] > 0 and cell["env_s"] > 0
    assert report["failed_runs"] == [] and report["machine"]["cores"] >= 1
    assert "overhead " + cell["cell"] in done.stdout
