"""Release discovery: the snapshot built from (trimmed, real) index responses.

The fake index serves the golden project documents in tests/data/pypi-*.json and builds
wheels and sdists in memory around the real METADATA / PKG-INFO / requires.txt texts, so
the whole refresh path runs with no network.
"""

from __future__ import annotations

import email.parser
import io
import json
import socket
import tarfile
import threading
import urllib.parse
import zipfile
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from matrix.define import index as index_client
from matrix.define import releases
from matrix.define.metadata import sdist_requires
from matrix.define.releases import Dependency, IndexUnreachable, Release
from matrix.errors import ConfigError

BASE = "https://index.test/pypi"
NAMES = ("pytest-asyncio", "pytest-playwright-asyncio")


class FakeIndex(index_client.Index):
    """Serves URL -> bytes; anything else is a 404. Records every request."""

    def __init__(self, routes: dict[str, bytes]) -> None:
        super().__init__(BASE)
        self.routes = routes
        self.requests: list[tuple[str, tuple[int, int] | None]] = []
        self._record = threading.Lock()

    def get(self, url: str, byte_range: tuple[int, int] | None = None) -> bytes:
        with self._record:
            self.requests.append((url, byte_range))
        if url not in self.routes:
            raise index_client.NotFound(url)
        body = self.routes[url]
        return body if byte_range is None else body[byte_range[0] : byte_range[1] + 1]

    def bytes_read(self, url: str) -> int:
        return sum(
            len(self.routes[u]) if r is None else r[1] - r[0] + 1
            for u, r in self.requests
            if u == url
        )


def _wheel(filename: str, metadata: str, padding: int = 2000) -> bytes:
    """A wheel with the real METADATA text and some code before it."""
    name, version = filename.split("-")[:2]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as wheel:
        # Stored, incompressible-looking bytes so a large wheel is really large.
        payload = bytes((i * 7919) % 251 for i in range(padding))
        wheel.writestr(zipfile.ZipInfo(f"{name}/_payload.bin"), payload, zipfile.ZIP_STORED)
        wheel.writestr(f"{name}-{version}.dist-info/METADATA", metadata)
        wheel.writestr(f"{name}-{version}.dist-info/RECORD", "")
    return buffer.getvalue()


