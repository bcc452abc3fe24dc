"""The site: files written, escaping, determinism, logs, comparing with a previous run, and
what bisect and explain found (bisect.jsonl, explain.jsonl beside the records)."""

from __future__ import annotations

import csv
import filecmp
import html as html_lib
import json
import re
from pathlib import Path

import plotly.offline
import pytest
from site_fixtures import results_folder, searched_folder

from matrix.errors import MatrixError
from matrix.publish import payload, site

DATA = Path(__file__).parent / "data"
XSS_MESSAGE = "<script>alert(1)</script>"
XSS_SIGNATURE = '"><img src=x onerror=alert(1)>'
SYNC_312 = "py3.12-pytest8.4.2-asyncio1.2.0-sync0.7.1-pw1.55.0-cov7.0.0"
# The reported project's combination, which explain started from, and its smallest fix.
REPORTED = "py3.13-pytest8.4.2-asyncio0.23.0-sync0.7.1-pw1.49.1-cov7.0.0"
ASYNC_FIX = "py3.13-pytest8.4.2-asyncio0.24.0-async0.7.1-pw1.49.1-cov7.0.0"
SWITCH = (
    "pytest-playwright 0.7.1 -> pytest-playwright-asyncio 0.7.1; pytest-asyncio 0.23.0 -> 0.24.0"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("site")
    return site.build(results_folder(tmp, "run1"), tmp / "site").parent


def page(folder: Path) -> str:
    return (folder / "index.html").read_text(encoding="utf-8")


def embedded_data(html: str) -> dict:
    found = re.search(
        r'<script id="matrix-data" type="application/json">(.*?)</script>', html, re.DOTALL
    )
    return json.loads(found.group(1))


def test_writes_the_site_files(built):
    for name in (
        "index.html",
        "plotly.min.js",
        "app.js",
        "style.css",
        "favicon.svg",
        "results.json",
        "results.csv",
        "summary.json",
    ):
        assert (built / name).is_file(), name
    assert (built / "plotly.min.js").read_text(encoding="utf-8") == plotly.offline.get_plotlyjs()
    assert sorted(p.name for p in (built / "badges").iterdir()) == [
        "native-async.json",
        "pytest-playwright-asyncio.json",
        "pytest-playwright.json",
    ]


def test_nothing_is_fetched_from_outside_the_folder(built):
    html = page(built)
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "cdn" not in html.lower()
    assert re.findall(r'<script src="([^"]+)"', html) == ["plotly.min.js", "app.js"]


def test_one_grid_per_python_with_stable_div_ids(built):
    ids = re.findall(r'<div id="(grid-py[^"]+)" class="plotly-graph-div"', page(built))
    assert ids == ["grid-py3-14", "grid-py3-13", "grid-py3-12"]


def test_the_answer_comes_first_and_is_derived(built):
    html = page(built)
    answer = html[html.index('id="answer"') : html.index('id="grids"')]
    assert (
        "switch from pytest-playwright to pytest-playwright-asyncio 0.10.0 with "
        "pytest-asyncio 1.3.0" in answer
    )
    assert "run the e2e tests in a separate process" in answer
    assert html.index('id="answer"') < html.index('id="grids"') < html.index('id="details"')


def test_exports(built):
    records = json.loads((built / "results.json").read_text())
    # sorted by cell, scenario, attempt and time, whatever the order of results.jsonl
    first = min(records, key=lambda r: (r["cell_id"], r["scenario"]))
    assert len(records) == 98 and records[0] == first
    with (built / "results.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 98 and rows[0]["cell_id"] == first["cell_id"]
    summary = json.loads((built / "summary.json").read_text())
    assert len(summary["cells"]) == 19 and len(summary["scenarios"]) == 95
    assert summary["recommendations"]["pytest-playwright"]["best"] is None
    assert summary["changes"] == {"status": "none"}


def test_badges_are_shields_endpoints(built):
    sync = json.loads((built / "badges" / "pytest-playwright.json").read_text())
    assert sync == {
        "schemaVersion": 1,
        "label": "pytest-playwright",
        "message": "no passing combination",
        "color": "red",
    }
    best = json.loads((built / "badges" / "pytest-playwright-asyncio.json").read_text())
    assert best["color"] == "brightgreen" and best["message"].startswith("0.10.0 | ")


def test_record_text_is_escaped_everywhere(built):
    html = page(built)
    assert XSS_MESSAGE not in html and XSS_SIGNATURE not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown as text
    tags = re.findall(r"<script[^>]*>", html)  # only ours: plotly.js, one per grid, data, app
    assert tags == [
        '<script src="plotly.min.js">',
        *["<script>"] * 3,
        '<script id="matrix-data" type="application/json">',
        '<script src="app.js">',
    ]
    data = embedded_data(html)
    assert XSS_MESSAGE in data["records"]["dicts"]["message"]  # intact once parsed


def test_hostile_ids_and_versions_are_escaped_too(tmp_path):
    line = (DATA / "records-run1.jsonl").read_text().splitlines()[1]
    hostile = json.loads(line) | {
        "cell_id": "<svg onload=alert(1)>",
        "log": "javascript:alert(1)",
        "requested": {
            "python": '3.13"><b>',
            "pytest": "<i>8</i>",
            "pytest-asyncio": "&amp;",
            "pytest-playwright": "0.7.1",
            "playwright": "1.55.0",
        },
    }
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "results.jsonl").write_text(json.dumps(hostile) + "\n")
    html = page(site.build(folder, tmp_path / "site").parent)
    assert "<svg" not in html and "<i>" not in html and '"><b>' not in html
    assert html.count("<script>") == 1  # the one grid's own
    assert "&amp;amp;" in html  # shown as the literal text "&amp;"


def test_script_json_escapes_what_could_end_the_element():
    text = str(payload.script_json({"m": "</script><!-- & \u2028"}))
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"m": "</script><!-- & \u2028"}


