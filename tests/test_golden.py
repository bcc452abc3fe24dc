"""The page's data files and HTML from a committed records file are pinned byte for byte.

``tests/data/golden/results.jsonl`` holds retries, a flaky scenario, a timeout, unresolvable,
no-interpreter, infra and suite records; ``expected/`` is what the report made of them. A
change to the results model or the site that alters a verdict, an order or a byte shows here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from matrix.publish import site

GOLDEN = Path(__file__).parent / "data" / "golden"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    results = tmp_path_factory.mktemp("golden") / "results"
    shutil.copytree(GOLDEN, results, ignore=shutil.ignore_patterns("expected"))
    return site.build(results, results / "site").parent


@pytest.mark.parametrize("name", ["summary.json", "results.json", "index.html"])
def test_the_same_records_give_the_same_bytes(built: Path, name: str):
    assert (built / name).read_bytes() == (GOLDEN / "expected" / name).read_bytes()
