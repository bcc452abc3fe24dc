"""Every setting, declared once with its environment variable, and read in one place.

Like nox's options: each :class:`Setting` names its variable, default and meaning (the
README's table is this list), and :func:`read` turns the process environment and the
command line into one frozen :class:`Options`, built once in the CLI's entry point and
passed down. No other module reads ``os.environ``; child processes get their environment
from :attr:`Options.environ`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import os
import shlex
import sys
import types
from collections.abc import Mapping
from pathlib import Path

from matrix import locations, masking

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PACKAGE = locations.PACKAGE


@dataclasses.dataclass(frozen=True, kw_only=True)
class Setting:
    """One setting: its field in :class:`Options`, its variable, default and meaning."""

    field: str
    env: str
    default: str | None
    help: str


SETTINGS: tuple[Setting, ...] = tuple(
    Setting(field=name, env=s["env"], default=s.get("default"), help=s["help"])
    for name, s in tomllib.loads((PACKAGE / "settings.toml").read_text(encoding="utf-8")).items()
)
BY_ENV = {s.env: s for s in SETTINGS}
#: Settings a record's ``repro`` command must carry to rerun the same cell.
REPRO_SETTINGS = (
    "MATRIX_CONFIG",
    "MATRIX_PROFILE",
    "MATRIX_OUT",
    "MATRIX_SUITE",
    "MATRIX_SUITE_REQUIREMENTS",
    "MATRIX_SUITE_INSTALL",
)
#: Values of a yes/no setting that mean no (anything else means yes).
FALSE = frozenset({"false", "0", "no", "off"})


@dataclasses.dataclass(frozen=True, kw_only=True)
class Options:
    """What this invocation was asked to do, from the environment and the command line."""

    config: Path | None
    profile: str | None
    out: Path  # absolute: pytest runs in a copy of the probe and must still find it
    shard: str | None
    envs: Path
    chromium: str | None
    probes: Path
    suite: Path | None
    suite_requirements: str | None
    suite_install: bool = True  # install the suite's project itself when pip would
    releases: Path
    index: str
    run_id: str
    previous: Path | None = None
    verbosity: int = 0  # -1 quiet, 0 normal, 1 verbose
    github_actions: bool = False  # speak GitHub's workflow commands
    environ: Mapping[str, str] = dataclasses.field(default_factory=dict, repr=False)

    @property
    def home(self) -> Path:
        return Path(self.environ.get("HOME") or Path.home())

    @property
    def pyenv_root(self) -> Path:
        return Path(self.environ.get("PYENV_ROOT") or self.home / ".pyenv")

    @property
    def browsers_path(self) -> Path:
        """Where Playwright keeps the browsers it downloaded."""
        return Path(
            self.environ.get("PLAYWRIGHT_BROWSERS_PATH") or self.home / ".cache" / "ms-playwright"
        )

    @functools.cached_property
    def secrets(self) -> frozenset[str]:
        """The values masked in every log, JUnit copy, record and console line: secret
        ones, and the meaningful values of the environment suites get (the environment is
        a copy taken once, so they are derived once)."""
        return masking.secret_values(self.environ) | masking.environment_values(self.environ)

    def masked(self, pass_env: tuple[str, ...] = ()) -> frozenset[str]:
        """:attr:`secrets` and the meaningful values of the ``pass-env`` variables a
        definition adds to the suites' environment."""
        if not pass_env:
            return self.secrets
        return self.secrets | masking.environment_values(self.environ, pass_env)

    def given(self, env: str) -> str | None:
        """The value a user set for setting ``env`` (None when left to its default)."""
        return self.environ.get(env) or None

    def repro_prefix(self, definition: tuple[Path, str] | None = None) -> str:
        """``VAR=value `` for every setting a rerun of one cell needs; paths made absolute,
        so the command works from any folder.

        ``definition`` (a file and its profile) names the definition the cell is in instead
        of the one in force: the search commands keep the cells they measure in their own
        file, which also names the suite, so only it and the results folder are given.
        """
        if definition is not None:
            config, profile = definition
            pairs = {"MATRIX_CONFIG": config, "MATRIX_PROFILE": profile, "MATRIX_OUT": self.out}
        else:
            values = {
                "MATRIX_CONFIG": self.config,
                "MATRIX_OUT": self.out,
                "MATRIX_SUITE": self.suite,
            }
            pairs = {k: values.get(k) or v for k in REPRO_SETTINGS if (v := self.given(k))}
        return "".join(f"{k}={shlex.quote(str(v))} " for k, v in pairs.items())

    def child_env(self, **extra: str) -> dict[str, str]:
        """The environment for a child process of the product (uv, nox), with ``extra``."""
        return {**self.environ, "MATRIX_RUN_ID": self.run_id, **extra}


def read(environ: Mapping[str, str] | None = None, *, verbosity: int = 0, **overrides) -> Options:
    """The options from ``environ`` (the process environment by default) and ``overrides``
    (command-line values by field name, which win; None means "not given")."""
    env = dict(os.environ if environ is None else environ)
    raw = {s.field: env.get(s.env) or s.default for s in SETTINGS}
    raw.update({k: v for k, v in overrides.items() if v is not None})
    return Options(
        config=_absolute(raw["config"]),
        profile=raw["profile"] or None,
        out=_absolute(raw["out"]),
        shard=raw["shard"] or None,
        envs=_absolute(raw["envs"]),
        chromium=raw["chromium"] or None,
        probes=_absolute(raw["probes"] or locations.PROBES),
        suite=_absolute(raw["suite"]),
        suite_requirements=raw["suite_requirements"] or None,
        suite_install=_flag(raw["suite_install"]),
        releases=_path(raw["releases"]) or PACKAGE / "releases.json",
        index=raw["index"],
        run_id=raw["run_id"] or new_run_id(),
        previous=_path(raw["previous"]),
        verbosity=verbosity,
        github_actions=env.get("GITHUB_ACTIONS") == "true",
        environ=types.MappingProxyType(env),
    )


def new_run_id() -> str:
    """A fresh run id from the current time."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _flag(value: str | bool) -> bool:
    """A yes/no setting: ``false``, ``0``, ``no`` or ``off`` (any case) is no."""
    return value if isinstance(value, bool) else value.strip().lower() not in FALSE


def _path(value: str | Path | None) -> Path | None:
    return Path(value) if value else None


def _absolute(value: str | Path | None) -> Path | None:
    # normalised too: a repro command names ``/a/one-cell.toml``, not ``/a/b/../one-cell.toml``
    return Path(os.path.abspath(value)) if value else None
