"""Variants: the catalogue, where each variant applies, and what applying it does to a probe."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest

from matrix import options
from matrix.define import variants
from matrix.define.cell import Cell
from matrix.measure import runner

SYNC = Cell.make(
    "3.13",
    {
        "pytest": "8.4.2",
        "pytest-asyncio": "1.3.0",
        "pytest-playwright": "0.7.1",
        "playwright": "1.56.0",
    },
)
ASYNC = Cell.make(
    "3.13",
    {
        "pytest": "9.2.0",
        "pytest-asyncio": "1.5.0",
        "pytest-playwright-asyncio": "0.10.0",
        "playwright": "1.65.2",
    },
)
TESTED: set[str] = set()


def probe(cell: Cell, folder: Path) -> Path:
    """A copy of the cell's probe project, as the runner makes it."""
    opts = runner.RunOptions(settings=options.read({}, out=str(folder), run_id="r"))
    runner.copy_project(cell, opts, folder / "project")
    return folder / "project"


def applied(name: str, cell: Cell, tmp_path: Path) -> Path:
    """A copy of the cell's probe with the variant applied, as the runner makes it."""
    TESTED.add(name)
    project = probe(cell, tmp_path)
    variants.named(name).apply(project)
    return project


@pytest.fixture
def original(tmp_path_factory):
    """The unchanged probe of a cell."""
    return lambda cell: probe(cell, tmp_path_factory.mktemp("original"))


def text_of(project: Path, folder: str) -> str:
    return "\n".join(p.read_text() for p in sorted((project / folder).rglob("test_*.py")))


def ini(project: Path) -> list[str]:
    return (project / "pytest.ini").read_text().splitlines()


def test_baseline_changes_nothing(tmp_path, original):
    project = applied("baseline", SYNC, tmp_path)
    compare = filecmp.dircmp(project, original(SYNC), ignore=["__pycache__"])
    assert not compare.diff_files and not compare.left_only and not compare.right_only
    assert variants.named("baseline").requirements(SYNC) == ()


def test_asyncio_auto_sets_auto_mode_and_drops_every_marker(tmp_path):
    project = applied("asyncio-auto", SYNC, tmp_path)
    assert "asyncio_mode = auto" in ini(project) and "asyncio_mode = strict" not in ini(project)
    text = text_of(project, "tests")
    assert "async def test_greet" in text and "@pytest.mark.asyncio" not in text


@pytest.mark.parametrize("name", ["logfire", "no-logfire"])
def test_logfire_installs_the_package_and_no_logfire_disables_its_plugin(name, tmp_path):
    project = applied(name, SYNC, tmp_path)
    assert variants.named(name).requirements(SYNC) == ("logfire==4.10.0",)
    disabled = "addopts = -p no:logfire" in ini(project)
    assert disabled is (name == "no-logfire")


def test_nest_asyncio_applies_it_at_configure_time_and_keeps_the_probe_conftest(tmp_path, original):
    project = applied("nest-asyncio", SYNC, tmp_path)
    conftest = (project / "conftest.py").read_text()
    assert conftest.startswith((original(SYNC) / "conftest.py").read_text())
    assert "def pytest_configure(config):\n    nest_asyncio.apply()" in conftest
    assert variants.named("nest-asyncio").requirements(SYNC) == ("nest-asyncio==1.6.0",)


@pytest.mark.parametrize("scope", ["session", "module"])
def test_own_fixture_starts_sync_playwright_at_its_scope_and_uses_no_plugin_fixture(
    scope, tmp_path, original
):
    project = applied(f"own-fixture-{scope}", SYNC, tmp_path)
    conftest = (project / "conftest.py").read_text()
    assert "@pytest.fixture(scope=_own_scope)\ndef playwright():" in conftest
    assert "with sync_playwright() as p:" in conftest
    assert f"own_fixture_scope = {scope}" in (project / "pytest.ini").read_text()
    e2e = text_of(project, "tests/e2e")
    assert "(own_page)" in e2e and "(page" not in e2e and "local_url" not in e2e
    # driver-only runs the probe's driver tests on the suite's own `playwright`, which
    # replaces the plugin's fixture of that name
    assert text_of(project, "tests/driver") == text_of(original(SYNC), "tests/driver")
    assert text_of(project, "tests/unit") == text_of(original(SYNC), "tests/unit")


