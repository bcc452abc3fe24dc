"""The fault suite: each test injects one fault and checks what must still hold."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from matrix.results import store
from matrix.results.record import Outcome

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests/data"


def write_config(path: Path, cells: int = 1) -> Path:
    versions = ["3.13", "3.12", "3.11", "3.10"][:cells]
    path.write_text(
        'reruns = 0\n[axes]\npython = [{}]\npytest = ["8.4.2"]\n'
        'pytest-asyncio = ["1.2.0"]\n'.format(", ".join(f'"{v}"' for v in versions))
    )
    return path


def matrix(config: Path, out: Path, *args: str, **extra: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATRIX_")}
    env.update(MATRIX_CONFIG=str(config), MATRIX_OUT=str(out), **extra)
    return subprocess.Popen(
        [sys.executable, "-m", "matrix", *(args or ("run",))],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    _, err = proc.communicate(timeout=900)
    return proc.returncode, err


def test_an_unreachable_index_gives_infra_never_a_verdict(tmp_path) -> None:
    closed = "http://127.0.0.1:9/simple"  # nothing listens on the discard port
    code, err = finish(
        matrix(
            write_config(tmp_path / "m.toml"),
            tmp_path / "out",
            UV_INDEX_URL=closed,
            UV_DEFAULT_INDEX=closed,
            MATRIX_ENVS=str(tmp_path / "envs"),
        )
    )
    [record] = store.read(tmp_path / "out")
    assert record.outcome is Outcome.INFRA and record.signature == "index-unreachable"
    assert code == 5
    assert "could not be reached" in err and "rerun" in err.splitlines()[-1]
    assert err.count("+ uv pip compile") == 3  # retried twice, with a pause


def test_a_results_file_cut_mid_write_keeps_whole_records_and_redoes_the_cut_one(tmp_path) -> None:
    config, out = write_config(tmp_path / "m.toml", cells=2), tmp_path / "out"
    assert finish(matrix(config, out))[0] == 0
    results = out / store.RESULTS
    lines = results.read_text().splitlines(keepends=True)
    results.write_text(lines[0] + lines[1][: len(lines[1]) // 2])
    code, err = finish(matrix(config, out))
    assert code == 0
    assert f"{results} line 2 is not a whole record" in err
    records = store.read(out, warn=False)
    assert [r.outcome for r in records] == [Outcome.PASS, Outcome.PASS]
    assert len({r.cell_id for r in records}) == 2


def test_a_probe_printing_50_mb_keeps_a_capped_log_and_a_short_message(tmp_path) -> None:
    code, _ = finish(
        matrix(
            write_config(tmp_path / "m.toml"),
            tmp_path / "out",
            MATRIX_PROBES=str(DATA / "probes-loud"),
        )
    )
    assert code == 0
    [record] = store.read(tmp_path / "out")
    assert record.outcome is Outcome.FAIL and len(record.message) <= 300
    log = (tmp_path / "out" / record.log).read_bytes()
    assert len(log) < 5 * 1024 * 1024 and b"[matrix] log truncated:" in log
    assert b"loud failure" in log  # the tail, where pytest's summary is, survives
    from matrix.publish import site

    index = site.build(tmp_path / "out", tmp_path / "site")
    assert index.stat().st_size < 1024 * 1024  # the page stays small


def test_two_runs_on_one_results_folder_record_everything_exactly_once(tmp_path) -> None:
    config, out = write_config(tmp_path / "m.toml", cells=4), tmp_path / "out"
    first, second = matrix(config, out), matrix(config, out)
    assert finish(first)[0] == 0 and finish(second)[0] == 0
    counts = Counter((r.cell_id, r.scenario) for r in store.read(out))
    assert len(counts) == 4 and set(counts.values()) == {1}


SECRETS = {  # name -> value; the names are those a CI machine or a laptop really has
    "AWS_SECRET_ACCESS_KEY": "aws-7Qx9Lm2Vb4",
    "SECRET_KEY": "django-k3y-51e0",
    "SSH_PRIVATE_KEY": "-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXk",
    "GH_PAT": "ghp_8d7f6e5c4b3a",
    "GOOGLE_APPLICATION_CREDENTIALS": "/secure/gcp-sa-4411.json",
    "STRIPE_KEY": "sk_live_77aa99bb",
    "DEPLOY_TOKEN": "tok-4f9a1c",
    "DB_PASSWORD": "pw-77e2b0",
    "APP_SECRET": "sec-91d3",
    "SENTRY_DSN": "https://abc123@o1.ingest.example/42",
    "SESSION_COOKIE": "sid=c0ffee42",
    "BASIC_AUTH": "admin:hunter2x",
    "DATABASE_URL": "postgres://app:db-pw-3c8e@db.example:5432/shop",
    "ARTIFACT_MIRROR": "https://ci:mirror-pw-5a1@mirror.example/simple",
}
#: What must appear nowhere: every value, and the passwords inside the URLs alone.
HIDDEN = [*SECRETS.values(), "db-pw-3c8e", "mirror-pw-5a1"]


def test_secrets_in_the_environment_reach_no_file_and_no_console(tmp_path) -> None:
    config, out = write_config(tmp_path / "m.toml"), tmp_path / "out"
    # Two are passed on purpose (a suite may need them): they reach it, and are masked.
    config.write_text('pass-env = ["STRIPE_*", "DATABASE_URL"]\n' + config.read_text())
    run = matrix(config, out, MATRIX_PROBES=str(DATA / "probes-env"), **SECRETS)
    stdout, stderr = run.communicate(timeout=900)
    assert run.returncode == 0, stderr[-2000:]
    report = matrix(config, out, "report", **SECRETS)
    report_out, report_err = report.communicate(timeout=300)
    assert report.returncode == 0, report_err[-2000:]
    [record] = store.read(out)
    assert record.outcome is Outcome.FAIL
    log = (out / record.log).read_text()
    assert "PATH=" in log and "STRIPE_KEY=***" in log and "DATABASE_URL=***" in log
    assert "AWS_SECRET_ACCESS_KEY" not in log and "GH_PAT" not in log  # not on the allow-list
    assert "DATABASE_URL=***" in record.message
    files = [p for p in out.rglob("*") if p.is_file()]
    assert out / "site" / "index.html" in files and any(p.suffix == ".xml" for p in files)
    for path in files:
        data = path.read_bytes()
        assert not [v for v in HIDDEN if v.encode() in data], path
    console = stdout + stderr + report_out + report_err
    assert "[matrix]" in console and not [v for v in HIDDEN if v in console]


def test_a_scenario_that_fails_then_passes_is_flaky_with_both_runs_kept(tmp_path) -> None:
    config = tmp_path / "m.toml"
    config.write_text(
        'pass-env = ["FLAKY_*"]\n'  # the probe's own settings, passed on
        + write_config(tmp_path / "base.toml").read_text().replace("reruns = 0", "reruns = 1")
    )
    code, _ = finish(
        matrix(
            config,
            tmp_path / "out",
            MATRIX_PROBES=str(DATA / "probes-flaky"),
            FLAKY_MARKER=str(tmp_path / "marker"),
        )
    )
    assert code == 0
    first, second = store.read(tmp_path / "out")
    assert (first.outcome, first.attempt) == (Outcome.FAIL, 1)
    assert (second.outcome, second.attempt) == (Outcome.FLAKY, 2)
    assert second.message == f"run 1: fail ({first.signature}); run 2: pass"
    assert (tmp_path / "out" / first.log).exists() and (tmp_path / "out" / second.log).exists()


def test_a_wrong_matrix_chromium_is_recorded_once_as_infra_with_its_own_sentence(tmp_path):
    config, wrong = tmp_path / "m.toml", tmp_path / "chromium.txt"
    config.write_text(
        'reruns = 0\nscenarios = ["control", "e2e-first"]\n[[cell]]\n'
        'python = "3.13"\npytest = "8.4.2"\npytest-asyncio = "1.2.0"\n'
        'playwright = "1.56.0"\n'
    )
    wrong.write_text("not a browser")
    code, err = finish(matrix(config, tmp_path / "out", MATRIX_CHROMIUM=str(wrong)))
    assert code == 0
    control, e2e = store.read(tmp_path / "out")
    assert control.outcome is Outcome.PASS
    assert (e2e.outcome, e2e.signature, e2e.attempt) == (Outcome.INFRA, "browser-missing", 1)
    assert e2e.message.startswith(f"MATRIX_CHROMIUM={wrong} is not an executable; ")
    logs = sorted(p.name for p in (tmp_path / "out" / e2e.log).parent.glob("e2e-first*"))
    assert logs == ["e2e-first.log"]  # one attempt: waiting would not give a browser
    assert e2e.message in (tmp_path / "out" / e2e.log).read_text()


def _hang_markers() -> str:
    return subprocess.run(
        ["pgrep", "-f", "matrix-hang-marker"], capture_output=True, text=True
    ).stdout


def test_nox_killed_alone_takes_its_cell_with_it_and_leaves_no_work_folder(tmp_path) -> None:
    """SIGKILL to nox only: the cell process it started stops too, kills its pytest group
    and removes its work folder (Playwright's temp folders are inside it)."""
    config = tmp_path / "hang.toml"
    config.write_text((DATA / "hang.toml").read_text().replace("timeout = 5", "timeout = 300"))
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATRIX_")}
    env.update(
        MATRIX_CONFIG=str(config),
        MATRIX_OUT=str(tmp_path / "out"),
        TMPDIR=str(tmp),
        MATRIX_PROBES=str(DATA / "probes"),
    )
    nox = subprocess.Popen(
        [sys.executable, "-m", "nox", "-s", "cell"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        while not _hang_markers() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _hang_markers(), "the hanging probe never started"
        assert list(tmp.glob("loop-compat-work-*"))
        nox.kill()  # nox alone, not its group
        nox.wait()
        deadline = time.monotonic() + 30
        while (
            _hang_markers() or list(tmp.glob("loop-compat-work-*"))
        ) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _hang_markers() == ""
        assert list(tmp.glob("loop-compat-work-*")) == []
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(nox.pid, signal.SIGKILL)


def test_concurrent_report_sessions_in_one_checkout_all_build_their_page(tmp_path) -> None:
    """Each nox report session used to install into the same .nox venv, and some lost."""
    outs = []
    for i in range(4):
        out = tmp_path / f"out{i}"
        out.mkdir()
        (out / store.RESULTS).write_bytes((DATA / "golden" / store.RESULTS).read_bytes())
        outs.append(out)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATRIX_")}
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "nox", "-s", "report"],
            cwd=ROOT,
            env={**env, "MATRIX_OUT": str(out)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for out in outs
    ]
    said = [run.communicate(timeout=900)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0, 0], said
    for out in outs:
        assert (out / "site" / "index.html").stat().st_size > 10_000
