"""The built site in a real Chromium, driven by pytest-playwright-asyncio.

The page must load from file:// with no console error and no request outside its folder,
draw the grids, open a cell's details on a click in the grid (or on its fallback link),
show hostile record text as text, filter the records table, list what changed since a
previous run, and show what bisect and explain found.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlparse

import pytest
from packaging.version import Version
from site_fixtures import launch_args, results_folder, searched_folder

from matrix.publish import site
from matrix.results import model, sources

if TYPE_CHECKING:
    from playwright.async_api import Page

from playwright.async_api import expect  # the test extras install it: a missing one is a failure

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

SYNC_0238 = "py3.13-pytest8.4.2-asyncio0.23.8-sync0.7.1-pw1.55.0-cov7.0.0"
SYNC_312 = "py3.12-pytest8.4.2-asyncio1.2.0-sync0.7.1-pw1.55.0-cov7.0.0"
XSS_CELL = "py3.12-pytest8.4.2-asyncio1.2.0-pw1.55.0-cov7.0.0"
XSS_MESSAGE = "<script>alert(1)</script>"
XSS_SIGNATURE = '"><img src=x onerror=alert(1)>'

# Where a cell is drawn, in page coordinates: its row and column in the heatmap's
# customdata, mapped through plotly's axes (category i sits at l2p(i)).
CELL_POINT = """([divId, cellId]) => {
  const gd = document.getElementById(divId);
  gd.scrollIntoView({block: "center"});
  const rows = gd.data[0].customdata;
  for (let i = 0; i < rows.length; i++) {
    for (let j = 0; j < rows[i].length; j++) {
      if (rows[i][j][0] !== cellId) continue;
      const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
      const box = gd.getBoundingClientRect();
      return {x: box.left + xa._offset + xa.l2p(j), y: box.top + ya._offset + ya.l2p(i)};
    }
  }
  return null;
}"""


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """The machine's Chromium, headless, with nothing that phones home."""
    args = launch_args(browser_type_launch_args)
    if args is None:
        # On CI a skipped browser test would hide a broken page: there it is a failure.
        (pytest.fail if os.environ.get("CI") else pytest.skip)(
            "no Chromium: install chromium or set MATRIX_CHROMIUM"
        )
    return args


@pytest.fixture(scope="module")
def sites(tmp_path_factory) -> tuple[Path, Path]:
    """Two sites: the first run, and the second run compared with the first."""
    tmp = tmp_path_factory.mktemp("browser")
    first = site.build(results_folder(tmp, "run1"), tmp / "first")
    second = site.build(results_folder(tmp, "run2"), tmp / "second", previous=first.parent)
    return first, second


@dataclasses.dataclass
class Watch:
    """What the page did while it was open."""

    errors: list[str] = dataclasses.field(default_factory=list)
    requests: list[str] = dataclasses.field(default_factory=list)
    dialogs: list[str] = dataclasses.field(default_factory=list)


async def open_site(page: Page, index: Path) -> Watch:
    watch = Watch()

    async def on_dialog(dialog):
        watch.dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watch.errors.append(str(e)))
    page.on("request", lambda r: watch.requests.append(r.url))
    page.on("dialog", on_dialog)
    await page.goto(index.as_uri())
    await page.wait_for_selector("html[data-ready='1']")
    await page.wait_for_selector("#grid-py3-13 svg.main-svg")
    return watch


def assert_stays_in(folder: Path, watch: Watch) -> None:
    """Every request the page made is a file inside the site folder."""
    assert watch.requests, "the page requested nothing at all"
    for url in watch.requests:
        parsed = urlparse(url)
        assert parsed.scheme == "file", url
        assert Path(unquote(parsed.path)).resolve().is_relative_to(folder.resolve()), url


async def click_cell(page: Page, cell_id: str, grid: str = "grid-py3-13") -> None:
    """Click a cell where its grid draws it."""
    point = await page.evaluate(CELL_POINT, [grid, cell_id])
    assert point is not None, cell_id
    await page.mouse.click(point["x"], point["y"])


async def click_red_cell(page: Page, grid: str, cell_id: str):
    """Click a bug cell in its grid; its details show the loop signature and the repro."""
    await click_cell(page, cell_id, grid)
    detail = page.locator("#cell-detail")
    await expect(detail.locator("h3")).to_contain_text(cell_id)
    await expect(detail).to_contain_text("loop-already-running")
    await expect(detail).to_contain_text("RuntimeError: This event loop is already running")
    await expect(detail).to_contain_text(f"nox -s 'cell({cell_id})' -- --scenario e2e-first")
    return detail