def test_asyncio_run_replaces_the_async_tests_by_sync_tests_that_call_asyncio_run(
    tmp_path, original
):
    project = applied("asyncio-run", SYNC, tmp_path)
    text = text_of(project, "tests/unit") + text_of(project, "tests/integration")
    assert "asyncio.run(" in text and "async def test" not in text
    assert "@pytest.mark.asyncio" not in text
    assert text_of(project, "tests/e2e") == text_of(original(SYNC), "tests/e2e")


def test_async_tests_sync_page_makes_e2e_tests_async_on_the_sync_page(tmp_path):
    project = applied("async-tests-sync-page", SYNC, tmp_path)
    e2e = text_of(project, "tests/e2e")
    assert e2e.count("@pytest.mark.asyncio\nasync def test_") == 2
    assert "from playwright.sync_api import Page" in e2e and "await " not in e2e
    assert variants.named("async-tests-sync-page").limit(180) == 60  # a hang is expected


def test_sync_api_in_async_tests_drives_the_sync_api_from_an_async_fixture(tmp_path):
    project = applied("sync-api-in-async-tests", SYNC, tmp_path)
    conftest = (project / "conftest.py").read_text()
    assert "nest_asyncio.apply()" in conftest and "with sync_playwright() as p:" in conftest
    e2e = text_of(project, "tests/e2e")
    assert "@pytest_asyncio.fixture\nasync def sync_page(sync_browser):" in e2e
    assert "async def test_form_submit(sync_page):" in e2e


def test_sync_api_in_async_test_starts_sync_playwright_inside_async_tests(tmp_path, original):
    project = applied("sync-api-in-async-test", SYNC, tmp_path)
    e2e = text_of(project, "tests/e2e")
    assert e2e.count("@pytest.mark.asyncio\nasync def test_") == 2
    assert e2e.count("with sync_playwright() as p:") == 2 and "(page: Page" not in e2e
    assert (project / "conftest.py").read_text() == (original(SYNC) / "conftest.py").read_text()
    assert variants.named("sync-api-in-async-test").requirements(SYNC) == ()


def test_both_plugins_adds_the_sync_plugin_of_the_async_plugins_version(tmp_path, original):
    project = applied("both-plugins", ASYNC, tmp_path)
    assert variants.named("both-plugins").requirements(ASYNC) == ("pytest-playwright==0.10.0",)
    assert text_of(project, "tests/e2e") == text_of(original(ASYNC), "tests/e2e")
    assert variants.named("both-plugins").limit(180) == 60


def test_guard_installs_the_plugin_wheel_of_this_checkout_and_switches_the_guard_on(
    tmp_path, original, monkeypatch
):
    from matrix.measure import plugin_wheel

    monkeypatch.setattr(
        plugin_wheel, "url", lambda: "file:///built/pytest_loop_compat-0.1.0-py3-none-any.whl"
    )
    project = applied("guard", SYNC, tmp_path)
    assert "loop_compat_guard = true" in ini(project)
    conftest = (project / "conftest.py").read_text()
    assert conftest.startswith((original(SYNC) / "conftest.py").read_text())
    assert (
        "loop-compat guard refused: " in conftest
        and "hollow under the loop-compat guard" in conftest
    )
    assert variants.named("guard").requirements(SYNC) == ("pytest-loop-compat @ {plugin-wheel}",)
    assert plugin_wheel.resolved(variants.named("guard").requirements(SYNC)) == (
        "pytest-loop-compat @ file:///built/pytest_loop_compat-0.1.0-py3-none-any.whl",
    )
    assert variants.named("guard").cannot_apply(SYNC) is None


