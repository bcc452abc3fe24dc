"""The package index client: PyPI's JSON API, and the files it points at.

Where a release's requirements come from, in order of cost:

1. the per-version JSON document (``<index>/<name>/<version>/json``, ``info.requires_dist``);
2. the wheel's core metadata published next to it (PEP 658, ``<wheel url>.metadata``);
3. the ``METADATA`` member of the wheel itself, read with HTTP range requests so that a
   50 MB Playwright wheel costs a few kilobytes;
4. for releases with no wheel, a small sdist: its ``PKG-INFO`` when that lists
   requirements (or is static Metadata-Version 2.2+), else setuptools'
   ``*.egg-info/requires.txt``; with neither, ``requires`` is None (unknown).

Mirrors often serve only the project document, so a source that answers 404 once is not
asked again during the same refresh. What the bytes say is :mod:`matrix.define.metadata`'s
to read. Only the standard library and ``packaging`` are used: this module also runs
inside nox's own interpreter.
"""

from __future__ import annotations

import http.client
import io
import json
import re
import tarfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Mapping
from typing import Any

from packaging.version import InvalidVersion

from matrix import errors, fetch
from matrix.define import metadata

DEFAULT_INDEX = "https://pypi.org/pypi"
INDEX_ENV = "MATRIX_INDEX_JSON_URL"
TIMEOUT_S = 30
USER_AGENT = "loop-compat-matrix/0.1 (release snapshot; +https://pypi.org/help/#apis)"
_BLOCK = 1 << 16  # range-request granularity for reading wheels
_WHOLE_LIMIT = 8 << 20  # never download more than this to read metadata
_ATTEMPTS = 3  # a busy or flaky index gets two more tries, with backoff


class IndexUnreachable(errors.IndexUnreachable):
    """The package index could not be asked; the message says what to do next."""


class NotFound(Exception):
    """The index answered 404."""


