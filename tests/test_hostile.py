"""Hostile records: every command that reads results survives them, names what it skipped,
and keeps every whole record.

``tests/data/hostile/results.jsonl`` holds 36 hostile lines (lines 4 to 39) between ten
records that are whole: real ones of the golden run, and four that are valid but meant to
hurt (a 50,000-character message and a 1,000-character signature, HTML and a script
end in a cell id and a message with a log path leaving the folder, unknown versions and
an unknown key, a null ``tests``). The hostile lines: a line that is not UTF-8; type-wrong
fields one by one (``attempt: "x"``, ``cell_id`` null, a number or empty,
``duration_s: "slow"``, -1, NaN or Infinity, ``started_at: 123`` or ``"yesterday"``,
``tests.passed: "x"``, ``tests`` a list, ``message`` an object, ``signature`` and
``scenario`` lists, a list inside ``requested``, ``resolved`` a string, ``attempt`` 0 or
``true``, ``python`` a number, ``log`` an object, ``schema`` a string, ``run_id`` null,
``repro`` a number); a lone surrogate ``\\ud800`` in a message and in a key; an unknown or
missing outcome; a list, a string and ``null`` instead of an object; text that is not
JSON; JSON nested 100,000 deep; a line cut mid-write.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from matrix.__main__ import main
from matrix.results import store
from matrix.results.record import MAX_RECORD_MESSAGE, Record

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ROOT / "tests/data/hostile"
SMALL = ROOT / "tests/data/small.toml"
SKIPPED = set(range(4, 40))
KEPT = 10
SIGNATURE = "loop-another-running"
ERROR = "RuntimeError: Cannot run the event loop while another loop is running"


@pytest.fixture
def hostile(tmp_path, monkeypatch) -> Path:
    """A copy of the hostile results folder, in force as ``MATRIX_OUT``."""
    folder = tmp_path / "results"
    shutil.copytree(HOSTILE, folder)
    monkeypatch.setenv("MATRIX_OUT", str(folder))
    monkeypatch.setenv("MATRIX_CONFIG", str(SMALL))
    monkeypatch.delenv("MATRIX_PROFILE", raising=False)
    return folder


def test_every_hostile_line_is_skipped_and_every_whole_record_kept() -> None:
    records, skipped = store.scan(HOSTILE / store.RESULTS)
    assert len(records) == KEPT and len(skipped) >= 25
    assert {number for number, _ in skipped} == SKIPPED
    longest = max(records, key=lambda r: len(r.message or ""))
    assert len(longest.message) < MAX_RECORD_MESSAGE + 60 and longest.message.endswith(
        "more characters in the log)"
    )


@pytest.mark.parametrize(
    "field, value, reason",
    [
        ("attempt", "x", "attempt is str 'x', not a whole number >= 1"),
        ("cell_id", None, "cell_id is NoneType None, not text"),
        ("duration_s", "slow", "duration_s is str 'slow', not a number of seconds"),
        ("started_at", 123, "started_at is int 123, not text"),
        ("tests", {"passed": "x"}, "tests.passed is str 'x', not a whole number >= 0"),
        ("message", "\ud800", "message holds a lone surrogate, not text"),
        ("outcome", "exploded", "outcome is str 'exploded', not one of pass, bug"),
    ],
)
def test_a_type_wrong_field_is_named(field, value, reason) -> None:
    [record, *_] = store.scan(HOSTILE / store.RESULTS)[0]
    with pytest.raises(ValueError, match=reason.replace("(", r"\(").replace("[", r"\[")):
        Record.from_json({**record.to_json(), field: value})


def test_the_warning_names_the_file_the_line_and_the_field(hostile, capsys) -> None:
    assert len(store.read(hostile)) == KEPT
    err = capsys.readouterr().err
    assert f"{hostile / store.RESULTS} line 5 is not a whole record (attempt is str 'x'" in err
    assert err.count("is not a whole record") == len(SKIPPED)


def test_report_builds_the_page_and_lists_what_it_skipped(hostile, capsys) -> None:
    assert main(["report"]) == 0
    page = (hostile / "site" / "index.html").read_text(encoding="utf-8")
    for number in SKIPPED:
        assert f"results.jsonl line {number}: skipped" in page
    assert "duration_s is str &#39;slow&#39;, not a number of seconds" in page
    assert "x" * (MAX_RECORD_MESSAGE + 1) not in page and "y" * 600 not in page  # capped
    assert "<script>alert" not in page  # escaped, never markup
    assert (hostile / "site" / "results.json").read_text().count('"cell_id"') == KEPT


def test_merge_keeps_every_whole_record_and_nothing_else(hostile, tmp_path, capsys) -> None:
    out = tmp_path / "merged"
    assert main(["merge", "--out", str(out), str(hostile)]) == 0
    records, skipped = store.scan(out / store.RESULTS)
    # the line with an outcome a newer version may write is kept as it was, not understood
    [(_, unknown)] = skipped
    assert len(records) == KEPT and "'exploded'" in str(unknown)
    assert f"{KEPT + 1} records" in capsys.readouterr().out  # the command's answer


def test_status_prints_every_planned_cell(hostile, capsys) -> None:
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert out.count(": not run") == 4  # small.toml's four cells; the hostile file has none


def test_whence_names_the_signature_and_where_it_was_seen(hostile, capsys) -> None:
    assert main(["whence", ERROR, "--results", str(hostile)]) == 0
    out = capsys.readouterr().out
    assert SIGNATURE in out


def test_regressions_plan_from_hostile_runs(hostile, capsys) -> None:
    assert main(["regressions", "--previous", str(hostile), "--current", str(hostile)]) == 0


@pytest.mark.integration
def test_report_merge_and_whence_survive_as_real_processes(tmp_path) -> None:
    folder = tmp_path / "results"
    shutil.copytree(HOSTILE, folder)
    env = {**os.environ, "MATRIX_OUT": str(folder), "MATRIX_CONFIG": str(SMALL)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "matrix", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    report = run("report")
    assert report.returncode == 0 and "Traceback" not in report.stderr, report.stderr[-2000:]
    assert (folder / "site" / "index.html").stat().st_size > 0
    merged = run("merge", "--out", str(tmp_path / "merged"), str(folder))
    assert merged.returncode == 0, merged.stderr[-2000:]
    assert f"{folder / store.RESULTS} line 5 is not a whole record" in merged.stderr
    assert len(store.read(tmp_path / "merged")) == KEPT
    mode = stat.S_IMODE((tmp_path / "merged" / store.RESULTS).stat().st_mode)
    assert mode == 0o666 & ~_umask()
    found = run("whence", ERROR)
    assert found.returncode == 0 and SIGNATURE in found.stdout, found.stderr[-2000:]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