async def test_loads_offline_and_draws_every_grid(page: Page, sites):
    index = sites[0]
    watch = await open_site(page, index)
    for python in ("3-14", "3-13", "3-12"):
        await expect(page.locator(f"#grid-py{python} .heatmaplayer image")).to_have_count(1)
    await asyncio.sleep(0.3)  # let late errors and requests arrive
    assert watch.errors == []
    assert_stays_in(index.parent, watch)


async def test_clicking_a_red_cell_shows_its_details(page: Page, sites):
    watch = await open_site(page, sites[0])
    detail = await click_red_cell(page, "grid-py3-13", SYNC_0238)
    await expect(detail).to_contain_text("pytest-asyncio 0.23.8")  # resolved versions
    assert watch.errors == []


async def test_hostile_record_text_shows_as_text(page: Page, sites):
    watch = await open_site(page, sites[0])
    point = await page.evaluate(CELL_POINT, ["grid-py3-12", XSS_CELL])
    await page.mouse.move(point["x"], point["y"])
    hover = page.locator(".hoverlayer .hovertext")
    await expect(hover).to_contain_text(XSS_SIGNATURE)
    fallback = page.locator("#grid-py3-12-section details.grid-fallback")
    await fallback.locator("summary").click()
    await fallback.locator(f'a[href="#cell={quote(XSS_CELL, safe="")}"]').click()
    detail = page.locator("#cell-detail")
    await expect(detail).to_contain_text(XSS_MESSAGE)
    await expect(detail).to_contain_text(XSS_SIGNATURE)
    await expect(detail).to_contain_text("</script><script>alert(2)</script>")
    await page.fill("#rec-filter", "alert")
    await expect(page.locator("#rec-table tbody")).to_contain_text(XSS_MESSAGE)
    await asyncio.sleep(0.3)
    assert await page.evaluate("document.querySelectorAll('img').length") == 0
    # the only scripts in the page body are plotly's, one per grid
    assert await page.evaluate(
        "[...document.querySelectorAll('main script')].every(s => s.closest('.grid-scroll'))"
    )
    assert watch.dialogs == [] and watch.errors == []


async def test_records_table_filters_and_sorts(page: Page, sites):
    await open_site(page, sites[0])
    records = json.loads((sites[0].parent / "results.json").read_text())
    runner = [r for r in records if "runner" in json.dumps([r["signature"], r["message"]]).lower()]
    await page.fill("#rec-filter", "runner")
    await expect(page.locator("#rec-count")).to_have_text(
        f"{len(runner)} of {len(records)} records"
    )
    await expect(page.locator("#rec-table tbody tr")).to_have_count(len(runner))
    await page.fill("#rec-filter", "")
    await page.locator("#rec-table th button", has_text="outcome").click()
    await expect(page.locator("#rec-table tbody tr").first.locator(".c-outcome")).to_have_text(
        "✗ bug"
    )
    await expect(page.locator("#rec-page")).to_have_text("rows 1–50, page 1 of 2")
    await page.click("#rec-next")
    await expect(page.locator("#rec-page")).to_have_text("rows 51–98, page 2 of 2")


async def test_the_second_run_lists_what_changed(page: Page, sites):
    watch = await open_site(page, sites[1])
    changes = page.locator("#changes")
    await expect(changes).to_contain_text("Compared with the run of 2026-11-20 04:24 UTC")
    await expect(changes.locator(".change-counts")).to_contain_text("1 regressed")
    regressed = changes.locator("table.regressed")
    await expect(regressed).to_contain_text(SYNC_312)
    await regressed.locator("a.cell-link").first.click()
    await expect(page.locator("#cell-detail")).to_contain_text("timeout")
    await expect(page.locator("#evidence")).to_contain_text("results.jsonl line 102: skipped")
    assert watch.errors == []


QUICK = Path(__file__).parent / "data" / "quick-run"  # the records of a real quick run
REPORTED = "py3.13-pytest8.4.2-asyncio0.23.0-sync0.7.1-pw1.49.1-cov7.0.0"


