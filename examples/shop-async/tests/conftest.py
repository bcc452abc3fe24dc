"""One session loop for every async test, and a system Chromium when MATRIX_CHROMIUM names one."""

import os

import pytest
from pytest_asyncio import is_async_test


def pytest_collection_modifyitems(items):
    # asyncio_default_test_loop_scope needs pytest-asyncio 0.26; the marker works from 0.24.
    session_loop = pytest.mark.asyncio(loop_scope="session")
    for item in items:
        if is_async_test(item):
            item.add_marker(session_loop, append=False)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    chromium = os.environ.get("MATRIX_CHROMIUM")
    if not chromium:
        return browser_type_launch_args
    return {**browser_type_launch_args, "headless": True, "executable_path": chromium,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--no-first-run"]}
