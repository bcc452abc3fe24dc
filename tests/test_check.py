"""check: a project's pins looked up in measured records, with no env built.

The records are the reference dataset shipped in the package (``matrix/reference/``,
measured by ``nox -s reference``); the local results folder is pointed at an empty folder,
as in a fresh clone where nothing was run. The projects under ``tests/data/check/`` are
real: their ``uv.lock`` and ``poetry.lock`` were written by uv and Poetry from the
``pyproject.toml`` beside them (the ``pdm.lock`` is written by hand in PDM's format).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import re
import threading
import time
from pathlib import Path

import pytest

from matrix.__main__ import main
from matrix.define.versions import version_key
from matrix.results import model, sources, store
from matrix.search import check, pins

CHECK = Path(__file__).parent / "data" / "check"
REPORTED, FIXED, UNKNOWN = "reported", "fixed", "unmeasured"
FORMATS = ("req", "uv", "poetry")


@pytest.fixture(autouse=True)
def fresh_clone(tmp_path, monkeypatch) -> Path:
    """No local run: the results folder is empty, so the reference dataset answers."""
    out = tmp_path / "reports"
    monkeypatch.setenv("MATRIX_OUT", str(out))
    return out


@contextlib.contextmanager
def served(folder: Path):
    """``folder`` over http on a free local port, as a page host would serve it."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a: None
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()


