"""The matrix definition: a TOML file of profiles, read and checked before anything runs.

A file either holds named profiles (``[profiles.quick]``, ``[profiles.full]``) or is one
profile itself (keys at the top). A profile has any of:

``description``  one line for listings
``scenarios``    scenario names to run (default: all that make sense for each cell)
``timeout``      seconds per pytest process, a positive number (default 180)
``reruns``       how often a failing scenario is run again to tell flaky from real, a whole
                 number (default 1; ``3`` gives up to 4 attempts)
``[axes]``       lists of versions per key; their product (or a pairwise set) gives cells
``[[cell]]``     explicit cells: ``python`` and distribution names, exact versions
``exclude``      tables of fnmatch patterns (a list: any of them); a cell matching every key
                 of one is dropped
``mode``         ``product`` (default) or ``pairwise`` for the axes
``critical``     with pairwise: axes whose full product is kept
``suite``        a pytest project (path relative to the file) run instead of the probes
``suite-requirements``  a requirements file inside the suite for its own dependencies
``pass-env``     names or fnmatch patterns of more environment variables the suite gets
``variants``     variant names (``probes/variants.toml``) each cell is run in
                 (default ``["baseline"]``); a ``[[cell]]`` may give its own ``variants``

Keys of ``[axes]`` and ``[[cell]]`` are ``python`` and the distributions in
:data:`matrix.define.cell.DISTRIBUTIONS`. Versions are strings: exact (``"8.4.2"``), ``"latest"``,
``"minors"``/``"minors:<specifier>"`` (newest patch of each minor), ``"newest:N"`` or
``"newest:N:<specifier>"``, ``"all"``/``"all:<specifier>"``; in ``[axes]``, ``"none"`` leaves
the distribution out of a cell. The two Playwright plugin axes form one axis: a cell gets
one plugin or none.
"""

from __future__ import annotations

import dataclasses
import math
import re
import sys
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from matrix.define import scenarios
from matrix.define import variants as variant_catalogue
from matrix.define.cell import BASELINE, DISTRIBUTIONS
from matrix.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_FILE = Path(__file__).parent.parent / "matrix.toml"
DEFAULT_PROFILE = "quick"
PROFILE_KEYS = frozenset(
    {
        "description",
        "scenarios",
        "timeout",
        "reruns",
        "axes",
        "cell",
        "exclude",
        "mode",
        "critical",
        "suite",
        "suite-requirements",
        "pass-env",
        "variants",
    }
)
AXIS_KEYS = ("python", *DISTRIBUTIONS)
_PYTHON = re.compile(r"^3\.\d+(\.\d+)?$")
_SELECTOR = re.compile(r"^(latest|(minors|all)(:(?P<spec1>.+))?|newest:\d+(:(?P<spec2>.+))?)$")


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
    exclude: tuple[dict[str, tuple[str, ...]], ...] = ()  # patterns, any of
    mode: str = "product"
    critical: tuple[str, ...] = ("python", "pytest-asyncio", "plugin")
    suite: Path | None = None
    suite_requirements: str | None = None
    pass_env: tuple[str, ...] = ()
    variants: tuple[str, ...] = (BASELINE,)


