"""A pytest plugin the runner loads into every probe run (``-p matrix_progress``).

It appends one line per test phase to the file named by the ini option
``matrix_progress_file`` (the runner gives ``-o matrix_progress_file=...``)
(``setup <test>``, ``call <test>``, ``teardown <test>``, ``finished <test>``, then
``sessionfinish``), each written and closed at once, so that after a hung pytest is
killed the runner can read which test it was in, and in which phase. It imports only
the standard library: it runs inside the cell's env, whatever pytest that has.
"""

import pytest

_file = []  # the progress file, once pytest is configured


def pytest_addoption(parser):
    parser.addini("matrix_progress_file", "set by the loop-compat runner", default="")


def pytest_configure(config):
    _file[:] = [config.getini("matrix_progress_file")]


def _note(line):
    if _file and _file[0]:
        with open(_file[0], "a", encoding="utf-8") as out:
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
