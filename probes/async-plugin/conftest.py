"""Session loop and browser launch settings for pytest-playwright-asyncio.

Mirrors the documented setup: every async test runs in the session-scoped
loop (the marker form works on pytest-asyncio 0.24 and later), and if the
environment variable MATRIX_CHROMIUM names a browser executable, Chromium is
launched from it headless with flags that need no sandbox, GPU or network.
"""

import os

import pytest
from pytest_asyncio import is_async_test

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def pytest_collection_modifyitems(items):
    session_loop = pytest.mark.asyncio(loop_scope="session")
    for item in items:
        if is_async_test(item):
            item.add_marker(session_loop, append=False)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    args = {**browser_type_launch_args, "headless": True}
    chromium = os.environ.get("MATRIX_CHROMIUM")
    if chromium:
        args["executable_path"] = chromium
        args["args"] = [*args.get("args", []), *CHROMIUM_ARGS]
    return args
