"""The plugin's sources in this checkout, which the ``guard`` variant installs.

A variant's package line ``pytest-loop-compat @ {plugin-wheel}`` names the plugin's wheel
built from these sources (the build is the measure stage's:
:mod:`matrix.measure.plugin_wheel`). What a result depends on is their digest: a changed
plugin gives another fingerprint (a path to the source folder would let uv reuse a build of
older sources).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

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
