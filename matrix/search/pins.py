"""A project's pins, read from its lock or requirements file, or from the running environment.

Formats: ``uv.lock``, ``poetry.lock``, ``pdm.lock`` (every locked package), any
``requirements*.txt`` (``name==version`` lines, its ``-r`` and ``-c`` files followed, as
:mod:`matrix.measure.requirements` reads them), ``pyproject.toml`` (exact ``==`` pins of
the dependencies, optional dependencies and dependency groups, and Poetry's bare
versions), or the distributions installed in the current environment. Only the
distributions under test are kept. A requirements file or ``pyproject.toml`` that names a
distribution under test with a range (``pytest-asyncio>=0.17``, or no version at all)
gives that range instead: what it admits is looked up, not one version. The Python
version comes from ``--python``, else a ``.python-version`` file beside the pins, else
(for the installed environment) the running interpreter; otherwise it is left open.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import importlib.metadata
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from matrix.define.cell import DISTRIBUTIONS
from matrix.errors import ConfigError
from matrix.measure import requirements

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

LOCKS = ("uv.lock", "poetry.lock", "pdm.lock")
FORMATS = "uv.lock, poetry.lock, pdm.lock, requirements*.txt or pyproject.toml"
_PYTHON = re.compile(r"^(3\.\d+)(\.\d+)?")
_POETRY_EXACT = re.compile(r"^(==)?\s*(\d[\w.+!-]*)$")


@dataclasses.dataclass(frozen=True)
class Pins:
    """The versions a project pins of the distributions under test, and its Python."""

    source: str  # the file read, or "the installed environment"
    versions: dict[str, str]  # canonical distribution name -> exact version
    python: str | None  # "3.13", or None when the project does not say
    python_from: str | None = None  # where the Python version came from
    #: distributions named without an exact pin -> their specifier ("" for any version)
    ranges: dict[str, str] = dataclasses.field(default_factory=dict)

    def text(self) -> str:
        """``Python 3.13, pytest 8.4.2, pytest-asyncio >=0.17, ...`` in the order of the
        distributions."""
        parts = [f"Python {self.python}"] if self.python else ["Python (any)"]
        for dist in DISTRIBUTIONS:
            if dist in self.versions:
                parts.append(f"{dist} {self.versions[dist]}")
            elif dist in self.ranges:
                parts.append(f"{dist} {self.ranges[dist] or '(any version)'}")
        return ", ".join(parts)

    def admits(self, dist: str, version: str | None) -> bool:
        """Whether ``version`` of ``dist`` is what the pins say (its exact pin, or within
        its range); None (not installed) is admitted only where the pins do not name it."""
        if dist in self.versions:
            return version == self.versions[dist]
        if dist in self.ranges:
            return version is not None and SpecifierSet(self.ranges[dist]).contains(
                version, prereleases=True)
        return version is None


def read(path: Path, python: str | None = None) -> Pins:
    """The pins of the file (or the first known file of the folder) at ``path``."""
    path = _choose(Path(path))
    name = path.name
    ranges: dict[str, str] = {}
    if name in LOCKS:
        versions = _lock(path)
    elif fnmatch.fnmatch(name, "requirements*.txt"):
        versions, ranges = _split(_requirements(path))
    elif name == "pyproject.toml":
        data = _toml(path)
        versions, ranges = _split(_pyproject(data, path))
        versions |= _poetry(data.get("tool", {}).get("poetry") or {})
    else:
        raise ConfigError(f"{path}: not a format check reads; give a {FORMATS}, or --installed.")
    found, where = _python(python, path.parent)
    versions = _under_test(versions)
    ranges = {d: r for d, r in _under_test(ranges).items() if d not in versions}
    return Pins(str(path), versions, found, where, ranges)


def installed(python: str | None = None) -> Pins:
    """The distributions installed where this command runs, and its Python."""
    versions = {d.metadata["Name"]: d.version for d in importlib.metadata.distributions()
                if d.metadata["Name"]}
    found = python or "{}.{}".format(*sys.version_info[:2])
    return Pins("the installed environment", _under_test(versions), _minor(found),
                "--python" if python else "the running interpreter")


def _choose(path: Path) -> Path:
    if path.is_file():
        return path
    if not path.is_dir():
        raise ConfigError(f"{path}: no such file or folder; give a {FORMATS}, or --installed.")
    candidates = [path / n for n in LOCKS] + sorted(path.glob("requirements*.txt"))
    for candidate in [*candidates, path / "pyproject.toml"]:
        if candidate.is_file():
            return candidate
    raise ConfigError(f"{path}: holds no {FORMATS}; give the file, or --installed.")


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix or regenerate the file.") from None


def _lock(path: Path) -> dict[str, str]:
    packages = _toml(path).get("package")
    if not isinstance(packages, list):
        raise ConfigError(f"{path}: no [[package]] entries; is it a complete {path.name}? "
                          "Regenerate it with its tool.")
    versions = {}
    for number, package in enumerate(packages, 1):
        if not isinstance(package, dict) or not isinstance(package.get("name"), str) \
                or not isinstance(package.get("version"), str):
            raise ConfigError(f"{path}: package entry {number} has no name or version; "
                              f"regenerate the {path.name} with its tool.")
        versions[package["name"]] = package["version"]
    return versions


def _requirements(path: Path) -> list[Requirement]:
    """The named requirements of a requirements file and of the ``-r`` and ``-c`` files it
    names (constraints pin what gets installed too); folders and bare URLs name nothing
    under test."""
    found = []
    for line in requirements.read(path, _missing):
        if not line.named:
            continue
        try:
            found.append(Requirement(line.text))
        except InvalidRequirement as exc:
            raise ConfigError(f"{line.source} line {line.number}: not a requirement "
                              f"({str(exc).splitlines()[0]}); fix the line or give a lock "
                              "file.") from None
    return found


def _missing(path: Path) -> ConfigError:
    return ConfigError(f"{path} does not exist; fix the -r or -c line that names it.")


def _pyproject(data: dict[str, Any], path: Path) -> list[Requirement]:
    project = data.get("project") or {}
    strings = list(project.get("dependencies") or [])
    for group in (project.get("optional-dependencies") or {}).values():
        strings += group
    for group in (data.get("dependency-groups") or {}).values():
        strings += [item for item in group if isinstance(item, str)]  # not include-group
    try:
        return [Requirement(s) for s in strings]
    except (InvalidRequirement, TypeError) as exc:
        raise ConfigError(f"{path}: a dependency is not a requirement ({exc}); fix it.") from None


def _poetry(poetry: dict[str, Any]) -> dict[str, str]:
    """Poetry's ``name = "1.2.3"`` (a bare version is exact in Poetry)."""
    tables = [poetry.get("dependencies") or {}, poetry.get("dev-dependencies") or {}]
    tables += [g.get("dependencies") or {} for g in (poetry.get("group") or {}).values()]
    versions = {}
    for table in tables:
        for name, spec in table.items():
            spec = spec.get("version") if isinstance(spec, dict) else spec
            found = _POETRY_EXACT.match(spec.strip()) if isinstance(spec, str) else None
            if found:
                versions[name] = found.group(2)
    return versions