def test_the_same_inputs_give_the_same_bytes(tmp_path):
    folder = results_folder(tmp_path, "run1")
    first = site.build(folder, tmp_path / "a").parent
    second = site.build(folder, tmp_path / "b").parent
    again = site.build(folder, first).parent
    compared = filecmp.dircmp(first, second)
    assert not compared.diff_files and not compared.left_only and not compared.right_only
    for sub in ("badges", "logs"):
        assert not filecmp.dircmp(first / sub, second / sub).diff_files
    assert page(again) == page(second)


def test_logs_are_copied_and_linked(built):
    data = embedded_data(page(built))
    logs = list(data["records"]["dicts"]["log"])
    assert len(logs) == 5 and all(v.startswith("logs/") for v in logs)
    assert all((built / v).is_file() for v in logs)


def test_a_log_path_leaving_the_results_folder_is_not_followed(tmp_path):
    (tmp_path / "secret.txt").write_text("secret")
    folder = tmp_path / "results"
    folder.mkdir()
    line = (DATA / "records-run1.jsonl").read_text().splitlines()[0]
    hostile = [
        json.loads(line) | {"log": path} for path in ("../secret.txt", str(tmp_path / "secret.txt"))
    ]
    (folder / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in hostile))
    out = site.build(folder, tmp_path / "site").parent
    assert not any(p.is_file() for p in (out / "logs").rglob("*"))
    assert embedded_data(page(out))["records"]["dicts"]["log"] == []


def test_logs_of_records_that_are_gone_leave_the_site(tmp_path):
    folder = results_folder(tmp_path, "run1")
    out = site.build(folder, tmp_path / "site").parent
    lines = (folder / "results.jsonl").read_text().splitlines()
    (folder / "results.jsonl").write_text("\n".join(lines[1:]) + "\n")
    site.build(folder, out)
    assert len(list((out / "logs").rglob("*.log"))) == 4