def load(path: Path | None = None, name: str | None = None) -> Profile:
    """Read ``path`` and return the profile ``name`` (or the file's default), checked."""
    path = path or DEFAULT_FILE
    data = _read(path)
    profiles = data.get("profiles")
    if profiles is None:
        if name and name != "default":
            raise ConfigError(
                f"{path} has no profiles, so MATRIX_PROFILE={name} cannot be "
                "chosen; unset MATRIX_PROFILE or add [profiles.{name}]."
            )
        return _profile(path, "default", data, "the file")
    extra = sorted(set(data) - {"profiles"})
    if extra:
        raise ConfigError(
            f"{path}: unknown key '{extra[0]}' at the top level; a file with "
            "[profiles.*] tables holds nothing else."
        )
    if not isinstance(profiles, dict) or not profiles:
        raise ConfigError(
            f"{path}: [profiles] holds no profile; add one as [profiles.quick] "
            "with its keys, or put the keys at the top of the file."
        )
    name = name or (DEFAULT_PROFILE if DEFAULT_PROFILE in profiles else next(iter(profiles)))
    if name not in profiles:
        raise ConfigError(f"{path} has no profile '{name}'; choose one of: {', '.join(profiles)}.")
    if not isinstance(profiles[name], dict):
        raise ConfigError(
            f"{path}: profiles.{name} must be a table ([profiles.{name}] "
            "followed by its keys), not a single value."
        )
    return _profile(path, name, profiles[name], f"[profiles.{name}]")


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(
            f"{path} does not exist; give MATRIX_CONFIG an existing TOML file."
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{path} is a folder; give MATRIX_CONFIG a TOML file.") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8, as TOML requires."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix the syntax and rerun.") from None
    except RecursionError:  # an array nested 100,000 deep
        raise ConfigError(
            f"{path} is not valid TOML (nested too deep); fix the syntax and rerun."
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"{path} cannot be read ({exc.strerror}); give MATRIX_CONFIG a readable TOML file."
        ) from None


def _profile(path: Path, name: str, data: dict[str, Any], where: str) -> Profile:
    _known_keys(path, data, PROFILE_KEYS, where)
    wanted = tuple(_strings(path, data.get("scenarios", scenarios.NAMES), f"{where} scenarios"))
    for scenario in wanted:
        if scenario not in scenarios.BY_NAME:
            raise ConfigError(
                f"{path}: unknown scenario '{scenario}' in {where}; known "
                f"scenarios: {', '.join(scenarios.NAMES)}."
            )
    axes = {
        key: tuple(_versions(path, key, values, f"{where} axes"))
        for key, values in _pins(path, data.get("axes", {}), f"[axes] of {where}").items()
    }
    cells = tuple(
        _cell(path, cell, f"[[cell]] #{i} of {where}")
        for i, cell in enumerate(_tables(path, data.get("cell", []), where), 1)
    )
    exclude = tuple(
        _exclusion(path, pattern, f"[[exclude]] #{i} of {where}")
        for i, pattern in enumerate(_tables(path, data.get("exclude", []), where), 1)
    )
    if axes and not set(axes) - {"python"}:
        raise ConfigError(
            f"{path}: the axes of {where} pin only python; add a distribution "
            'axis (e.g. pytest = ["8.4.2"]), or the envs would hold no pytest.'
        )
    mode = data.get("mode", "product")
    if mode not in ("product", "pairwise"):
        raise ConfigError(f"{path}: mode in {where} must be 'product' or 'pairwise', not {mode!r}.")
    kwargs: dict[str, Any] = {}
    if "critical" in data:
        kwargs["critical"] = tuple(_strings(path, data["critical"], f"{where} critical"))
    for key in ("suite", "suite-requirements"):
        if key in data and not isinstance(data[key], str):
            raise ConfigError(f"{path}: {key} in {where} must be a path in quotes.")
    if "pass-env" in data:
        kwargs["pass_env"] = _pass_env(path, data["pass-env"], where)
    if "variants" in data:
        kwargs["variants"] = _variant_names(path, data["variants"], where)
    if "suite" in data:
        kwargs["suite"] = path.parent / data["suite"]
        kwargs["suite_requirements"] = data.get("suite-requirements")
    return Profile(
        name=name,
        source=path,
        description=str(data.get("description", "")),
        scenarios=wanted,
        timeout=_timeout(path, data, where),
        reruns=_reruns(path, data, where),
        axes=axes,
        cells=cells,
        exclude=exclude,
        mode=mode,
        **kwargs,
    )


_ENV_PATTERN = re.compile(r"^[A-Za-z_*?\[][A-Za-z0-9_*?\[\]!]*$")


def _pass_env(path: Path, value: Any, where: str) -> tuple[str, ...]:
    """Variable names or fnmatch patterns (``AWS_*``, ``DJANGO_SETTINGS_MODULE``)."""
    names = _strings(path, value, f"pass-env in {where}")
    for name in names:
        if not _ENV_PATTERN.match(name):
            raise ConfigError(
                f"{path}: pass-env in {where} holds {name!r}, which is not a "
                "variable name or an fnmatch pattern of one; write names such "
                'as "DJANGO_SETTINGS_MODULE" or "MYAPP_*".'
            )
    return tuple(names)


def _cell(path: Path, table: dict[str, Any], where: str) -> dict[str, Any]:
    """A cell's pins; its own ``variants`` (a tuple of names) under the key ``variants``."""
    table = dict(table)
    names = table.pop("variants", None)
    pins: dict[str, Any] = _pins(path, table, where)
    if "python" not in pins:
        raise ConfigError(f"{path}: {where} has no 'python' key; every cell names its Python.")
    for key, value in pins.items():
        _versions(path, key, [value], where)
    if len(pins) == 1:
        raise ConfigError(
            f"{path}: {where} pins only python; pin at least one distribution "
            '(e.g. pytest = "8.4.2"), or its env would hold no pytest.'
        )
    if names is not None:
        pins["variants"] = _variant_names(path, names, where)
    return pins


def _variant_names(path: Path, value: Any, where: str) -> tuple[str, ...]:
    """Variant names, each checked against the catalogue (an unknown one: exit code 2)."""
    names = _strings(path, value, f"variants in {where}")
    known = variant_catalogue.load()
    for name in names:
        known.get(name, f" in variants of {where} of {path}")
    return tuple(dict.fromkeys(names)) or (BASELINE,)


def _pins(path: Path, table: Any, where: str) -> dict[str, Any]:
    """Keys checked against python + known distributions, names canonicalised."""
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {where} must be a table of keys to versions.")
    pins: dict[str, Any] = {}
    spelled: dict[str, str] = {}
    for key, value in table.items():
        name = "python" if key == "python" else canonicalize_name(key)
        if name not in AXIS_KEYS:
            raise ConfigError(
                f"{path}: unknown distribution '{key}' in {where}; the matrix "
                f"knows: {', '.join(AXIS_KEYS)}."
            )
        if name in pins:  # pytest_asyncio and pytest-asyncio are one distribution
            raise ConfigError(
                f"{path}: '{spelled[name]}' and '{key}' in {where} name the same "
                f"distribution {name}; keep one of them."
            )
        pins[name], spelled[name] = value, key
    return pins


def _exclusion(path: Path, table: Any, where: str) -> dict[str, tuple[str, ...]]:
    """An exclusion: per key, fnmatch patterns (a list means any of them).

    A value without a wildcard must be a value the key can take (an exact version or
    ``"none"``), so a typo does not silently exclude nothing.
    """
    patterns = {}
    for key, value in _pins(path, table, where).items():
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str) for v in values):
            raise ConfigError(
                f"{path}: {key} in {where} must be a quoted pattern such as "
                '"1.*" or a list of them (any of which excludes).'
            )
        for v in values:
            exact = not any(c in v for c in "*?[")
            if exact and not (_valid_version(key, v) and not is_selector(v)):
                raise ConfigError(
                    f"{path}: {key} = {v!r} in {where} is neither a version the "
                    "matrix can pin nor a pattern; write an exact version such as "
                    '"8.4.2", "none", or a pattern such as "8.4.*".'
                )
        patterns[key] = tuple(values)
    return patterns


