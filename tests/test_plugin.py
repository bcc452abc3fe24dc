"""The pytest plugin (pytest-loop-compat): diagnosis, its JSON and annotation, the guard's
refusal, the guard at work on real Playwright; real uv envs for the probe and packaging."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from matrix import locations
from matrix.plugin import advice as answer
from matrix.plugin import guard
from matrix.plugin import plugin as loop_compat

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ("-p", "matrix.plugin.plugin")  # the test env has the full distribution: no entry point
#: Inner runs leave out the test env's own Playwright plugin (its per-test assertion scope
#: cannot nest in the outer run's).
INNER = ("-p", "no:cacheprovider", "-p", "no:playwright-asyncio")

# A stand-in for Playwright's sync API: a session fixture that leaves its own loop marked
# as the thread's running loop, as the sync API does after every call.
LEAVES_A_LOOP = """
import asyncio
import pytest

@pytest.fixture(scope="session")
def fake_page():
    loop = asyncio.new_event_loop()
    asyncio._set_running_loop(loop)
    yield "page"
    asyncio._set_running_loop(None)
    loop.close()
"""
TESTS = """
import asyncio
import pytest

def test_e2e(fake_page):
    assert fake_page == "page"

@pytest.mark.asyncio
async def test_async_after():
    await asyncio.sleep(0)

@pytest.mark.asyncio
async def test_async_again():
    await asyncio.sleep(0)
