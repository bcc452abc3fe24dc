"""Shared test setup: unit tests may not start processes; integration tests may."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

pytest_plugins = ("pytester",)  # the product plugin is tested in-process

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _no_processes_in_unit_tests(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """A fast unit test that starts a process is a defect (cibuildwheel's mock_protection)."""
    if request.node.get_closest_marker("integration"):
        return

    def refuse(*args, **kwargs):
        raise AssertionError("unit tests run no subprocesses; mark the test integration")

    monkeypatch.setattr(subprocess, "Popen", refuse)


@pytest.fixture
def data() -> Path:
    """The folder of golden input files."""
    return DATA
