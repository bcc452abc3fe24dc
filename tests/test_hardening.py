"""Hardening: bad input and a broken machine give one sentence, a documented exit code,
and lose nothing. Pure validation is tested in-process; exit codes through real
``python -m matrix`` processes (marked integration); a full disk on a real small tmpfs."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from record_fixtures import a_bug_record

from matrix import fetch, log, masking
from matrix.cli import main
from matrix.define import definition, plan, scenarios
from matrix.define.cell import Cell
from matrix.errors import ConfigError, MatrixError, OutputError
from matrix.measure import suite
from matrix.publish import regress, site
from matrix.results import findings, merge, sources, store
from matrix.results.record import Outcome, Record
from matrix.search import pins

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests/data"
CELL = '[[cell]]\npython = "3.13"\npytest = "8.4.2"\n'


def load_text(tmp_path: Path, text: str | bytes) -> definition.Profile:
    path = tmp_path / "m.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return definition.load(path)


# ------------------------------------------------------------ the definition (unit)


@pytest.mark.parametrize(
    "text, says",
    [
        ("reruns = inf\n" + CELL, "reruns = inf in the file must be a whole number"),
        ("reruns = nan\n" + CELL, "reruns = nan in the file must be a whole number"),
        ("reruns = 1.5\n" + CELL, "must be a whole number"),
        ("reruns = -1\n" + CELL, "must be a whole number"),
        ("timeout = 0\n" + CELL, "timeout = 0 in the file must be a positive number"),
        ("timeout = nan\n" + CELL, "timeout = nan in the file must be a positive number"),
        ("timeout = inf\n" + CELL, "must be a positive number"),
        ("[profiles]\n", "[profiles] holds no profile"),
        ("profiles = 5\n", "[profiles] holds no profile"),
        ("[profiles]\nquick = 5\n", "profiles.quick must be a table"),
        ('[[cell]]\npython = "3.13"\n', "pins only python; pin at least one distribution"),
        ('[axes]\npython = ["3.12", "3.13"]\n', "the axes of the file pin only python"),
        ('[[cell]]\npython = "3.12\\n"\npytest = "8.4.2"\n', 'write it as "3.12"'),
        ('[[cell]]\npython = "3.13"\npytest = "8.4.2\\n"\n', 'write it as "8.4.2"'),
        ('[[cell]]\npython = "3.13"\npytest = "v8.4.2"\n', 'write it as "8.4.2"'),
        ('[axes]\npython = ["3.13"]\npytest = ["latest\\n"]\n', "malformed version 'latest\\n'"),
        (
            '[[cell]]\npython = "3.13"\npytest_asyncio = "0.24.0"\npytest-asyncio = "1.2.0"\n',
            "'pytest_asyncio' and 'pytest-asyncio' in [[cell]] #1 of the file name the same",
        ),
        (
            CELL + '[[exclude]]\npytest = "8.4.x"\n',
            "pytest = '8.4.x' in [[exclude]] #1 of the file is neither a version",
        ),
        (CELL + "[[exclude]]\npytest = 8\n", "must be a quoted pattern"),
        (CELL + "[[exclude]]\npytest = []\n", "must be a quoted pattern"),
        (CELL + '[[exclude]]\npytest = "latest"\n', "is neither a version"),
    ],
)
def test_a_wrong_definition_is_one_sentence_naming_file_and_key(tmp_path, text, says) -> None:
    with pytest.raises(ConfigError) as err:
        load_text(tmp_path, text)
    assert says in str(err.value) and str(tmp_path / "m.toml") in str(err.value)
    assert err.value.return_code == 2 and "\n" not in str(err.value).replace("\\n", "")


def test_a_config_that_is_a_folder_or_not_utf8_is_one_sentence(tmp_path) -> None:
    with pytest.raises(ConfigError, match="is a folder; give MATRIX_CONFIG a TOML file"):
        definition.load(tmp_path)
    with pytest.raises(ConfigError, match=r"is not UTF-8 text \(byte 29\); save it as UTF-8"):
        load_text(tmp_path, b'reruns = 1\ndescription = "caf\xe9"\n' + CELL.encode())


def test_reruns_and_timeout_in_range_are_kept(tmp_path) -> None:
    profile = load_text(tmp_path, "reruns = 3\ntimeout = 0.5\n" + CELL)
    assert (profile.reruns, profile.timeout) == (3, 0.5)


def test_an_exclusion_list_excludes_any_of_its_values(tmp_path) -> None:
    profile = load_text(
        tmp_path,
        '[axes]\npython = ["3.11", "3.12", "3.13"]\npytest = ["8.4.2"]\n'
        '[[exclude]]\npython = ["3.11", "3.12"]\n',
    )
    assert [c.id for c in plan.build(profile).cells] == ["py3.13-pytest8.4.2"]


def test_an_axes_row_with_every_distribution_none_is_not_run(tmp_path) -> None:
    profile = load_text(tmp_path, '[axes]\npython = ["3.13"]\npytest = ["8.4.2", "none"]\n')
    built = plan.build(profile)
    assert [c.id for c in built.cells] == ["py3.13-pytest8.4.2"]
    [(cell, reason)] = built.incompatible
    assert cell.id == "py3.13" and "pins no distribution" in reason


# ------------------------------------------------------------ a user's suite (unit)


def make_suite(root: Path, pyproject: str = "") -> Path:
    (root / "tests").mkdir(parents=True)
    (root / "tests" / "test_a.py").write_text("def test_a():\n    pass\n")
    if pyproject:
        (root / "pyproject.toml").write_text(pyproject)
    return root


@pytest.mark.parametrize(
    "pyproject, says",
    [
        ("[project]\nname = 5\n", "project.name must be a quoted name"),
        (
            '[project]\nname = "x"\ndependencies = "requests"\n',
            'project.dependencies must be a list of strings (write dependencies = ["requests"])',
        ),
        ('project = "x"\n', "project must be a table, not str"),
        (
            '[project]\nname = "x"\n[project.optional-dependencies]\ntest = "pytest"\n',
            "project.optional-dependencies.test must be a list of strings",
        ),
        (
            '[dependency-groups]\ntest = "pytest"\n',
            "dependency-groups.test must be a list of strings",
        ),
        ("tool = 3\n", "tool must be a table"),
    ],
)
def test_a_wrong_suite_pyproject_is_one_sentence(tmp_path, pyproject, says) -> None:
    root = make_suite(tmp_path / "proj", pyproject)
    (root / "conftest.py").unlink(missing_ok=True)
    with pytest.raises(suite.NotASuite) as err:
        suite.load(root)
    assert says in str(err.value) and err.value.return_code == 6


@pytest.mark.parametrize(
    "link, to, says",
    [
        ("tests/back", "..", "loops"),  # a folder link to the folder above it
        ("tests/self", "self", "loops"),  # a link to itself
        ("tests/gone", "missing", "leads nowhere"),
    ],
)
def test_a_link_loop_in_a_suite_is_found_when_it_is_read(tmp_path, link, to, says) -> None:
    root = make_suite(tmp_path / "proj")
    (root / link).symlink_to(to)
    with pytest.raises(suite.NotASuite, match=f"{root / link} is a link that {says}"):
        suite.load(root)


def test_links_that_do_not_loop_are_fine(tmp_path) -> None:
    root = make_suite(tmp_path / "proj")
    (root / "shared").mkdir()
    (root / "shared" / "helpers.py").write_text("X = 1\n")
    (root / "tests" / "shared").symlink_to("../shared")
    assert suite.load(root).name == "proj"


def test_a_suite_asked_only_for_its_control_runs_only_its_control(tmp_path) -> None:
    the_suite = suite.load(make_suite(tmp_path / "proj"))
    cell = Cell.make("3.13", {"pytest": "8.4.2"}, suite=the_suite.key)
    assert [s.name for s in scenarios.for_cell(cell, ("control",), the_suite)] == ["control"]
    # browser tests are found when the suite is collected; the runner drops these without any
    assert [s.name for s in scenarios.for_cell(cell, scenarios.NAMES, the_suite)] == [
        "control",
        "as-is",
        "e2e-first",
        "e2e-last",
        "isolated",
    ]


# ------------------------------------------------------------ atomic outputs (unit)


def test_a_site_that_fails_to_write_leaves_the_previous_page_whole(tmp_path, monkeypatch) -> None:
    """The simulated ENOSPC at the write call (the tmpfs test below is the real one)."""
    from site_fixtures import results_folder

    from matrix.publish import site

    folder = results_folder(tmp_path, "run1")
    out = site.build(folder, tmp_path / "site").parent
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (out / "CNAME").write_text("matrix.example.org\n")  # not the build's: carried over
    real = Path.write_text

    def full(self, data, *args, **kwargs):
        if self.name == "plotly.min.js":
            real(self, data[: len(data) // 2], *args, **kwargs)  # cut, like a full disk does
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real(self, data, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(OutputError, match="no space left on the device while writing the site"):
        site.build(folder, out)
    monkeypatch.undo()
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == {**before, Path("CNAME"): b"matrix.example.org\n"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results-run1", "site"]  # no stage left
    site.build(folder, out)
    assert (out / "CNAME").read_text() == "matrix.example.org\n"


def test_a_build_that_was_killed_leaves_nothing_after_the_next_one(tmp_path) -> None:
    from site_fixtures import results_folder

    from matrix.publish import site

    folder = results_folder(tmp_path, "run1")
    dead = 2**22 + 1  # above the default pid_max: no such process
    for name in (f".site.building-{dead}", f".site.old-{dead}", f".site.building-{os.getpid()}"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "index.html").write_text("half")
    site.build(folder, tmp_path / "site")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results-run1", "site"]


# ------------------------------------------------------------ real processes


def matrix(*args: str, cwd: Path = ROOT, **env_vars: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATRIX_")}
    env.update(env_vars)
    done = subprocess.run(
        [sys.executable, "-m", "matrix", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return done.returncode, done.stderr


def one_sentence(err: str) -> str:
    """The error line, after checking it is the only one and no traceback came with it."""
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1, err
    return lines[0]


def config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "m.toml"
    path.write_text(
        f'reruns = 0\n{extra}[axes]\npython = ["3.13"]\npytest = ["8.4.2"]\n'
        'pytest-asyncio = ["1.2.0"]\n'
    )
    return path


def nothing_built(envs: Path) -> bool:
    return not envs.exists() or not any(envs.iterdir())


@pytest.mark.integration
@pytest.mark.parametrize(
    "case, code, says",
    [
        ("reruns = inf", 2, "reruns = inf in the file must be a whole number"),
        ("[profiles]", 2, "[profiles] holds no profile"),
        ("folder", 2, "is a folder; give MATRIX_CONFIG a TOML file"),
        ("latin-1", 2, "is not UTF-8 text"),
        ("name = 5", 6, "project.name must be a quoted name"),
        ('dependencies = "requests"', 6, "project.dependencies must be a list of strings"),
        ("link loop", 6, "is a link that loops"),
    ],
)
def test_bad_input_is_one_sentence_and_its_exit_code_before_any_env(
    tmp_path, case, code, says
) -> None:
    envs, out = tmp_path / "envs", tmp_path / "out"
    cfg, extra = config(tmp_path), {}
    if case in ("reruns = inf", "[profiles]"):
        cfg.write_text(f"{case}\n" + (CELL if case != "[profiles]" else ""))
    elif case == "folder":
        cfg = tmp_path
    elif case == "latin-1":
        cfg.write_bytes('description = "café"\n'.encode("latin-1") + cfg.read_bytes())
    else:
        root = make_suite(
            tmp_path / "proj",
            {
                "name = 5": "[project]\nname = 5\n",
                'dependencies = "requests"': '[project]\nname = "p"\ndependencies = "requests"\n',
            }.get(case, ""),
        )
        if case == "link loop":
            (root / "tests" / "loop").symlink_to("..")
        extra["MATRIX_SUITE"] = str(root)
    returned, err = matrix(
        "run", MATRIX_CONFIG=str(cfg), MATRIX_OUT=str(out), MATRIX_ENVS=str(envs), **extra
    )
    assert says in one_sentence(err) and returned == code
    assert nothing_built(envs) and not out.exists()


@pytest.mark.integration
def test_matrix_out_a_file_is_one_sentence_and_exit_7(tmp_path) -> None:
    out = tmp_path / "out"
    out.write_text("my notes\n")
    returned, err = matrix(
        "run",
        MATRIX_CONFIG=str(config(tmp_path)),
        MATRIX_OUT=str(out),
        MATRIX_ENVS=str(tmp_path / "envs"),
    )
    assert f"{out} is a file where a folder is needed" in one_sentence(err) and returned == 7
    assert out.read_text() == "my notes\n" and nothing_built(tmp_path / "envs")


@contextlib.contextmanager
def read_only(path: Path):
    """``path`` cannot be written, even by root (a read-only bind mount), else by mode."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        yield
        return
    subprocess.run(["mount", "--bind", path, path], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", path, path], check=True)
        yield
    finally:
        subprocess.run(["umount", path], check=True)


@pytest.mark.integration
def test_a_read_only_results_file_is_found_before_any_env(tmp_path) -> None:
    out, envs = tmp_path / "out", tmp_path / "envs"
    out.mkdir()
    kept = (DATA / "records-run1.jsonl").read_text()
    (out / "results.jsonl").write_text(kept)
    with read_only(out / "results.jsonl"):
        returned, err = matrix(
            "run", MATRIX_CONFIG=str(config(tmp_path)), MATRIX_OUT=str(out), MATRIX_ENVS=str(envs)
        )
    assert "results.jsonl cannot be written" in one_sentence(err) and returned == 7
    assert (out / "results.jsonl").read_text() == kept
    assert nothing_built(envs) and not (out / "logs").exists() and not (out / "plan.json").exists()


@pytest.fixture
def tmpfs(tmp_path):
    """A real 24 MB tmpfs to fill up; skipped where mounting is not allowed."""
    where = tmp_path / "disk"
    where.mkdir()
    if (
        os.geteuid() != 0
        or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", where]).returncode
    ):
        pytest.skip("mounting a tmpfs needs root")
    yield where
    subprocess.run(["umount", where], check=True)


def fill(disk: Path, leave: int = 0) -> None:
    """Fill ``disk`` up, then free ``leave`` bytes."""
    with (disk / "filler").open("wb", buffering=0) as f:
        with contextlib.suppress(OSError):
            while True:
                f.write(b"\0" * 65536)
    if leave:
        os.truncate(disk / "filler", max(0, (disk / "filler").stat().st_size - leave))


@pytest.mark.integration
def test_a_full_disk_before_the_run_is_one_sentence_and_keeps_the_records(tmpfs, tmp_path) -> None:
    out, envs = tmpfs / "out", tmp_path / "envs"
    out.mkdir()
    kept = (DATA / "records-run1.jsonl").read_text()
    (out / "results.jsonl").write_text(kept)
    fill(tmpfs)
    returned, err = matrix(
        "run", MATRIX_CONFIG=str(config(tmp_path)), MATRIX_OUT=str(out), MATRIX_ENVS=str(envs)
    )
    assert "no space left on the device" in one_sentence(err) and returned == 7
    assert (out / "results.jsonl").read_text() == kept
    assert nothing_built(envs) and sorted(p.name for p in out.iterdir()) == ["results.jsonl"]


@pytest.mark.integration
def test_a_disk_that_fills_up_mid_run_is_one_sentence_and_keeps_the_records(
    tmpfs, tmp_path
) -> None:
    out = tmpfs / "out"
    out.mkdir()
    kept = (DATA / "records-run1.jsonl").read_text()
    (out / "results.jsonl").write_text(kept)
    fill(tmpfs, leave=3 * 4096)  # the check before the run passes; the logs do not fit
    returned, err = matrix(
        "run",
        MATRIX_CONFIG=str(config(tmp_path)),
        MATRIX_OUT=str(out),
        MATRIX_ENVS=str(tmp_path / "envs"),
    )
    assert "no space left on the device" in one_sentence(err) and returned == 7
    assert (out / "results.jsonl").read_text().startswith(kept)


@pytest.mark.integration
def test_a_full_disk_while_building_the_site_leaves_the_previous_page_whole(tmpfs) -> None:
    from site_fixtures import results_folder

    out = results_folder(tmpfs, "run1")
    returned, err = matrix("report", MATRIX_OUT=str(out))
    assert returned == 0, err
    site = out / "site"
    before = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    fill(tmpfs, leave=2 * 1024 * 1024)  # the exports fit, plotly.min.js (4.8 MB) does not
    returned, err = matrix("report", MATRIX_OUT=str(out))
    assert "no space left on the device while writing the site" in one_sentence(err)
    assert "previous page is left as it was" in err and returned == 7
    after = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    assert after == before
    assert not [p for p in out.iterdir() if p.name.startswith(".site")]  # no stage left


@pytest.mark.integration
def test_a_full_disk_while_writing_the_plan_leaves_no_temporary_file(tmpfs) -> None:
    profile = load_text(tmpfs.parent, CELL)
    previous = '{"cells": []}'
    (tmpfs / "plan.json").write_text(previous)
    fill(tmpfs)
    with pytest.raises(OutputError, match="no space left on the device while writing plan.json"):
        plan.write(plan.build(profile), tmpfs, "r1")
    assert sorted(p.name for p in tmpfs.iterdir()) == ["filler", "plan.json"]
    assert (tmpfs / "plan.json").read_text() == previous


def flaky_run(tmp_path: Path, reruns: int, fails: int) -> list:
    cfg = config(tmp_path)
    # the probe's own settings reach it only when the definition passes them on
    cfg.write_text(
        'pass-env = ["FLAKY_*"]\n' + cfg.read_text().replace("reruns = 0", f"reruns = {reruns}")
    )
    returned, err = matrix(
        "run",
        MATRIX_CONFIG=str(cfg),
        MATRIX_OUT=str(tmp_path / "out"),
        MATRIX_PROBES=str(DATA / "probes-flaky"),
        FLAKY_MARKER=str(tmp_path / "marker"),
        FLAKY_FAILS=str(fails),
    )
    assert returned == 0, err
    return store.read(tmp_path / "out")


@pytest.mark.integration
def test_reruns_3_gives_up_to_4_attempts(tmp_path) -> None:
    [record] = flaky_run(tmp_path, reruns=3, fails=99)
    assert (record.outcome, record.attempt) == (Outcome.FAIL, 4)
    logs = sorted(p.name for p in (tmp_path / "out" / record.log).parent.glob("control*.log"))
    assert logs == ["control.2.log", "control.3.log", "control.4.log", "control.log"]
    assert (tmp_path / "marker").read_text() == "4"


@pytest.mark.integration
def test_a_scenario_passing_on_its_last_rerun_is_flaky(tmp_path) -> None:
    kept, flaky = flaky_run(tmp_path, reruns=3, fails=3)
    assert (kept.outcome, kept.attempt) == (Outcome.FAIL, 3)
    assert (flaky.outcome, flaky.attempt) == (Outcome.FLAKY, 4)
    assert flaky.message == f"runs 1-3: fail ({kept.signature}); run 4: pass"


@pytest.mark.integration
def test_a_listing_cut_short_by_its_reader_ends_quietly(tmp_path) -> None:
    # `loop-compat list | head -1`: the reader closes the pipe; no traceback, exit 0.
    env = {**os.environ, "MATRIX_PROFILE": "full", "MATRIX_OUT": str(tmp_path)}
    proc = subprocess.run(
        f"{sys.executable} -m matrix list | head -1",
        shell=True,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.stdout.count("\n") == 1 and proc.stdout.startswith("py3.")
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr


# ------------------------------------------------------------ hostile input (issue 23)

ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x1b[H\r\x9b31m\u202e"


def no_control(text: str) -> bool:
    """Whether ``text`` holds no character a terminal would obey (newlines and tabs aside)."""
    return not any(
        unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") and c not in "\n\t" for c in text
    )


def test_every_logged_and_answered_line_shows_escapes_never_obeys_them(capsys) -> None:
    log.info(f"cell {ESCAPES}")
    log.warning(ESCAPES)
    log.answer(f"line one\n{ESCAPES}")
    out, err = capsys.readouterr()
    assert no_control(out) and no_control(err) and "\\x1b]0;pwned\\x07" in err
    assert out.startswith("line one\n")  # an answer keeps its lines


def test_a_crafted_record_reaches_issue_titles_and_bodies_escaped(tmp_path, capsys) -> None:
    bad = a_bug_record(
        cell_id=f"py3.13{ESCAPES}",
        signature=f"RuntimeError: x{ESCAPES}",
        message=f"RuntimeError: x{ESCAPES}",
    )
    actions = regress.plan([], [bad], [])
    assert actions and all(no_control(a.title) and "\n" not in a.title for a in actions)
    assert all(no_control(a.body) and no_control(a.to_json()["title"]) for a in actions)
    assert no_control(regress.render(actions))
    store.append(tmp_path, bad)
    assert (
        main(["regressions", "--previous", str(tmp_path / "none"), "--current", str(tmp_path)]) == 0
    )
    out, err = capsys.readouterr()
    assert no_control(out) and no_control(err)


def a_results_folder(folder: Path, *records: Record) -> Path:
    """A results folder holding ``records``, each log written where it points."""
    for record in records:
        store.append(folder, record)
        if record.log and not (folder / record.log).is_symlink():
            (folder / record.log).parent.mkdir(parents=True, exist_ok=True)
            (folder / record.log).write_text("a log\n")
    return folder


def test_no_link_is_followed_out_of_a_results_folder(tmp_path, capsys) -> None:
    outside = tmp_path / "outside"
    (outside / "home").mkdir(parents=True)
    (outside / "shadow").write_text("root:OUTSIDE-SECRET:19000::::::\n")
    (outside / "home" / "big.txt").write_text("OUTSIDE-HOME\n")
    source = a_results_folder(
        tmp_path / "results",
        a_bug_record(log="logs/c/control.log"),
        a_bug_record(scenario="e2e-first", log="logs/c/leak.log"),
        a_bug_record(scenario="e2e-last", log="logs/c/home/big.txt"),
    )
    (source / "logs/c/leak.log").unlink()
    (source / "logs/c/leak.log").symlink_to(outside / "shadow")
    shutil.rmtree(source / "logs/c/home")
    (source / "logs/c/home").symlink_to(outside / "home")
    (source / "logs/home").symlink_to(outside / "home")
    (source / "plan.json").symlink_to(outside / "shadow")
    merged = tmp_path / "merged"
    assert main(["merge", "--out", str(merged), str(source)]) == 0
    assert "leak.log is a link; links in a results folder are never followed" in (
        capsys.readouterr().err
    )
    copied = list(merged.rglob("*"))
    assert not any(p.is_symlink() for p in copied) and (merged / "logs/c/control.log").is_file()
    assert not any("OUTSIDE" in p.read_text() for p in copied if p.is_file())
    for folder in (source, merged):
        site_dir = site.build(folder, tmp_path / f"site-{folder.name}").parent
        published = [p for p in site_dir.rglob("*") if p.is_file()]
        assert not any("OUTSIDE" in p.read_text(errors="replace") for p in published)
        assert (site_dir / "logs/c/control.log").is_file()
        assert not (site_dir / "logs/c/leak.log").exists()
        assert not (site_dir / "logs/c/home").exists()


def test_merge_keeps_what_a_newer_version_wrote_byte_for_byte(tmp_path) -> None:
    out = a_results_folder(tmp_path / "out", a_bug_record())
    newer = [
        json.dumps({**a_bug_record(scenario="e2e-first").to_json(), "flavour": "new"}),
        json.dumps(
            {**a_bug_record(scenario="e2e-last").to_json(), "outcome": "sparkly"},
            indent=None,
            separators=(",", ":"),
        ),
        json.dumps({**a_bug_record(scenario="isolated").to_json(), "schema": 2}),
    ]
    with (out / store.RESULTS).open("a") as f:
        f.write("".join(line + "\n" for line in newer))
    source = a_results_folder(tmp_path / "shard", a_bug_record(cell_id="py3.12-pytest8.4.2"))
    result = merge.merge([source], out)
    lines = (out / store.RESULTS).read_text().splitlines()
    assert all(line in lines for line in newer) and len(lines) == 5
    assert result.not_understood == 3 and "3 records not understood" in str(result)
    merge.merge([source], out)  # again: nothing is rewritten or doubled
    assert (out / store.RESULTS).read_text().splitlines() == lines


@contextlib.contextmanager
def a_server(reply) -> Iterator[str]:
    """A server on 127.0.0.1 that answers every connection with ``reply(socket)``; yields
    the address of its results.jsonl."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn, contextlib.suppress(OSError):
                conn.recv(65536)
                reply(conn, stop)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/results.jsonl"
    finally:
        stop.set()
        listener.close()


def drip(conn, stop) -> None:
    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n")
    while not stop.wait(0.5):
        conn.sendall(b"[")


def drip_headers(conn, stop) -> None:
    conn.sendall(b"HTTP/1.0 200 OK\r\n")
    while not stop.wait(0.5):
        conn.sendall(b"X")


def sends(data: bytes):
    return lambda conn, stop: conn.sendall(data)


def test_from_a_dripping_server_ends_within_its_deadline_in_one_sentence(
    monkeypatch, capsys
) -> None:
    monkeypatch.setattr(fetch, "DEADLINE_S", 2.0)
    for reply in (drip, drip_headers):
        with a_server(reply) as url:
            started = time.monotonic()
            assert main(["whence", "RuntimeError: x", "--from", url]) == ConfigError.return_code
            assert time.monotonic() - started < 5
        err = capsys.readouterr().err
        assert "could not be fetched (no whole reply within 2 seconds)" in err
        assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    "reply, says",
    [
        (b"SSH-2.0-OpenSSH_9.6\r\n", "the reply is not HTTP"),
        (b'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{"a"', "the reply was cut short"),
        (b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n", "header line"),
        (b"HTTP/1.1 200 OK\r\n\r\n" + b"[" + b" " * (2 * 2**20), "larger than 1 MB"),
    ],
)
def test_a_wrong_or_large_reply_is_one_sentence(monkeypatch, capsys, reply, says) -> None:
    monkeypatch.setattr(fetch, "MAX_BYTES", 2**20)
    with a_server(sends(reply)) as url:
        assert main(["whence", "RuntimeError: x", "--from", url]) == ConfigError.return_code
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_provenance_of_the_wrong_shape_is_left_out(tmp_path) -> None:
    folder = a_results_folder(tmp_path / "r", a_bug_record())
    for wrong in ("[1, 2]", '{"machine": "x"}', "{", "[" * 100_000):
        (folder / "provenance.json").write_text(wrong)
        source = sources.load(str(folder / store.RESULTS), None)
        assert len(source.records) == 1 and source.describe().startswith("1 records")


def test_a_secret_split_across_reads_is_masked_before_it_is_written() -> None:
    secret = "s3cr3t-value-0123456789"
    data = (b"x" * (2**16 - 7) + secret.encode() + b"\n") * 3
    source, sink = io.BytesIO(data), io.BytesIO()
    masking.mask_stream(source, sink, frozenset({secret}))
    assert secret.encode() not in sink.getvalue() and sink.getvalue().count(b"***") == 3


CELL_THAT_PRINTS_ITS_ENV = """
import sys, pathlib
from matrix import masking
from matrix.measure import command
secrets = masking.secret_values({"API_TOKEN": sys.argv[2]})
child = "import os, time; print(os.environ['API_TOKEN'], 'print' + 'ed', flush=True); time.sleep(60)"
command.run([sys.executable, "-c", child], log=pathlib.Path(sys.argv[1]), secrets=secrets,
            env={"API_TOKEN": sys.argv[2]}, echo=False)
"""


@pytest.mark.integration
def test_a_log_holds_no_secret_while_its_cell_runs_and_after_a_sigkill(tmp_path) -> None:
    secret, log_file = "tok-9f8e7d6c5b4a", tmp_path / "scenario.log"
    cell = subprocess.Popen(
        [sys.executable, "-c", CELL_THAT_PRINTS_ITS_ENV, str(log_file), secret],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    seen, deadline = [], time.monotonic() + 60
    while time.monotonic() < deadline:
        text = log_file.read_text() if log_file.exists() else ""
        seen.append(text)
        if "*** printed" in text or secret in text:
            break
        time.sleep(0.005)
    cell.kill()  # SIGKILL: nothing after this point runs in the cell
    cell.wait()
    time.sleep(0.5)
    seen.append(log_file.read_text())
    assert "*** printed" in seen[-1]
    assert not any(secret in text for text in seen)


@pytest.mark.parametrize(
    "line", ["-r /proc/self/environ", "-c ../outside.txt", "-r sub/../../outside.txt"]
)
def test_check_reads_no_requirement_file_outside_the_project(tmp_path, line) -> None:
    (tmp_path / "outside.txt").write_text("OUTSIDE-CONTENT==1\n")
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text(f"pytest==8.4.2\n{line}\n")
    with pytest.raises(ConfigError, match="is outside .*never shown") as err:
        pins.read(project / "requirements.txt")
    assert "OUTSIDE" not in str(err.value) and "\n" not in str(err.value)


def test_a_suite_requirements_file_outside_the_suite_is_refused(tmp_path) -> None:
    (tmp_path / "shadow").write_text("root:OUTSIDE:19000\n")
    root = make_suite(tmp_path / "a" / "proj")
    with pytest.raises(suite.NotASuite, match="is outside") as err:
        suite.load(root, "../../shadow")
    assert "OUTSIDE" not in str(err.value)


def test_a_line_that_is_no_requirement_is_quoted_cut_short(tmp_path) -> None:
    (tmp_path / "requirements.txt").write_text("pytest==8.4.2\n" + "x" * 5000 + " ?? !\n")
    with pytest.raises(ConfigError) as err:
        pins.read(tmp_path / "requirements.txt")
    assert len(str(err.value)) < 250 and "line 2: not a requirement" in str(err.value)


def test_a_huge_requirements_file_is_refused_at_once(tmp_path) -> None:
    (tmp_path / "requirements.txt").write_text("pytest==8.4.2 \\\n" * 400_000)
    started = time.monotonic()
    with pytest.raises(ConfigError, match="larger than 1 MB"):
        pins.read(tmp_path / "requirements.txt")
    assert time.monotonic() - started < 1


DEEP = "[" * 100_000


@pytest.mark.parametrize(
    "name, text",
    [
        ("pyproject.toml", 'project = "x"\n'),
        ("pyproject.toml", 'tool = "x"\n'),
        ("pyproject.toml", '[project]\nname = "x"\noptional-dependencies = ["a"]\n'),
        ("pyproject.toml", '[tool.poetry]\ndependencies = ["pytest"]\n'),
        ("pyproject.toml", f"a = {DEEP}\n"),
        ("poetry.lock", 'metadata = "x"\n[[package]]\nname = "pytest"\nversion = "8.4.2"\n'),
        ("uv.lock", "package = 5\n"),
    ],
)
def test_a_pins_file_of_the_wrong_shape_is_one_sentence(tmp_path, name, text) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(ConfigError) as err:
        pins.read(tmp_path / name)
    assert str(tmp_path / name) in str(err.value) and "\n" not in str(err.value)


def test_an_unreadable_or_non_utf8_pins_input_says_so(tmp_path, monkeypatch) -> None:
    (tmp_path / "requirements.txt").write_text("pytest==8.4.2\n")
    (tmp_path / ".python-version").write_bytes(b"3.1\xff\n")
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        pins.read(tmp_path / "requirements.txt")
    (tmp_path / "uv.lock").write_text('[[package]]\nname = "pytest"\nversion = "8.4.2"\n')

    def refused(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_text", refused)  # root reads any file: refuse it here
    with pytest.raises(ConfigError, match="uv.lock cannot be read .Permission denied"):
        pins.read(tmp_path / "uv.lock")


def test_a_definition_or_finding_nested_too_deep_is_one_sentence(tmp_path) -> None:
    with pytest.raises(ConfigError, match="nested too deep"):
        load_text(tmp_path, f"reruns = {DEEP}\n")
    (tmp_path / "bisect.jsonl").write_text(DEEP + "\n")
    found, warnings = findings.read_findings(tmp_path / "bisect.jsonl", "bisect")
    assert found == [] and "line 1: skipped" in warnings[0]


@pytest.mark.parametrize("existing", [None, "{}", "[1]", '[{"title": "x"}]', DEEP])
def test_regressions_existing_missing_or_of_the_wrong_shape_is_exit_2(
    tmp_path, capsys, existing
) -> None:
    a_results_folder(tmp_path / "now", a_bug_record())
    path = tmp_path / "existing.json"
    if existing is not None:
        path.write_text(existing)
    code = main(
        [
            "regressions",
            "--previous",
            str(tmp_path / "none"),
            "--current",
            str(tmp_path / "now"),
            "--existing",
            str(path),
        ]
    )
    err = capsys.readouterr().err
    assert code == ConfigError.return_code and "--existing" in err and "Traceback" not in err


def test_merge_with_a_malformed_plan_is_one_sentence(tmp_path) -> None:
    source = a_results_folder(tmp_path / "shard", a_bug_record())
    for plan_text in ("{", '{"cells": 5}', '{"cells": [{"x": 1}]}', "[]", DEEP):
        (source / "plan.json").write_text(plan_text)
        with pytest.raises(ConfigError, match="is not a plan"):
            merge.merge([source], tmp_path / "out")


#: Inputs no reader may answer with a traceback: cut, nested, wrong types, bytes, escapes.
FUZZ = [
    "",
    "\x00",
    "{",
    "[",
    "[]",
    "{}",
    "5",
    '"x"',
    "null",
    DEEP,
    "{" * 50_000,
    "\xff\xfe",
    "a = 1\n",
    'a = "x"\n',
    "[a]\nb = [1, {c = 2}]\n",
    ESCAPES,
    '{"cell_id": [], "scenario": {}, "outcome": 5}',
    '{"kind": "bisect", "started_at": 5}',
    "package = [1, 2]\n",
    "[[package]]\nname = 5\n",
    "project = []\n",
    "-r\n",
    "-c /\n",
]


@pytest.mark.parametrize("text", FUZZ, ids=range(len(FUZZ)))
def test_every_reader_gives_a_result_or_one_sentence(tmp_path, text) -> None:
    (tmp_path / "m.toml").write_text(text, errors="surrogateescape")
    readers = [
        lambda: definition.load(tmp_path / "m.toml"),
        lambda: store.parse(text),
        lambda: findings.read_findings(tmp_path / "m.toml", "bisect"),
        lambda: findings.read_findings(tmp_path / "m.toml", "explain"),
        lambda: sources.load(str(tmp_path / "m.toml"), None),
    ]
    for name in ("uv.lock", "poetry.lock", "pdm.lock", "requirements.txt", "pyproject.toml"):
        folder = tmp_path / name.replace(".", "-")
        folder.mkdir()
        (folder / name).write_text(text, errors="surrogateescape")
        readers.append(lambda p=folder / name: pins.read(p))
    shard = a_results_folder(tmp_path / "shard", a_bug_record())
    (shard / "plan.json").write_text(text, errors="surrogateescape")
    readers.append(lambda: merge.merge([shard], tmp_path / "out"))
    for reader in readers:
        with contextlib.suppress(MatrixError):
            reader()


# ------------------------------------------------------------ values of the suites' environment

PROXY = "http://proxy-7f3a.corp.internal:3128"
NO_PROXY = "gitlab.corp-7f3a.internal,.svc.cluster.local"


def test_meaningful_values_of_the_suites_environment_are_masked_and_no_others() -> None:
    environ = {
        "HTTPS_PROXY": PROXY,
        "MATRIX_CHROMIUM": "/usr/bin/chromium",
        "PATH": "/usr/bin:/bin:~/.local/bin",
        "HOME": "/home/someone",
        "USER": "someone",
        "LANG": "en_US.UTF-8",
        "TERM": "xterm-256color",
        "PYENV_VERSION": "3.13.0 3.12.7",
        "COLORTERM": "truecolor",
        "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "headlessly",
        "DEPLOY_NAME": "team-west-2-prod",
        "NOT_PASSED": "elsewhere-2-prod",
    }
    environ["NO_PROXY"] = NO_PROXY
    assert masking.environment_values(environ) == {PROXY, NO_PROXY}
    assert masking.environment_values(environ, ["DEPLOY_*"]) == {
        PROXY,
        NO_PROXY,
        "team-west-2-prod",
    }
    from matrix import options

    settings = options.read(environ)
    assert PROXY in settings.secrets and "team-west-2-prod" in settings.masked(("DEPLOY_*",))


def test_a_line_that_is_no_requirement_is_masked_before_it_is_cut_short(
    tmp_path, monkeypatch, capsys
) -> None:
    # cut at 60 characters first, the line would end in the value's first 19 characters:
    # no longer the whole value, so the console could not find it to mask it
    (tmp_path / "requirements.txt").write_text("pytest==8.4.2\n" + "x" * 40 + f" {NO_PROXY} ??\n")
    with pytest.raises(ConfigError) as err:
        pins.read(tmp_path / "requirements.txt", secrets=frozenset({NO_PROXY}))
    assert NO_PROXY[:12] not in str(err.value) and "***" in str(err.value)
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\ndependencies = ["{"x" * 40} {NO_PROXY}"]\n'
    )
    with pytest.raises(ConfigError) as err:
        pins.read(tmp_path / "pyproject.toml", secrets=frozenset({NO_PROXY}))
    assert NO_PROXY[:12] not in str(err.value) and len(str(err.value)) < 250
    monkeypatch.setenv("NO_PROXY", NO_PROXY)
    assert main(["check", str(tmp_path / "requirements.txt")]) == ConfigError.return_code
    assert NO_PROXY[:12] not in capsys.readouterr().err


def test_a_suite_requirement_line_is_masked_before_it_is_cut_short(tmp_path) -> None:
    root = make_suite(tmp_path / "proj")
    (root / "requirements.txt").write_text("x" * 40 + f" {NO_PROXY} ??\n")
    with pytest.raises(suite.NotASuite) as err:
        suite.load(root, "requirements.txt", secrets=frozenset({NO_PROXY}))
    assert NO_PROXY[:12] not in str(err.value) and "***" in str(err.value)


# ------------------------------------------------------------ one sentence and its own code


def said(capsys) -> str:
    """The one line a command wrote to stderr, after checking it came without a traceback."""
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize(
    "snapshot",
    [
        '{"schema": 1, "taken_at": 5',
        "[1]",
        "\xff",
        DEEP,
        '{"schema": 1, "taken_at": 5, "since": "", "index": "", "distributions": {}}',
        '{"schema": 1, "taken_at": "", "since": "", "index": "", '
        '"distributions": {"pytest": [{"version": "x", '
        '"uploaded": ""}]}}',
    ],
)
def test_a_malformed_release_snapshot_is_one_sentence_and_exit_4(
    tmp_path, monkeypatch, capsys, snapshot
) -> None:
    (tmp_path / "releases.json").write_text(snapshot, errors="surrogateescape")
    monkeypatch.setenv("MATRIX_RELEASES", str(tmp_path / "releases.json"))
    monkeypatch.setenv("MATRIX_OUT", str(tmp_path / "out"))
    from matrix.errors import SnapshotError

    assert main(["list"]) == SnapshotError.return_code == 4
    assert "take it again with loop-compat releases" in said(capsys)


def test_releases_since_not_a_date_is_one_sentence_and_exit_2(capsys) -> None:
    assert main(["releases", "--since", "notadate"]) == ConfigError.return_code
    assert "--since 'notadate' is not an ISO date" in said(capsys)


def test_whence_given_stdin_that_is_not_utf8_is_one_sentence_and_exit_2(
    monkeypatch, capsys
) -> None:
    # strict, as a UTF-8 locale reads stdin; the CLI reads the bytes itself in any locale
    monkeypatch.setattr(
        sys, "stdin", io.TextIOWrapper(io.BytesIO(b"RuntimeError: \xff\xfe x"), encoding="utf-8")
    )
    assert main(["whence", "-"]) == ConfigError.return_code
    assert "standard input is not UTF-8 text (byte 15)" in said(capsys)


def test_a_site_folder_that_cannot_be_made_is_one_sentence_and_exit_7(
    tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("MATRIX_OUT", str(a_results_folder(tmp_path / "r", a_bug_record())))
    (tmp_path / "a-file").write_text("notes\n")
    for site_dir in ("/proc/self/x", str(tmp_path / "a-file" / "site")):
        assert main(["report", "--site", site_dir]) == OutputError.return_code
        assert f"the site {site_dir} cannot be written" in said(capsys)
    assert (tmp_path / "a-file").read_text() == "notes\n"


@pytest.mark.parametrize(
    "poetry, says",
    [
        ("[tool.poetry]\ndependencies = 5\n", "tool.poetry.dependencies must be a table, not int"),
        (
            '[tool.poetry]\ndev-dependencies = ["pytest"]\n',
            "tool.poetry.dev-dependencies must be a table",
        ),
        ('[tool.poetry]\ngroup = "dev"\n', "tool.poetry.group must be a table, not str"),
        ("[tool.poetry.group]\ndev = 1\n", "tool.poetry.group.dev must be a table, not int"),
        (
            '[tool.poetry.group.dev]\ndependencies = "pytest"\n',
            "tool.poetry.group.dev.dependencies must be a table, not str",
        ),
        ('[tool]\npoetry = "x"\n', "tool.poetry must be a table, not str"),
        ("[project]\ndependencies = [5]\n", "a dependency is int, not a quoted requirement"),
    ],
)
def test_check_on_a_poetry_pyproject_of_the_wrong_types_names_the_key(
    tmp_path, capsys, poetry, says
) -> None:
    (tmp_path / "pyproject.toml").write_text(poetry)
    assert main(["check", str(tmp_path / "pyproject.toml")]) == ConfigError.return_code
    assert says in said(capsys)


# ------------------------------------------------------------ size


def test_reading_a_requirements_file_takes_time_linear_in_its_lines(tmp_path) -> None:
    # continuation lines were added to the text so far, one copy each: 4 times the lines
    # took 16 times as long (a 5 MB file four minutes); now about 4 times
    def seconds(lines: int) -> float:
        path = tmp_path / f"requirements-{lines}.txt"
        path.write_text("pytest==8.4.2 \\\n" + "  --hash=sha256:a \\\n" * (lines - 1) + "\n")
        assert path.stat().st_size < 2**20  # under the cap: what is measured is reading
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            assert pins.read(path).versions == {"pytest": "8.4.2"}
            best = min(best, time.perf_counter() - started)
        return best

    assert seconds(50_000) < 8 * seconds(12_500)


@pytest.mark.parametrize("name", ["uv.lock", "poetry.lock", "pdm.lock", "pyproject.toml"])
def test_a_huge_lock_or_pyproject_is_refused_at_once(tmp_path, name) -> None:
    with (tmp_path / name).open("wb") as f:
        f.truncate(pins.MAX_TOML_BYTES + 1)  # sparse: large without writing it
    started = time.monotonic()
    with pytest.raises(ConfigError, match=f"larger than 16 MB, too large for a {name}"):
        pins.read(tmp_path / name)
    assert time.monotonic() - started < 1


def test_a_huge_python_version_file_is_not_read_whole(tmp_path) -> None:
    (tmp_path / "requirements.txt").write_text("pytest==8.4.2\n")
    with (tmp_path / ".python-version").open("wb") as f:
        f.write(b"3.13\n")
        f.truncate(2**31)  # sparse: 2 GB of nothing after the version
    started = time.monotonic()
    assert pins.read(tmp_path / "requirements.txt").python == "3.13"
    assert time.monotonic() - started < 1


def test_merge_keeps_what_a_newer_version_published_in_a_results_json(tmp_path) -> None:
    newer = [
        {**a_bug_record(scenario="e2e-first").to_json(), "flavour": "new"},
        {**a_bug_record(scenario="e2e-last").to_json(), "outcome": "sparkly"},
        {**a_bug_record(scenario="isolated").to_json(), "schema": 2},
    ]
    published = tmp_path / "site" / "results.json"
    published.parent.mkdir()
    published.write_text(json.dumps([a_bug_record().to_json(), *newer, 5, {"x": 1}]))
    out = tmp_path / "out"
    result = merge.merge([published], out)
    kept = [json.loads(line) for line in (out / store.RESULTS).read_text().splitlines()]
    assert all(item in kept for item in newer) and len(kept) == 4
    assert result.not_understood == 3 and "3 records not understood" in str(result)
    merge.merge([published], out)  # again: nothing is doubled
    assert len((out / store.RESULTS).read_text().splitlines()) == 4


# --------------------------------------------------------------------------- process groups


def test_a_zombie_is_not_a_running_member_of_its_group(tmp_path) -> None:
    from matrix.measure import command

    stat = tmp_path / "stat"
    stat.write_text("4242 (chrome (renderer)) Z 1 4000 4000 0 -1 4194560 0\n")
    assert not command._running_in(stat, 4000)  # exited, waiting to be reaped
    stat.write_text("4242 (chrome (renderer)) S 1 4000 4000 0 -1 4194560 0\n")
    assert command._running_in(stat, 4000)
    assert not command._running_in(stat, 4001)  # another group
    assert not command._running_in(tmp_path / "gone", 4000)


@pytest.mark.integration
def test_an_exited_orphan_does_not_hold_the_run_for_the_grace_period(tmp_path) -> None:
    """A browser's helper that exits after the test process leaves a zombie until init
    reaps it; the run ends without waiting out GRACE_S for it, and a live one is killed."""
    from matrix.measure import command

    done = command.run(
        ["sh", "-c", "(sleep 0.05; exit 0) & sleep 30 & exit 0"],
        log=tmp_path / "run.log",
        echo=False,
    )
    assert done.returncode == 0 and done.duration_s < command.GRACE_S / 2
    assert subprocess.run(["pgrep", "-f", "sleep 30"], capture_output=True).returncode == 1