"""


def _tests(result: pytest.RunResult) -> dict[str, int]:
    """The outcome counts (warnings apart: loading the plugin by -p in-process adds pytest's
    note that the module was imported before it could be rewritten)."""
    return {k: v for k, v in result.parseoutcomes().items() if k not in ("warnings", "warning")}


def _suite(pytester: pytest.Pytester, conftest: str = LEAVES_A_LOOP) -> None:
    pytester.makeconftest(conftest)
    pytester.makepyfile(test_a=TESTS)


def test_the_summary_names_the_signature_the_first_test_and_the_versions(pytester) -> None:
    _suite(pytester)
    without = pytester.runpytest(*INNER)
    result = pytester.runpytest(*PLUGIN, *INNER)
    assert result.ret == without.ret != 0  # the exit code is the run's own
    assert _tests(result) == _tests(without)
    out = result.stdout.str()
    assert "loop-compat: event loop conflict" in out
    assert "runner-in-running-loop: 2 test(s) failed with: RuntimeError: Runner.run() cannot" in out
    assert "hit: test_a.py::test_async_after, test_a.py::test_async_again" in out
    assert (
        "first test that left a running loop behind: test_a.py::test_e2e "
        "(fixture 'fake_page' of conftest.py)"
    ) in out
    assert f"installed: Python {loop_compat.python_minor()}, pytest {pytest.__version__}," in out
    assert "verdict for these versions: " in out
    assert "opt-in: --loop-compat-guard" in out


def test_silent_when_nothing_is_wrong(pytester) -> None:
    _suite(pytester, conftest=LEAVES_A_LOOP.replace("asyncio._set_running_loop(loop)", "pass"))
    result = pytester.runpytest(*PLUGIN, *INNER)
    assert result.ret == 0
    assert "loop-compat" not in result.stdout.str()


def test_a_loop_left_without_a_conflict_is_not_reported(pytester) -> None:
    pytester.makeconftest(LEAVES_A_LOOP)
    pytester.makepyfile(test_a="def test_e2e(fake_page):\n    assert fake_page\n")
    result = pytester.runpytest(*PLUGIN, *INNER)
    assert result.ret == 0
    assert "loop-compat" not in result.stdout.str()


def test_json_and_the_github_annotation(pytester, monkeypatch) -> None:
    _suite(pytester)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    path = pytester.path / "loop.json"
    result = pytester.runpytest(*PLUGIN, *INNER, f"--loop-compat-json={path}")
    found = json.loads(path.read_text())
    assert found["conflict"] is True and found["schema"] == loop_compat.SCHEMA
    assert found["signatures"][0]["id"] == "runner-in-running-loop"
    assert found["signatures"][0]["count"] == 2
    assert found["left_running"] == {
        "test": "test_a.py::test_e2e",
        "phase": "setup",
        "fixture": "fake_page",
        "owner": "conftest.py",
    }
    assert found["installed"]["pytest"] == pytest.__version__
    assert set(found["answer"]) == {
        "verdict",
        "basis",
        "cells",
        "why",
        "fixes",
        "not_working",
        "guard_breaks",
        "source",
    }
    assert found["guard"] == "off" and found["guarded_calls"] == 0
    annotations = [line for line in result.outlines if line.startswith("::warning ")]
    assert annotations == [annotations[0]]
    assert annotations[0].startswith(
        "::warning file=test_a.py,title=loop-compat::"
        "runner-in-running-loop: 2 test(s) failed; first left a "
        "running loop: test_a.py::test_e2e (fixture 'fake_page'"
    )


def test_the_summary_is_built_without_garbage_collection(pytester, monkeypatch) -> None:
    """A collection while the section is built, or right after it inside pytest's terminal
    summary, would reap the failed tests' never-awaited coroutines there, and their warnings
    would join the run's count; on a real suite (datasette-cluster-map, browser tests
    first) "1 warning" became "4 warnings". Collection is back on after the run."""
    import gc

    seen = []
    real = loop_compat.Watcher.finding

    def finding(self):
        seen.append(gc.isenabled())
        return real(self)

    monkeypatch.setattr(loop_compat.Watcher, "finding", finding)
    pytester.makeconftest(LEAVES_A_LOOP)
    pytester.makepyfile(test_a=TESTS)
    result = pytester.runpytest_inprocess(*PLUGIN, *INNER)
    assert "loop-compat: event loop conflict" in result.stdout.str()
    assert seen == [False] and gc.isenabled()


def test_json_without_a_conflict_says_so(pytester) -> None:
    pytester.makepyfile(test_a="def test_ok():\n    pass\n")
    path = pytester.path / "loop.json"
    pytester.runpytest(*PLUGIN, *INNER, f"--loop-compat-json={path}")
    found = json.loads(path.read_text())
    assert found["conflict"] is False and found["signatures"] == [] and "answer" not in found


def test_the_guard_refuses_with_one_line_when_the_wrapped_function_is_gone(
    pytester, monkeypatch
) -> None:
    from playwright._impl import _sync_base

    monkeypatch.delattr(_sync_base.SyncBase, "_sync")
    _suite(pytester)
    without = pytester.runpytest(*INNER)
    result = pytester.runpytest(*PLUGIN, *INNER, "--loop-compat-guard")
    said = [line for line in result.outlines if "guard refused" in line]
    assert said == [
        "loop-compat: guard refused, nothing changed: Playwright's internals it "
        "wraps are not there (playwright._impl._sync_base.SyncBase._sync)"
    ]
    assert result.ret == without.ret and _tests(result) == _tests(without)
    assert "_sync" not in _sync_base.SyncBase.__dict__  # nothing was wrapped


def test_the_guard_refuses_on_a_fake_playwright_without_the_internals(monkeypatch) -> None:
    import types

    fake = types.ModuleType("playwright._impl._sync_base")
    fake.SyncBase = type("SyncBase", (), {})  # no _sync
    fake.EventInfo = type("EventInfo", (), {"value": property(lambda self: 1)})
    monkeypatch.setitem(sys.modules, "playwright._impl._sync_base", fake)
    assert "playwright._impl._sync_base.SyncBase._sync" in guard.missing()


def test_the_guard_refuses_where_measured_not_to_work(monkeypatch) -> None:
    broken = answer.Advice(
        verdict="bug",
        basis="measured",
        cells=(),
        why="",
        fixes=(),
        not_working=(),
        guard_breaks="breaks: loop-closed (measured: some-cell+guard)",
        source="test",
    )
    monkeypatch.setattr(answer, "answer_for", lambda *a: broken)
    on, why = loop_compat.switch_on({"pytest-asyncio": "1.5.0"}, None)
    assert not on and why == (
        "measured not to work with these versions: breaks: loop-closed (measured: some-cell+guard)"
    )
    assert not guard._installed


def test_answer_for_reads_the_reference_without_the_report_stack() -> None:
    before = set(sys.modules)
    advice = answer.answer_for(
        {
            "pytest": "8.4.2",
            "pytest-asyncio": "0.23.8",
            "pytest-playwright": "0.7.1",
            "playwright": "1.49.1",
        },
        "3.13",
    )
    assert advice.verdict == "bug" and advice.basis in ("measured", "inferred")
    assert advice.cells and all("-sync" in cell for cell in advice.cells[:1])
    assert any("pytest-playwright-asyncio" in fix for fix in advice.fixes)
    # whatever other tests imported, answering imports none of the report stack
    assert not {"pandas", "plotly", "jinja2"} & (set(sys.modules) - before)


_TEST_ENV_HAS = frozenset(m for m in ("pandas", "plotly", "jinja2") if m in sys.modules)


def _module_file(module: str) -> str | None:
    parts = module.split(".")
    for candidate in ("/".join(parts) + ".py", "/".join(parts) + "/__init__.py"):
        if (ROOT / candidate).is_file():
            return candidate
    return None


def test_the_wheel_holds_every_module_the_plugin_imports() -> None:
    """Every ``matrix`` module the plugin can import, at module level or inside a function
    (answer_for's records are read lazily, in the terminal summary), is in the light
    wheel's force-include (matrix.fetch was not: every verdict was "unknown: no records
    could be read (ImportError: cannot import name 'fetch' from 'matrix')")."""
    import ast

    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    included = tomllib.loads((ROOT / "plugin" / "pyproject.toml").read_text())["tool"]["hatch"][
        "build"
    ]["targets"]["wheel"]["force-include"]
    shipped = set()
    for source, target in included.items():
        path = (ROOT / "plugin" / source).resolve()
        if path.is_dir():
            shipped |= {(Path(target) / f.relative_to(path)).as_posix() for f in path.rglob("*.py")}
        else:
            shipped.add(target)
    seen: set[str] = set()
    todo = ["matrix.plugin.plugin", "matrix.plugin.advice", "matrix.plugin.guard"]
    missing = {}
    while todo:
        module = todo.pop()
        source = _module_file(module)
        if module in seen or source is None:
            continue
        seen.add(module)
        for node in ast.walk(ast.parse((ROOT / source).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            else:
                continue
            for name in names:
                found = _module_file(name) if name.split(".")[0] == "matrix" else None
                if found:
                    if found not in shipped:
                        missing.setdefault(found, module)
                    todo.append(name)
    assert "matrix.results.sources" in seen and "matrix.plugin.advice" in seen
    assert missing == {}


@pytest.mark.integration
def test_the_guard_confines_the_mark_to_each_sync_call(tmp_path) -> None:
    """Real Playwright, real Chromium: between sync calls no loop is marked running, so
    asyncio.run works; the page is really driven."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or pytest.skip("no Chromium here")
    assert not guard.missing()
    guard.install()
    try:
        with sync_playwright() as p:
            assert asyncio._get_running_loop() is None
            browser = p.chromium.launch(
                executable_path=chromium,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--no-first-run",
                ],
            )
            page = browser.new_page()
            page.set_content("<h1>guarded</h1>")
            assert asyncio._get_running_loop() is None
            assert asyncio.run(asyncio.sleep(0, "ran")) == "ran"
            assert page.locator("h1").inner_text() == "guarded"
            browser.close()
        assert asyncio._get_running_loop() is None
    finally:
        guard.uninstall()
    assert not guard._installed


# --------------------------------------------------------------------------- real envs

PROBE_PINS = {
    "pytest": "8.4.2",
    "pytest-playwright": "0.7.1",
    "playwright": "1.49.1",
    "pytest-cov": "7.0.0",
}
FLAGS = (
    "--no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --no-first-run"
)


def _uv(*args: str, **kw) -> subprocess.CompletedProcess:
    uv = shutil.which("uv") or pytest.skip("no uv here")
    return subprocess.run([uv, *args], check=True, capture_output=True, text=True, **kw)


def _env(where: Path, python: str, *requirements: str) -> Path:
    try:
        _uv("venv", "--quiet", "--python", python, "--no-python-downloads", str(where))
    except subprocess.CalledProcessError:
        pytest.skip(f"no Python {python} here")
    _uv("pip", "install", "--quiet", "--python", str(where / "bin" / "python"), *requirements)
    return where / "bin" / "python"


@pytest.fixture(scope="module")
def plugin_wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _uv("build", "--wheel", "--quiet", "-o", str(out), str(ROOT / "plugin"))
    return next(out.glob("*.whl"))


def _probe(where: Path) -> Path:
    """The sync-plugin probe as the runner lays it out: the control project, then its layer."""
    probes = locations.PROBES
    shutil.copytree(probes / "control", where, symlinks=False)
    shutil.copytree(probes / "sync-plugin", where, symlinks=False, dirs_exist_ok=True)
    return where


def _pytest(python: Path, project: Path, *args: str) -> subprocess.CompletedProcess:
    chromium = shutil.which("chromium") or pytest.skip("no Chromium here")
    command = [
        str(python),
        "-m",
        "pytest",
        "-p",
        "chromium",
        "-o",
        f"matrix_chromium={chromium}",
        "-o",
        f"matrix_chromium_args={FLAGS}",
        "-p",
        "no:cacheprovider",
        "tests/e2e",
        "tests/integration",
        "tests/unit",
        *args,
    ]
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    return subprocess.run(
        command, cwd=project, capture_output=True, text=True, env=env, timeout=300
    )


@pytest.mark.integration
@pytest.mark.parametrize("asyncio_version", ["0.23.8", "1.5.0"])
def test_the_probe_e2e_first_names_the_conflict_and_the_guard_mends_it(
    tmp_path, plugin_wheel, asyncio_version
) -> None:
    pins = dict(PROBE_PINS, **{"pytest-asyncio": asyncio_version})
    python = _env(
        tmp_path / "env", "3.13", *(f"{d}=={v}" for d, v in pins.items()), str(plugin_wheel)
    )
    project = _probe(tmp_path / "probe")

    without = _pytest(python, project, "-p", "no:loop_compat")
    diagnosed = _pytest(python, project)
    assert diagnosed.returncode == without.returncode == 1
    out = diagnosed.stdout
    assert "loop-compat: event loop conflict" not in without.stdout
    assert "= loop-compat: event loop conflict =" in out
    signature = "loop-already-running" if asyncio_version == "0.23.8" else "runner-in-running-loop"
    assert f"\n{signature}: " in out
    assert (
        "first test that left a running loop behind: "
        "tests/e2e/test_e2e_pages.py::test_form_submit[chromium] "
        "(fixture 'playwright' of pytest-playwright 0.7.1)"
    ) in out
    assert (
        f"installed: Python 3.13, pytest 8.4.2, pytest-asyncio {asyncio_version}, "
        "pytest-playwright 0.7.1, playwright 1.49.1, pytest-cov 7.0.0"
    ) in out
    # measured without pytest-cov, which the env has: inferred, that cell first
    cell = f"py3.13-pytest8.4.2-asyncio{asyncio_version}-sync0.7.1-pw1.49.1"
    verdict = out.split("verdict for these versions: ")[1].splitlines()[0]
    assert verdict.startswith("bug (inferred [") and "-sync0.7.1-" in verdict.split("]")[0]
    assert cell  # measured in the widened reference only around these pins
    assert (
        "fixes that work for these versions (measured or inferred), smallest first:\n  1. " in out
    )
    assert "pytest-playwright-asyncio" in out.split("smallest first:")[1]

    for cov in ((), ("--cov=app",)):
        report = tmp_path / "guard.json"
        guarded = _pytest(
            python, project, "--loop-compat-guard", f"--loop-compat-json={report}", *cov
        )
        assert guarded.returncode == 0, guarded.stdout[-3000:]
        assert " failed" not in guarded.stdout and " error" not in guarded.stdout
        assert "loop-compat: event loop conflict" not in guarded.stdout
        found = json.loads(report.read_text())
        assert found["guard"] == "on" and found["conflict"] is False
        assert found["guarded_calls"] > 0 and found["left_running"] is None
        # the e2e tests assert on what the page shows (expect(...).to_have_text): they pass
        # only when the browser really ran them
        assert _passed(guarded.stdout) == _passed(without.stdout) + _failed(without.stdout)


def _passed(out: str) -> int:
    return _count(out, "passed")


def _failed(out: str) -> int:
    return _count(out, "failed") + _count(out, "error")


def _count(out: str, word: str) -> int:
    import re

    last = out.strip().splitlines()[-1]
    found = re.search(rf"(\d+) {word}", last)
    return int(found.group(1)) if found else 0


@pytest.mark.integration
def test_installing_the_plugin_brings_no_report_stack(tmp_path, plugin_wheel) -> None:
    python = _env(tmp_path / "env", "3.13", str(plugin_wheel))
    listed = _uv("pip", "list", "--python", str(python), "--format", "json").stdout
    names = {p["name"].lower() for p in json.loads(listed)}
    assert "pytest-loop-compat" in names
    assert not names & {"pandas", "plotly", "jinja2"}
    probe = (
        "import sys, importlib.metadata as m; import matrix.plugin.plugin, "
        "matrix.plugin.advice; "
        "print(matrix.plugin.advice.answer_for({'pytest': '8.4.2', 'pytest-asyncio': "
        "'0.23.8', 'pytest-playwright': '0.7.1', 'playwright': '1.49.1'}, '3.13').verdict);"
        "print([e.value for e in m.entry_points(group='pytest11') if e.name == 'loop_compat']);"
        "print(sorted(x for x in ('pandas', 'plotly', 'jinja2') if x in sys.modules))"
    )
    out = subprocess.run(
        [str(python), "-c", probe], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    assert out == ["bug", "['matrix.plugin.plugin']", "[]"]
