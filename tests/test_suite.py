"""A user's own suite as the probe: read it, run it untouched, answer what to pin."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from matrix.define import scenarios
from matrix.define.cell import Cell
from matrix.measure import found, suite
from matrix.results import store
from matrix.results.record import Outcome
from matrix.results.signatures import Verdict
from matrix.search import suite_answer as answer

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def test_the_example_is_read_with_its_own_pins_and_a_stable_key() -> None:
    shop = suite.load(EXAMPLES / "shop-sync")
    assert (shop.name, shop.test_root) == ("shop-sync", "tests")
    assert shop.declared_pins() == {
        "pytest": "8.4.2",
        "pytest-asyncio": "0.23.0",
        "pytest-playwright": "0.7.1",
        "playwright": "1.49.1",
        "pytest-cov": "7.0.0",
    }
    # no [build-system], but a [project] pip installs (setuptools' legacy backend)
    assert shop.local == (suite.Local(shop.root),)
    digest = hashlib.sha256(str(shop.root).encode()).hexdigest()[:6]
    assert shop.key == f"shop-sync-{digest}" == suite.load(EXAMPLES / "shop-sync").key


def test_two_folders_with_one_project_name_get_different_cell_ids(tmp_path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "pyproject.toml").write_text(
            '[project]\nname = "same"\n[tool.pytest.ini_options]\n'
        )
    a, b = suite.load(tmp_path / "a"), suite.load(tmp_path / "b")
    assert a.name == b.name == "same" and a.key != b.key
    ids = {Cell.make("3.13", {"pytest": "9.2.0"}, suite=s.key).id for s in (a, b)}
    assert len(ids) == 2


def test_suite_scenarios_are_selections_of_tests_not_folders() -> None:
    shop = suite.load(EXAMPLES / "shop-sync")
    cell = Cell.make("3.13", {"pytest-playwright": "0.7.1", "pytest-cov": "7.0.0"}, suite=shop.key)
    chosen = {s.name: s.selections for s in scenarios.for_cell(cell, scenarios.NAMES, shop)}
    assert chosen == {
        "control": ("other",),
        "as-is": ("all",),
        "e2e-first": ("first",),
        "e2e-first-cov": ("first",),
        "e2e-last": ("last",),
        "e2e-last-cov": ("last",),
        "isolated": ("browser", "other"),
    }
    assert cell.id.startswith(f"{shop.key}-py3.13-") and cell.probe == f"suite:{shop.key}"
    plain = Cell.make("3.13", {"pytest-playwright": "0.7.1"}, suite=shop.key)
    assert "e2e-first-cov" not in {s.name for s in scenarios.for_cell(plain, scenarios.NAMES, shop)}


def test_a_requirements_file_is_honoured_fully(data, tmp_path) -> None:
    root = data / "suites" / "reqs"
    reqs = suite.load(root, "requirements-test.txt")
    assert reqs.requirements == (
        "pytest-asyncio>=0.23",
        "requests",
        "pytest==8.0.0",
        "pyee==11.1.0",
    )
    assert reqs.constraints == ("urllib3<3",)
    assert reqs.local == (
        suite.Local(root.resolve(), editable=True),
        suite.Local((root / "vendor/helper").resolve(), extras=("extra",)),
    )
    copy = tmp_path / "copy"
    assert reqs.install_lines(copy)[-2:] == (f"-e {copy}", f"{copy / 'vendor/helper'}[extra]")


def test_a_project_with_a_build_system_is_installed_from_its_copy(data, tmp_path) -> None:
    flat = suite.load(data / "suites" / "flat-plugin")
    assert flat.local == (suite.Local((data / "suites" / "flat-plugin").resolve()),)
    assert flat.requirements == ("pytest", "pytest-asyncio")  # its test extra, filterable
    assert flat.install_lines(tmp_path)[-1] == str(tmp_path)


LEGACY = "project installed from its pyproject.toml (no [build-system]: setuptools' legacy backend)"


def test_a_project_without_a_build_system_is_installed_as_pip_would(data, tmp_path) -> None:
    root = (data / "suites" / "no-build-system").resolve()
    plugin = suite.load(root)
    assert plugin.local == (suite.Local(root),) and plugin.installed == LEGACY
    assert plugin.requirements == ("pytest", "pytest-asyncio")
    skipped = suite.load(root, install=False)
    assert (
        skipped.local == ()
        and skipped.installed == "project not installed: MATRIX_SUITE_INSTALL=false"
    )
    assert suite.load(data / "suites" / "flat-plugin").installed == (
        "project installed from its pyproject.toml ([build-system]: setuptools.build_meta)"
    )
    for name, text in (
        ("setup.py", "from setuptools import setup\nsetup()\n"),
        ("setup.cfg", "[metadata]\nname = x\n"),
    ):
        (tmp_path / name).mkdir()
        (tmp_path / name / name).write_text(text)
        (tmp_path / name / "test_x.py").write_text("def test_x(): pass\n")
        assert suite.load(tmp_path / name).installed == f"project installed from its {name}"


def test_a_project_pip_would_not_install_is_left_importable_and_says_why(tmp_path) -> None:
    for name, pyproject in (
        ("unversioned", '[project]\nname = "x"\n[tool.pytest.ini_options]\n'),
        ("tool-only", "[tool.pytest.ini_options]\n"),
    ):
        (tmp_path / name).mkdir()
        (tmp_path / name / "pyproject.toml").write_text(pyproject)
        loaded = suite.load(tmp_path / name)
        assert loaded.local == ()
        assert loaded.installed == (
            f"project not installed: {suite.NOT_INSTALLABLE}; its folder and src/ are on PYTHONPATH"
        )
    dynamic = tmp_path / "dynamic"
    dynamic.mkdir()
    (dynamic / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndynamic = ["version"]\n[tool.pytest.ini_options]\n'
    )
    assert suite.load(dynamic).local == (suite.Local(dynamic.resolve()),)


def test_a_requirements_file_that_installs_the_project_says_so_whatever_the_setting(data) -> None:
    reqs = suite.load(data / "suites" / "reqs", "requirements-test.txt", install=False)
    assert reqs.installed == "project installed as requirements-test.txt says (-e .)"


def test_the_install_setting_is_read_once_in_the_options() -> None:
    from matrix import options

    assert options.read({}).suite_install is True
    for value in ("false", "0", "No", "off "):
        assert options.read({"MATRIX_SUITE_INSTALL": value}).suite_install is False
    assert (
        "MATRIX_SUITE_INSTALL" in options.BY_ENV
        and "MATRIX_SUITE_INSTALL" in options.REPRO_SETTINGS
    )


def test_a_suite_s_lock_is_held_while_its_cell_runs_and_a_probe_takes_none(tmp_path) -> None:
    import fcntl

    from matrix.measure import runner

    with runner.suite_lock("datasette-cluster-map-597f99", tmp_path):
        lock = tmp_path / "loop-compat-suite-datasette-cluster-map-597f99.lock"
        with lock.open("w") as other, pytest.raises(BlockingIOError):  # another cell's try
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with lock.open("w") as other:  # released at the end
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with runner.suite_lock(None, tmp_path):
        assert list(tmp_path.iterdir()) == [lock]


def test_a_missing_requirements_file_is_one_sentence(data) -> None:
    with pytest.raises(suite.NotASuite, match="does not exist; name a requirements file"):
        suite.load(data / "suites" / "reqs", "requirements-nope.txt")


def test_a_folder_that_is_not_a_pytest_project_is_one_sentence_and_exit_6(data) -> None:
    with pytest.raises(suite.NotASuite) as err:
        suite.load(data / "suites" / "not-pytest")
    assert "is not a pytest project" in str(err.value) and err.value.return_code == 6


def test_the_answer_names_a_passing_combination_and_where_the_pins_stand(data) -> None:
    records = store.read(data / "suite-records.jsonl")  # records from before suite keys
    shop = suite.load(EXAMPLES / "shop-sync")
    lines = answer.for_suite("shop-sync", records, shop.declared_pins())
    assert "as-is bug (loop-already-running)" in lines[1]
    assert lines[3].startswith(
        "  it passes with the browser tests run in a separate pytest process"
    )
    assert lines[4] == (
        "  pins to write: playwright==1.65.2 pytest==9.2.0 pytest-asyncio==1.5.0 "
        "pytest-cov==7.1.0 pytest-playwright==0.10.0"
    )
    fixed = answer.for_suite(
        "shop-async", records, suite.load(EXAMPLES / "shop-async").declared_pins()
    )
    assert fixed[1].endswith("every scenario passes")
    assert fixed[2].startswith("  smallest change where the whole suite passes, no code change: ")
    assert "pytest-playwright-asyncio==0.7.1" in fixed[3]  # its own pins: nothing to change


def test_a_hollow_pass_is_never_recommended_and_a_plugin_switch_says_what_it_costs(data) -> None:
    records = store.read(
        data / "suite-records-flat.jsonl"
    )  # measured on tests/data/suites/flat-plugin
    hollow = [r for r in records if r.outcome is Outcome.HOLLOW]
    assert {r.scenario for r in hollow} == {"as-is", "e2e-first", "e2e-last", "isolated"}
    why = (
        "tests/test_playwright.py::test_button_counts[chromium]: "
        "a sync test received an async Browser (browser)"
    )
    assert all(r.hollow == (why,) for r in hollow)
    lines = answer.for_suite("flat-plugin-f7297d", records, {"pytest-playwright": "0.10.0"})
    assert lines[0].endswith("4 tests, 1 use Playwright, 3 are async")
    assert "no measured combination passes" in lines[2]
    assert "pytest-playwright-asyncio" not in lines[3] and "separate pytest process" in lines[3]
    assert lines[-1].startswith("  needs code changes: under ")
    assert "pytest-playwright-asyncio 0.10.0" in lines[-1]
    assert "it needs 1 browser tests rewritten as async" in lines[-1]


def test_the_plugin_finds_browser_and_async_tests_by_what_they_use(pytester, monkeypatch) -> None:
    pytester.makeconftest("""
        import pytest

        @pytest.fixture
        def own_page():
            from playwright.sync_api import sync_playwright  # a fixture of the suite's own
            with sync_playwright() as p:
                yield p
    """)
    pytester.makepyfile(
        test_mixed="""
        import pytest

        def test_plugin_page(page): pass
        def test_own_page(own_page): pass
        def test_plain(): pass
        @pytest.mark.asyncio
        async def test_async(): pass
    """,
        test_imports="""
        from playwright.async_api import Page
        def test_typed(): pass
    """,
    )
    report = pytester.path / "found.json"
    plugin = ("-p", "matrix.measure.pytest_plugin", "-o", f"matrix_suite_report={report}")
    result = pytester.runpytest_inprocess(
        *plugin, "-o", "matrix_suite_order=first", "--collect-only", "-q"
    )
    assert result.ret == 0
    seen = found.read(report)
    uses = {t["id"].split("::")[1].split("[")[0]: (t["browser"], t["async"]) for t in seen.tests}
    assert uses == {
        "test_plugin_page": (True, False),
        "test_own_page": (True, False),
        "test_plain": (False, False),
        "test_async": (False, True),
        "test_typed": (True, False),
    }
    order = [ln.split("::")[1].split("[")[0] for ln in result.outlines if "::" in ln]
    assert order == ["test_typed", "test_plugin_page", "test_own_page", "test_plain", "test_async"]
    result = pytester.runpytest_inprocess(
        *plugin, "-o", "matrix_suite_select=other", "--collect-only", "-q"
    )
    kept = [ln.split("::")[1] for ln in result.outlines if "::" in ln]
    assert kept == ["test_plain", "test_async"]


def test_a_pass_with_a_coroutine_never_awaited_is_hollow(data) -> None:
    names = found.never_awaited(data / "suite-hollow.log")
    assert names == (
        "coroutine 'Page.set_content' was never awaited",
        "coroutine 'Page.click' was never awaited",
    )
    verdict = found.hollow(Verdict(outcome=Outcome.PASS), names)
    assert verdict.outcome is Outcome.HOLLOW and verdict.hollow == names
    assert verdict.message.startswith("2 test(s) passed without running their browser code: ")
    failed = Verdict(outcome=Outcome.BUG, signature="loop-already-running")
    assert found.hollow(failed, names) is failed  # a failure stays what it is


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
    return subprocess.run(
        [sys.executable, "-m", "matrix", "run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )


@pytest.mark.integration
def test_the_examples_show_the_bug_then_the_fix_without_touching_them(tmp_path) -> None:
    before = _tree(EXAMPLES)
    for profile in ("sync", "async"):
        proc = _run(tmp_path, EXAMPLES / "matrix.toml", profile)
        assert proc.returncode == 0, proc.stderr[-3000:]
    assert _tree(EXAMPLES) == before
    table = {(r.cell_id, r.scenario): r for r in store.read(tmp_path)}
    key = suite.load(EXAMPLES / "shop-sync").key
    reported = f"{key}-py3.13-pytest8.4.2-asyncio0.23.0-sync0.7.1-pw1.49.1-cov7.0.0"
    assert table[(reported, "e2e-first")].outcome is Outcome.BUG
    assert table[(reported, "as-is")].outcome is Outcome.BUG
    assert table[(reported, "e2e-first")].found == {"tests": 7, "browser": 2, "async": 5}
    fixed = [r for (cid, _), r in table.items() if cid.startswith("shop-async-")]
    assert fixed and all(r.outcome is Outcome.PASS for r in fixed)
    lines = answer.for_suite(key, store.read(tmp_path), {})
    assert any(line.startswith("  pins to write: ") for line in lines)
    # explain works on the suite's recorded cells too (no new cell: --max-cells 0), with the
    # suite named only by the profile's `suite` key
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATRIX_")}
    env.update(
        MATRIX_CONFIG=str(EXAMPLES / "matrix.toml"), MATRIX_PROFILE="sync", MATRIX_OUT=str(tmp_path)
    )
    pins = [
        "python=3.13",
        "pytest=8.4.2",
        "pytest-asyncio=0.23.0",
        "pytest-playwright=0.7.1",
        "playwright=1.49.1",
        "pytest-cov=7.0.0",
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "matrix", "explain", *pins, "--max-cells", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"start {reported} (recorded)" in proc.stdout


@pytest.mark.integration
def test_a_suite_whose_own_dependencies_cannot_install_is_told_so(tmp_path, data) -> None:
    proc = _run(
        tmp_path, data / "suites.toml", MATRIX_SUITE=str(data / "suites/needs-missing-dist")
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = store.read(tmp_path)
    # not installable, so not collected: whether it has browser tests is unknown
    assert [r.scenario for r in records] == [
        "control",
        "as-is",
        "e2e-first",
        "e2e-last",
        "isolated",
    ]
    for record in records:
        assert record.outcome is Outcome.UNRESOLVABLE and record.signature == "suite-dependencies"
        assert record.message.startswith("the suite's own dependencies cannot be installed")
        assert "no-such-distribution-for-the-matrix" in record.message


@pytest.mark.integration
def test_nox_refuses_a_path_that_is_not_a_pytest_project(tmp_path, data) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATRIX_")}
    env.update(MATRIX_SUITE=str(data / "suites/not-pytest"), MATRIX_OUT=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-m", "nox", "-s", "matrix"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 6
    assert [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")] == [
        f"error: {data / 'suites/not-pytest'} is not a pytest project (no pytest configuration "
        "and no test_*.py files); point MATRIX_SUITE at the folder that holds its tests."
    ]


@pytest.mark.integration
def test_a_flat_plugin_suite_gets_bug_browser_first_and_last_and_hollow_never_pass(
    tmp_path, data
) -> None:
    """The layout of a real Datasette plugin: installed through its entry point, a browser
    module beside the async tests in one folder, run under both Playwright plugins."""
    flat = data / "suites" / "flat-plugin"
    before = _tree(flat)
    for profile in ("sync", "async"):
        proc = _run(tmp_path, data / "suites-browser.toml", profile, MATRIX_SUITE=str(flat))
        assert proc.returncode == 0, proc.stderr[-3000:]
    assert _tree(flat) == before
    table = {
        (r.cell_id.split("-asyncio1.5.0-")[1][:5], r.scenario): r for r in store.read(tmp_path)
    }
    for record in table.values():
        assert record.found == {"tests": 4, "browser": 1, "async": 3}
        assert record.suite == suite.load(flat).key
    # the entry point registered (the project was installed from its copy): control passes
    assert table[("sync0", "control")].outcome is Outcome.PASS
    assert table[("sync0", "control")].tests.passed == 3
    for scenario in ("as-is", "e2e-first", "e2e-first-cov"):
        assert table[("sync0", scenario)].outcome is Outcome.BUG  # never fail: control passes
        assert table[("sync0", scenario)].signature == "runner-in-running-loop"
    for scenario in ("e2e-last", "e2e-last-cov", "isolated"):  # the browser really ran
        assert table[("sync0", scenario)].outcome is Outcome.PASS
        assert table[("sync0", scenario)].tests.passed == 4
    for scenario in ("as-is", "e2e-first", "e2e-last", "isolated"):
        record = table[("async", scenario)]
        assert record.outcome is Outcome.HOLLOW
        assert record.hollow[0].startswith(
            "tests/test_playwright.py::test_button_counts[chromium]: "
            "a sync test received an async Page (page)"
        )
    log = (tmp_path / table[("async", "as-is")].log).read_text()
    assert "RuntimeWarning: coroutine 'Page.set_content' was never awaited" in log
    lines = answer.for_suite(suite.load(flat).key, store.read(tmp_path), {})
    assert "it needs 1 browser tests rewritten as async" in lines[-1]


@pytest.mark.integration
def test_a_lock_style_requirements_file_lets_its_pins_give_way(tmp_path, data) -> None:
    """Every transitive dependency pinned, for releases older than the cell's: the cell
    resolves, the records list the pins that gave way, and the loop conflict is a bug."""
    proc = _run(
        tmp_path,
        data / "suites-browser.toml",
        "sync",
        MATRIX_SUITE=str(data / "suites" / "lock-pinned"),
        MATRIX_SUITE_REQUIREMENTS="requirements.txt",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = {r.scenario: r for r in store.read(tmp_path)}
    assert records["control"].outcome is Outcome.PASS
    assert set(records["control"].relaxed) >= {"pluggy==1.5.0", "greenlet==3.0.3"}
    assert not any(
        r.split("==")[0] in ("pytest", "playwright", "pytest-asyncio")
        for r in records["control"].relaxed
    )  # the cell's own pins never "give way"
    assert records["control"].resolved["pytest"] == "9.2.0"
    assert records["as-is"].outcome is Outcome.BUG
    assert records["as-is"].signature == "asyncio-run-in-running-loop"
    assert records["e2e-last"].outcome is Outcome.PASS


@pytest.mark.integration
def test_a_suite_whose_collection_fails_is_one_line_and_fail(tmp_path, data) -> None:
    broken = tmp_path / "broken"
    (broken / "tests").mkdir(parents=True)
    (broken / "tests" / "test_x.py").write_text("import no_such_module_for_the_matrix\n")
    proc = _run(tmp_path / "out", data / "suites.toml", MATRIX_SUITE=str(broken))
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = store.read(tmp_path / "out")
    assert records and all(
        r.outcome is Outcome.FAIL and r.signature == "collection-error" for r in records
    )
    assert records[0].message.startswith(
        "pytest could not collect the suite with these pins "
        "(ModuleNotFoundError: No module named "
        "'no_such_module_for_the_matrix'); see logs/"
    )


@pytest.mark.integration
def test_a_suite_without_browser_tests_says_so_and_runs_no_browser_scenario(tmp_path, data) -> None:
    plain = tmp_path / "plain"
    (plain / "tests").mkdir(parents=True)
    (plain / "pyproject.toml").write_text(
        '[project]\nname = "plain"\n[tool.pytest.ini_options]\nasyncio_mode = "auto"\n'
    )
    (plain / "tests" / "test_a.py").write_text("async def test_a():\n    assert True\n")
    proc = _run(tmp_path / "out", data / "suites.toml", MATRIX_SUITE=str(plain))
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = store.read(tmp_path / "out")
    assert [(r.scenario, r.outcome) for r in records] == [
        ("control", Outcome.PASS),
        ("as-is", Outcome.PASS),
    ]
    assert records[0].found == {"tests": 1, "browser": 0, "async": 1}
    assert records[0].note.endswith(
        "no browser test found (no test requests a Playwright "
        "fixture or imports Playwright), so only control and as-is ran"
    )
    again = _run(tmp_path / "out", data / "suites.toml", MATRIX_SUITE=str(plain))
    assert "already recorded" in again.stderr and len(store.read(tmp_path / "out")) == 2


@pytest.mark.integration
def test_a_plugin_without_a_build_system_is_installed_so_its_entry_point_registers(
    tmp_path, data
) -> None:
    """The Datasette-plugin shape of issue 23: a [project] table, no [build-system], a test
    that asserts the plugin is installed. It passes as in a plain ``pip install``; with
    MATRIX_SUITE_INSTALL=false it fails the way it did before the project was installed."""
    root = data / "suites" / "no-build-system"
    proc = _run(tmp_path / "on", data / "suites.toml", MATRIX_SUITE=str(root))
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = {r.scenario: r for r in store.read(tmp_path / "on")}
    assert [(s, r.outcome, r.tests.passed) for s, r in records.items()] == [
        ("control", Outcome.PASS, 2),
        ("as-is", Outcome.PASS, 2),
    ]
    assert records["control"].note.startswith(LEGACY + "; 2 tests collected")
    proc = _run(
        tmp_path / "off", data / "suites.toml", MATRIX_SUITE=str(root), MATRIX_SUITE_INSTALL="false"
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    off = store.read(tmp_path / "off")
    assert [(r.outcome, r.tests.failed) for r in off] == [(Outcome.FAIL, 2)] * 2
    assert all(
        r.note.startswith("project not installed: MATRIX_SUITE_INSTALL=false; ") for r in off
    )
    assert "MATRIX_SUITE_INSTALL=false" in off[0].repro


@pytest.mark.integration
def test_two_cells_of_one_suite_never_run_its_tests_at_once(tmp_path, data) -> None:
    """A suite on a fixed port, two cells started together (as ``nox -j auto`` does): the
    suite's lock makes the second wait, so the port never collides and both pass."""
    spans = tmp_path / "spans.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATRIX_")}
    env.update(
        MATRIX_CONFIG=str(data / "suites-port.toml"),
        MATRIX_OUT=str(tmp_path / "out"),
        MATRIX_SUITE=str(data / "suites" / "fixed-port"),
        MATRIX_RUN_ID="port-run",
        PORT_TEST_LOG=str(spans),
    )
    listed = subprocess.run(
        [sys.executable, "-m", "matrix", "list"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    cells = [line.split()[0] for line in listed.stdout.splitlines() if line.strip()]
    assert len(cells) == 2, listed.stderr
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "matrix", "cell", cell],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for cell in cells
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err[-3000:]
    records = store.read(tmp_path / "out")
    assert sorted((r.scenario, r.outcome) for r in records) == [
        ("as-is", Outcome.PASS),
        ("as-is", Outcome.PASS),
        ("control", Outcome.PASS),
        ("control", Outcome.PASS),
    ]
    times = [(kind, float(t)) for kind, t in (ln.split() for ln in spans.read_text().splitlines())]
    assert [kind for kind, _ in sorted(times, key=lambda x: x[1])] == ["start", "end"] * 4


@pytest.mark.integration
def test_a_browser_that_is_not_installed_sets_its_tests_aside_not_the_scenario(
    tmp_path, data
) -> None:
    """Browser tests parametrised for Chromium and Firefox on a machine with a Chromium only
    (no Playwright download): the Firefox test is set aside, the Chromium test's verdict
    counts (a bug with the browser first, a pass with it last)."""
    proc = _run(
        tmp_path,
        data / "suites-browser.toml",
        "sync",
        MATRIX_SUITE=str(data / "suites" / "two-browsers"),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = {r.scenario: r for r in store.read(tmp_path)}
    assert records["control"].found == {"tests": 3, "browser": 2, "async": 1}
    assert records["control"].outcome is Outcome.PASS
    aside = (
        "1 test(s) set aside, their browser is not installed here: "
        "tests.test_ui::test_title[firefox]: needs firefox, which is not installed here"
    )
    for scenario in ("as-is", "e2e-last", "e2e-last-cov", "isolated"):
        record = records[scenario]
        assert (record.outcome, record.message) == (Outcome.PASS, aside), scenario
        assert (record.tests.passed, record.tests.skipped) == (2, 1)
    for scenario in ("e2e-first", "e2e-first-cov"):  # the Chromium test left its loop running
        assert records[scenario].outcome is Outcome.BUG
        assert records[scenario].signature == "runner-in-running-loop"
