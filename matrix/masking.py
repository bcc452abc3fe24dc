"""Secrets kept out of what the product runs and writes.

Two defences, as tox and CI systems have them:

- the suite and the probes get an environment built from an allow-list (what a pytest
  run, a browser and a proxy need, and the product's own browser settings) plus the
  names or fnmatch patterns a definition's ``pass-env`` adds; nothing else reaches them;
- the value of every variable whose name looks secret, and of every variable holding a
  URL with a password (and that password alone), is replaced by ``***`` in everything
  written: logs, JUnit XML copies, records, the site, the console;
- so is every meaningful value of the environment the suites get (a proxy, a browser
  setting, a ``pass-env`` variable): one that is long enough to say something about this
  machine or its owner, not a path of the machine and not a common word
  (:func:`environment_values`).

Every function takes the environment as a parameter and holds no state.
"""

from __future__ import annotations

import fnmatch
import html
import json
import os
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, TextIO

MASK = "***"
#: Shorter values are not masked: replacing every "1" or "on" would destroy the logs.
MIN_SECRET = 4
#: A name piece that marks a variable as secret (AWS_SECRET_ACCESS_KEY, GH_PAT, SENTRY_DSN...).
_SECRET_PART = re.compile(r"KEY|SECRET|TOKEN|PASS|CREDENTIAL|PRIVATE|AUTH|COOKIE|SESSION|DSN", re.I)
_SECRET_WORD = re.compile(r"(?:^|_)PAT(?:_|$)", re.I)  # PAT as a word: not PATH, PATTERN
#: Names that look secret but hold what a desktop session or nox sets: never credentials.
#: (nox's NOX_CURRENT_SESSION holds a session name such as "tests": masked, every path with
#: a tests/ folder in it would be cut from the logs.)
NOT_SECRET = (
    "XDG_SESSION_*",
    "DBUS_SESSION_BUS_ADDRESS",
    "SESSION_MANAGER",
    "SSH_AUTH_SOCK",
    "NOX_*",
)
#: Values of the suites' environment shorter than this are not masked (``true``, ``:0``,
#: a user name of a few letters would cut every line they happen to appear in).
MIN_ENV_VALUE = 8
#: Settings whose values describe software every machine of a kind shares (a locale, a
#: terminal, a time zone, a shell), never this machine or its owner: never masked.
DESCRIPTIVE = ("LANG", "LANGUAGE", "LC_*", "TERM", "COLORTERM", "TZ", "SHELL")
#: A common word (``chromium``, ``headless``) or a number, version or list of them
#: (``3.13.0 3.12.7``): masked, every version in a log would be cut out.
_COMMON = re.compile(r"[a-z]+|[\d.,:;\s]+")
#: ``scheme://user:password@host``: the password group.
_URL_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^\s/:@]*:([^\s/@]+)@", re.I)

#: What every suite and probe gets: a run, locale, temp folder, terminal, proxies and
#: certificates, the display, and the browser and interpreter settings the product uses.
ALLOWED = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "LC_*",
    "TZ",
    "TMPDIR",
    "TEMP",
    "TMP",
    "TERM",
    "COLORTERM",
    "NO_COLOR",
    "FORCE_COLOR",
    "CI",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "XDG_RUNTIME_DIR",
    "MATRIX_CHROMIUM",
    "PLAYWRIGHT_BROWSERS_PATH",
    "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD",
    "PYENV_ROOT",
    "PYENV_VERSION",
    "UV_CACHE_DIR",
)


def is_secret_name(name: str) -> bool:
    """Whether a variable's name says it holds a secret."""
    if any(fnmatch.fnmatchcase(name, pattern) for pattern in NOT_SECRET):
        return False
    return bool(_SECRET_PART.search(name) or _SECRET_WORD.search(name))


def secret_values(environ: Mapping[str, str]) -> frozenset[str]:
    """The values to mask: secret-named variables' values, and URLs carrying a password
    (the whole value and the password alone); none shorter than :data:`MIN_SECRET`."""
    found = set()
    for name, value in environ.items():
        passwords = _URL_PASSWORD.findall(value)
        if is_secret_name(name) or passwords:
            found.add(value)
        found.update(passwords)
    return frozenset(v for v in found if len(v) >= MIN_SECRET)


def environment_values(environ: Mapping[str, str], pass_env: Iterable[str] = ()) -> frozenset[str]:
    """The meaningful values of the environment a suite gets (:func:`allowed_environ`):
    at least :data:`MIN_ENV_VALUE` characters, not a path of the machine (``PATH``,
    ``HOME``: masked, every file name in a traceback would go), not a common word or
    version, and not of a :data:`DESCRIPTIVE` setting."""
    return frozenset(
        value
        for name, value in allowed_environ(environ, pass_env).items()
        if len(value.strip()) >= MIN_ENV_VALUE
        and not _is_path(value)
        and not _COMMON.fullmatch(value.strip())
        and not any(fnmatch.fnmatchcase(name, p) for p in DESCRIPTIVE)
    )


