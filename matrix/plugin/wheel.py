"""The plugin's wheel, built from this checkout, for the ``guard`` variant's cell envs.

A variant's package line ``pytest-loop-compat @ {plugin-wheel}`` becomes a file URL to a
wheel built once per version of the plugin's sources, in a folder named by their digest:
a changed plugin gives another requirement line, so another env and another fingerprint
(a path to the source folder would let uv reuse a build of older sources).
"""

from __future__ import annotations

import functools
import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from matrix.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "plugin"  # the light distribution's pyproject.toml
PLACEHOLDER = "{plugin-wheel}"


def available() -> bool:
    """Whether this is a checkout with the plugin's distribution (an installed package is not)."""
    return (PROJECT / "pyproject.toml").is_file()


def digest() -> str:
    """What the wheel holds: the distribution's files and the package's sources and data."""
    hasher = hashlib.sha256()
    files = [
        *PROJECT.glob("*.*"),
        *(
            p
            for p in (ROOT / "matrix").rglob("*")
            if p.is_file()
            and "__pycache__" not in p.parts
            and p.suffix in (".py", ".toml", ".json", ".jsonl")
        ),
    ]
    for path in sorted(files):
        hasher.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return hasher.hexdigest()[:16]


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
        command = [uv] if uv else [sys.executable, "-m", "uv"]
        building = out.with_name(out.name + ".building")
        shutil.rmtree(building, ignore_errors=True)
        subprocess.run(
            [*command, "build", "--wheel", "--quiet", "-o", str(building), str(PROJECT)],
            check=True,
            capture_output=True,
        )
        building.rename(out)  # whole or absent: a build cut short leaves no wheel here
        wheels = sorted(out.glob("*.whl"))
    return wheels[0].as_uri()
