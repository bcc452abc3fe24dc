"""The matrix definition: a TOML file of profiles, read and checked before anything runs.

A file either holds named profiles (``[profiles.quick]``, ``[profiles.full]``) or is one
profile itself (keys at the top). A profile has any of:

``description``  one line for listings
``scenarios``    scenario names to run (default: all that make sense for each cell)
``timeout``      seconds per pytest process (default 180)
``reruns``       how often a failing scenario is run again to tell flaky from real (default 1)
``[axes]``       lists of versions per key; their product (or a pairwise set) gives cells
``[[cell]]``     explicit cells: ``python`` and distribution names, exact versions
``exclude``      tables of fnmatch patterns; a cell matching every key of one is dropped
``mode``         ``product`` (default) or ``pairwise`` for the axes
``critical``     with pairwise: axes whose full product is kept
``suite``        a pytest project (path relative to the file) run instead of the probes
``suite-requirements``  a requirements file inside the suite for its own dependencies

Keys of ``[axes]`` and ``[[cell]]`` are ``python`` and the distributions in
:data:`matrix.define.cell.DISTRIBUTIONS`. Versions are strings: exact (``"8.4.2"``), ``"latest"``,
``"minors"``/``"minors:<specifier>"`` (newest patch of each minor), ``"newest:N"`` or
``"newest:N:<specifier>"``, ``"all"``/``"all:<specifier>"``; in ``[axes]``, ``"none"`` leaves the distribution out of a
cell. The two Playwright plugin axes form one axis: a cell gets one plugin or none.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from matrix.measure import scenarios
from matrix.define.cell import DISTRIBUTIONS
from matrix.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_FILE = Path(__file__).parent.parent / "matrix.toml"
DEFAULT_PROFILE = "quick"
PROFILE_KEYS = frozenset(
    {"description", "scenarios", "timeout", "reruns", "axes", "cell", "exclude", "mode",
     "critical", "suite", "suite-requirements"}
)
AXIS_KEYS = ("python", *DISTRIBUTIONS)
_PYTHON = re.compile(r"^3\.\d+(\.\d+)?$")
_SELECTOR = re.compile(
    r"^(latest|(minors|all)(:(?P<spec1>.+))?|newest:\d+(:(?P<spec2>.+))?)$"
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Profile:
    """One checked profile of a definition file."""

    name: str
    source: Path
    description: str = ""
    scenarios: tuple[str, ...] = scenarios.NAMES
    timeout: float = 180.0
    reruns: int = 1
    axes: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    cells: tuple[dict[str, str], ...] = ()
    exclude: tuple[dict[str, str], ...] = ()
    mode: str = "product"
    critical: tuple[str, ...] = ("python", "pytest-asyncio", "plugin")
    suite: Path | None = None
    suite_requirements: str | None = None


def load(path: Path | None = None, name: str | None = None) -> Profile:
    """Read ``path`` and return the profile ``name`` (or the file's default), checked."""
    path = path or DEFAULT_FILE
    data = _read(path)
    profiles = data.get("profiles")
    if profiles is None:
        if name and name != "default":
            raise ConfigError(f"{path} has no profiles, so MATRIX_PROFILE={name} cannot be "
                              "chosen; unset MATRIX_PROFILE or add [profiles.{name}].")
        return _profile(path, "default", data, "the file")
    extra = sorted(set(data) - {"profiles"})
    if extra:
        raise ConfigError(f"{path}: unknown key '{extra[0]}' at the top level; a file with "
                          "[profiles.*] tables holds nothing else.")
    name = name or (DEFAULT_PROFILE if DEFAULT_PROFILE in profiles else next(iter(profiles)))
    if name not in profiles:
        raise ConfigError(f"{path} has no profile '{name}'; choose one of: "
                          f"{', '.join(profiles)}.")
    return _profile(path, name, profiles[name], f"[profiles.{name}]")


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist; give MATRIX_CONFIG an existing TOML file.")
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix the syntax and rerun.")


def _profile(path: Path, name: str, data: dict[str, Any], where: str) -> Profile:
    _known_keys(path, data, PROFILE_KEYS, where)
    wanted = tuple(_strings(path, data.get("scenarios", scenarios.NAMES), f"{where} scenarios"))
    for scenario in wanted:
        if scenario not in scenarios.BY_NAME:
            raise ConfigError(f"{path}: unknown scenario '{scenario}' in {where}; known "
                              f"scenarios: {', '.join(scenarios.NAMES)}.")
    axes = {key: tuple(_versions(path, key, values, f"{where} axes"))
            for key, values in _pins(path, data.get("axes", {}), f"[axes] of {where}").items()}
    cells = tuple(_cell(path, cell, f"[[cell]] #{i} of {where}")
                  for i, cell in enumerate(_tables(path, data.get("cell", []), where), 1))
    exclude = tuple(_pins(path, pattern, f"exclude #{i} of {where}")
                    for i, pattern in enumerate(_tables(path, data.get("exclude", []), where), 1))
    mode = data.get("mode", "product")
    if mode not in ("product", "pairwise"):
        raise ConfigError(f"{path}: mode in {where} must be 'product' or 'pairwise', not {mode!r}.")
    kwargs: dict[str, Any] = {}
    if "critical" in data:
        kwargs["critical"] = tuple(_strings(path, data["critical"], f"{where} critical"))
    for key in ("suite", "suite-requirements"):
        if key in data and not isinstance(data[key], str):
            raise ConfigError(f"{path}: {key} in {where} must be a path in quotes.")
    if "suite" in data:
        kwargs["suite"] = path.parent / data["suite"]
        kwargs["suite_requirements"] = data.get("suite-requirements")
    return Profile(
        name=name, source=path, description=str(data.get("description", "")),
        scenarios=wanted, timeout=_number(path, data, "timeout", 180.0, where),
        reruns=int(_number(path, data, "reruns", 1, where)), axes=axes, cells=cells,
        exclude=exclude, mode=mode, **kwargs,
    )


def _cell(path: Path, table: dict[str, Any], where: str) -> dict[str, str]:
    pins = _pins(path, table, where)
    if "python" not in pins:
        raise ConfigError(f"{path}: {where} has no 'python' key; every cell names its Python.")
    for key, value in pins.items():
        _versions(path, key, [value], where)
    return pins


def _pins(path: Path, table: Any, where: str) -> dict[str, Any]:
    """Keys checked against python + known distributions, names canonicalised."""
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {where} must be a table of keys to versions.")
    pins: dict[str, Any] = {}
    for key, value in table.items():
        name = "python" if key == "python" else canonicalize_name(key)
        if name not in AXIS_KEYS:
            raise ConfigError(f"{path}: unknown distribution '{key}' in {where}; the matrix "
                              f"knows: {', '.join(AXIS_KEYS)}.")
        pins[name] = value
    return pins


def _versions(path: Path, key: str, values: Any, where: str) -> list[str]:
    if not isinstance(values, list):
        values = [values]
    out = []
    for value in values:
        if not isinstance(value, str):
            raise ConfigError(f"{path}: {key} = {value!r} in {where} must be a quoted string "
                              f"(write \"{value}\"), or TOML reads it as a number.")
        if not _valid_version(key, value):
            raise ConfigError(f"{path}: malformed version '{value}' for {key} in {where}; use "
                              "an exact version such as \"8.4.2\", \"latest\", \"minors\", "
                              "\"minors:>=0.21\" or \"newest:3\".")
        out.append(value)
    return out


def _valid_version(key: str, value: str) -> bool:
    if key == "python":
        return bool(_PYTHON.match(value))
    if value == "none":
        return True
    match = _SELECTOR.match(value)
    if match:
        spec = match.group("spec1") or match.group("spec2")
        try:
            SpecifierSet(spec or "")
        except InvalidSpecifier:
            return False
        return True
    try:
        Version(value)
    except InvalidVersion:
        return False
    return not any(c in value for c in "<>=!~*, ")


def _known_keys(path: Path, data: dict[str, Any], known: frozenset[str], where: str) -> None:
    for key in data:
        if key not in known:
            raise ConfigError(f"{path}: unknown key '{key}' in {where}; known keys: "
                              f"{', '.join(sorted(known))}.")


def _tables(path: Path, value: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{path}: 'cell' and 'exclude' in {where} must be arrays of tables.")
    return value


def _strings(path: Path, value: Any, where: str) -> list[str]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: {where} must be a list of strings.")
    return list(value)


def _number(path: Path, data: dict[str, Any], key: str, default: float, where: str) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"{path}: {key} in {where} must be a non-negative number.")
    return float(value)