def test_a_site_written_into_the_results_folder_keeps_its_logs(tmp_path):
    folder = results_folder(tmp_path, "run1")
    logs = sorted(p.relative_to(folder) for p in (folder / "logs").rglob("*.log"))
    out = site.build(folder, folder).parent
    assert sorted(p.relative_to(folder) for p in (folder / "logs").rglob("*.log")) == logs
    assert len(embedded_data(page(out))["records"]["dicts"]["log"]) == 5


def test_a_truncated_last_line_is_reported_and_the_rest_kept(tmp_path):
    out = site.build(results_folder(tmp_path, "run2"), tmp_path / "site").parent
    html = page(out)
    assert "records-run2.jsonl" not in html  # the folder's file is results.jsonl
    assert "results.jsonl line 102: skipped" in html
    assert len(json.loads((out / "results.json").read_text())) == 101


def test_changes_since_a_previous_site(tmp_path, built):
    out = site.build(results_folder(tmp_path, "run2"), tmp_path / "site", previous=built).parent
    html = page(out)
    changes = html[html.index('id="changes"') : html.index('id="evidence"')]
    assert "Compared with the run of 2026-11-20 04:24 UTC" in changes
    assert "1 regressed" in changes and SYNC_312 in changes
    summary = json.loads((out / "summary.json").read_text())
    assert summary["changes"]["source"] == "results.json"  # a site folder has no .jsonl
    assert [c["cell_id"] for c in summary["changes"]["regressed"]] == [SYNC_312]


@pytest.mark.parametrize("previous", ["summary.json", "results.json"])
def test_changes_from_a_previous_file(tmp_path, built, previous):
    out = site.build(
        results_folder(tmp_path, "run2"), tmp_path / "site", previous=built / previous
    ).parent
    summary = json.loads((out / "summary.json").read_text())
    assert summary["changes"]["status"] == "compared"
    assert [c["cell_id"] for c in summary["changes"]["regressed"]] == [SYNC_312]


@pytest.mark.parametrize("name", ["summary.json", "results.json"])
@pytest.mark.parametrize("content", ["{not json", "[1, 2]", "", '{"scenarios": 3}'])
def test_malformed_previous_does_not_break_the_build(tmp_path, content, name):
    bad = tmp_path / name
    bad.write_text(content)
    out = site.build(results_folder(tmp_path, "run1"), tmp_path / "site", previous=bad).parent
    assert "Could not compare with the previous run" in page(out)
    assert json.loads((out / "summary.json").read_text())["changes"]["status"] == "error"


def test_a_missing_previous_says_it_could_not_compare(tmp_path):
    out = site.build(
        results_folder(tmp_path, "run1"), tmp_path / "site", previous=tmp_path / "nowhere"
    ).parent
    assert "Could not compare with the previous run: nowhere does not exist" in page(out)


def test_no_previous_run(built):
    assert "No previous run to compare with." in page(built)


def test_missing_results_is_a_matrix_error(tmp_path):
    with pytest.raises(MatrixError, match="no results.jsonl"):
        site.build(tmp_path, tmp_path / "site")


def test_a_plan_without_records_still_builds(tmp_path):
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "results.jsonl").write_text("")
    (folder / "plan.json").write_text((DATA / "plan-run1.json").read_text())
    out = site.build(folder, tmp_path / "site").parent
    summary = json.loads((out / "summary.json").read_text())
    assert {c["verdict"] for c in summary["cells"]} == {"not-run", "incompatible"}
    assert "No measured combination passes every scenario" in page(out)


# ---------------------------------------------------------------- bisect and explain findings


