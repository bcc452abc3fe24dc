"""uv environments for cells: a resolvability check first, then one env per pin set.

Cells whose resolved pins are equal share one env (keyed by interpreter and lock), built
from uv's cache by links. An env is marked ready only when its install finished, so an
interrupted or failed build is never reused half-made.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from matrix.define.cell import PLUGINS, Cell
from matrix.measure import command, requirements
from matrix.measure.interpreters import NO_DOWNLOADS, Interpreter

READY = ".matrix-ready"
RECIPE = "uv-sync-compiled"  # how envs are built: a change makes new envs, never mixed ones
PLUGIN_SET = frozenset(PLUGINS)  # for set algebra with a cell's pins
_PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;]+)")
_NETWORK = re.compile(
    r"Failed to fetch|Could not connect|error sending request|dns error|Connection refused|"
    r"failed to lookup address|operation timed out|Network is unreachable",
    re.I,
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Resolution:
    """What the resolver said about a cell's pins."""

    lock: str = ""  # exact requirement lines, one per installed distribution
    reason: str | None = None  # why not, in one line, when it could not resolve
    infra: bool = False  # the failure was the index or the network, not the pins
    relaxed: tuple[str, ...] = ()  # a suite's own pins that gave way to resolve

    @property
    def ok(self) -> bool:
        return self.reason is None

    @property
    def versions(self) -> dict[str, str]:
        """Every distribution the env will hold, with its version."""
        out = {}
        for line in self.lock.splitlines():
            m = _PIN.match(line.strip())
            if m:
                out[m.group(1).lower()] = m.group(2)
        return out


def uv_env(environ: Mapping[str, str]) -> dict[str, str]:
    """Environment for uv calls: no interpreter downloads, no stray project settings."""
    env = {**environ, **NO_DOWNLOADS}
    env.pop("VIRTUAL_ENV", None)
    return env


def resolve(
    cell: Cell,
    interp: Interpreter,
    *,
    folder: Path,
    exclude_newer: str | None,
    extra: tuple[str, ...] = (),
    environ: Mapping[str, str],
    constraints: tuple[str, ...] = (),
    preferences: tuple[str, ...] = (),
    added: tuple[str, ...] = (),
) -> Resolution:
    """Ask uv whether the cell's pins can be installed on ``interp``, without installing.

    ``added`` are a variant's packages, kept as they are (the env, keyed by the whole
    lock, is then never shared with cells without them). ``extra`` are a user's suite's
    own dependencies, installed beside the pins, and
    ``constraints`` its constraint files' lines. Its own requirements on the pinned
    distributions are dropped (the pins are what is under test); uv's overrides would do
    more and also hide the pinned releases' own requirements, which are exactly what makes
    a cell unresolvable. ``preferences`` are versions to keep where they still fit.
    """
    folder.mkdir(parents=True, exist_ok=True)
    requirements = folder / "requirements.in"
    requirements.write_text(
        "\n".join([*cell.requirements, *added, *_not_pinned(cell, extra)]) + "\n"
    )
    output = folder / "requirements.txt"
    output.write_text("\n".join(preferences) + "\n" if preferences else "")
    args = [
        "uv",
        "pip",
        "compile",
        requirements,
        "--python",
        interp.path,
        "--no-header",
        "--no-annotate",
        "--quiet",
        "--output-file",
        output,
    ]
    kept = _not_pinned(cell, constraints)
    if kept:
        (folder / "constraints.txt").write_text("\n".join(kept) + "\n")
        args += ["--constraint", folder / "constraints.txt"]
    if exclude_newer:
        args += ["--exclude-newer", exclude_newer]
    proc = command.capture(args, env=uv_env(environ), timeout=300)
    if proc.returncode == 0:
        return Resolution(lock=output.read_text())
    return Resolution(reason=resolver_reason(proc.stderr), infra=bool(_NETWORK.search(proc.stderr)))


def _not_pinned(cell: Cell, lines: tuple[str, ...]) -> tuple[str, ...]:
    """The lines that are not about a distribution the cell pins (folders always stay)."""
    pinned = {dist for dist, _ in cell.pins}
    if pinned & PLUGIN_SET:  # the cell says which Playwright plugin; the suite's other one goes
        pinned |= PLUGIN_SET
    return tuple(r for r in lines if _name(r) not in pinned)


def _name(line: str) -> str | None:
    if line.startswith(("-e ", "/")):
        return None
    return canonicalize_name(Requirement(line).name)


