"""Finding a Chromium for the browser scenarios.

Playwright's own browser download is not always possible (closed networks, CI images),
so the probes launch whatever Chromium this finds through ``executable_path``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ENV_VAR = "MATRIX_CHROMIUM"
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

#: Headless flags for a machine with no sandbox, no GPU and a closed network (without the
#: background-networking ones Chromium keeps trying to reach Google's hosts).
FLAGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run")

#: One line a user can act on when there is none.
HINT = (
    f"no Chromium found: install one (Debian: apt-get install chromium) or set {ENV_VAR} "
    "to its path"
)


def playwright_cache() -> Path:
    """Where Playwright keeps the browsers it installs."""
    return Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH", Path.home() / ".cache/ms-playwright"))


def is_system(path: Path) -> bool:
    """Whether ``path`` is a Chromium of the machine (not one Playwright installed itself)."""
    return not Path(path).resolve().is_relative_to(playwright_cache().resolve())


def find() -> Path | None:
    """The Chromium to launch: ``$MATRIX_CHROMIUM``, then PATH, then Playwright's cache."""
    explicit = os.environ.get(ENV_VAR)
    if explicit:
        path = Path(explicit)
        return path if path.is_file() and os.access(path, os.X_OK) else None
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    managed = sorted(playwright_cache().glob("chromium-*/chrome-linux*/chrome"), reverse=True)
    return managed[0] if managed else None
