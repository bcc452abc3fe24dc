"""Core metadata: the requirements a wheel's ``METADATA`` or an sdist declares.

Pure parsing, no network: the index client (``matrix.define.index``) fetches the bytes,
this module reads Requires-Dist out of them: from a wheel's ``METADATA``, an sdist's
``PKG-INFO`` when that can be trusted, or setuptools' ``*.egg-info/requires.txt``. Only
the standard library and ``packaging`` are used: it also runs inside nox's interpreter.
"""

from __future__ import annotations

import email.parser
import io
import tarfile
import zipfile
from collections.abc import Mapping
from typing import Any

from packaging.version import Version


def requires_dist(text: str) -> list[str]:
    """The Requires-Dist lines of a core metadata file (a wheel's ``METADATA``)."""
    message = email.parser.HeaderParser().parsestr(text)
    return [line.strip() for line in message.get_all("Requires-Dist") or []]


def sdist_requires(data: bytes, filename: str) -> list[str] | None:
    """Requires-Dist of an sdist: PKG-INFO if its metadata is static, else egg-info.

    Before Metadata-Version 2.2 an sdist's PKG-INFO may omit dependencies, so an empty list
    there proves nothing. setuptools sdists also carry ``*.egg-info/requires.txt``, written
    from the same configuration the build will use (pytest-playwright 0.6.0 and 0.6.1 exist
    only as such sdists). With neither, the release gets ``requires=None``.
    """
    members = _sdist_members(data, filename, ("PKG-INFO", "requires.txt"))
    pkg_info = members.get("PKG-INFO")
    if pkg_info is not None:
        message = email.parser.HeaderParser().parsestr(pkg_info)
        dynamic = {d.strip().lower() for d in message.get_all("Dynamic") or []}
        static = Version(message.get("Metadata-Version", "1.0")) >= Version("2.2")
        if message.get_all("Requires-Dist") or (static and "requires-dist" not in dynamic):
            return [line.strip() for line in message.get_all("Requires-Dist") or []]
    if "requires.txt" in members:
        return _egg_info_requires(members["requires.txt"])
    return None


def _egg_info_requires(text: str) -> list[str]:
    """setuptools' requires.txt as Requires-Dist lines.

    Sections are ``[extra]``, ``[extra:marker]`` or ``[:marker]``; only the unconditional
    head and ``[:marker]`` sections are requirements of a plain install.
    """
    lines: list[str] = []
    marker: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            marker = section[1:] if section.startswith(":") else "extra"
            continue
        if marker == "extra":
            continue
        lines.append(f"{line}; {marker}" if marker else line)
    return lines


def _sdist_members(data: bytes, filename: str, wanted: tuple[str, ...]) -> dict[str, str]:
    """Top-level PKG-INFO and egg-info files of an sdist, by base name."""
    if filename.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            files = {n: (lambda n=n: archive.read(n)) for n in archive.namelist()}
            return _pick_members(files, wanted)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        files = {
            m.name: (lambda m=m: archive.extractfile(m).read())  # type: ignore[union-attr]
            for m in archive.getmembers()
            if m.isfile()
        }
        return _pick_members(files, wanted)


def _pick_members(files: Mapping[str, Any], wanted: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in sorted(files, key=lambda n: n.count("/")):
        parts = name.split("/")
        top_level = len(parts) == 2 or (len(parts) == 3 and parts[1].endswith(".egg-info"))
        if top_level and parts[-1] in wanted and parts[-1] not in out:
            out[parts[-1]] = files[name]().decode("utf-8", "replace")
    return out
