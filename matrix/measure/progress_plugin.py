"""A pytest plugin the runner loads into every probe run (``-p matrix_progress``).

It appends one line per test phase to the file named by ``MATRIX_PROGRESS_FILE``
(``setup <test>``, ``call <test>``, ``teardown <test>``, ``finished <test>``, then
``sessionfinish``), each written and closed at once, so that after a hung pytest is
killed the runner can read which test it was in, and in which phase. It imports only
the standard library: it runs inside the cell's env, whatever pytest that has.
"""

import os

import pytest

_FILE = os.environ.get("MATRIX_PROGRESS_FILE")


def _note(line):
    if _FILE:
        with open(_FILE, "a", encoding="utf-8") as out:
            out.write(line + "\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    _note(f"setup {item.nodeid}")
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    _note(f"call {item.nodeid}")
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    _note(f"teardown {item.nodeid}")
    yield
    _note(f"finished {item.nodeid}")


def pytest_sessionfinish(session):
    _note("sessionfinish")