@pytest.fixture(scope="module")
def searched(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("searched")
    return site.build(searched_folder(tmp), tmp / "site").parent


def text_of(html: str) -> str:
    """The page's words: tags dropped (table cells end in a space), entities read, white
    space folded."""
    words = re.sub(r"<[^>]+>", "", re.sub(r"</t[dh]>", " ", html))
    return re.sub(r"\s+", " ", html_lib.unescape(words))


def section(html: str, start: str, end: str) -> str:
    return html[html.index(start) : html.index(end)]


def golden_line(kind: str) -> str:
    return (DATA / f"{kind}-findings.jsonl").read_text().splitlines()[0]


def test_a_red_cell_carries_its_smallest_known_fix(searched):
    data = embedded_data(page(searched))
    cells = {c["id"]: c for c in data["cells"]}
    assert cells[REPORTED]["verdict"] == "bug"
    found = data["fixes"][REPORTED]
    fix = found["fix"]
    assert (fix["kind"], fix["summary"], fix["how"]) == ("fix", SWITCH, [])
    assert fix["cell_id"] == ASYNC_FIX and ASYNC_FIX in cells  # evidence the page can open
    assert fix["outcomes"][0] == ["control", "pass"] and len(fix["repro"]) == 5
    assert all(f"cell({ASYNC_FIX})" in line for line in fix["repro"])
    assert found["run_id"] == "20261125T123135Z" and found["when"] == "2026-11-25 12:31 UTC"
    assert found["more"] == 3  # workarounds: pytest-asyncio 0.23.8, 0.24.0, 0.21.2
    assert list(data["fixes"]) == [REPORTED]  # no other cell was searched from


def test_bisect_change_points_are_shown_apart_from_the_grid(searched):
    html = page(searched)
    found = text_of(section(html, '<h3 id="bisect">', '<h3 id="grid-boundaries">'))
    assert "Found by bisect" in found
    assert (
        "pytest-asyncio 0.21.2 → 1.5.0, holding Python 3.13 · pytest-playwright 0.7.1 · "
        "playwright 1.56.0"
    ) in found
    assert "First change: pytest-asyncio 0.23.0 (from 0.21.2)." in found
    assert "0.21.2 → 0.23.0" in found and "first bad" not in found
    assert "19 of 26 releases measured" in found
    assert "0.23.7 .. 0.25.0 (2 not run)" in found
    point = text_of(section(html, '<li id="bisect-1-7">', '<li id="bisect-1-8">'))
    assert point.startswith(
        "1.0.0 → 1.1.0 · appears: runner-in-running-loop · disappears: loop-another-running"
    )
    # per scenario, both sides' key: outcome and every signature its failures showed
    assert (
        "e2e-first ✗ bug loop-another-running, loop-already-running ✗ bug "
        "runner-in-running-loop, loop-already-running" in point
    )
    assert "--scenario e2e-first" in point
    assert "Seen in the grid" in text_of(html)  # the grid's own transitions keep their place
    assert html.count('<li id="bisect-1-') == 8


def test_a_signature_names_the_releases_that_introduced_it(searched):
    html = page(searched)
    runner = section(
        html, 'id="sig-runner-in-running-loop"', 'id="sig-asyncio-run-in-running-loop"'
    )
    assert (
        "Introduced at pytest-asyncio 1.1.0 (absent at 1.0.0; Python 3.13 · "
        "pytest-playwright 0.7.1 · playwright 1.56.0; found by bisect"
    ) in text_of(runner)
    assert '<a href="#bisect-1-7">pytest-asyncio 1.1.0</a>' in runner
    already = text_of(
        section(html, 'id="sig-loop-already-running"', 'id="sig-loop-another-running"')
    )
    assert "Introduced at pytest-asyncio 0.23.0" in already
    assert "Gone at pytest-asyncio 1.2.0" in already
    closing = text_of(section(html, 'id="sig-close-running-loop"', 'id="sig-different-loop"'))
    assert "Introduced at pytest-asyncio 0.25.1" in closing
    assert "Gone at pytest-asyncio 1.0.0" in closing
    other = text_of(section(html, "<h3>Other failures</h3>", 'id="boundaries"'))
    assert "Introduced at pytest-asyncio 0.23.0" in other  # FixtureDef: not a loop conflict


def test_summary_holds_first_bad_releases_and_smallest_fixes(searched):
    summary = json.loads((searched / "summary.json").read_text())
    first = summary["bisect"]["first_bad"]["pytest-asyncio"]
    assert [(f["last_good"], f["first_bad"], f["python"]) for f in first] == [
        ("0.21.2", "0.23.0", "3.13")
    ]
    points = {(p["last_good"], p["first_bad"]): p for p in summary["bisect"]["change_points"]}
    assert points[("1.0.0", "1.1.0")]["appears"] == ["runner-in-running-loop"]
    fix = summary["explain"][REPORTED]["smallest_fix"]
    assert (fix["kind"], fix["summary"], fix["cell_id"]) == ("fix", SWITCH, ASYNC_FIX)
    assert [c["kind"] for c in summary["explain"][REPORTED]["candidates"]] == [
        "fix",
        "workaround",
        "workaround",
        "workaround",
    ]


def test_without_findings_nothing_is_shown(built):
    html = page(built)
    assert 'id="bisect"' not in html and "Introduced at" not in html
    assert embedded_data(html)["fixes"] == {}
    summary = json.loads((built / "summary.json").read_text())
    assert summary["bisect"] == {"searches": 0, "first_bad": {}, "change_points": []}
    assert summary["explain"] == {}


def test_a_cut_last_line_of_bisect_jsonl_is_reported_and_the_rest_shown(tmp_path):
    line = golden_line("bisect")
    folder = searched_folder(tmp_path, bisect=f"{line}\n{line[: len(line) // 2]}")
    out = site.build(folder, tmp_path / "site").parent
    html = page(out)
    assert "bisect.jsonl line 2: skipped, not a whole finding" in text_of(
        section(html, 'id="evidence"', 'id="records"')
    )
    point = section(html, '<li id="bisect-1-7">', '<li id="bisect-1-8">')
    assert "1.0.0 → 1.1.0" in text_of(point)
    assert 'id="bisect-2' not in html
    warnings = json.loads((out / "summary.json").read_text())["warnings"]
    assert any("bisect.jsonl line 2" in w for w in warnings)


def _edit(which: str, **changes) -> str:
    """The golden finding of ``which`` (bisect or explain) with some fields replaced."""
    return json.dumps(json.loads(golden_line(which)) | changes)


@pytest.mark.parametrize(
    "bad",
    [
        "[1, 2]",
        '"text"',
        _edit("bisect", kind="explain"),
        _edit("bisect", axis=3),
        _edit("bisect", changes=[{"last_good": "0.1", "first_bad": "0.2"}]),
        _edit("bisect", measured=[{"version": "1.0.0", "scenarios": {"control": {"outcome": 3}}}]),
    ],
)
def test_a_malformed_bisect_finding_is_skipped_with_a_warning(tmp_path, bad):
    folder = searched_folder(tmp_path, bisect=f"{bad}\n{golden_line('bisect')}\n")
    html = page(site.build(folder, tmp_path / "site").parent)
    assert "bisect.jsonl line 1: skipped, not a whole finding" in html
    assert html.count('<li id="bisect-1-') == 8 and 'id="bisect-2"' not in html


@pytest.mark.parametrize(
    "bad",
    [
        "{",
        _edit("explain", start={"kind": "fails"}),
        _edit("explain", candidates=[{"rank": 1}]),
        _edit("explain", candidates="none"),
    ],
)
def test_a_malformed_explain_finding_is_skipped_with_a_warning(tmp_path, bad):
    folder = searched_folder(tmp_path, explain=f"{golden_line('explain')}\n{bad}\n")
    html = page(site.build(folder, tmp_path / "site").parent)
    assert "explain.jsonl line 2: skipped, not a whole finding" in html
    assert embedded_data(html)["fixes"][REPORTED]["fix"]["summary"] == SWITCH


def _later_search() -> str:
    """The golden explain finding as if run again later and ranked otherwise."""
    data = json.loads(golden_line("explain"))
    return json.dumps(
        data
        | {
            "started_at": "2026-11-26T08:00:00Z",
            "run_id": "20261126T080000Z",
            "candidates": data["candidates"][1:],
        }
    )


def test_the_newest_explain_search_of_a_cell_gives_its_fix(tmp_path):
    folder = searched_folder(tmp_path, explain=f"{_later_search()}\n{golden_line('explain')}\n")
    found = embedded_data(page(site.build(folder, tmp_path / "site").parent))["fixes"][REPORTED]
    assert found["run_id"] == "20261126T080000Z"
    assert found["fix"]["summary"] == "pytest-asyncio 0.23.0 -> 0.23.8"
    assert found["fix"]["how"] == [
        "run the e2e tests last",
        "run the e2e tests in a separate pytest process",
    ]


def test_a_search_that_found_nothing_says_so(tmp_path):
    folder = searched_folder(tmp_path, explain=_edit("explain", candidates=[]) + "\n")
    out = site.build(folder, tmp_path / "site").parent
    assert embedded_data(page(out))["fixes"][REPORTED]["fix"] is None
    summary = json.loads((out / "summary.json").read_text())
    assert summary["explain"][REPORTED]["smallest_fix"] is None


def test_findings_give_the_same_bytes_in_any_line_order(tmp_path):
    lines = [_later_search(), golden_line("explain")]
    later_bisect = _edit("bisect", started_at="2026-11-26T09:00:00Z", run_id="20261126T090000Z")
    bisects = [golden_line("bisect"), later_bisect]
    first = searched_folder(tmp_path, "a", bisect="\n".join(bisects), explain="\n".join(lines))
    second = searched_folder(
        tmp_path, "b", bisect="\n".join(bisects[::-1]), explain="\n".join(lines[::-1])
    )
    one = site.build(first, tmp_path / "site-a").parent
    two = site.build(second, tmp_path / "site-b").parent
    again = site.build(first, tmp_path / "site-c").parent
    for name in ("index.html", "summary.json"):
        assert (one / name).read_bytes() == (two / name).read_bytes() == (again / name).read_bytes()
    html = page(one)
    assert html.index('id="bisect-1"') < html.index('id="bisect-2"')
    # the same change point found twice: the signature links to the newer search's
    assert '<a href="#bisect-2-7">pytest-asyncio 1.1.0</a>' in html
    assert '<a href="#bisect-1-7">pytest-asyncio 1.1.0</a>' not in html


def test_finding_text_is_escaped(tmp_path):
    data = json.loads(golden_line("explain"))
    data["candidates"][0]["summary"] = XSS_MESSAGE
    data["candidates"][0]["how"] = [XSS_SIGNATURE]
    bisect = json.loads(golden_line("bisect"))
    bisect["pins"]["playwright"] = "<b>1.56.0</b>"
    bisect["measured"][0]["scenarios"]["e2e-first"]["signatures"] = [XSS_SIGNATURE]
    folder = searched_folder(tmp_path, bisect=json.dumps(bisect), explain=json.dumps(data))
    html = page(site.build(folder, tmp_path / "site").parent)
    assert XSS_MESSAGE not in html and XSS_SIGNATURE not in html
    assert "<img" not in html and "<b>" not in html
    assert "&lt;b&gt;1.56.0&lt;/b&gt;" in html and "&#34;&gt;&lt;img src=x" in html
    fix = embedded_data(html)["fixes"][REPORTED]["fix"]
    assert fix["summary"] == XSS_MESSAGE and fix["how"] == [XSS_SIGNATURE]  # intact once parsed