def run_check(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["check", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("form", FORMATS)
def test_the_reported_project_is_measured_bug_with_its_signature_and_smallest_fix(
    capsys, form
) -> None:
    started = time.process_time()  # CPU: a loaded machine's wall clock says nothing
    code, out, _ = run_check(capsys, str(CHECK / f"{form}-{REPORTED}"))
    elapsed = time.process_time() - started
    assert code == check.BAD == 1
    assert elapsed < 1.0, f"check took {elapsed:.2f} s"
    assert "measured: bug  py3.13-pytest8.4.2-asyncio0.23.0-sync0.7.1-pw1.49.1-cov7.0.0" in out
    assert "e2e-first      bug            loop-already-running" in out
    assert "AttributeError: 'FixtureDef' object has no attribute 'unittest'" in out
    assert "known fix: use pytest-playwright-asyncio" in out
    assert (
        "\nsmallest fix: pytest-asyncio 0.23.0 -> 0.24.0, "
        "pytest-playwright 0.7.1 -> pytest-playwright-asyncio 0.7.1 (pass (measured) "
        "there: "
    ) in out
    assert (
        "pins to write: pytest==8.4.2 pytest-asyncio==0.24.0 pytest-playwright-asyncio==0.7.1 "
        "playwright==1.49.1 pytest-cov==7.0.0 (Python 3.13)"
    ) in out
    assert "records: " in out and "reference dataset, run " in out
    assert out.rstrip().endswith("verdict: bug (measured) (exit 1)")


@pytest.mark.parametrize("form", FORMATS)
def test_the_fixed_pins_are_measured_good(capsys, form) -> None:
    code, out, _ = run_check(capsys, str(CHECK / f"{form}-{FIXED}"))
    assert code == check.GOOD == 0
    assert "measured: pass  py3.13-pytest8.4.2-asyncio0.24.0-async0.7.1-pw1.56.0" in out
    assert "smallest fix" not in out and out.rstrip().endswith("verdict: pass (measured) (exit 0)")


def test_check_reads_the_releases_snapshot_the_settings_name(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("MATRIX_RELEASES", str(tmp_path / "no-such-releases.json"))
    code, _, err = run_check(capsys, str(CHECK / f"{FORMATS[0]}-{REPORTED}"))
    assert code == 4 and "loop-compat releases" in err


@pytest.mark.parametrize("form", FORMATS)
def test_pins_nobody_measured_are_inferred_with_their_evidence(capsys, form) -> None:
    # no cell has exactly these pins (playwright 1.52.0 with pytest 8.3.5 and
    # pytest-asyncio 0.25.3 on the sync plugin): the verdict rests on the measured cells
    # around them, and every pin that differs says why it is not expected to matter
    code, out, _ = run_check(capsys, str(CHECK / f"{form}-{UNKNOWN}"))
    assert code == check.BAD == 1
    assert "\n  evidence (measured cells):\n    bug   " in out
    assert "\n  playwright 1.52.0: " in out and "never changed a verdict" in out
    assert "expected signature: " in out
    assert "smallest fix: pytest-playwright 0.7.1 -> pytest-playwright-asyncio " in out
    assert "pins to write: pytest==8.3.5 pytest-asyncio==0.25.3 pytest-playwright-asyncio==" in out
    assert "playwright==1.52.0" in out.split("pins to write:")[1]  # playwright is kept
    assert out.rstrip().endswith("verdict: bug (inferred) (exit 1)")


def test_measured_only_answers_from_exact_matches_alone(capsys) -> None:
    code, out, _ = run_check(capsys, str(CHECK / f"req-{UNKNOWN}"), "--measured-only")
    assert code == check.UNKNOWN == 8
    assert out.rstrip().endswith("(--measured-only) (exit 8)")


def verdicts_within(admits) -> list[str]:
    """The verdicts of the reference cells whose requested versions ``admits``."""
    found = check.by_cell(sources.reference().records)
    return [
        model.cell_outcome(scen.values())
        for scen in found.values()
        if admits(next(iter(scen.values())).latest.requested)
    ]


def test_ranges_are_answered_by_every_measured_cell_within_them(capsys) -> None:
    # pytest-playwright>=0.5.2 beside pytest-asyncio>=0.21: whatever resolves, the sync
    # plugin; every such measured cell is bad (the conflict, or pytest-asyncio failing
    # under that pytest by itself), so the project is told so, with the fix.
    code, out, _ = run_check(capsys, str(CHECK / "ranges-sync"))
    assert code == check.BAD
    assert "pytest-asyncio >=0.21, pytest-playwright >=0.5.2, playwright >=1.48.0" in out
    counted = out.split("within these ranges: ")[1].splitlines()[0]
    assert re.match(r"\d+ measured cells: \d+ bug(, \d+ fail)?(; the worst first)?$", counted)
    assert out.count("\nmeasured: bug  ") == check.SHOWN  # the rest are counted, not listed
    assert "\nsmallest fix: pytest-playwright >=0.5.2 -> pytest-playwright-asyncio " in out


def test_ranges_whose_measured_cells_all_pass_are_good(capsys) -> None:
    code, out, _ = run_check(capsys, str(CHECK / "ranges-async"))
    within = verdicts_within(
        lambda r: (
            "pytest-playwright-asyncio" in r
            and version_key(r["pytest-playwright-asyncio"]) >= version_key("0.7")
            and version_key(r["pytest-asyncio"]) >= version_key("0.24")
        )
    )
    assert code == check.GOOD and within and set(within) == {"pass"}
    assert f"within these ranges: {len(within)} measured cells: {len(within)} pass" in out
    assert "smallest fix" not in out


def test_a_range_that_admits_a_passing_cell_is_told_to_pin_it(capsys) -> None:
    # pytest-asyncio 0.23.0 with pytest>=8 and no plugin, against the golden records: pytest
    # 8.4.2 breaks 0.23.0 by itself ('FixtureDef' ... 'unittest'), 8.1.1 does not.
    golden = Path(__file__).parent / "data" / "golden" / store.RESULTS
    code, out, _ = run_check(capsys, str(CHECK / "ranges-mixed"), "--from", str(golden))
    assert code == check.BAD
    assert "within these ranges: 2 measured cells: 1 fail, 1 pass" in out
    assert "measured: fail  py3.13-pytest8.4.2-asyncio0.23.0-pw1.55.0-cov7.0.0" in out
    assert (
        "\nsmallest fix: pin it: pytest==8.1.1 pytest-asyncio==0.23.0 playwright==1.55.0 "
        "pytest-cov==7.0.0 (Python 3.13)\n"
    ) in out


def test_json_gives_the_same_answer_for_machines(capsys) -> None:
    code, out, _ = run_check(capsys, str(CHECK / f"req-{REPORTED}"), "--json")
    answer = json.loads(out)
    assert code == 1 and (answer["verdict"], answer["status"], answer["exit_code"]) == (
        "bug",
        "bad",
        1,
    )
    (match,) = answer["matches"]
    assert match["scenarios"]["e2e-first"] == {
        "outcome": "bug",
        "signature": "loop-already-running",
        "message": "RuntimeError: This event loop is already running",
    }
    assert answer["signatures"][0]["id"] == "loop-already-running"
    assert answer["smallest_fix"]["requested"]["pytest-playwright-asyncio"] == "0.7.1"
    assert answer["source"]["kind"] == "reference" and answer["source"]["provenance"]["cells"] >= 80


def test_python_given_on_the_command_line_wins_over_python_version(capsys) -> None:
    # declared metadata answers first: the async plugin 0.7.1 needs Python 3.9 or newer
    code, out, _ = run_check(capsys, str(CHECK / f"req-{FIXED}"), "--python", "3.8")
    assert code == check.BAD and "Python 3.8, pytest 8.4.2" in out
    assert "verdict: unresolvable: " in out and "Python" in out.split("unresolvable: ")[1]


def test_the_local_results_folder_answers_before_the_reference(capsys, fresh_clone) -> None:
    fresh_clone.mkdir()
    kept = [
        r for r in sources.reference().records if "asyncio0.24.0-async0.7.1-pw1.56.0" in r.cell_id
    ]
    for record in kept:
        store.append(fresh_clone, record)
    code, out, _ = run_check(capsys, str(CHECK / f"req-{REPORTED}"))
    assert code == 8 and f"{len(kept)} records from {fresh_clone / store.RESULTS}" in out


def test_a_published_results_json_file_and_its_address_are_read_alike(capsys, tmp_path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    records = sources.reference().records
    items = ",\n".join(json.dumps(r.to_json()) for r in records)
    (site / "results.json").write_text(f"[\n{items}\n]\n", encoding="utf-8")
    code, out, _ = run_check(capsys, str(CHECK / f"uv-{REPORTED}"), "--from", str(site))
    assert code == 1 and f"{len(records)} records from {site / 'results.json'}" in out

    with served(site) as address:
        url = f"{address}/results.json"
        code, out, _ = run_check(capsys, str(CHECK / f"uv-{REPORTED}"), "--from", url)
    assert code == 1 and f"{len(records)} records from {url}" in out


def test_a_reference_dataset_published_beside_a_page_is_read_with_its_provenance(
    capsys, tmp_path
) -> None:
    # What the scheduled job publishes: <page>/reference/results.jsonl and provenance.json.
    published = tmp_path / "site" / "reference"
    published.mkdir(parents=True)
    for name in (store.RESULTS, sources.PROVENANCE):
        (published / name).write_bytes((sources.REFERENCE / name).read_bytes())
    run_id = json.loads((published / sources.PROVENANCE).read_text())["run_id"]
    code, out, _ = run_check(
        capsys, str(CHECK / f"uv-{REPORTED}"), "--from", str(published / store.RESULTS)
    )
    assert code == 1 and f"(reference dataset, run {run_id} on " in out

    with served(tmp_path) as address:
        url = f"{address}/site/reference/{store.RESULTS}"
        code, out, _ = run_check(capsys, str(CHECK / f"uv-{REPORTED}"), "--from", url)
    assert code == 1 and f"records from {url} (reference dataset, run {run_id} on " in out


@pytest.mark.parametrize(
    "source,words",
    [
        ("ftp://example.org/results.json", "only http(s) addresses"),
        ("no/such/folder", "no such file or folder"),
    ],
)
def test_a_source_that_cannot_be_read_is_one_sentence_and_exit_2(capsys, source, words) -> None:
    code, out, err = run_check(capsys, str(CHECK / f"req-{FIXED}"), "--from", source)
    assert code == 2 and out == "" and words in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "name,words",
    [
        ("bad-toml/uv.lock", "uv.lock: not valid TOML"),
        ("bad-lock/poetry.lock", "poetry.lock: package entry 1 has no name or version"),
        ("bad-requirements", "requirements.txt line 2: not a requirement"),
        ("unknown-format/Pipfile.lock", "Pipfile.lock: not a format check reads"),
        ("nowhere", "nowhere: no such file or folder"),
    ],
)
def test_malformed_and_unknown_files_are_one_sentence_naming_the_file_and_exit_2(
    capsys, name, words
) -> None:
    code, out, err = run_check(capsys, str(CHECK / name))
    assert code == 2 and out == ""
    assert err.startswith("error: ") and words in err and err.count("\n") == 1


def test_pyproject_exact_pins_are_read_as_pins_and_ranges_as_ranges() -> None:
    found = pins.read(CHECK / f"uv-{REPORTED}" / "pyproject.toml")
    assert found.versions == {
        "pytest": "8.4.2",
        "pytest-asyncio": "0.23.0",
        "pytest-playwright": "0.7.1",
        "playwright": "1.49.1",
        "pytest-cov": "7.0.0",
    }
    assert found.python == "3.13" and found.ranges == {}
    reqs = pins.read(CHECK / f"req-{REPORTED}")  # requests>=2.31 is neither a pin nor under test
    assert reqs.versions == found.versions and reqs.ranges == {}
    ranged = pins.read(CHECK / "ranges-sync")
    assert ranged.versions == {} and ranged.ranges == {
        "pytest": ">=8",
        "pytest-asyncio": ">=0.21",
        "pytest-playwright": ">=0.5.2",
        "playwright": ">=1.48.0",
        "pytest-cov": "",
    }
    assert ranged.admits("pytest-asyncio", "1.3.0") and not ranged.admits("pytest", "7.4.4")
    assert not ranged.admits("pytest-cov", None)
    assert ranged.admits("pytest-playwright-asyncio", None)  # not named: not installed


def test_a_requirements_file_is_read_as_pip_reads_it() -> None:
    # -r and -c files followed (a file named twice read once), options, the project itself,
    # VCS and wheel URLs left out, markers, extras and continued hash lines understood.
    found = pins.read(CHECK / "req-includes" / "requirements-dev.txt")
    assert found.versions == {
        "pytest": "8.4.2",
        "pytest-asyncio": "0.23.8",
        "pytest-playwright": "0.7.1",
        "playwright": "1.49.1",
    }
    assert found.ranges == {}  # the constraint's exact pin wins over the range


def test_a_missing_included_file_is_one_sentence_and_exit_2(capsys, tmp_path) -> None:
    (tmp_path / "requirements.txt").write_text("-r requirements-base.txt\npytest==8.4.2\n")
    code, out, err = run_check(capsys, str(tmp_path))
    assert code == 2 and out == ""
    assert err.strip() == (
        f"error: {tmp_path / 'requirements-base.txt'} does not exist; "
        "fix the -r or -c line that names it."
    )


def test_a_uv_lock_with_the_project_itself_is_read_with_its_python(capsys) -> None:
    # uv writes no version for the project (editable) or a workspace member (virtual).
    found = pins.read(CHECK / "uv-editable")
    assert found.versions == {
        "pytest": "8.4.2",
        "pytest-asyncio": "1.1.0",
        "pytest-playwright": "0.7.1",
        "playwright": "1.49.1",
    }
    assert (found.python, found.python_range) == (None, ">=3.11")
    code, out, _ = run_check(capsys, str(CHECK / "uv-editable"))
    assert code == check.BAD and "pins (" in out and ": Python >=3.11, pytest 8.4.2" in out
    nearest = out.split("evidence (measured cells):\n")[1].splitlines()[0]
    # the nearest evidence is on the project's Pythons (not 3.9 or 3.10)
    assert nearest.split()[1].startswith(("py3.11", "py3.12", "py3.13"))
    assert "smallest fix: pytest-playwright 0.7.1 -> pytest-playwright-asyncio " in out
    assert out.rstrip().endswith("verdict: bug (inferred) (exit 1)")


@pytest.mark.parametrize(
    "poetry,pep440",
    [
        ("^0.7.0", ">=0.7.0,<0.8.0"),
        ("^1.55.0", ">=1.55.0,<2.0.0"),
        ("^0.0.3", ">=0.0.3,<0.0.4"),
        ("~1.2.3", ">=1.2.3,<1.3.0"),
        ("~1", ">=1,<2"),
        ("*", ""),
        (">=1.2,<2", ">=1.2,<2"),
        ("1.2.*", "==1.2.*"),
        ("1.0 || 2.0", ""),
    ],
)
def test_poetry_constraints_read_as_pep_440(poetry, pep440) -> None:
    assert pins.poetry_range(poetry) == pep440


def test_a_poetry_pyproject_of_ranges_is_answered_within_them(capsys) -> None:
    found = pins.read(CHECK / "poetry-ranges")
    assert found.ranges == {
        "pytest-asyncio": "",
        "pytest-playwright": ">=0.7.0,<0.8.0",
        "playwright": ">=1.48.0,<2.0.0",
    }
    assert found.python_range == ">=3.12,<4.0"
    code, out, _ = run_check(capsys, str(CHECK / "poetry-ranges"))
    within = verdicts_within(
        lambda r: (
            r.get("pytest-playwright", "").startswith("0.7.") and r["python"] in ("3.12", "3.13")
        )
    )
    assert code == check.BAD and within and set(within) == {"bug"}
    assert f"within these ranges: {len(within)} measured cells: {len(within)} bug\n" in out


def test_unmeasured_pins_inferred_to_pass_get_no_fix(capsys, tmp_path) -> None:
    (tmp_path / "requirements.txt").write_text(
        "pytest==8.4.1\npytest-asyncio==0.25.2\npytest-playwright-asyncio==0.7.1\n"
        "playwright==1.53.0\n"
    )
    code, out, _ = run_check(capsys, str(tmp_path))
    assert code == check.GOOD and "\n    pass  " in out
    assert "smallest fix" not in out and "remedies" not in out
    assert out.rstrip().endswith("verdict: pass (inferred) (exit 0)")


def test_a_pdm_lock_is_read_like_the_others(capsys) -> None:
    found = pins.read(CHECK / "pdm-fixed")
    assert (
        found.source.endswith("pdm.lock")
        and found.versions == pins.read(CHECK / "uv-fixed").versions
    )
    code, out, _ = run_check(capsys, str(CHECK / "pdm-fixed"))
    assert code == 0


def test_the_definition_check_is_now_called_validate(capsys) -> None:
    assert main(["validate"]) == 0
    assert "profile 'quick' is valid" in capsys.readouterr().out


def test_a_folder_is_read_through_its_lock_file_first() -> None:
    assert pins.read(CHECK / f"uv-{FIXED}").source.endswith("uv.lock")
    assert pins.read(CHECK / f"poetry-{FIXED}").source.endswith("poetry.lock")


def test_installed_reads_this_environment() -> None:
    import importlib.metadata
    import sys

    found = pins.installed()
    assert found.versions["pytest"] == importlib.metadata.version("pytest")
    assert found.versions["pytest-asyncio"] == importlib.metadata.version("pytest-asyncio")
    assert found.python == "{}.{}".format(*sys.version_info[:2])


def test_a_transitive_coverage_version_is_no_difference() -> None:
    lock = pins.read(CHECK / f"uv-{REPORTED}")
    assert "coverage" in lock.versions  # the lock holds it, for pytest-cov
    answer = check.lookup(lock, sources.reference())
    assert [e.cell_id for e in answer.matches] == [
        "py3.13-pytest8.4.2-asyncio0.23.0-sync0.7.1-pw1.49.1-cov7.0.0"
    ]


@pytest.mark.integration
def test_the_command_answers_in_under_a_second_of_work_in_a_fresh_folder(tmp_path) -> None:
    """``python -m matrix check`` as a user runs it, where nothing was ever run: the CPU time
    it costs (immune to what else the machine is doing) stays under a second."""
    import os
    import resource
    import subprocess
    import sys

    project = tmp_path / "project"
    project.mkdir()
    for name in ("requirements.txt", ".python-version"):
        (project / name).write_bytes((CHECK / f"req-{REPORTED}" / name).read_bytes())
    env = {k: v for k, v in os.environ.items() if k != "MATRIX_OUT"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "matrix", "check"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert done.returncode == 1, done.stderr
    assert "measured: bug" in done.stdout and "smallest fix:" in done.stdout
    assert not (project / "reports").exists()  # nothing was built or written
    assert cpu < 1.0, f"{cpu:.2f} s of CPU ({wall:.2f} s wall)"
