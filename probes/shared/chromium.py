"""Launching a system Chromium: when the runner names one, headless, with flags that need
no sandbox, GPU or network (Playwright's own browser download is not always possible).

Loaded as a pytest plugin (``-p chromium``); the runner names the browser with the ini
options ``matrix_chromium`` (the executable) and ``matrix_chromium_args`` (its flags,
separated by spaces). Without them Playwright's own Chromium is launched, as on a user's
machine.
"""

_system = {"executable_path": "", "args": []}


def pytest_addoption(parser):
    parser.addini("matrix_chromium", "a system Chromium to launch (set by the runner)", default="")
    parser.addini("matrix_chromium_args", "its flags, separated by spaces", default="")


def pytest_configure(config):
    _system["executable_path"] = config.getini("matrix_chromium")
    _system["args"] = config.getini("matrix_chromium_args").split()


def launch_args(defaults=None):
    """Playwright launch arguments: ``defaults`` plus the system Chromium, if one is named."""
    args = {**(defaults or {}), "headless": True}
    if _system["executable_path"]:
        args["executable_path"] = _system["executable_path"]
        args["args"] = [*args.get("args", []), *_system["args"]]
    return args
