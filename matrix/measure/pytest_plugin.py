"""The product's pytest plugin, loaded into a user's own suite (``-p matrix_suite_plugin``).

It is copied beside the suite's copy and imported by the suite's pytest, so it imports
nothing from ``matrix`` and runs on every Python and pytest the matrix measures. Settings
are ini options the runner gives on the command line (``-o matrix_suite_order=first``):

``matrix_suite_report``  a JSON file written at the end: every collected test with whether
                         it uses Playwright and whether it is async, and the tests that
                         passed hollow (a sync test given an async Playwright object, a
                         coroutine never awaited)
``matrix_suite_select``  ``browser`` or ``other``: keep only the browser tests, or only the rest
``matrix_suite_order``   ``first`` or ``last``: browser tests moved before or after the rest,
                         each group in the suite's own order, in one process
``matrix_chromium``      a system Chromium: every Playwright launch that names no browser of
                         its own (``executable_path`` or ``channel``) gets it, with the flags
``matrix_chromium_args`` those flags, separated by spaces
"""

from __future__ import annotations

import inspect
import json
import types

import pytest

#: Fixtures of pytest-playwright and pytest-playwright-asyncio that start Playwright.
STARTERS = frozenset(
    {
        "playwright",
        "browser_type",
        "launch_browser",
        "connect_browser",
        "browser",
        "context",
        "new_context",
        "page",
        "new_page",
    }
)
_PLUGIN_MODULES = ("pytest_playwright", "pytest_playwright_asyncio")
_NEVER_AWAITED = "was never awaited"

_found: dict = {}  # nodeid -> {"browser": bool, "async": bool}
_hollow: dict = {}  # nodeid -> reason


SETTINGS = (
    "matrix_suite_report",
    "matrix_suite_select",
    "matrix_suite_order",
    "matrix_chromium",
    "matrix_chromium_args",
)


def pytest_addoption(parser):
    for name in SETTINGS:
        parser.addini(name, "set by the loop-compat runner (see the module docstring)", default="")


def pytest_configure(config):
    """Give Playwright the system Chromium before any test or fixture launches a browser."""
    _found.clear()  # one report per session, even when pytest runs in-process twice
    _hollow.clear()
    chromium = config.getini("matrix_chromium")
    if chromium:
        _patch_launch(chromium, config.getini("matrix_chromium_args").split())


def _patch_launch(chromium, flags):
    """Wrap the public ``BrowserType.launch`` of both APIs (their keyword names have stayed
    the same across releases, unlike the implementation's)."""
    import importlib

    for api, is_async in (("playwright.sync_api", False), ("playwright.async_api", True)):
        try:
            browser_type = importlib.import_module(api).BrowserType
        except (ImportError, AttributeError):  # no Playwright in this cell: nothing to give
            continue
        for name in ("launch", "launch_persistent_context"):
            original = getattr(browser_type, name, None)
            if original is not None and not getattr(original, "_matrix", False):
                setattr(browser_type, name, _with_chromium(original, chromium, flags, is_async))


def _with_chromium(original, chromium, flags, is_async):
    def options(self, kwargs):
        if (
            self.name == "chromium"
            and not kwargs.get("executable_path")
            and not kwargs.get("channel")
        ):
            given = list(kwargs.get("args") or [])
            kwargs = dict(
                kwargs, executable_path=chromium, args=given + [f for f in flags if f not in given]
            )
        return kwargs

    async def launch_async(self, *args, **kwargs):
        return await original(self, *args, **options(self, kwargs))

    def launch_sync(self, *args, **kwargs):
        return original(self, *args, **options(self, kwargs))

    launch = launch_async if is_async else launch_sync
    launch._matrix = True
    return launch


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    """Classify every collected test; keep and order them as the scenario asks."""
    for item in items:
        _found[item.nodeid] = {"browser": _uses_playwright(item), "async": _is_async(item)}
    select = config.getini("matrix_suite_select")
    if select in ("browser", "other"):
        keep = [i for i in items if _found[i.nodeid]["browser"] == (select == "browser")]
        dropped = [i for i in items if i not in keep]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = keep
    order = config.getini("matrix_suite_order")
    if order in ("first", "last"):
        browser = [i for i in items if _found[i.nodeid]["browser"]]
        rest = [i for i in items if not _found[i.nodeid]["browser"]]
        items[:] = browser + rest if order == "first" else rest + browser


def _uses_playwright(item):
    """Whether a test starts Playwright: a Playwright plugin's fixture, a fixture of its own
    that calls Playwright, or a test module that imports Playwright."""
    if _imports_playwright(getattr(item, "module", None)):
        return True
    info = getattr(item, "_fixtureinfo", None)
    defs = getattr(info, "name2fixturedefs", {}) or {}
    for name in getattr(item, "fixturenames", ()):
        for fixturedef in defs.get(name, ())[-1:]:
            func = getattr(fixturedef, "func", None)
            module = getattr(func, "__module__", "") or ""
            if name in STARTERS and module.split(".")[0] in _PLUGIN_MODULES:
                return True
            code = getattr(func, "__code__", None)
            if code is not None and any("playwright" in n for n in code.co_names):
                return True
    return False


def _imports_playwright(module):
    if module is None:
        return False
    for value in vars(module).values():
        name = (
            value.__name__
            if isinstance(value, types.ModuleType)
            else getattr(value, "__module__", None)
        )
        if isinstance(name, str) and name.split(".")[0] == "playwright":
            return True
    return False


def _is_async(item):
    func = getattr(item, "obj", None)
    return bool(inspect.iscoroutinefunction(func) or item.get_closest_marker("asyncio"))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    """A sync test handed an async Playwright object runs none of its browser code."""
    func = getattr(item, "obj", None)
    if func is None or inspect.iscoroutinefunction(func):
        return
    funcargs = getattr(item, "funcargs", None) or {}
    own = getattr(getattr(item, "_fixtureinfo", None), "argnames", ())  # the test's own first
    for name in [*[n for n in own if n in funcargs], *funcargs]:
        value = funcargs[name]
        if type(value).__module__.startswith("playwright.async_api"):
            _hollow.setdefault(
                item.nodeid, f"a sync test received an async {type(value).__name__} ({name})"
            )


def pytest_warning_recorded(warning_message, when, nodeid, location):
    """A coroutine never awaited: pytest names the test whose phase it was dropped in."""
    if _NEVER_AWAITED in str(warning_message.message) and nodeid:
        _hollow.setdefault(nodeid, str(warning_message.message))


def pytest_sessionfinish(session, exitstatus):
    """Write what was found for the runner (it reads this file, never the plugin's state)."""
    path = session.config.getini("matrix_suite_report")
    if not path:
        return
    tests = [{"id": nodeid, **found} for nodeid, found in _found.items()]
    hollow = [{"id": nodeid, "reason": reason} for nodeid, reason in _hollow.items()]
    with open(path, "w", encoding="utf-8") as out:
        json.dump({"tests": tests, "hollow": hollow}, out, indent=1)
