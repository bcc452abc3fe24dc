"""Processes this product left behind: whether one is still running.

Its own module (beside ``log`` and ``locations``) because two stages ask: the runner, of a
cell's work folder, and the site, of a build's stage; publish never imports measure.
"""

from __future__ import annotations

import os


def alive(pid: int) -> bool:
    """Whether a process with this id exists (another user's counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
