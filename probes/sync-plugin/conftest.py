"""Browser launch settings for pytest-playwright (sync plugin).

Mirrors a project that points Playwright at a system Chromium: if the
environment variable MATRIX_CHROMIUM names a browser executable, launch it
headless with flags that need no sandbox, GPU or network.
"""

import os

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    args = {**browser_type_launch_args, "headless": True}
    chromium = os.environ.get("MATRIX_CHROMIUM")
    if chromium:
        args["executable_path"] = chromium
        args["args"] = [*args.get("args", []), *CHROMIUM_ARGS]
    return args
