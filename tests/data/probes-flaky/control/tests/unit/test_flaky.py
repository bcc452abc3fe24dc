"""A probe that fails on its first FLAKY_FAILS runs (default 1) and passes after (state kept
outside the copy, in FLAKY_MARKER)."""

import os
from pathlib import Path


def test_fails_once():
    marker = Path(os.environ["FLAKY_MARKER"])
    failed = int(marker.read_text()) if marker.exists() else 0
    if failed < int(os.environ.get("FLAKY_FAILS", "1")):
        marker.write_text(str(failed + 1))
        raise AssertionError("first run fails")