class Index:
    """The package index's JSON API, plus the files it points at.

    One instance per refresh; thread-safe. Sources that answer 404 once (a mirror without
    per-version documents or PEP 658 metadata) are not asked again.
    """

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self._missing: set[str] = set()
        self._lock = threading.Lock()

    def requires_dist(
        self, name: str, version: str, files: list[Mapping[str, Any]], doc_url: str
    ) -> list[str] | None:
        """Requires-Dist lines of one release, from the cheapest source that answers."""
        info = self.version_info(name, version)
        if info is not None and info.get("requires_dist") is not None:
            return list(info["requires_dist"])
        wheel = pick_wheel(files)
        if wheel is not None:
            url = urllib.parse.urljoin(doc_url, wheel["url"])
            text = self.core_metadata(url) or self.wheel_metadata(url, wheel.get("size"))
            if text is not None:
                return metadata.requires_dist(text)
        sdist = next((f for f in files if f.get("packagetype") == "sdist"), None)
        if sdist is not None:
            url = urllib.parse.urljoin(doc_url, sdist["url"])
            return self.sdist_metadata(url, sdist.get("size"))
        return None

    def project(self, name: str) -> dict[str, Any]:
        """The project document (all releases and files); every distribution must exist."""
        url = f"{self.base}/{name}/json"
        try:
            doc = json.loads(self.get(url))
        except NotFound:
            raise IndexUnreachable(
                f"the package index at {self.base} has no project {name!r}; point "
                f"{INDEX_ENV} at a PyPI-compatible JSON API (default {DEFAULT_INDEX})"
            ) from None
        except ValueError:
            raise IndexUnreachable(_unreachable(url, "the answer is not JSON")) from None
        doc["_url"] = url
        return doc

    def version_info(self, name: str, version: str) -> dict[str, Any] | None:
        """``info`` of the per-version document, or None where the index has none."""
        data = self._optional("version-json", f"{self.base}/{name}/{version}/json")
        try:
            return None if data is None else json.loads(data).get("info") or {}
        except ValueError:
            return None  # a broken document: the wheel's own metadata will do

    def core_metadata(self, wheel_url: str) -> str | None:
        """The wheel's METADATA published beside it (PEP 658), or None."""
        data = self._optional("pep658", wheel_url + ".metadata")
        return None if data is None else data.decode("utf-8", "replace")

    def wheel_metadata(self, url: str, size: int | None) -> str | None:
        """The METADATA member of a remote wheel, read through HTTP ranges."""
        if not size:
            return None
        try:
            with zipfile.ZipFile(_RemoteFile(self, url, size)) as wheel:
                names = [
                    n for n in wheel.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)
                ]
                return wheel.read(names[0]).decode("utf-8", "replace") if names else None
        except (zipfile.BadZipFile, NotFound, _TooBig):
            return None

    def sdist_metadata(self, url: str, size: int | None) -> list[str] | None:
        """Requires-Dist from a small sdist's PKG-INFO, or None when it cannot be trusted."""
        if not size or size > _WHOLE_LIMIT:
            return None
        try:
            return metadata.sdist_requires(self.get(url), url.rsplit("/", 1)[-1])
        except (NotFound, tarfile.TarError, zipfile.BadZipFile, EOFError, InvalidVersion):
            return None

    def _optional(self, source: str, url: str) -> bytes | None:
        if source in self._missing:
            return None
        try:
            return self.get(url)
        except NotFound:
            with self._lock:
                self._missing.add(source)
            return None

    def get(self, url: str, byte_range: tuple[int, int] | None = None) -> bytes:
        """GET ``url`` (optionally bytes ``start..end`` inclusive), retrying busy answers."""
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json, */*"}
        if byte_range is not None:
            headers["Range"] = f"bytes={byte_range[0]}-{byte_range[1]}"
        for attempt in range(_ATTEMPTS):
            try:
                return self._fetch(urllib.request.Request(url, headers=headers), byte_range)
            except urllib.error.HTTPError as exc:
                if exc.code in (404, 410):
                    raise NotFound(url) from None
                if exc.code not in (429, 500, 502, 503, 504) or attempt == _ATTEMPTS - 1:
                    raise IndexUnreachable(_unreachable(url, f"HTTP {exc.code}")) from None
                time.sleep(_retry_after(exc, attempt))
            except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
                if attempt == _ATTEMPTS - 1:
                    raise IndexUnreachable(_unreachable(url, _reason(exc))) from None
                time.sleep(0.5 * 2**attempt)
        raise AssertionError("unreachable")

    def _fetch(self, request: urllib.request.Request, byte_range: tuple[int, int] | None) -> bytes:
        # One deadline and one size cap for the whole request (fetch.get): a server that
        # drips bytes or sends a body without end cannot hang or fill the machine.
        try:
            reply = fetch.get(
                request, read_timeout=TIMEOUT_S, cap=None if byte_range is None else _WHOLE_LIMIT
            )
        except fetch.TooLarge:
            if byte_range is None:
                raise
            raise _TooBig(request.full_url) from None  # the range ignored, the file large
        if byte_range is not None and reply.status != 206:
            # The server ignored the range: the whole file, small enough, was read.
            return reply.data[byte_range[0] : byte_range[1] + 1]
        return reply.data


class _TooBig(Exception):
    """A file would have to be downloaded whole and is too large for that."""


def _retry_after(exc: urllib.error.HTTPError, attempt: int) -> float:
    try:
        return min(float(exc.headers.get("Retry-After", "")), 30.0)
    except ValueError:
        return 0.5 * 2**attempt


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    return str(reason) or type(exc).__name__


def _unreachable(url: str, reason: str) -> str:
    return (
        f"cannot reach the package index ({url}: {reason}). Check the network, or set "
        f"{INDEX_ENV} to a reachable PyPI JSON API (default {DEFAULT_INDEX}); the committed "
        f"snapshot matrix/releases.json keeps working offline until then."
    )


class _RemoteFile(io.RawIOBase):
    """A read-only, seekable view of a remote file, fetched in cached 64 KiB blocks.

    ``zipfile`` only needs the end of central directory, the directory and one member,
    so this turns a wheel into three or four small range requests.
    """

    def __init__(self, index: Index, url: str, size: int) -> None:
        super().__init__()
        self._index, self._url, self._size = index, url, size
        self._pos = 0
        self._blocks: dict[int, bytes] = {}

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        count = max(0, min(len(buffer), self._size - self._pos))
        if count == 0:
            return 0
        first, last = self._pos // _BLOCK, (self._pos + count - 1) // _BLOCK
        self._load(first, last)
        data = b"".join(self._blocks[b] for b in range(first, last + 1))
        start = self._pos - first * _BLOCK
        buffer[:count] = data[start : start + count]
        self._pos += count
        return count

    def _load(self, first: int, last: int) -> None:
        missing = [b for b in range(first, last + 1) if b not in self._blocks]
        if not missing:
            return
        start, end = missing[0] * _BLOCK, min(self._size, (missing[-1] + 1) * _BLOCK) - 1
        data = self._index.get(self._url, (start, end))
        for block in range(missing[0], missing[-1] + 1):
            offset = (block - missing[0]) * _BLOCK
            self._blocks[block] = data[offset : offset + _BLOCK]


def pick_wheel(files: list[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """A pure wheel if there is one (smallest), else the smallest wheel."""
    wheels = [f for f in files if f.get("packagetype") == "bdist_wheel"]
    return min(
        wheels,
        key=lambda f: ("-none-any.whl" not in f["filename"], f.get("size") or 0, f["filename"]),
        default=None,
    )
