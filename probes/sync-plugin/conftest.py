"""Browser launch settings for pytest-playwright (sync plugin): a system Chromium."""

import pytest
from chromium import launch_args


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return launch_args(browser_type_launch_args)
