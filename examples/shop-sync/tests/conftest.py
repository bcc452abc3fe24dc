"""Launch a system Chromium when MATRIX_CHROMIUM names one (no browser download needed)."""

import os

import pytest


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    chromium = os.environ.get("MATRIX_CHROMIUM")
    if not chromium:
        return browser_type_launch_args
    return {**browser_type_launch_args, "headless": True, "executable_path": chromium,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--no-first-run"]}
