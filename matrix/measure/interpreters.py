"""Finding the interpreter a cell asks for, without ever downloading one."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from matrix.measure import command

#: uv must never fetch an interpreter: where it can't (closed networks) it fails late and
#: noisily, and where it can, the result would no longer say "on this machine".
NO_DOWNLOADS = {"UV_PYTHON_DOWNLOADS": "never"}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Interpreter:
    """A Python found on this machine."""

    path: Path
    version: str  # the full version, e.g. "3.13.0"


def find(request: str, environ: Mapping[str, str], pyenv_root: Path) -> Interpreter | None:
    """The interpreter for ``request`` ("3.13" or "3.13.0"), or None if there is none.

    uv's own discovery (PATH, including pyenv shims once ``PYENV_VERSION`` lists the
    version) comes first; pyenv's version folders are looked at directly too, because
    an installed but inactive pyenv version is still this machine's interpreter.
    """
    for candidate in _candidates(request, environ, pyenv_root):
        version = _version_of(candidate)
        if version and _matches(version, request):
            return Interpreter(path=candidate, version=version)
    return None


def _candidates(request: str, environ: Mapping[str, str], pyenv_root: Path) -> list[Path]:
    found: list[Path] = []
    proc = command.capture(
        ["uv", "python", "find", "--no-python-downloads", request],
        env={**environ, **NO_DOWNLOADS},
        timeout=60,
    )
    if proc.returncode == 0 and proc.stdout.strip():
        found.append(Path(proc.stdout.strip()))
    root = pyenv_root / "versions"
    minor = ".".join(request.split(".")[:2])
    for folder in sorted(root.glob(f"{request}*"), reverse=True):
        exe = folder / "bin" / f"python{minor}"
        if exe.is_file():
            found.append(exe)
    return found


def _version_of(exe: Path) -> str | None:
    try:
        proc = command.capture(
            [exe, "-c", "import platform; print(platform.python_version())"], timeout=30, echo=False
        )
    except OSError:
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def _matches(version: str, request: str) -> bool:
    return version == request or version.startswith(request + ".")
