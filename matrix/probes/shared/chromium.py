"""Launching a system Chromium: when MATRIX_CHROMIUM names one, headless, with flags that
need no sandbox, GPU or network (Playwright's own browser download is not always possible)."""

import os

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def launch_args(defaults=None):
    """Playwright launch arguments: ``defaults`` plus the system Chromium, if one is named."""
    args = {**(defaults or {}), "headless": True}
    chromium = os.environ.get("MATRIX_CHROMIUM")
    if chromium:
        args["executable_path"] = chromium
        args["args"] = [*args.get("args", []), *CHROMIUM_ARGS]
    return args