def _versions(path: Path, key: str, values: Any, where: str) -> list[str]:
    if not isinstance(values, list):
        values = [values]
    out = []
    for value in values:
        if not isinstance(value, str):
            raise ConfigError(
                f"{path}: {key} = {value!r} in {where} must be a quoted string "
                f'(write "{value}"), or TOML reads it as a number.'
            )
        if not _valid_version(key, value):
            raise ConfigError(
                f"{path}: malformed version {value!r} for {key} in {where}; "
                f"{_spelling(key, value)}."
            )
        out.append(value)
    return out


def _valid_version(key: str, value: str) -> bool:
    """Only the canonical spelling is valid: "v8.4.2" or "8.4.2\\n" would give another
    cell id for the same pins, so they are refused (the message shows the fix)."""
    if key == "python":
        return bool(_PYTHON.fullmatch(value))
    if value == "none":
        return True
    match = _SELECTOR.fullmatch(value)
    if match:
        spec = match.group("spec1") or match.group("spec2")
        try:
            SpecifierSet(spec or "")
        except InvalidSpecifier:
            return False
        return True
    try:
        return str(Version(value)) == value
    except InvalidVersion:
        return False


def _spelling(key: str, value: str) -> str:
    """How to write a refused version: its canonical form when there is one."""
    try:
        canonical = value.strip() if key == "python" else str(Version(value))
    except InvalidVersion:
        canonical = None
    if canonical and _valid_version(key, canonical):
        return f'write it as "{canonical}" (one spelling per version keeps one cell id)'
    return 'use an exact version such as "8.4.2", "latest", "minors", "minors:>=0.21" or "newest:3"'


def is_selector(value: str) -> bool:
    """Whether a version value selects releases from the snapshot ("latest", "minors", ...)."""
    return bool(_SELECTOR.fullmatch(value))


def _known_keys(path: Path, data: dict[str, Any], known: frozenset[str], where: str) -> None:
    for key in data:
        if key not in known:
            raise ConfigError(
                f"{path}: unknown key '{key}' in {where}; known keys: {', '.join(sorted(known))}."
            )


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


def _timeout(path: Path, data: dict[str, Any], where: str) -> float:
    value = data.get("timeout", 180.0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 < value < math.inf):
        raise ConfigError(
            f"{path}: timeout = {value!r} in {where} must be a positive number "
            "of seconds per pytest process, such as 180."
        )
    return float(value)


def _reruns(path: Path, data: dict[str, Any], where: str) -> int:
    value = data.get("reruns", 1)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(
            f"{path}: reruns = {value!r} in {where} must be a whole number of "
            "reruns of a failing scenario, such as 0, 1 or 3."
        )
    return value
