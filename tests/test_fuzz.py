"""Property tests: every reader, given any input hypothesis makes, gives a result or one
sentence with its exit code (a :class:`~matrix.errors.MatrixError`), never a traceback.

One test per reader: the definition (TOML), each pins format ``check`` reads (uv.lock,
poetry.lock, pdm.lock, requirements, pyproject), records (results.jsonl lines), findings
(bisect.jsonl, explain.jsonl), plans (plan.json, as ``merge`` reads it), published results
(results.json arrays, ``--from``), regression files (``regressions --existing``) and
release snapshots (``MATRIX_RELEASES``). Inputs are built from the shapes each reader
expects, with the keys it knows and values of every type, so that most examples get past
the first check. Unit-level and deterministic: readers are called in-process, examples
are derandomized and no example database is kept.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from record_fixtures import a_record

from matrix.cli import main
from matrix.define import definition, releases
from matrix.errors import MatrixError
from matrix.results import findings, merge, sources, store
from matrix.results.record import Outcome, Record
from matrix.search import pins

FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_names = itertools.count()

# ------------------------------------------------------------ values of every type

KEYS = [
    "name",
    "version",
    "source",
    "package",
    "project",
    "tool",
    "poetry",
    "dependencies",
    "dev-dependencies",
    "group",
    "optional-dependencies",
    "dependency-groups",
    "metadata",
    "python",
    "requires-python",
    "python-versions",
    "editable",
    "virtual",
    "axes",
    "profiles",
    "cell",
    "exclude",
    "reruns",
    "timeout",
    "pass-env",
    "suite",
    "pytest",
    "pytest-asyncio",
    "playwright",
    "pytest-playwright",
    "pytest-playwright-asyncio",
    "pytest-cov",
    "coverage",
    "variants",
    "description",
    "quick",
    "full",
    "schema",
    "cells",
    "cell_id",
    "scenario",
    "outcome",
    "kind",
    "started_at",
    "taken_at",
    "since",
    "index",
    "distributions",
    "skipped",
    "requires",
    "uploaded",
    "requires_python",
    "title",
    "number",
    "state",
    "labels",
    "body",
    "records",
    "axis",
    "points",
]
TEXTS = st.one_of(
    st.sampled_from(
        [
            "",
            "3.13",
            "8.4.2",
            "1.2.0",
            ">=8,<9",
            "^0.7",
            "*",
            "x",
            "pytest",
            "pass",
            "bug",
            "control",
            "2026-01-31T04:17:00Z",
            "py3.13-pytest8.4.2",
            "bisect",
            "explain",
            "open",
            "\\",
            "\x1b[2J",
            "\ud800",
            "../../etc",
            "1.0 || 2.0",
        ]
    ),
    st.text(max_size=20),
)
SCALARS = st.one_of(
    TEXTS, st.integers(-2, 2**65), st.floats(allow_nan=True), st.booleans(), st.none()
)


def json_values(keys: list[str] = KEYS) -> st.SearchStrategy[Any]:
    """JSON-like values: scalars, and lists and objects of them, keys mostly known ones."""
    return st.recursive(
        SCALARS,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(
                st.one_of(st.sampled_from(keys), st.text(max_size=8)), inner, max_size=5
            ),
        ),
        max_leaves=20,
    )


def toml_key(key: str) -> str:
    return key if key and all(c.isalnum() or c in "-_" for c in key) else json.dumps(key)


def toml_value(value: Any) -> str:
    """``value`` as TOML (None has no TOML form: an empty inline table stands for it)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(max(min(value, 2**63 - 1), -(2**63)))
    if isinstance(value, float):
        return (
            "nan"
            if math.isnan(value)
            else ("inf" if value > 0 else "-inf")
            if math.isinf(value)
            else repr(value)
        )
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string, escapes and all
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    return "{}"


def toml_document(data: dict[str, Any]) -> str:
    """A TOML document: tables as ``[name]`` sections and lists of tables as ``[[name]]``,
    everything else inline."""
    lines, sections = [], []
    for key, value in data.items():
        if isinstance(value, dict):
            sections.append(
                f"[{toml_key(key)}]\n"
                + "".join(f"{toml_key(k)} = {toml_value(v)}\n" for k, v in value.items())
            )
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            sections += [
                f"[[{toml_key(key)}]]\n"
                + "".join(f"{toml_key(k)} = {toml_value(v)}\n" for k, v in item.items())
                for item in value
            ]
        else:
            lines.append(f"{toml_key(key)} = {toml_value(value)}\n")
    return "".join(lines) + "\n".join(sections)