def _is_path(value: str) -> bool:
    """A path of the machine, or a list of them as ``PATH`` holds (``~`` counts as home)."""
    parts = [p for p in value.split(os.pathsep) if p]
    return bool(parts) and all(os.path.isabs(os.path.expanduser(p)) for p in parts)


def allowed_environ(environ: Mapping[str, str], pass_env: Iterable[str] = ()) -> dict[str, str]:
    """The part of ``environ`` a suite may see: :data:`ALLOWED` and the ``pass-env``
    names or fnmatch patterns (case-sensitive, as variable names are)."""
    patterns = (*ALLOWED, *pass_env)
    return {
        name: value
        for name, value in environ.items()
        if any(fnmatch.fnmatchcase(name, p) for p in patterns)
    }


def _forms(value: str) -> set[str]:
    """A value as it appears raw, in JSON, in HTML or XML, and in the page's script data."""
    as_json = json.dumps(value, ensure_ascii=False)[1:-1]
    script = as_json
    for char, escape in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e")):
        script = script.replace(char, escape)
    entities = (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("'", "&#39;")
    )
    return {
        value,
        as_json,
        json.dumps(value)[1:-1],
        script,
        entities,
        html.escape(value, quote=False),
        html.escape(value, quote=True),
    }


@lru_cache(maxsize=8)
def _pattern(values: frozenset[str]) -> re.Pattern[bytes] | None:
    forms = {f for v in values for f in _forms(v)}
    if not forms:
        return None
    ordered = sorted((f.encode("utf-8", "surrogateescape") for f in forms), key=len, reverse=True)
    return re.compile(b"|".join(re.escape(f) for f in ordered))


def mask_bytes(data: bytes, values: frozenset[str]) -> bytes:
    """``data`` with every secret value (in any of its written forms) replaced by ``***``."""
    pattern = _pattern(frozenset(values))
    return pattern.sub(MASK.encode(), data) if pattern else data


def mask(text: str, values: frozenset[str]) -> str:
    """``text`` with every secret value replaced by ``***``."""
    if not values or not text:
        return text
    return mask_bytes(text.encode("utf-8", "surrogateescape"), values).decode(
        "utf-8", "surrogateescape"
    )


def mask_data(data: Any, values: frozenset[str]) -> Any:
    """Every string inside a JSON-like value masked (keys too)."""
    if isinstance(data, str):
        return mask(data, values)
    if isinstance(data, dict):
        return {mask_data(k, values): mask_data(v, values) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return type(data)(mask_data(v, values) for v in data)
    return data


def mask_file(path: Path, values: frozenset[str]) -> None:
    """Mask a written file in place (a hard-linked copy is masked with it)."""
    if not values or path.is_symlink() or not path.is_file():
        return  # a link is never followed: its target is not ours to rewrite
    data = path.read_bytes()
    masked = mask_bytes(data, values)
    if masked != data:
        with path.open("r+b") as f:  # in place: keeps the mode and every hard link
            f.write(masked)
            f.truncate()


def mask_tree(folder: Path, values: frozenset[str], keep: Iterable[str] = ()) -> None:
    """Mask every file under ``folder`` but those named in ``keep``."""
    if values and folder.is_dir():
        kept = set(keep)
        for path in sorted(folder.rglob("*")):
            if path.name not in kept:
                mask_file(path, values)


def mask_stream(source: BinaryIO, sink: BinaryIO, values: frozenset[str]) -> None:
    """Copy ``source`` to ``sink`` until it ends, every secret value masked before a byte
    of it is written: what could still be the start of a value (fewer bytes than the
    longest written form) is held back until the next read tells, and each piece is
    flushed at once, so that a reader of ``sink`` sees the output as it comes."""
    forms = {f.encode("utf-8", "surrogateescape") for v in values for f in _forms(v)}
    pending = b""
    while chunk := source.read1(2**16) if hasattr(source, "read1") else source.read(2**16):
        masked = mask_bytes(pending + chunk, values)
        cut = len(masked) - _open_prefix(masked, forms)
        sink.write(masked[:cut])
        sink.flush()
        pending = masked[cut:]
    sink.write(mask_bytes(pending, values))
    sink.flush()


def _open_prefix(data: bytes, forms: set[bytes]) -> int:
    """How many bytes at the end of ``data`` could begin a secret's written form."""
    longest = max(map(len, forms), default=1)
    for size in range(min(longest - 1, len(data)), 0, -1):
        tail = data[-size:]
        if any(form.startswith(tail) for form in forms):
            return size
    return 0


class MaskedStream:
    """A text stream (the console) that masks what is written to it."""

    def __init__(self, stream: TextIO, values: frozenset[str]) -> None:
        self._stream, self._values = stream, values

    def write(self, text: str) -> int:
        """Write ``text`` masked; returns the length given, as callers expect."""
        self._stream.write(mask(text, self._values))
        return len(text)

    def __getattr__(self, name: str) -> Any:  # flush, fileno, encoding, isatty...
        return getattr(self._stream, name)
