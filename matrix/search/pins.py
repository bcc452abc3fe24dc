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
import importlib.metadata
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from matrix.define import releases
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
    #: the Pythons the project supports (Requires-Python), when no one Python is given
    python_range: str | None = None

    def text(self) -> str:
        """``Python 3.13, pytest 8.4.2, pytest-asyncio >=0.17, ...`` in the order of the
        distributions."""
        parts = [f"Python {self.python or self.python_range or '(any)'}"]
        for dist in DISTRIBUTIONS:
            if dist in self.versions:
                parts.append(f"{dist} {self.versions[dist]}")
            elif dist in self.ranges:
                parts.append(f"{dist} {self.ranges[dist] or '(any version)'}")
        return ", ".join(parts)

    def admits_python(self, minor: str | None) -> bool:
        """Whether a cell's Python minor is the project's (its one Python, or in its range)."""
        if self.python:
            return minor == self.python
        return minor is not None and releases.python_allowed(self.python_range, minor)

    def admits(self, dist: str, version: str | None) -> bool:
        """Whether ``version`` of ``dist`` is what the pins say (its exact pin, or within
        its range); None (not installed) is admitted only where the pins do not name it."""
        if dist in self.versions:
            return version == self.versions[dist]
        if dist in self.ranges:
            return version is not None and releases.specifier(self.ranges[dist]).contains(
                version, prereleases=True
            )
        return version is None


def read(path: Path, python: str | None = None, secrets: frozenset[str] = frozenset()) -> Pins:
    """The pins of the file (or the first known file of the folder) at ``path``; a file of
    the wrong shape (``project = "x"``, a string ``tool``) is one :class:`ConfigError`. A
    line quoted in it has ``secrets`` masked before it is cut short."""
    path = _choose(Path(path))
    try:
        return _read(path, python, secrets)
    except (AttributeError, TypeError, RecursionError) as exc:
        raise ConfigError(
            f"{path}: not the shape a {path.name} has ({type(exc).__name__}: a "
            "table, list or text where another was expected); fix or "
            "regenerate the file."
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"{exc.filename or path} cannot be read ({exc.strerror}); make it "
            "readable, or give another file."
        ) from None


def _read(path: Path, python: str | None, secrets: frozenset[str]) -> Pins:
    name = path.name
    ranges: dict[str, str] = {}
    data = _toml(path) if name in (*LOCKS, "pyproject.toml") else {}
    if name in LOCKS:
        versions = _lock(data, path)
    elif path.suffix in (".txt", ".in"):
        versions, ranges = _split(_requirements(path, secrets))  # pip's -r takes any file name
    elif name == "pyproject.toml":
        versions, ranges = _split(_pyproject(data, path, secrets))
        tool = data.get("tool") or {}
        poetry = _table(path, tool, "tool.poetry", tool.get("poetry"))
        poetry_versions, poetry_ranges = _poetry(poetry, path)
        versions |= poetry_versions
        ranges = {**poetry_ranges, **ranges}
    else:
        raise ConfigError(f"{path}: not a format check reads; give a {FORMATS}, or --installed.")
    found, where = _python(python, path.parent)
    versions = _under_test(versions)
    ranges = {d: r for d, r in _under_test(ranges).items() if d not in versions}
    supported = None
    if not found and (declared := _python_range(path, data)):
        where, supported = str(declared[0]), declared[1]
    return Pins(str(path), versions, found, where, ranges, supported)


def installed(python: str | None = None) -> Pins:
    """The distributions installed where this command runs, and its Python."""
    versions = {
        d.metadata["Name"]: d.version
        for d in importlib.metadata.distributions()
        if d.metadata["Name"]
    }
    found = python or "{}.{}".format(*sys.version_info[:2])
    return Pins(
        "the installed environment",
        _under_test(versions),
        _minor(found),
        "--python" if python else "the running interpreter",
    )


def _choose(path: Path) -> Path:
    if path.is_file():
        return path
    if not path.is_dir():
        raise ConfigError(f"{path}: no such file or folder; give a {FORMATS}, or --installed.")
    candidates = [path / n for n in LOCKS] + sorted(path.glob("requirements*.txt"))
    candidates += sorted(set(path.glob("*requirements*.txt")) - set(candidates))
    for candidate in [*candidates, path / "pyproject.toml"]:
        if candidate.is_file():
            return candidate
    raise ConfigError(f"{path}: holds no {FORMATS}; give the file, or --installed.")


#: Bytes of a lock file or pyproject.toml read at most: the uv.lock of a large workspace is
#: a few MB; more is no lock file, and parsing it would hold check for minutes.
MAX_TOML_BYTES = 16 * 2**20


