"""The site: files written, escaping, determinism, logs, and comparing with a previous run."""

from __future__ import annotations

import csv
import filecmp
import json
import re
from pathlib import Path

import plotly.offline
import pytest
from site_fixtures import results_folder

from matrix import site
from matrix.errors import MatrixError

DATA = Path(__file__).parent / "data"
XSS_MESSAGE = "<script>alert(1)</script>"
XSS_SIGNATURE = '"><img src=x onerror=alert(1)>'
SYNC_312 = "py3.12-pytest8.4.2-asyncio1.2.0-sync0.7.1-pw1.55.0-cov7.0.0"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("site")
    return site.build(results_folder(tmp, "run1"), tmp / "site").parent


def page(folder: Path) -> str:
    return (folder / "index.html").read_text(encoding="utf-8")


def embedded_data(html: str) -> dict:
    found = re.search(r'<script id="matrix-data" type="application/json">(.*?)</script>',
                      html, re.DOTALL)
    return json.loads(found.group(1))


def test_writes_the_site_files(built):
    for name in ("index.html", "plotly.min.js", "app.js", "style.css", "favicon.svg",
                 "results.json", "results.csv", "summary.json"):
        assert (built / name).is_file(), name
    assert (built / "plotly.min.js").read_text(encoding="utf-8") == plotly.offline.get_plotlyjs()
    assert sorted(p.name for p in (built / "badges").iterdir()) == [
        "native-async.json", "pytest-playwright-asyncio.json", "pytest-playwright.json"]


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
    answer = html[html.index('id="answer"'):html.index('id="grids"')]
    assert "switch from pytest-playwright to pytest-playwright-asyncio 0.10.0 with " \
           "pytest-asyncio 1.3.0" in answer
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
    assert sync == {"schemaVersion": 1, "label": "pytest-playwright",
                    "message": "no passing combination", "color": "red"}
    best = json.loads((built / "badges" / "pytest-playwright-asyncio.json").read_text())
    assert best["color"] == "brightgreen" and best["message"].startswith("0.10.0 | ")


def test_record_text_is_escaped_everywhere(built):
    html = page(built)
    assert XSS_MESSAGE not in html and XSS_SIGNATURE not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown as text
    tags = re.findall(r"<script[^>]*>", html)  # only ours: plotly.js, one per grid, data, app
    assert tags == ['<script src="plotly.min.js">', *["<script>"] * 3,
                    '<script id="matrix-data" type="application/json">', '<script src="app.js">']
    data = embedded_data(html)
    assert XSS_MESSAGE in data["records"]["dicts"]["message"]  # intact once parsed


def test_hostile_ids_and_versions_are_escaped_too(tmp_path):
    line = (DATA / "records-run1.jsonl").read_text().splitlines()[1]
    hostile = json.loads(line) | {
        "cell_id": "<svg onload=alert(1)>", "log": "javascript:alert(1)",
        "requested": {"python": '3.13"><b>', "pytest": "<i>8</i>", "pytest-asyncio": "&amp;",
                      "pytest-playwright": "0.7.1", "playwright": "1.55.0"}}
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "results.jsonl").write_text(json.dumps(hostile) + "\n")
    html = page(site.build(folder, tmp_path / "site").parent)
    assert "<svg" not in html and "<i>" not in html and '"><b>' not in html
    assert html.count("<script>") == 1  # the one grid's own
    assert "&amp;amp;" in html  # shown as the literal text "&amp;"


def test_script_json_escapes_what_could_end_the_element():
    text = str(site.script_json({"m": "</script><!-- & \u2028"}))
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
    logs = [v for v in data["records"]["dicts"]["log"]]
    assert len(logs) == 5 and all(v.startswith("logs/") for v in logs)
    assert all((built / v).is_file() for v in logs)


def test_a_log_path_leaving_the_results_folder_is_not_followed(tmp_path):
    (tmp_path / "secret.txt").write_text("secret")
    folder = tmp_path / "results"
    folder.mkdir()
    line = (DATA / "records-run1.jsonl").read_text().splitlines()[0]
    hostile = [json.loads(line) | {"log": path} for path in
               ("../secret.txt", str(tmp_path / "secret.txt"))]
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
    changes = html[html.index('id="changes"'):html.index('id="evidence"')]
    assert "Compared with the run of 2026-11-20 04:24 UTC" in changes
    assert "1 regressed" in changes and SYNC_312 in changes
    summary = json.loads((out / "summary.json").read_text())
    assert summary["changes"]["source"] == "results.json"  # a site folder has no .jsonl
    assert [c["cell_id"] for c in summary["changes"]["regressed"]] == [SYNC_312]


@pytest.mark.parametrize("previous", ["summary.json", "results.json"])
def test_changes_from_a_previous_file(tmp_path, built, previous):
    out = site.build(results_folder(tmp_path, "run2"), tmp_path / "site",
                     previous=built / previous).parent
    summary = json.loads((out / "summary.json").read_text())
    assert summary["changes"]["status"] == "compared"
    assert [c["cell_id"] for c in summary["changes"]["regressed"]] == [SYNC_312]


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", "", '{"scenarios": 3}'])
def test_malformed_previous_does_not_break_the_build(tmp_path, content):
    bad = tmp_path / "summary.json"
    bad.write_text(content)
    out = site.build(results_folder(tmp_path, "run1"), tmp_path / "site", previous=bad).parent
    assert "Could not compare with the previous run" in page(out)
    assert json.loads((out / "summary.json").read_text())["changes"]["status"] == "error"


def test_a_missing_previous_says_it_could_not_compare(tmp_path):
    out = site.build(results_folder(tmp_path, "run1"), tmp_path / "site",
                     previous=tmp_path / "nowhere").parent
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
