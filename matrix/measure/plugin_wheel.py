"""The plugin's wheel, built from this checkout for the ``guard`` variant's cell envs: once
per version of its sources (:mod:`matrix.define.plugin_source`), in a folder named by their
digest, through the one subprocess wrapper."""

from __future__ import annotations

import functools
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from matrix.define.plugin_source import PLACEHOLDER, PROJECT, available, digest
from matrix.errors import ConfigError
from matrix.measure import command

BUILD_TIMEOUT = 300.0


def resolved(lines: Sequence[str]) -> tuple[str, ...]:
    """Requirement lines with ``{plugin-wheel}`` replaced by the built wheel's file URL."""
    return tuple(
        line.replace(PLACEHOLDER, url()) if PLACEHOLDER in line else line for line in lines
    )


@functools.lru_cache(maxsize=1)
def url() -> str:
    """A file URL to the wheel (built on first use)."""
    if not available():
        raise ConfigError(
            "the guard variant installs the plugin from a checkout of the "
            "repository (plugin/pyproject.toml); run it from one."
        )
    out = Path(tempfile.gettempdir()) / "loop-compat-plugin" / digest()
    wheels = sorted(out.glob("*.whl"))
    if not wheels:
        uv = shutil.which("uv")
        building = out.with_name(out.name + ".building")
        shutil.rmtree(building, ignore_errors=True)
        done = command.capture(
            [*([uv] if uv else [sys.executable, "-m", "uv"]), "build", "--wheel", "--quiet"]
            + ["-o", str(building), str(PROJECT)],
            timeout=BUILD_TIMEOUT,
        )
        if done.returncode != 0:
            raise ConfigError(
                f"building the plugin's wheel failed (uv build exit {done.returncode}); "
                "run `uv build --wheel plugin` in the checkout to see why."
            )
        building.rename(out)  # whole or absent: a build cut short leaves no wheel here
        wheels = sorted(out.glob("*.whl"))
    return wheels[0].as_uri()