def _toml(path: Path) -> dict[str, Any]:
    if path.stat().st_size > MAX_TOML_BYTES:
        raise ConfigError(
            f"{path} is larger than {MAX_TOML_BYTES // 2**20} MB, too large for "
            f"a {path.name}; give the project's own lock or requirements file."
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as exc:
        reason = "nested too deep" if isinstance(exc, RecursionError) else str(exc)[:200]
        raise ConfigError(
            f"{path}: not valid TOML ({reason}); fix or regenerate the file."
        ) from None
    for key in ("project", "tool", "dependency-groups", "metadata"):
        if key in data and not isinstance(data[key], dict):
            raise ConfigError(
                f"{path}: {key} must be a table, not {type(data[key]).__name__}; "
                "fix or regenerate the file."
            )
    return data


def _lock(data: dict[str, Any], path: Path) -> dict[str, str]:
    packages = data.get("package")
    if not isinstance(packages, list):
        raise ConfigError(
            f"{path}: no [[package]] entries; is it a complete {path.name}? "
            "Regenerate it with its tool."
        )
    versions = {}
    for number, package in enumerate(packages, 1):
        named = isinstance(package, dict) and isinstance(package.get("name"), str)
        if named and not isinstance(package.get("version"), str) and _local(package):
            continue  # the project itself or a workspace member: uv writes no version
        if not named or not isinstance(package.get("version"), str):
            raise ConfigError(
                f"{path}: package entry {number} has no name or version; "
                f"regenerate the {path.name} with its tool."
            )
        versions[package["name"]] = package["version"]
    return versions


def _local(package: dict[str, Any]) -> bool:
    """A lock entry for a folder (``source = { editable = "." }``, virtual, directory)."""
    source = package.get("source")
    return isinstance(source, dict) and bool(
        {"editable", "virtual", "directory", "path"} & set(source)
    )


def _requirements(path: Path, secrets: frozenset[str]) -> list[Requirement]:
    """The named requirements of a requirements file and of the ``-r`` and ``-c`` files it
    names (constraints pin what gets installed too); folders and bare URLs name nothing
    under test."""
    found = []
    for line in requirements.read(path, _missing):
        if not line.named:
            continue
        try:
            found.append(Requirement(line.text))
        except InvalidRequirement:
            # packaging's reason quotes the whole line: only its start is shown
            raise ConfigError(
                f"{line.source} line {line.number}: not a requirement "
                f"({requirements.quoted(line.text, secrets)!r}); fix the line or "
                "give a lock file."
            ) from None
    return found


def _missing(path: Path) -> ConfigError:
    return ConfigError(f"{path} does not exist; fix the -r or -c line that names it.")


def _pyproject(data: dict[str, Any], path: Path, secrets: frozenset[str]) -> list[Requirement]:
    project = data.get("project") or {}
    strings = list(project.get("dependencies") or [])
    for group in (project.get("optional-dependencies") or {}).values():
        strings += group
    for group in (data.get("dependency-groups") or {}).values():
        strings += [item for item in group if isinstance(item, str)]  # not include-group
    found = []
    for text in strings:
        if not isinstance(text, str):
            raise ConfigError(
                f"{path}: a dependency is {type(text).__name__}, not a quoted requirement; fix it."
            )
        try:
            found.append(Requirement(text))
        except InvalidRequirement:
            # packaging's reason quotes the whole string: only its start is shown, masked
            raise ConfigError(
                f"{path}: a dependency is not a requirement "
                f"({requirements.quoted(text, secrets)!r}); fix it."
            ) from None
    return found


def _poetry(poetry: dict[str, Any], path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Poetry's dependencies: exact pins (a bare version is exact in Poetry) and ranges
    (``^1.2``, ``~1.2``, ``*``, or PEP 440 specifiers), the latter in PEP 440 terms; a
    table of the wrong type is one :class:`ConfigError` naming its key."""
    groups = _table(path, poetry, "tool.poetry.group", poetry.get("group"))
    tables = [
        _table(path, poetry, f"tool.poetry.{key}", poetry.get(key))
        for key in ("dependencies", "dev-dependencies")
    ]
    for name, group in groups.items():
        group = _table(path, poetry, f"tool.poetry.group.{name}", group)
        tables.append(
            _table(
                path, poetry, f"tool.poetry.group.{name}.dependencies", group.get("dependencies")
            )
        )
    versions, ranges = {}, {}
    for table in tables:
        for name, spec in table.items():
            spec = spec.get("version", "*") if isinstance(spec, dict) else spec
            if not isinstance(spec, str):
                continue
            found = _POETRY_EXACT.match(spec.strip())
            if found:
                versions[name] = found.group(2)
            else:
                ranges[name] = poetry_range(spec)
    return versions, ranges


def _table(path: Path, parent: Any, key: str, value: Any) -> dict[str, Any]:
    """``value`` (``parent``'s ``key``) as a table: none is an empty one; any other type
    is one sentence naming the key."""
    if not isinstance(parent, dict):
        raise ConfigError(
            f"{path}: {key.rsplit('.', 1)[0]} must be a table, not "
            f"{type(parent).__name__}; fix or regenerate the file."
        )
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(
            f"{path}: {key} must be a table, not {type(value).__name__}; fix "
            "or regenerate the file."
        )
    return value


def poetry_range(spec: str) -> str:
    """A Poetry constraint as a PEP 440 specifier: ``^1.2.3`` is ``>=1.2.3,<2.0.0``, ``^0.7``
    is ``>=0.7,<0.8``, ``~1.2`` is ``>=1.2,<1.3``, ``*`` any version; one that cannot be
    put so (``1.0 || 2.0``) reads as any version."""
    parts = []
    for clause in re.split(r"\s*,\s*|\s+(?=[<>=!~^])", spec.strip()):
        found = re.match(r"^([\^~])\s*(\d+(?:\.\d+)*)$", clause)
        if clause in ("", "*"):
            continue
        if found:
            parts += [f">={found.group(2)}", f"<{_upper(found.group(2), found.group(1))}"]
        elif re.match(r"^\d", clause):  # a bare version, maybe with a wildcard: exact
            parts.append(f"=={clause}")
        else:
            parts.append(clause)
    try:
        return _ordered(SpecifierSet(",".join(parts)))
    except InvalidSpecifier:
        return ""


def _split(pip_requirements: Iterable[Requirement]) -> tuple[dict[str, str], dict[str, str]]:
    """Exact pins (``name==version``) and ranges (any other specifier, or none): a name
    given both ways, or twice (in two dependency groups), keeps its exact pin, else its
    narrowest-looking range (the longest specifier)."""
    versions: dict[str, str] = {}
    ranges: dict[str, str] = {}
    for req in pip_requirements:
        if exact := requirements.exact_version(req):
            versions[req.name] = exact
        elif len(str(req.specifier)) >= len(ranges.get(req.name, "")):
            ranges[req.name] = _ordered(req.specifier)
    return versions, ranges


def _under_test(versions: dict[str, str]) -> dict[str, str]:
    canonical = {canonicalize_name(k): v for k, v in versions.items()}
    return {d: canonical[d] for d in DISTRIBUTIONS if d in canonical}


def _python_range(path: Path, data: dict[str, Any]) -> tuple[Path, str] | None:
    """The Pythons a project supports: a uv.lock's ``requires-python``, a poetry.lock's
    ``python-versions`` (``data``: the file read), else the ``pyproject.toml`` itself or
    beside the file (``requires-python``, or Poetry's ``python``); None when none says, or
    it says any."""
    try:
        if path.name == "uv.lock":
            found = data.get("requires-python")
        elif path.name == "poetry.lock":
            found = poetry_range(str((data.get("metadata") or {}).get("python-versions", "")))
        else:
            if path.name != "pyproject.toml":
                path = path.with_name("pyproject.toml")
                data = _toml(path) if path.is_file() else {}
            found = (data.get("project") or {}).get("requires-python")
            poetry = ((data.get("tool") or {}).get("poetry") or {}).get("dependencies") or {}
            if found is None and isinstance(poetry.get("python"), str):
                found = poetry_range(poetry["python"])
    except ConfigError:
        return None  # a pyproject beside the pins that does not parse says nothing here
    if not isinstance(found, str) or not found.strip():
        return None
    try:
        return path, _ordered(SpecifierSet(found))
    except InvalidSpecifier:
        return None


def _python(given: str | None, folder: Path) -> tuple[str | None, str | None]:
    if given:
        return _minor(given), "--python"
    marker = folder / ".python-version"
    if marker.is_file():
        try:
            with marker.open("rb") as f:  # a version is a few bytes: a huge file is not read
                first = f.read(1024).decode("utf-8").strip().splitlines()
        except UnicodeDecodeError:
            raise ConfigError(
                f"{marker} is not UTF-8 text; write the Python version in it "
                "(such as 3.13), or give --python."
            ) from None
        if first and _PYTHON.match(first[0].strip()):
            return _minor(first[0].strip()), str(marker)
    return None, None


def _minor(text: str) -> str:
    found = _PYTHON.match(text.strip())
    if not found:
        raise ConfigError(f"--python {text}: give a Python version such as 3.13.")
    return found.group(1)


def _upper(version: str, operator: str) -> str:
    """The first version a Poetry ``^`` or ``~`` constraint leaves out: ``^`` bumps the
    first non-zero part (``^0.7.1`` -> ``0.8.0``), ``~`` the minor (``~1.2.3`` -> ``1.3.0``;
    ``~1`` -> ``2``)."""
    numbers = [int(n) for n in version.split(".")]
    if operator == "^":
        bump = next((i for i, n in enumerate(numbers) if n), len(numbers) - 1)
    else:
        bump = min(1, len(numbers) - 1)
    upper = numbers[:bump] + [numbers[bump] + 1] + [0] * (len(numbers) - bump - 1)
    return ".".join(map(str, upper))


def _ordered(specifier: SpecifierSet) -> str:
    """``>=6.2.4,<10.0.0``: lower bounds first, as people write them (packaging sorts)."""
    return ",".join(
        sorted(
            (str(s) for s in specifier), key=lambda s: (s.startswith("<"), s.startswith("!="), s)
        )
    )