TOML_TABLES = st.dictionaries(st.sampled_from(KEYS), json_values(), max_size=6)
#: A document as a tool writes it, or one cut, garbled or of bytes that are no text.
TOML_TEXT = st.one_of(
    TOML_TABLES.map(toml_document),
    st.tuples(TOML_TABLES.map(toml_document), st.integers(0, 200)).map(lambda t: t[0][: t[1]]),
    st.text(max_size=60),
)


def write(folder: Path, name: str, text: str | bytes) -> Path:
    """``text`` as the file ``name`` in a folder of its own (a new one per example: the
    snapshot reader remembers what it read by path, time and size)."""
    path = folder / str(next(_names)) / name
    path.parent.mkdir(parents=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
    return path


def one_sentence_or_result(reader, *args) -> Any:
    """What ``reader`` returns, or None after checking that what it raised is one sentence."""
    try:
        return reader(*args)
    except MatrixError as exc:
        assert str(exc) and "\n" not in str(exc), repr(str(exc))
        assert isinstance(exc.return_code, int) and exc.return_code not in (0, 1)
        return None


RECORD = a_record().to_json()
#: A record with some fields replaced by any value, some left out, some added.
RECORD_LIKE = st.tuples(
    st.dictionaries(st.sampled_from(sorted(RECORD)), json_values(), max_size=4),
    st.sets(st.sampled_from(sorted(RECORD)), max_size=3),
    st.dictionaries(st.text(max_size=6), SCALARS, max_size=2),
).map(lambda t: {**{k: v for k, v in RECORD.items() if k not in t[1]}, **t[0], **t[2]})
ANY_JSON_TEXT = st.one_of(
    json_values().map(json.dumps), RECORD_LIKE.map(json.dumps), st.text(max_size=40)
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


# ------------------------------------------------------------ the definition


@FUZZ
@given(text=TOML_TEXT)
def test_a_definition_gives_a_profile_or_one_sentence(folder, text) -> None:
    one_sentence_or_result(definition.load, write(folder, "matrix.toml", text))


# ------------------------------------------------------------ pins, in every format check reads

REQUIREMENT_LINES = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "pytest==8.4.2",
                "pytest-asyncio>=0.17",
                "playwright",
                "-r other.txt",
                "-c constraints.txt",
                "-r /proc/self/environ",
                "-r ../x.txt",
                "-e .",
                "./local",
                "file:///x",
                "x @ https://h/x.whl",
                "--hash=sha256:ab",
                "--index-url https://u:p@h/simple",
                "# comment",
                "\\",
                "-r",
                "-c /",
                "pytest==8.4.2 \\",
                "  --hash=sha256:ab \\",
                "pytest[",
                "==1",
                ";",
                "pytest ; python_version < '3.9'",
            ]
        ),
        st.text(max_size=30),
    ),
    max_size=8,
).map("\n".join)


@FUZZ
@given(
    name=st.sampled_from(["uv.lock", "poetry.lock", "pdm.lock", "pyproject.toml"]),
    text=TOML_TEXT,
    python_version=st.one_of(st.none(), st.text(max_size=6)),
)
def test_a_lock_or_pyproject_gives_pins_or_one_sentence(folder, name, text, python_version) -> None:
    path = write(folder, name, text)
    if python_version is not None:
        (path.parent / ".python-version").write_text(python_version, errors="surrogatepass")
    one_sentence_or_result(pins.read, path)


@FUZZ
@given(text=REQUIREMENT_LINES, other=REQUIREMENT_LINES)
def test_a_requirements_file_gives_pins_or_one_sentence(folder, text, other) -> None:
    path = write(folder, "requirements.txt", text)
    (path.parent / "other.txt").write_text(other, errors="surrogatepass")
    (path.parent / "constraints.txt").write_text(other, errors="surrogatepass")
    one_sentence_or_result(pins.read, path, None, frozenset({"u:p", "sha256"}))


# ------------------------------------------------------------ records, findings, plans


@FUZZ
@given(lines=st.lists(ANY_JSON_TEXT, max_size=6))
def test_records_are_read_or_skipped_by_line(lines) -> None:
    text = "\n".join(lines)
    records, skipped = store.parse(text)
    assert all(isinstance(r, Record) for r in records)
    assert all(isinstance(n, int) and isinstance(e, Exception) for n, e in skipped)
    if not text.lstrip().startswith("["):  # JSON Lines: each line a record or skipped
        assert len(records) + len(skipped) == sum(bool(ln.strip()) for ln in text.split("\n"))
    for line in lines:
        kind, _ = store.understand(line)
        assert kind in ("record", "foreign", "bad")


FINDING = st.tuples(
    st.sampled_from(["bisect", "explain"]),
    st.dictionaries(st.sampled_from(KEYS), json_values(), max_size=6),
)


