"""Helpers shared by the site tests: results folders made from the golden files (with
and without the findings of bisect and explain), and the Chromium to launch (Playwright
cannot download its own browsers everywhere)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from matrix.measure import browser

DATA = Path(__file__).parent / "data"


def results_folder(tmp: Path, run: str, *, logs: int = 5) -> Path:
    """A results folder holding ``records-<run>.jsonl`` as results.jsonl, the run's plan,
    and log files for its first ``logs`` records."""
    folder = tmp / f"results-{run}"
    folder.mkdir()
    text = (DATA / f"records-{run}.jsonl").read_text(encoding="utf-8")
    (folder / "results.jsonl").write_text(text, encoding="utf-8")
    shutil.copyfile(DATA / f"plan-{run}.json", folder / "plan.json")
    for line in text.splitlines()[:logs]:
        log = folder / json.loads(line)["log"]
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("collected 6 items\n", encoding="utf-8")
    return folder


def searched_folder(
    tmp: Path, name: str = "searched", *, bisect: str | None = None, explain: str | None = None
) -> Path:
    """A results folder as real searches left it: the records a real bisect along
    pytest-asyncio (bisect-grid.jsonl) and a real explain of the reported project
    (explain-reported.jsonl) produced, and the findings they appended. ``bisect`` and
    ``explain`` replace a findings file's text (tests cut, add or reorder lines)."""
    folder = tmp / name
    folder.mkdir()
    records = [
        (DATA / f).read_text(encoding="utf-8")
        for f in ("bisect-grid.jsonl", "explain-reported.jsonl")
    ]
    (folder / "results.jsonl").write_text("".join(records), encoding="utf-8")
    for kind, text in (("bisect", bisect), ("explain", explain)):
        golden = (DATA / f"{kind}-findings.jsonl").read_text(encoding="utf-8")
        (folder / f"{kind}.jsonl").write_text(golden if text is None else text, encoding="utf-8")
    return folder


def launch_args(defaults: dict) -> dict | None:
    """Playwright launch arguments for the local Chromium, or None when there is none."""
    path = browser.find()  # the same search the product's probes use
    if path is None:
        return None
    return {**defaults, "executable_path": str(path), "headless": True, "args": list(browser.FLAGS)}