def resolve_relaxing(
    cell: Cell,
    interp: Interpreter,
    *,
    folder: Path,
    exclude_newer: str | None,
    extra: tuple[str, ...] = (),
    constraints: tuple[str, ...] = (),
    environ: Mapping[str, str],
) -> Resolution:
    """Resolve a suite's dependencies with the pins, letting its own exact pins give way.

    A lock-style requirements file pins every transitive dependency; a cell with newer
    releases needs newer ones. The pins the resolver names as conflicting are loosened one
    round at a time (kept as preferences), then, if that is not enough, all of them; the
    resolution lists every pin that gave way.
    """
    lines, relaxed = list(_not_pinned(cell, extra)), []
    for _ in range(MAX_RELAX_ROUNDS):
        found = resolve(
            cell,
            interp,
            folder=folder,
            exclude_newer=exclude_newer,
            extra=tuple(lines),
            constraints=constraints,
            preferences=tuple(relaxed),
            environ=environ,
        )
        if found.ok or found.infra:
            return dataclasses.replace(found, relaxed=tuple(relaxed))
        exact = _exact_pins(lines)
        named = [ln for ln in lines if ln in exact and _named(ln, found.reason)]
        if not named:
            break
        relaxed += named
        lines = [_loosened(ln) if ln in named else ln for ln in lines]
    given_way = {_name(r) for r in relaxed}
    rest = [ln for ln in _exact_pins(lines) if _name(ln) not in given_way]
    if not rest:
        return found
    again = resolve(
        cell,
        interp,
        folder=folder,
        exclude_newer=exclude_newer,
        extra=tuple(_loosened(ln) if ln in rest else ln for ln in lines),
        constraints=constraints,
        preferences=(*relaxed, *rest),
        environ=environ,
    )
    return dataclasses.replace(again, relaxed=(*relaxed, *rest)) if again.ok else found


MAX_RELAX_ROUNDS = 8


def _exact_pins(lines: list[str]) -> set[str]:
    return {
        line
        for line in lines
        if _name(line) is not None and requirements.exact_version(Requirement(line))
    }


def _named(line: str, reason: str | None) -> bool:
    """Whether the resolver's reason names this requirement's distribution."""
    name = _name(line)
    words = {canonicalize_name(w) for w in re.findall(r"[A-Za-z0-9][A-Za-z0-9._-]*", reason or "")}
    return name in words


def _loosened(line: str) -> str:
    """The requirement without its version (markers and extras kept)."""
    req = Requirement(line)
    req.specifier = SpecifierSet()
    return str(req)


def resolver_reason(stderr: str) -> str:
    """The resolver's explanation as one line."""
    text = stderr.split("╰─▶", 1)[-1] if "╰─▶" in stderr else stderr
    lines = [
        ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("hint")
    ]
    line = " ".join(lines)
    line = re.sub(r"^(error:|×)\s*", "", line)
    return line[:500] or "the resolver gave no reason"


def ensure(
    interp: Interpreter,
    resolution: Resolution,
    *,
    log: Path,
    root: Path,
    environ: Mapping[str, str],
) -> tuple[Path | None, str | None]:
    """The ready env for this interpreter and lock in the folder ``root``, built if
    needed: (path, error line)."""
    root.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(f"{RECIPE}\n{interp.path}\n{interp.version}\n{resolution.lock}".encode())
    envdir = root / key.hexdigest()[:16]
    with (root / f"{envdir.name}.lock").open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)  # two parallel cells with equal pins build once
        if (envdir / READY).exists():
            return envdir, None
        shutil.rmtree(envdir, ignore_errors=True)
        error = _build(interp, resolution, envdir, log, environ)
        if error:
            shutil.rmtree(envdir, ignore_errors=True)
            return None, error
        (envdir / READY).write_text(resolution.lock)
    return envdir, None


def _build(
    interp: Interpreter, resolution: Resolution, envdir: Path, log: Path, environ: Mapping[str, str]
) -> str | None:
    lock = envdir.with_suffix(".txt")
    lock.write_text(resolution.lock)
    steps = (
        ["uv", "venv", "--quiet", "--python", interp.path, envdir],
        # Compiled once here: the probes run with PYTHONDONTWRITEBYTECODE, so an env without
        # .pyc files would recompile pytest and Playwright in every pytest process.
        ["uv", "pip", "sync", "--compile-bytecode", "--python", envdir / "bin" / "python", lock],
    )
    for args in steps:
        done = command.run(args, log=log, env=uv_env(environ), timeout=900, echo=False)
        if done.returncode != 0:
            return _first_error(log)
    return None


def _first_error(log: Path) -> str:
    text = log.read_text(errors="replace")[-20000:]
    for line in text.splitlines():
        s = line.strip()
        if s.startswith(("error:", "×", "Failed", "╰─▶")):
            return s.lstrip("×╰─▶ ").strip()[:300]
    return "installing the pins failed (see the log)"


def is_network_error(text: str) -> bool:
    """Whether a uv failure was the network rather than the pins."""
    return bool(_NETWORK.search(text))