def test_every_variant_of_the_catalogue_has_an_applied_test():
    # runs last in this file: the tests above record what they applied
    assert TESTED == set(variants.load().variants)


@pytest.mark.parametrize(
    "name, cell, reason",
    [
        (
            "nest-asyncio",
            ASYNC,
            "variant 'nest-asyncio' applies to the sync-plugin probe, not to async-plugin",
        ),
        (
            "both-plugins",
            SYNC,
            "variant 'both-plugins' applies to the async-plugin probe, not to sync-plugin",
        ),
        ("logfire", Cell.make("3.8", dict(SYNC.pins)), "variant 'logfire' needs python>=3.9"),
        ("nest-asyncio", SYNC, None),
        ("baseline", ASYNC, None),
    ],
)
def test_where_a_variant_applies(name, cell, reason):
    assert variants.named(name).cannot_apply(cell) == reason


def test_set_ini_replaces_a_key_and_extends_addopts(tmp_path):
    path = tmp_path / "pytest.ini"
    path.write_text("[pytest]\nasyncio_mode = strict\naddopts = -ra\n")
    variants.set_ini(path, ("asyncio_mode = auto", "addopts = -p no:logfire", "pythonpath = ."))
    assert (
        path.read_text()
        == "[pytest]\nasyncio_mode = auto\naddopts = -ra -p no:logfire\npythonpath = .\n"
    )


def test_an_unknown_variant_is_one_sentence_and_exit_code_2():
    with pytest.raises(variants.ConfigError) as caught:
        variants.named("nosuch")
    assert caught.value.return_code == 2
    assert str(caught.value).startswith("unknown variant 'nosuch'; known variants: baseline, ")


def test_a_variant_changes_the_cell_id_and_the_fingerprint_but_baseline_keeps_both():
    import dataclasses

    nested = dataclasses.replace(SYNC, variant="nest-asyncio")
    assert SYNC.id == "py3.13-pytest8.4.2-asyncio1.3.0-sync0.7.1-pw1.56.0"
    assert nested.id == SYNC.id + "+nest-asyncio"
    opts = runner.RunOptions(settings=options.read({}, out="unused", run_id="r"))
    assert runner.fingerprint(SYNC, ["control"], opts) != runner.fingerprint(
        nested, ["control"], opts
    )


@pytest.mark.parametrize(
    "lines, phase, test",
    [
        ("", "collection", ""),
        ("setup t.py::a\n", "setup", "t.py::a"),
        ("setup t.py::a\ncall t.py::a\n", "call", "t.py::a"),
        ("setup t.py::a\ncall t.py::a\nteardown t.py::a\n", "teardown", "t.py::a"),
        ("teardown t.py::a\nfinished t.py::a\n", "between tests", "t.py::a"),
        ("finished t.py::a\nsessionfinish\n", "session finish", ""),
    ],
)
def test_a_hang_is_placed_by_the_last_line_of_the_progress_file(tmp_path, lines, phase, test):
    path = tmp_path / "progress.txt"
    if lines:
        path.write_text(lines)
    assert runner.last_progress(path) == {"phase": phase, "test": test}


def test_a_loop_error_at_teardown_is_classified_like_any_other(tmp_path):
    from matrix.results import junit, signatures

    report = tmp_path / "junit.xml"
    report.write_text(
        '<testsuites><testsuite><testcase classname="tests.unit.test_unit_app" name="test_greet"/>'
        '<testcase classname="tests.unit.test_unit_app" name="test_greet"><error message="failed on'
        ' teardown with &quot;RuntimeError: Cannot close a running event loop&quot;">Traceback'
        "</error></testcase></testsuite></testsuites>"
    )
    counts, failures = junit.read(report)
    assert counts.errors == 1 and counts.passed == 0
    verdict = signatures.classify(failures, control=[])
    assert (verdict.outcome.value, verdict.signature) == ("bug", "close-running-loop")
    assert verdict.message == "RuntimeError: Cannot close a running event loop"
