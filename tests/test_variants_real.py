"""Each variant on one real cell: a real uv env with the variant's packages, the variant
applied to the probe copy, real Chromium; and a real hang, killed and placed."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from matrix import locations
from matrix import options as matrix_options
from matrix.define import releases, scenarios, variants
from matrix.define.cell import Cell
from matrix.measure import runner
from matrix.measure.suite import IGNORED

pytestmark = pytest.mark.integration
SYNC = {
    "pytest": "8.4.2",
    "pytest-asyncio": "1.3.0",
    "pytest-playwright": "0.7.1",
    "playwright": "1.56.0",
}
ASYNC = {
    "pytest": "9.2.0",
    "pytest-asyncio": "1.5.0",
    "pytest-playwright-asyncio": "0.10.0",
    "playwright": "1.65.2",
}
HANGS = {**SYNC, "pytest-asyncio": "0.23.8"}
BOTH = (
    "RuntimeError: pytest-playwright and pytest-playwright-asyncio are not compatible. "
    "Please use only one of them."
)
#: variant -> (pins, the control's outcome, e2e-first's outcome and signature), as the
#: remedies profile measured them
EXPECTED = {
    "asyncio-auto": (SYNC, "pass", "bug", "runner-in-running-loop"),
    "logfire": (SYNC, "pass", "bug", "runner-in-running-loop"),
    "no-logfire": (SYNC, "pass", "bug", "runner-in-running-loop"),
    "nest-asyncio": (SYNC, "pass", "bug", "runner-in-running-loop"),
    "own-fixture-session": (SYNC, "pass", "bug", "runner-in-running-loop"),
    "own-fixture-module": (SYNC, "pass", "pass", None),
    "asyncio-run": (SYNC, "pass", "bug", "asyncio-run-in-running-loop"),
    "async-tests-sync-page": (HANGS, "pass", "timeout", "timeout"),
    "sync-api-in-async-tests": (SYNC, "pass", "bug", "runner-in-running-loop"),
    "both-plugins": (ASYNC, "fail", "fail", BOTH),  # the two plugins refuse each other
    # async tests that start sync_playwright() themselves: Playwright's own refusal
    "sync-api-in-async-test": (SYNC, "pass", "bug", "sync-api-in-asyncio"),
    "guard": (SYNC, "pass", "pass", None),  # this project's plugin, its guard on
}


def options(out: Path, timeout: float = 120, probes: Path | None = None) -> runner.RunOptions:
    """Run options from this process's environment."""
    settings = matrix_options.read(
        out=str(out), run_id="test", probes=str(probes) if probes else None
    )
    snapshot = releases.load(settings.releases)
    return runner.RunOptions(
        settings=settings, timeout=timeout, reruns=0, exclude_newer=snapshot.taken_at
    )


def test_every_variant_has_a_real_cell():
    assert set(EXPECTED) == set(variants.load().variants) - {"baseline"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_variant_on_a_real_cell(name, tmp_path):
    pins, control_outcome, outcome, signature = EXPECTED[name]
    cell = Cell.make("3.13", dict(pins), variant=name)
    chosen = scenarios.for_cell(cell, ("control", "e2e-first"))
    # a short limit where a hang is expected (the variant's own limit is 60 s)
    control, first = runner.run_cell(
        cell, chosen, options(tmp_path, timeout=20 if outcome == "timeout" else 120)
    )
    assert control.outcome.value == control_outcome, control.message
    assert (first.outcome.value, first.signature) == (outcome, signature), first.message
    if outcome == "timeout":
        assert first.hang == {
            "phase": "teardown",
            "test": "tests/e2e/test_e2e_pages.py::test_form_submit[chromium]",
        }
        assert first.duration_s < 20 + 10
        time.sleep(1)
        assert _left() == []
    assert first.variant == name and first.cell_id == cell.id
    for dist in variants.named(name).requirements(cell):  # the variant's packages are in its env
        if "==" not in dist:
            continue  # a wheel of this checkout (the guard's plugin), named by its path
        dist_name, version = dist.split("==")
        assert first.resolved[dist_name] == version
    log = (tmp_path / first.log).read_text()
    if name == "asyncio-run":  # the log shows the very line, raised by asyncio.run()
        assert "RuntimeError: asyncio.run() cannot be called from a running event loop" in log


def _left() -> list[str]:
    """Processes of this test's scenarios still alive: their environment names a work
    folder of this process (pytest, Playwright's driver and Chromium all inherit it)."""
    marker = f"{runner.WORK_PREFIX}{os.getpid()}-"
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in environ:
            found.append(pid)
    return found


def test_a_hang_is_a_timeout_that_names_its_test_and_phase_and_leaves_no_process(tmp_path):
    probes = tmp_path / "probes"  # the package's probes, with a sync e2e test that hangs
    shutil.copytree(
        locations.PROBES, probes, symlinks=False, ignore=shutil.ignore_patterns(*IGNORED)
    )
    shutil.rmtree(probes / "sync-plugin" / "tests" / "e2e")
    (probes / "sync-plugin" / "tests" / "e2e").mkdir()
    (probes / "sync-plugin" / "tests" / "e2e" / "test_stuck.py").write_text(
        "import time\nimport pytest\n\n\n@pytest.fixture\ndef stuck():\n    yield\n"
        "    time.sleep(600)\n\n\ndef test_page_then_stuck(page, stuck):\n"
        "    page.set_content('<p>x</p>')\n"
    )
    cell = Cell.make("3.13", dict(SYNC))
    chosen = scenarios.for_cell(cell, ("control", "e2e-first"))
    seen: list[int] = []  # processes found while it runs: the search below does see them
    stop = threading.Event()
    watcher = threading.Thread(
        target=lambda: [
            seen.append(len(_left())) or stop.wait(0.5) for _ in iter(stop.is_set, True)
        ]
    )
    watcher.start()
    try:
        control, first = runner.run_cell(cell, chosen, options(tmp_path / "out", 20, probes))
    finally:
        stop.set()
        watcher.join()
    assert max(seen) >= 3  # pytest, Playwright's driver and Chromium at least
    assert (first.outcome.value, first.signature) == ("timeout", "timeout")
    assert first.hang == {
        "phase": "teardown",
        "test": "tests/e2e/test_stuck.py::test_page_then_stuck[chromium]",
    }
    assert first.message.startswith(
        "hung in teardown of tests/e2e/test_stuck.py::test_page_then_stuck[chromium]: pytest did "
        "not finish within 20 s"
    )
    assert first.duration_s < 20 + 10  # the limit, then SIGTERM and SIGKILL of the group
    assert "Timeout (0:00:15)!" in (tmp_path / "out" / first.log).read_text()  # faulthandler's dump
    time.sleep(1)
    assert _left() == []