async def test_a_real_quick_run_opens_offline_and_its_red_cell_explains_itself(
    page: Page, tmp_path
):
    index = site.build(QUICK, tmp_path / "site")
    watch = await open_site(page, index)
    await click_red_cell(page, "grid-py3-13", REPORTED)
    await asyncio.sleep(0.3)
    assert watch.errors == [] and watch.dialogs == []
    assert_stays_in(index.parent, watch)


ASYNC_FIX = "py3.13-pytest8.4.2-asyncio0.24.0-async0.7.1-pw1.49.1-cov7.0.0"
RUNNER_110 = "py3.13-asyncio1.1.0-sync0.7.1-pw1.56.0"  # a red cell bisect measured
SWITCH = (
    "pytest-playwright 0.7.1 -> pytest-playwright-asyncio 0.7.1; pytest-asyncio 0.23.0 -> 0.24.0"
)


async def test_the_reported_red_cell_shows_its_smallest_known_fix(page: Page, tmp_path):
    index = site.build(searched_folder(tmp_path), tmp_path / "site")
    watch = await open_site(page, index)
    await click_cell(page, REPORTED)
    detail = page.locator("#cell-detail")
    await expect(detail.locator("h3")).to_contain_text(REPORTED)
    fix = detail.locator(".smallest-fix")
    await expect(fix).to_contain_text("Smallest known fix")
    await expect(fix.locator(".fix-line")).to_have_text(f"fix {SWITCH}")
    await expect(fix).to_contain_text("explain run 20261125T123135Z, 2026-11-25 12:31 UTC")
    await fix.locator("a.cell-link").click()  # the evidence opens its own details
    await expect(detail.locator("h3")).to_contain_text(ASYNC_FIX)
    await expect(detail.locator(".smallest-fix")).to_have_count(0)  # it passes: nothing to fix
    await click_cell(page, RUNNER_110)  # red, but nobody explained it: the command that would
    await expect(detail.locator(".smallest-fix")).to_contain_text(
        f"No search recorded; try: nox -s explain -- {RUNNER_110}"
    )
    await page.locator("#sig-runner-in-running-loop .moves a").first.click()
    point = page.locator("#bisect-1-7")
    await expect(point).to_be_in_viewport()
    await expect(point).to_contain_text("1.0.0 → 1.1.0")
    await asyncio.sleep(0.3)
    assert watch.errors == [] and watch.dialogs == []
    assert_stays_in(index.parent, watch)


# ---------------------------------------------------------------- the ask box, on the reference

RUNNER = "RuntimeError: Runner.run() cannot be called from a running event loop"


@pytest.fixture(scope="module")
def reference_site(tmp_path_factory) -> Path:
    """The page of the reference dataset shipped in the package (what a fresh clone has)."""
    return site.build(sources.REFERENCE, tmp_path_factory.mktemp("reference") / "site")


def releases_showing(signature: str, dist: str) -> list[str]:
    """From the shipped records: the requested versions of ``dist`` in cells whose latest
    record of some scenario shows ``signature``, in version order."""
    latest = model.latest(sources.reference().records).values()
    found = {r.requested[dist] for r in latest if r.signature == signature and dist in r.requested}
    return sorted(found, key=Version)


async def test_pasting_an_error_names_its_signature_releases_and_fix(page: Page, reference_site):
    watch = await open_site(page, reference_site)
    await expect(page.locator("#provenance")).to_contain_text("reference dataset, run ")
    await page.fill("#ask-text", f"tests/unit/test_unit_app.py:12: in test_greet\nE   {RUNNER}\n")
    box = page.locator("#ask-answer")
    await expect(box.locator("h3")).to_contain_text(f"{RUNNER} is runner-in-running-loop")
    await expect(box).to_contain_text("Releases of pytest-asyncio built on asyncio.Runner")
    releases = releases_showing("runner-in-running-loop", "pytest-asyncio")
    assert releases and "0.21.2" not in releases
    row = box.locator("dt", has_text="pytest-asyncio").locator("xpath=following-sibling::dd[1]")
    # the runs of consecutive measured releases that show it, as whence gives them
    await expect(row).to_contain_text(f"{releases[0]}–{releases[-1]}")
    await expect(box.locator(".ask-fixes")).to_contain_text("use pytest-playwright-asyncio")
    await expect(box.locator(".ask-fixes")).to_contain_text("measured to pass every scenario")
    await box.locator(".ask-cells a.cell-link").first.click()  # into the cell details
    await expect(page.locator("#cell-detail")).to_contain_text("runner-in-running-loop")
    await asyncio.sleep(0.3)
    assert watch.errors == [] and watch.dialogs == []
    assert_stays_in(reference_site.parent, watch)