def _sdist(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _routes(
    data: Path, *, per_version: bool = False, big_wheel: str | None = None
) -> dict[str, bytes]:
    metadata = json.loads((data / "pypi-metadata.json").read_text())
    sdists = json.loads((data / "pypi-sdist.json").read_text())
    routes: dict[str, bytes] = {}
    for name in NAMES:
        doc_url = f"{BASE}/{name}/json"
        doc = json.loads((data / f"pypi-{name}.json").read_text())
        for version, files in doc["releases"].items():
            for file in files:
                url = urllib.parse.urljoin(doc_url, file["url"])
                if file["filename"] in metadata:
                    padding = 3_000_000 if file["filename"] == big_wheel else 2000
                    routes[url] = _wheel(file["filename"], metadata[file["filename"]], padding)
                elif file["filename"] in sdists:
                    routes[url] = _sdist(sdists[file["filename"]])
                if url in routes:
                    file["size"] = len(routes[url])  # the stand-in file's own size
                if per_version and file["filename"] in metadata:
                    routes[f"{BASE}/{name}/{version}/json"] = _version_doc(
                        metadata[file["filename"]]
                    )
                elif per_version and file["filename"] in sdists:
                    pkg_info = next(
                        t for m, t in sdists[file["filename"]].items() if m.endswith("/PKG-INFO")
                    )
                    routes[f"{BASE}/{name}/{version}/json"] = _version_doc(pkg_info)
        routes[doc_url] = json.dumps(doc).encode()
    return routes


def _version_doc(metadata: str) -> bytes:
    """A per-version JSON document as PyPI derives it from the uploaded metadata."""
    head = email.parser.HeaderParser().parsestr(metadata)
    return json.dumps({"info": {"requires_dist": head.get_all("Requires-Dist") or None}}).encode()


def _refresh(tmp_path: Path, index: FakeIndex) -> releases.Snapshot:
    return releases.refresh(
        tmp_path / "releases.json", "2023-01-01", index=index, distributions=NAMES
    )


def test_refresh_keeps_window_floor_and_notes_skipped(tmp_path: Path, data: Path) -> None:
    snapshot = _refresh(tmp_path, FakeIndex(_routes(data)))
    asyncio_versions = [r.version for r in snapshot.releases("pytest-asyncio")]
    # 0.20.3 is the newest release before 2023-01-01 (the floor); 0.10.0 is older still;
    # 0.22.0 was yanked; the 1.0.0a1 pre-release is kept (selection decides about it).
    assert asyncio_versions == ["0.20.3", "0.21.0", "0.24.0", "1.0.0a1", "1.5.0"]
    assert [r.version for r in snapshot.releases("pytest-playwright-asyncio")] == [
        "0.6.0",
        "0.7.1",
        "0.10.0",
    ]
    skipped = {(s.distribution, s.version): s.reason for s in snapshot.skipped}
    assert skipped[("pytest-asyncio", "0.22.0")].startswith("yanked: v0.22.0 deprecated")
    assert skipped[("pytest-playwright-asyncio", "0.0.1")].startswith("name placeholder")


def test_refresh_records_requirements_on_tracked_distributions(tmp_path: Path, data: Path) -> None:
    snapshot = _refresh(tmp_path, FakeIndex(_routes(data)))
    asyncio_024 = snapshot.release("pytest-asyncio", "0.24.0")
    assert asyncio_024.requires == (Dependency(name="pytest", specifier=">=8.2,<9"),)
    assert asyncio_024.requires_python == ">=3.8"
    assert asyncio_024.uploaded == "2024-08-22T08:03:15Z"  # the earliest of its two files
    plugin = snapshot.release("pytest-playwright-asyncio", "0.7.1")
    assert {d.name: d.specifier for d in plugin.requires} == {
        "pytest": ">=6.2.4,<9.0.0",
        "pytest-asyncio": ">=0.24.0",
        "playwright": ">=1.18",
    }
    # 0.6.0 exists only as an sdist; its PKG-INFO lists the requirements.
    sdist_only = snapshot.release("pytest-playwright-asyncio", "0.6.0")
    assert sdist_only.requirement("pytest-asyncio") == SpecifierSet(">=0.24.0")


def test_refresh_output_matches_golden(tmp_path: Path, data: Path) -> None:
    snapshot = _refresh(tmp_path, FakeIndex(_routes(data)))
    written = json.loads((tmp_path / "releases.json").read_text())
    expected = json.loads((data / "snapshot-from-pypi-goldens.json").read_text())
    assert written["taken_at"] == snapshot.taken_at
    written["taken_at"] = expected["taken_at"] = "-"
    assert written == expected


def test_write_is_sorted_deterministic_and_loads_back(tmp_path: Path, data: Path) -> None:
    snapshot = releases.load(data / "snapshot-2026-11-25.json")
    releases.write(snapshot, tmp_path / "a.json")
    releases.write(releases.load(tmp_path / "a.json"), tmp_path / "b.json")
    text = (tmp_path / "a.json").read_text()
    assert text == (tmp_path / "b.json").read_text()
    assert text == (data / "snapshot-2026-11-25.json").read_text()
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"


def test_per_version_json_is_preferred_when_the_index_has_it(tmp_path: Path, data: Path) -> None:
    index = FakeIndex(_routes(data, per_version=True))
    snapshot = _refresh(tmp_path, index)
    assert snapshot.release("pytest-asyncio", "1.5.0").requires == (
        Dependency(name="pytest", specifier=">=8.4"),
    )
    wheels_read = [u for u, _ in index.requests if u.endswith(".whl")]
    assert wheels_read == []


def test_missing_sources_are_not_asked_again(tmp_path: Path, data: Path) -> None:
    index = FakeIndex(_routes(data))
    _refresh(tmp_path, index)
    version_docs = [u for u, _ in index.requests if u.endswith("/json") and u.count("/") > 5]
    pep658 = [u for u, _ in index.requests if u.endswith(".metadata")]
    # Threads may race before the first 404 is remembered, but not once per release.
    assert 1 <= len(version_docs) <= releases.WORKERS
    assert 1 <= len(pep658) <= releases.WORKERS


def test_a_large_wheel_is_read_through_ranges(tmp_path: Path, data: Path) -> None:
    big = "pytest_asyncio-1.5.0-py3-none-any.whl"
    index = FakeIndex(_routes(data, big_wheel=big))
    snapshot = _refresh(tmp_path, index)
    url = next(u for u in index.routes if u.endswith(big))
    assert len(index.routes[url]) > 3_000_000
    assert index.bytes_read(url) <= 2 * 65536
    assert snapshot.release("pytest-asyncio", "1.5.0").requirement("pytest") is not None


def test_sdist_without_requires_dist_falls_back_to_egg_info() -> None:
    members = {
        "demo-1.0/PKG-INFO": "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
        "demo-1.0/demo.egg-info/requires.txt": (
            'pytest>=7\n\n[:python_version < "3.11"]\npytest-asyncio>=0.21\n\n[docs]\nsphinx\n'
        ),
    }
    lines = sdist_requires(_sdist(members), "demo-1.0.tar.gz")
    assert lines == ["pytest>=7", 'pytest-asyncio>=0.21; python_version < "3.11"']


def test_sdist_with_only_legacy_metadata_is_unknown() -> None:
    members = {"demo-1.0/PKG-INFO": "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"}
    assert sdist_requires(_sdist(members), "demo-1.0.tar.gz") is None


def test_dependencies_drop_extras_and_keep_python_markers() -> None:
    deps = releases._dependencies(
        "pytest-cov",
        [
            "coverage[toml]>=7.10.6",
            "pytest>=7",
            "pluggy>=1.2",
            'pytest-asyncio>=0.21; python_version < "3.11"',
            'pytest-xdist; extra == "testing"',
            'playwright>=1.40; sys_platform == "linux"',
            'pytest-asyncio; python_version >= "3.8" and extra == "testing"',
        ],
    )
    assert [d.to_json() for d in deps] == [
        "coverage>=7.10.6",
        'playwright>=1.40; sys_platform == "linux"',
        "pytest>=7",
        'pytest-asyncio>=0.21; python_version < "3.11"',
    ]
    release = Release(version="1", uploaded="-", requires_python=None, requires=deps)
    assert release.requirement("pytest-asyncio", "3.10") == SpecifierSet(">=0.21")
    assert release.requirement("pytest-asyncio", "3.12") is None
    assert release.requirement("pytest-asyncio") is None  # unknown Python: unconditional only
    # A marker about the machine is kept as text but never used to prune.
    assert release.requirement("playwright", "3.12") is None


@pytest.mark.parametrize(
    ("requires_python", "python", "allowed"),
    [
        (">=3.10", "3.9", False),
        (">=3.10", "3.15", True),
        (">=3.9.2", "3.9", True),  # a later 3.9 patch is fine
        ("<3.10", "3.10", False),
        (">=3.8,!=3.9.*", "3.9", False),
        ("!=3.9.0", "3.9", True),
        (">=3.10", "3.10.0", True),
        (None, "3.9", True),
        (">=3.6.*", "3.9", True),  # unparsable: the resolver decides
    ],
)
def test_allows_python(requires_python: str | None, python: str, allowed: bool) -> None:
    release = Release(version="1", uploaded="-", requires_python=requires_python, requires=())
    assert release.allows_python(python) is allowed


def test_python_versions() -> None:
    assert releases.python_versions() == ["3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15"]


def test_load_explains_a_missing_snapshot(tmp_path: Path) -> None:
    with pytest.raises(releases.SnapshotError, match="refresh command"):
        releases.load(tmp_path / "nope.json")


def test_load_refuses_another_schema(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text(json.dumps({"schema": 99}))
    with pytest.raises(releases.SnapshotError, match="regenerate it"):
        releases.load(tmp_path / "s.json")


def test_bad_since_is_a_sentence(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not an ISO date"):
        releases.refresh(tmp_path / "s.json", "last tuesday", index=FakeIndex({}))


def test_missing_project_is_reported(tmp_path: Path) -> None:
    with pytest.raises(IndexUnreachable, match="has no project 'pytest-asyncio'"):
        releases.refresh(tmp_path / "s.json", index=FakeIndex({}), distributions=["pytest-asyncio"])
    assert not (tmp_path / "s.json").exists()


def test_closed_port_raises_index_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Loopback only: bind a port, close it, and point the index there.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(index_client.time, "sleep", lambda seconds: None)
    with pytest.raises(IndexUnreachable) as caught:
        releases.refresh(
            tmp_path / "s.json", distributions=["pytest"], index=f"http://127.0.0.1:{port}/pypi"
        )
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message
    assert index_client.INDEX_ENV in message and "offline" in message
    assert not (tmp_path / "s.json").exists()


@pytest.mark.integration
def test_refresh_against_the_real_index(tmp_path: Path) -> None:
    snapshot = releases.refresh(
        tmp_path / "s.json", "2025-06-01", distributions=["pytest-playwright-asyncio"]
    )
    newest = snapshot.releases("pytest-playwright-asyncio")[-1]
    assert newest.parsed >= Version("0.10.0")
    assert newest.requires_python == ">=3.10"
    assert newest.requirement("pytest-asyncio") is not None
