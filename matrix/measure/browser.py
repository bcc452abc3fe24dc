"""Finding a Chromium for the browser scenarios.

Playwright's own browser download is not always possible (closed networks, CI images),
so the probes launch whatever Chromium this finds through ``executable_path``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from matrix.measure import command

ENV_VAR = "MATRIX_CHROMIUM"
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

#: Headless flags for a machine with no sandbox, no GPU and a closed network (without the
#: background-networking ones Chromium keeps trying to reach Google's hosts).
FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
)

#: One line a user can act on when there is none.
HINT = (
    f"no Chromium found: install one (Debian: apt-get install chromium) or set {ENV_VAR} "
    "to its path"
)


def ini(chromium: Path | None) -> list[str]:
    """The ini options that give a pytest run ``chromium`` (the product's suite plugin and
    the probes' ``chromium`` plugin read the same two), as ``-o name=value`` arguments."""
    if chromium is None:
        return []
    return ["-o", f"matrix_chromium={chromium}", "-o", f"matrix_chromium_args={' '.join(FLAGS)}"]


def missing_reason(explicit: str | None = None) -> str:
    """Why :func:`find` found none, in one sentence: a wrong ``explicit``
    (``MATRIX_CHROMIUM``) is named as such."""
    if explicit:
        return (
            f"{ENV_VAR}={explicit} is not an executable; point it at a Chromium binary "
            "(Debian: /usr/bin/chromium) or unset it to use the one on PATH"
        )
    return HINT


def is_system(chromium: Path, cache: Path | None = None) -> bool:
    """Whether ``chromium`` belongs to the machine, not to Playwright's own browser
    ``cache`` (a suite then launches it; otherwise Playwright finds its own, as at home)."""
    cache = cache or Path.home() / ".cache" / "ms-playwright"
    return not Path(chromium).resolve().is_relative_to(Path(cache).resolve())


def find(
    explicit: str | None = None, cache: Path | None = None, path: str | None = None
) -> Path | None:
    """The Chromium to launch: ``explicit`` (``MATRIX_CHROMIUM``), then ``path`` (the PATH
    to search, default the process's), then Playwright's browser ``cache``."""
    if explicit:
        chosen = Path(explicit)
        return chosen if chosen.is_file() and os.access(chosen, os.X_OK) else None
    for name in NAMES:
        found = shutil.which(name, path=path)
        if found:
            return Path(found)
    cache = cache or Path.home() / ".cache" / "ms-playwright"
    managed = sorted(cache.glob("chromium-*/chrome-linux*/chrome"), reverse=True)
    return managed[0] if managed else None


def version(path: Path | None = None) -> str | None:
    """``Chromium 120.0.6099.224`` as the browser reports it, or None without one."""
    path = path or find()
    if path is None:
        return None
    try:
        done = command.capture([path, "--version"], timeout=60, echo=False)
    except OSError:
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None