@FUZZ
@given(
    kind=st.sampled_from(["bisect", "explain"]),
    lines=st.lists(
        st.one_of(FINDING.map(lambda t: json.dumps({"kind": t[0], **t[1]})), ANY_JSON_TEXT),
        max_size=5,
    ),
)
def test_findings_are_read_or_skipped_with_a_warning(folder, kind, lines) -> None:
    path = write(folder, f"{kind}.jsonl", "\n".join(lines))
    found, warnings = findings.read_findings(path, kind)
    assert all(isinstance(w, str) and "\n" not in w for w in warnings)


@FUZZ
@given(
    plan=st.one_of(
        json_values(["cells", "cell_id", "profile", "run_id"]).map(json.dumps),
        st.lists(
            st.dictionaries(
                st.sampled_from(["cell_id", "probe", "pins"]), json_values(), max_size=3
            ),
            max_size=3,
        ).map(lambda cells: json.dumps({"cells": cells})),
        st.text(max_size=30),
    )
)
def test_merge_reads_a_plan_or_says_it_is_none(folder, plan) -> None:
    shard = folder / f"shard-{next(_names)}"
    store.append(shard, a_record())
    (shard / "plan.json").write_text(plan, errors="surrogatepass")
    one_sentence_or_result(merge.merge, [shard], folder / f"out-{next(_names)}")


# ------------------------------------------------------------ published results, --from


@FUZZ
@given(
    items=st.lists(st.one_of(RECORD_LIKE, json_values()), max_size=5),
    cut=st.one_of(st.none(), st.integers(0, 400)),
)
def test_a_published_results_json_is_read_merged_or_one_sentence(folder, items, cut) -> None:
    text = json.dumps(items)[:cut]
    path = write(folder, "results.json", text)
    one_sentence_or_result(sources.load, str(path), None)
    merged = one_sentence_or_result(merge.merge, [path], folder / f"out-{next(_names)}")
    if merged is not None and cut is None:  # whole: every item understood or kept
        assert merged.records <= len(items)


# ------------------------------------------------------------ regressions --existing

ISSUES = st.lists(
    st.dictionaries(
        st.sampled_from(["number", "title", "state", "labels", "body", "url"]),
        json_values(),
        max_size=5,
    ),
    max_size=4,
)


@settings(
    FUZZ, suppress_health_check=[*FUZZ.suppress_health_check, HealthCheck.function_scoped_fixture]
)  # read each time
@given(
    existing=st.one_of(ISSUES.map(json.dumps), json_values().map(json.dumps), st.text(max_size=30))
)
def test_regressions_existing_gives_a_plan_or_one_sentence(folder, existing, capsys) -> None:
    current = folder / "current"
    if not current.exists():
        store.append(
            current,
            a_record(
                outcome=Outcome.BUG,
                signature="loop-already-running",
                message="RuntimeError: This event loop is already running",
            ),
        )
    path = write(folder, "existing.json", existing)
    code = main(
        [
            "regressions",
            "--previous",
            str(folder / "none"),
            "--current",
            str(current),
            "--existing",
            str(path),
        ]
    )
    err = capsys.readouterr().err
    assert code in (0, 2) and "Traceback" not in err


# ------------------------------------------------------------ release snapshots

SNAPSHOT = releases.load().to_json()
RELEASE_LIKE = st.dictionaries(
    st.sampled_from(["version", "uploaded", "requires_python", "requires"]),
    json_values(),
    max_size=4,
)
SNAPSHOT_LIKE = st.tuples(
    st.dictionaries(
        st.sampled_from(["schema", "taken_at", "since", "index", "distributions", "skipped"]),
        json_values(),
        max_size=3,
    ),
    st.dictionaries(
        st.sampled_from(["pytest", "playwright"]), st.lists(RELEASE_LIKE, max_size=3), max_size=2
    ),
).map(
    lambda t: {
        **{k: v for k, v in SNAPSHOT.items() if k != "distributions"},
        "distributions": t[1],
        **t[0],
    }
)


@FUZZ
@given(
    text=st.one_of(
        SNAPSHOT_LIKE.map(json.dumps), json_values().map(json.dumps), st.text(max_size=30)
    )
)
def test_a_release_snapshot_is_read_or_one_sentence(folder, text) -> None:
    snapshot = one_sentence_or_result(releases.load, write(folder, "releases.json", text))
    if snapshot is not None:  # what planning asks of it works too
        for dist in snapshot.distributions:
            for release in snapshot.releases(dist):
                release.allows_python("3.13")
                release.requirement("pytest", "3.13")
