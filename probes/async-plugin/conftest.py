"""Session loop and browser launch settings for pytest-playwright-asyncio.

Mirrors the documented setup: every async test runs in the session-scoped loop (the
marker form works on pytest-asyncio 0.24 and later), and Chromium is the system one.
"""

import pytest
from chromium import launch_args
from pytest_asyncio import is_async_test


def pytest_collection_modifyitems(items):
    session_loop = pytest.mark.asyncio(loop_scope="session")
    for item in items:
        if is_async_test(item):
            item.add_marker(session_loop, append=False)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return launch_args(browser_type_launch_args)
