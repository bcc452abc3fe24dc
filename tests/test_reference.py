"""The reference dataset shipped in the package, and the page's box that answers from it.

The dataset (``matrix/reference/``) was measured by ``nox -s reference`` on real envs;
these tests read it as a fresh clone would, with no local run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
from pathlib import Path

import pytest

from matrix import options
from matrix.define.cell import ASYNC_PLUGIN, SYNC_PLUGIN
from matrix.define.versions import version_key
from matrix.publish import exports, site
from matrix.results import model, reference, signatures, sources, store
from matrix.results.record import Outcome
from matrix.search import whence

README = Path(__file__).parent.parent / "README.md"
APP_JS = Path(exports.TEMPLATES) / "app.js"


@pytest.fixture(autouse=True)
def fresh_clone(tmp_path, monkeypatch) -> None:
    """No local run: the results folder is empty."""
    monkeypatch.setenv("MATRIX_OUT", str(tmp_path / "reports"))


def latest():
    return list(model.latest(sources.reference().records).values())


def test_at_least_80_cells_were_measured_with_every_plugin_and_pytest_asyncio_minor() -> None:
    records = latest()
    decided = {r.cell_id for r in records if r.outcome in (Outcome.PASS, Outcome.BUG, Outcome.FAIL)}
    assert len(decided) >= 80
    plugins = {
        next((p for p in (SYNC_PLUGIN, ASYNC_PLUGIN) if p in r.requested), "none") for r in records
    }
    assert plugins == {SYNC_PLUGIN, ASYNC_PLUGIN, "none"}
    minors = {".".join(r.requested["pytest-asyncio"].split(".")[:2]) for r in records}
    assert {
        "0.21",
        "0.23",
        "0.24",
        "0.25",
        "0.26",
        "1.0",
        "1.1",
        "1.2",
        "1.3",
        "1.4",
        "1.5",
    } <= minors
    pythons = {"3.9", "3.10", "3.11", "3.12", "3.13"}
    assert {r.requested["python"] for r in records} >= pythons
    # every plugin choice is measured on every one of them, not only somewhere
    measured = {
        (
            r.requested["python"],
            next((p for p in (SYNC_PLUGIN, ASYNC_PLUGIN) if p in r.requested), "none"),
        )
        for r in records
    }
    assert {(py, p) for py in pythons for p in plugins} <= measured


def test_its_provenance_names_the_run_the_machine_and_the_browser() -> None:
    p = sources.reference().provenance
    assert re.fullmatch(r"\d{8}T\d{6}Z", p["run_id"]) and p["run_id"] in p["run_ids"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", p["date"])
    assert p["machine"]["cores"] >= 1 and p["machine"]["os"] and p["machine"]["python"]
    assert p["chromium"].startswith("Chromium ")
    assert p["cells"] == len(
        {r.cell_id for r in latest() if r.outcome in (Outcome.PASS, Outcome.BUG, Outcome.FAIL)}
    )


def test_the_committed_records_hold_no_machine_path_and_no_log() -> None:
    text = (sources.REFERENCE / store.RESULTS).read_text(encoding="utf-8")
    assert not re.search(r"/(work|root|home|tmp)/", text)
    assert all(r.log is None for r in sources.reference().records)
    assert all("MATRIX_PROFILE=reference nox -s 'cell(" in r.repro for r in latest())


def test_pack_strips_paths_logs_and_distributions_not_under_test(tmp_path) -> None:
    (record,) = [r for r in latest() if r.scenario == "e2e-first"][:1]
    noisy = record.__class__(
        **{
            **record.__dict__,
            "repro": "MATRIX_OUT=/srv/ci/results " + record.repro,
            "log": "logs/x/e2e-first.log",
            "message": "Error: /srv/ci/envs/abc/lib/site.py failed",
            "resolved": {**record.resolved, "greenlet": "3.2.4"},
        }
    )
    store.append(tmp_path / "run", noisy)
    written = reference.pack(tmp_path / "run", tmp_path / "pkg", chromium="Chromium 1.2.3")
    (packed,) = store.read(written)
    assert packed.repro == record.repro and packed.log is None
    assert packed.message == "Error: <path> failed" and "greenlet" not in packed.resolved
    provenance = json.loads((tmp_path / "pkg" / sources.PROVENANCE).read_text())
    assert provenance["chromium"] == "Chromium 1.2.3" and provenance["records"] == 1


QUICK_MESSAGES = (
    "AttributeError: 'FixtureDef' object has no attribute 'unittest'",
    "RuntimeError: This event loop is already running",
    "RuntimeError: Cannot run the event loop while another loop is running",
    "RuntimeError: Runner.run() cannot be called from a running event loop",
)


def test_the_quick_messages_are_the_readme_s() -> None:
    table = README.read_text(encoding="utf-8").split("## What the quick profile shows")[1]
    for message in QUICK_MESSAGES:
        assert message.split(": ", 1)[1].rstrip(".")[:40] in table


def run_whence(*args: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    whence.add_arguments(parser)
    parsed = parser.parse_args(list(args))
    parsed.settings = options.read()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = whence.run(parsed)
    return code, out.getvalue()


@pytest.mark.parametrize("message", QUICK_MESSAGES)
def test_whence_names_each_quick_message_its_releases_and_fixes_from_the_reference(message) -> None:
    code, text = run_whence(message)
    assert code == 0
    known = signatures.match(message)
    name = known.id if known else signatures.normalise(message)
    assert f"is {name} (" in text
    assert "reference dataset, run " in text  # the records it answered from
    shown = sorted({r.requested["pytest-asyncio"] for r in latest() if r.signature == name})
    assert shown, f"the reference dataset holds no {name}"
    releases = re.search(r"^  pytest-asyncio +(.+?)   \(", text, re.M).group(1)
    assert releases.split(", ")[0].split("–")[0] == min(shown, key=version_key)
    assert "remedies measured to work:" in text
    assert re.search(
        r"^  1\. from .+ \((pass \((measured|inferred)\)): py", text, re.M
    )  # a fix nearby
    if known:
        assert "known fixes:" in text and known.fixes[0] in text


def test_every_signature_of_the_reference_is_identified_with_no_local_run() -> None:
    # a timeout's words are the harness's, not an error a user pastes
    seen = {r.signature: r.message for r in latest() if r.signature and r.outcome != "timeout"}
    for signature, message in seen.items():
        code, text = run_whence(message)
        # a record made before its catalogue entry existed is named by the entry now
        known = signatures.match(message)
        assert code == 0 and f"is {known.id if known else signature} (" in text, message


def test_whence_reads_a_published_results_json_whole(tmp_path) -> None:
    records = sources.reference().records
    items = ",\n".join(json.dumps(r.to_json()) for r in records)
    (tmp_path / "results.json").write_text(f"[\n{items}\n]\n", encoding="utf-8")
    code, text = run_whence(
        "This event loop is already running", "--results", str(tmp_path / "results.json")
    )
    assert code == 0 and f"{len(records)} records from {tmp_path / 'results.json'}" in text


def test_the_page_gets_the_one_catalogue_and_the_script_copies_none_of_it(tmp_path) -> None:
    index = site.build(sources.REFERENCE, tmp_path / "site")
    html = index.read_text(encoding="utf-8")
    data = json.loads(
        re.search(
            r'<script id="matrix-data" type="application/json">(.*?)</script>', html, re.S
        ).group(1)
    )
    exported = data["ask"]["signatures"]
    assert [c["pattern"] for c in exported["catalogue"]] == [
        s.pattern.pattern for s in signatures.CATALOGUE
    ]
    assert [c["fixes"] for c in exported["catalogue"]] == [
        list(s.fixes) for s in signatures.CATALOGUE
    ]
    script = APP_JS.read_text(encoding="utf-8")
    for sig in signatures.CATALOGUE:
        assert sig.pattern.pattern not in script and sig.meaning[:40] not in script
        assert "(?P<" not in sig.pattern.pattern  # JavaScript's RegExp reads every pattern
    assert data["ask"]["provenance"] == sources.reference().provenance
    assert "These records were measured by the product itself" in html
