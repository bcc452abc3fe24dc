"""Remedies, measured: rows and families from the remedies profile's records, the page's
section and answer cards, whence's remedies, and the searches' --variant."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from matrix import options
from matrix.define.cell import Cell
from matrix.errors import ConfigError
from matrix.measure import runner
from matrix.publish import site
from matrix.results import model, remedies, store
from matrix.search import trials, whence

DATA = Path(__file__).parent / "data" / "remedies"


@pytest.fixture(scope="module")
def records():
    return store.read(DATA, warn=False)


@pytest.fixture(scope="module")
def rows(records):
    return {(r.key, r.plugin): r for r in remedies.rows(records)}


def spans(row) -> list[tuple[str, str]]:
    return [(f.span, " / ".join(f.labels)) for f in row.families]


def test_the_bug_then_the_reported_attempts_in_order_then_the_other_shapes(records):
    keys = [r.key for r in remedies.rows(records)]
    assert keys[:6] == [
        "baseline",
        "no-logfire",
        "nest-asyncio",
        "async-tests-sync-page",
        "isolated",
        "pytest-playwright-asyncio",
    ]
    assert set(keys[6:]) == {
        "asyncio-auto",
        "logfire",
        "own-fixture-session",
        "own-fixture-module",
        "asyncio-run",
        "sync-api-in-async-tests",
        "both-plugins",
    }
    assert [r.attempt for r in remedies.rows(records)][:6] == [None, 1, 2, 3, 4, 5]


def test_a_search_runs_its_variant_where_it_applies_and_refuses_a_target_it_cannot(tmp_path):
    opts = runner.RunOptions(settings=options.read({}, out=str(tmp_path), run_id="r"))
    bench = trials.Bench(opts, ("control", "e2e-first"), variant="nest-asyncio")
    sync = Cell.make("3.13", {"pytest-asyncio": "1.3.0", "pytest-playwright": "0.7.1"})
    switched = Cell.make("3.13", {"pytest-asyncio": "1.3.0", "pytest-playwright-asyncio": "0.7.1"})
    assert bench.own(sync).id == sync.id + "+nest-asyncio"
    assert bench.own(switched) == switched  # a switch of plugin leaves the variant behind
    bench.check(sync)
    with pytest.raises(
        ConfigError,
        match="^variant 'nest-asyncio' applies to the sync-plugin "
        "probe, not to async-plugin; the target ",
    ):
        bench.check(switched)
    with pytest.raises(ConfigError, match="^unknown variant 'nosuch'"):
        trials.Bench(opts, ("control",), variant="nosuch")


def test_a_searched_variant_cell_is_remembered_with_its_variant(tmp_path):
    cell = Cell.make("3.13", {"pytest-playwright": "0.7.1"}, variant="own-fixture-module")
    trials.remember(
        tmp_path, cell, runner.RunOptions(settings=options.read({}, out=str(tmp_path), run_id="r"))
    )
    text = (tmp_path / trials.SEARCHED).read_text()
    assert 'pytest-playwright = "0.7.1"\nvariants = ["own-fixture-module"]\n' in text
    from matrix.define import definition, plan

    built = plan.build(definition.load(tmp_path / trials.SEARCHED, trials.SEARCHED_PROFILE))
    assert [c.id for c in built.cells] == [cell.id]


def test_each_attempt_per_pytest_asyncio_family(rows):
    sync = "pytest-playwright"
    assert spans(rows["baseline", sync]) == [
        ("0.21.2–0.25.3", "breaks: loop-another-running"),
        ("1.1.1–1.5.0", "breaks: runner-in-running-loop"),
    ]
    assert spans(rows["no-logfire", sync]) == spans(rows["baseline", sync])
    assert spans(rows["nest-asyncio", sync]) == [
        ("0.21.2", "works"),
        ("0.23.8", "breaks: TimeoutError"),
        ("0.25.3", "breaks: close-running-loop"),
        ("1.1.1–1.5.0", "breaks: runner-in-running-loop"),
    ]
    assert spans(rows["async-tests-sync-page", sync]) == [
        ("0.21.2", "breaks: loop-another-running"),
        ("0.23.8–1.1.1", "hangs in teardown"),
        ("1.3.0–1.5.0", "breaks: runner-in-running-loop"),
    ]
    assert spans(rows["isolated", sync]) == [("0.21.2–1.5.0", "works")]
    assert spans(rows["pytest-playwright-asyncio", "pytest-playwright-asyncio"]) == [
        ("0.25.3–1.5.0", "works")
    ]


def test_a_hang_is_a_timeout_with_its_phase_and_test(rows):
    hung = rows["async-tests-sync-page", "pytest-playwright"].families[1]
    assert hung.state == "hangs" and len(hung.results) == 3
    for result in hung.results:
        record = result.record
        assert record.outcome.value == "timeout" and record.duration_s < 60 + 10
        assert record.hang == {
            "phase": "teardown",
            "test": "tests/e2e/test_e2e_pages.py::test_form_submit[chromium]",
        }


def test_asyncio_run_is_a_bug_with_its_signature_where_the_browser_free_run_passes(records, rows):
    row = rows["asyncio-run", "pytest-playwright"]
    assert spans(row) == [("0.23.8–1.3.0", "breaks: asyncio-run-in-running-loop")]
    for result in row.families[0].results:
        mine = {
            r.scenario: r for r in model.latest(records).values() if r.cell_id == result.cell_id
        }
        assert mine["control"].outcome.value == "pass"
        assert (mine["e2e-first"].outcome.value, mine["e2e-first"].message) == (
            "bug",
            "RuntimeError: asyncio.run() cannot be called from a running event loop",
        )


def test_the_two_own_fixture_scopes_on_the_same_cells(rows):
    session = rows["own-fixture-session", "pytest-playwright"]
    module = rows["own-fixture-module", "pytest-playwright"]
    cells = lambda row: sorted(r.cell_id.split("+")[0] for f in row.families for r in f.results)
    assert cells(session) == cells(module) and len(cells(module)) == 2
    assert spans(module) == [("0.23.8–1.3.0", "works")]
    assert {f.state for f in session.families} == {"breaks"}


def test_both_plugins_refuse_each_other(rows):
    assert spans(rows["both-plugins", "pytest-playwright-asyncio"]) == [
        (
            "1.5.0",
            "breaks: RuntimeError: pytest-playwright and pytest-playwright-asyncio are not "
            "compatible. Please use only one of them.",
        )
    ]


def test_the_remedies_that_work_smallest_first(rows):
    found = remedies.working(rows.values(), "pytest-playwright")
    assert [(r.key, r.works_on) for r in found] == [
        ("nest-asyncio", ["0.21.2"]),
        ("isolated", ["0.21.2–1.5.0"]),
        ("own-fixture-module", ["0.23.8–1.3.0"]),
        ("pytest-playwright-asyncio", ["0.25.3–1.5.0"]),
    ]
    assert remedies.working(rows.values(), "pytest-playwright-asyncio") == []


def test_whence_lists_the_measured_remedies_for_a_signature(records):
    lines = remedies.for_signature("loop-another-running", records)
    assert lines[:2] == [
        "disable the logfire pytest plugin (-p no:logfire) [no-logfire]: works in 0 of 3 such "
        "combinations",
        "nest_asyncio.apply() in conftest.py [nest-asyncio]: works in 1 of 3 such combinations "
        "(pytest-asyncio 0.21.2)",
    ]
    match = whence.identify("RuntimeError: Cannot run the event loop while another loop is running")
    text = whence.render(match, whence.occurrences(match.signature, records, DATA), records, DATA)
    assert "\nremedies measured to work:\n" in text and "\n  " + lines[0] + "\n" in text
    assert not any("[isolated]" in line for line in lines)  # whence says that one itself


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> tuple[str, dict]:
    folder = tmp_path_factory.mktemp("remedies")
    for name in ("results.jsonl", "plan.json"):
        shutil.copyfile(DATA / name, folder / name)
    index = site.build(folder, folder / "site")
    import json

    return index.read_text(), json.loads((folder / "site" / "summary.json").read_text())


def test_the_page_lists_the_attempts_in_order_with_their_families(page):
    html, summary = page
    section = html[html.index('<section id="remedies">') : html.index('<section id="grids">')]
    order = [
        section.index(f'id="remedy-{key}"')
        for key in (
            "baseline",
            "no-logfire",
            "nest-asyncio",
            "async-tests-sync-page",
            "isolated",
            "pytest-playwright-asyncio",
        )
    ]
    assert order == sorted(order)
    assert '<span class="chip v-timeout">0.23.8–1.1.1</span> hangs in teardown' in section
    assert (
        "nox -s &#39;cell(py3.13-pytest8.4.2-asyncio0.23.8-sync0.7.1-pw1.56.0+asyncio-run)&#39;"
        " -- --scenario e2e-first"
    ) in section
    assert [r["key"] for r in summary["remedies"]][:3] == ["baseline", "no-logfire", "nest-asyncio"]


def test_variant_cells_stay_out_of_the_grids_and_the_answer_lists_what_works(page):
    html, summary = page
    assert not any("+" in c["cell_id"] for c in summary["cells"])
    card = html[
        html.index('id="answer-pytest-playwright"') : html.index(
            'id="answer-pytest-playwright-asyncio"'
        )
    ]
    assert (
        card.index("nest_asyncio.apply()")
        < card.index("e2e tests run separately")
        < card.index("module scope")
        < card.index("switch to pytest-playwright-asyncio")
    )
