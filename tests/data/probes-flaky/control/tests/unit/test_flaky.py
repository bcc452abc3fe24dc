"""A probe that fails on its first run and passes on the next (state kept outside the copy)."""

import os
from pathlib import Path


def test_fails_once():
    marker = Path(os.environ["FLAKY_MARKER"])
    if not marker.exists():
        marker.write_text("failed once")
        raise AssertionError("first run fails")