def _split(requirements: Iterable[Requirement]) -> tuple[dict[str, str], dict[str, str]]:
    """Exact pins (``name==version``) and ranges (any other specifier, or none): a name
    given both ways, or twice (in two dependency groups), keeps its exact pin, else its
    narrowest-looking range (the longest specifier)."""
    versions: dict[str, str] = {}
    ranges: dict[str, str] = {}
    for req in requirements:
        specs = list(req.specifier)
        if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
            versions[req.name] = specs[0].version
        elif len(str(req.specifier)) >= len(ranges.get(req.name, "")):
            ranges[req.name] = str(req.specifier)
    return versions, ranges


def _under_test(versions: dict[str, str]) -> dict[str, str]:
    canonical = {canonicalize_name(k): v for k, v in versions.items()}
    return {d: canonical[d] for d in DISTRIBUTIONS if d in canonical}


def _python(given: str | None, folder: Path) -> tuple[str | None, str | None]:
    if given:
        return _minor(given), "--python"
    marker = folder / ".python-version"
    if marker.is_file():
        first = marker.read_text(encoding="utf-8").strip().splitlines()
        if first and _PYTHON.match(first[0].strip()):
            return _minor(first[0].strip()), str(marker)
    return None, None


def _minor(text: str) -> str:
    found = _PYTHON.match(text.strip())
    if not found:
        raise ConfigError(f"--python {text}: give a Python version such as 3.13.")
    return found.group(1)