GOLDEN_ASK = json.loads((Path(__file__).parent / "data" / "ask-golden.json").read_text())["inputs"]

ASK = """([chosen, text]) => {
  for (const key of ["python", "pytest", "pytest-asyncio", "plugin", "playwright"]) {
    document.getElementById("ask-" + key).value = chosen[key] || "";
  }
  document.getElementById("ask-text").value = text;
  document.getElementById("ask-plugin").dispatchEvent(new Event("change"));
  return document.getElementById("ask-answer").getAttribute("data-answer");
}"""


def engine_says(engine, chosen) -> dict:
    """What check's engine answers for a picker selection, in the page's terms."""
    from matrix.publish import ask

    a = engine.answer(ask.query_of(chosen))
    return {
        "kind": a.kind,
        "verdict": a.verdict,
        "why": "" if a.kind == "unresolvable" else a.why,
        "evidence": sorted(c.cell_id for c in a.evidence),
        "fix": a.fix.text() if a.fix else None,
        "expected": a.expected_signature,
        "bisect": ask.compact(a, {c.cell_id: 0 for c in a.evidence})["bisect"],
    }


def whence_says(records, text) -> dict:
    """What whence answers for a pasted text: the signature, its runs and cells."""
    from matrix.search import whence

    if not text.strip():
        return None  # whence refuses an empty text; the page keeps its hint
    match = whence.identify(text, (r.signature for r in records if r.signature))
    if match is None:
        return {"signature": None}
    found = whence.occurrences(match.signature, records, sources.REFERENCE)
    return {
        "signature": match.signature,
        "runs": len(found),
        "cells": sorted({o.record.cell_id for o in found}),
    }


async def test_the_ask_box_answers_as_check_and_whence_do_on_the_shared_inputs(
    page: Page, reference_site
):
    # One rule set: the page looks up what the engine and whence computed; the table of
    # inputs (tests/data/ask-golden.json) holds the few steps the script takes itself.
    from matrix.define import releases
    from matrix.results import answers

    assert len(GOLDEN_ASK) >= 100
    records = sources.reference().records
    engine = answers.Engine(answers.cells(records), releases.load())
    watch = await open_site(page, reference_site)
    differ = []
    for item in GOLDEN_ASK:
        chosen, text = item.get("pickers", {}), item.get("text", "")
        shown = json.loads(await page.evaluate(ASK, [chosen, text]) or "null")
        said = whence_says(records, text) if "text" in item else engine_says(engine, chosen)
        if shown != said:
            differ.append((item, shown, said))
    assert differ == [], f"{len(differ)} of {len(GOLDEN_ASK)} differ, first: {differ[:2]}"
    assert watch.errors == []


async def test_choosing_the_reported_versions_shows_its_verdict(page: Page, reference_site):
    watch = await open_site(page, reference_site)
    for key, value in (
        ("python", "3.13"),
        ("pytest", "8.4.2"),
        ("pytest-asyncio", "0.23.0"),
        ("plugin", "pytest-playwright 0.7.1"),
        ("playwright", "1.49.1"),
    ):
        await page.select_option(f"#ask-{key}", value)
    verdict = page.locator("#ask-answer .ask-verdict")
    await expect(verdict).to_have_count(1)
    await expect(verdict).to_contain_text("✗ bug bug (measured)")
    await expect(page.locator("#ask-answer .ask-fix")).to_contain_text(
        "Smallest fix: pytest-asyncio 0.23.0 -> 0.24.0, pytest-playwright 0.7.1 -> "
        "pytest-playwright-asyncio 0.7.1"
    )
    await page.locator("#ask-answer .ask-cells a.cell-link").first.click()
    await expect(page.locator("#cell-detail h3")).to_contain_text(REPORTED)
    assert watch.errors == [] and watch.dialogs == []


def test_the_shared_inputs_use_only_values_the_pickers_offer() -> None:
    # a value the page cannot select would be answered as "any" there and compared wrongly
    from matrix.publish import ask

    offered = ask.versions_data(list(sources.reference().records))["pickers"]
    for item in GOLDEN_ASK:
        for key, value in item.get("pickers", {}).items():
            assert value in offered[key], (key, value)
