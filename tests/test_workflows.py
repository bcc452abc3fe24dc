"""The GitHub Actions workflows: they lint, they say what the docs say, and their
commands, run locally in the same order, give the page a single run gives.

The text checks read the YAML as text (no YAML parser is a dependency): a job is the
block under ``jobs:`` that starts at two spaces of indentation.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from matrix.publish import regress

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
MATRIX = WORKFLOWS / "matrix.yml"
TESTS = WORKFLOWS / "tests.yml"
SMALL = ROOT / "tests" / "data" / "small.toml"


def split(text: str) -> tuple[str, dict[str, str]]:
    """The workflow's top level, and each job's block by name."""
    top, _, body = text.partition("\njobs:\n")
    parts = re.split(r"^  ([\w-]+):\n", body, flags=re.MULTILINE)
    return top, dict(zip(parts[1::2], parts[2::2], strict=True))


def permissions(block: str, indent: str) -> dict[str, str] | None:
    """The ``permissions:`` mapping at ``indent`` in a block, or None when it has none."""
    pattern = rf"^{indent}permissions:\n((?:{indent}  [\w-]+: \w+\n)+)"
    found = re.search(pattern, block, re.MULTILINE)
    if not found:
        return None
    return dict(re.findall(r"([\w-]+): (\w+)", found.group(1)))


def steps(job: str) -> list[str]:
    """A job's steps, each as its text."""
    return re.split(r"^      - ", job.split("\n    steps:\n", 1)[1], flags=re.MULTILINE)[1:]


def python_versions(job: str) -> dict[str, str]:
    """Every Python a job's setup-python steps ask for, and the step that asks."""
    found = {}
    for step in steps(job):
        if "actions/setup-python@" not in step:
            continue
        block = re.search(r'python-version: (?:\|\n((?:\s+[\d.]+\n)+)|"([\d.]+)")', step)
        for version in (block.group(1) or block.group(2)).split():
            found[version] = step
    return found


def scripts(text: str) -> list[str]:
    """The shell of every ``run:`` step (one-line or block)."""
    out = []
    for match in re.finditer(r"^(\s*)(?:- )?run: (.*)$", text, re.MULTILINE):
        if match.group(2) != "|":
            out.append(match.group(2))
            continue
        block = []
        for line in text[match.end() + 1 :].splitlines():
            if line.strip() and len(line) - len(line.lstrip()) <= len(match.group(1)):
                break
            block.append(line)
        out.append("\n".join(block))
    return out


@pytest.fixture(scope="module")
def matrix_yml() -> str:
    return MATRIX.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def jobs(matrix_yml: str) -> dict[str, str]:
    return split(matrix_yml)[1]


# ---------------------------------------------------------------- what the workflow says


def test_it_runs_on_a_schedule_at_an_odd_minute_and_by_hand(matrix_yml) -> None:
    minute = re.search(r'- cron: "(\d+) \d+ \* \* \*"', matrix_yml).group(1)
    assert int(minute) % 15 != 0  # the top of the hour and its quarters are the busy times
    dispatch = matrix_yml.split("workflow_dispatch:", 1)[1].split("\npermissions:", 1)[0]
    assert re.search(r"profile:\n(?:\s+.*\n)*?\s+default: full\n", dispatch)
    assert re.search(r"shards:\n(?:\s+.*\n)*?\s+default: 8\n", dispatch)


def test_permissions_are_least_privilege_job_by_job(matrix_yml, jobs) -> None:
    top, _ = split(matrix_yml)
    assert permissions(top + "\n", "") == {"contents": "read"}
    granted = {name: permissions(job, "    ") for name, job in jobs.items()}
    assert granted == {
        "plan": None,
        "run": None,
        "reference": None,
        "publish": None,
        "deploy": {"pages": "write", "id-token": "write"},
        "regressions": {"issues": "write"},
    }
    assert re.search(r"environment:\n\s+name: github-pages\n", jobs["deploy"])
    assert "actions/checkout" not in jobs["regressions"]  # it holds no read access to the code
    assert permissions(TESTS.read_text(encoding="utf-8"), "") == {"contents": "read"}


def test_two_scheduled_runs_never_publish_at_once(matrix_yml) -> None:
    pattern = r"^concurrency:\n  group: .+\n  cancel-in-progress: false\n"
    assert re.search(pattern, matrix_yml, re.MULTILINE)


def test_the_run_job_sets_up_every_python_of_the_matrix(jobs) -> None:
    versions = python_versions(jobs["run"])
    assert set(versions) == {f"3.{minor}" for minor in range(9, 16)}
    assert "allow-prereleases: true" in versions["3.15"]
    assert "continue-on-error: true" in versions["3.15"]  # absent: recorded no-interpreter
    assert "continue-on-error" not in versions["3.13"]  # the one that runs nox must be there


def test_the_reference_job_remeasures_the_profile_and_the_page_publishes_it(jobs) -> None:
    # Every Python of the reference profile's axes, on the run's snapshot, carrying over
    # what the published reference measured; the page serves the new one beside itself.
    from matrix.define import definition

    profile = definition.load(ROOT / "matrix" / "matrix.toml", "reference")
    reference = jobs["reference"]
    assert set(python_versions(reference)) == set(profile.axes["python"])
    assert re.search(
        r"download-artifact@v\d+\n\s+with:\n\s+name: releases\n\s+path: matrix\n", reference
    )
    assert '"${PAGE}reference/results.jsonl" -o published-reference.jsonl' in reference
    assert "export MATRIX_PREVIOUS=published-reference.jsonl" in reference
    assert "nox -s reference" in reference and "path: matrix/reference/" in reference
    assert '.github/chromium.sh "' in reference  # no Chromium: the job fails, not infra
    publish = next(s for s in steps(jobs["publish"]) if "name: reference" in s)
    assert "path: reports/site/reference" in publish and "continue-on-error: true" in publish
    assert "needs: [plan, run, reference]" in jobs["publish"]


def test_the_test_job_sets_up_the_pythons_of_the_integration_tests() -> None:
    _, test_jobs = split(TESTS.read_text(encoding="utf-8"))
    assert set(python_versions(test_jobs["tests"])) == {f"3.{m}" for m in range(9, 14)}
    assert "run: nox -s tests" in test_jobs["tests"]


def test_shards_share_one_snapshot_and_keep_their_results_whatever_happens(jobs) -> None:
    assert "nox -s releases" in jobs["plan"] and "nox -l --json -t cells" in jobs["plan"]
    assert "path: matrix/releases.json" in jobs["plan"]
    assert re.search(
        r"download-artifact@v\d+\n\s+with:\n\s+name: releases\n\s+path: matrix\n", jobs["run"]
    )
    assert "fail-fast: false" in jobs["run"]
    assert "run: nox -t cells -j auto" in jobs["run"]
    upload = next(s for s in steps(jobs["run"]) if "upload-artifact" in s)
    assert "if: always()" in upload and "name: results-${{ matrix.shard }}" in upload
    assert "MATRIX_SHARD: ${{ matrix.shard }}/${{ needs.plan.outputs.count }}" in jobs["run"]


def test_publish_merges_each_shard_folder_and_compares_with_the_published_page(jobs) -> None:
    publish = jobs["publish"]
    download = next(s for s in steps(publish) if "pattern: results-*" in s)
    assert "merge-multiple" not in download  # each shard keeps its own folder
    assert "python -m matrix merge --out reports shards/results-*" in publish
    assert "python -m matrix list --json > reports/plan.json" in publish  # lost shards: not run
    assert 'curl -fsSL --retry 3 "${PAGE}results.json" -o previous/results.json' in publish
    assert "python -m matrix report --previous previous" in publish
    assert "path: reports/site" in publish and "GITHUB_STEP_SUMMARY" in publish


def test_no_expression_is_pasted_into_a_shell_script(matrix_yml) -> None:
    # Inputs and event fields reach scripts through env, never as text (script injection).
    found = [s for text in (matrix_yml, TESTS.read_text(encoding="utf-8")) for s in scripts(text)]
    assert len(found) == 24 and any("gh issue create" in s for s in found)
    for script in found:
        assert "${{" not in script, script


def test_every_command_the_workflows_call_exists(capsys) -> None:
    from matrix.cli import _parser

    text = MATRIX.read_text(encoding="utf-8") + TESTS.read_text(encoding="utf-8")
    called = set(re.findall(r"python -m matrix (\w+)", text))
    assert called == {"list", "merge", "report", "regressions"}
    for command in sorted(called):
        with pytest.raises(SystemExit) as exited:  # --help exits 0; an unknown command, 2
            _parser().parse_args([command, "--help"])
        assert exited.value.code == 0, f"python -m matrix has no command {command!r}"
    noxfile = (ROOT / "noxfile.py").read_text(encoding="utf-8")
    sessions = set(re.findall(r"^def (\w+)\(session", noxfile, re.MULTILINE))
    assert set(re.findall(r"nox -s (\w+)", text)) == {"releases", "tests", "reference"} <= sessions


# ---------------------------------------------------------------- actionlint


def actionlint() -> str | None:
    """actionlint from the test extras (beside this interpreter), else from PATH."""
    here = os.pathsep.join([sysconfig.get_path("scripts"), os.environ.get("PATH", "")])
    return shutil.which("actionlint", path=here)


@pytest.mark.integration
def test_actionlint_passes_on_both_workflows() -> None:
    exe = actionlint()
    assert exe, "actionlint is not installed: pip install -e '.[test]' provides it"
    proc = subprocess.run(
        [exe, "-no-color", str(MATRIX), str(TESTS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


# ---------------------------------------------------------------- the commands, end to end


def matrix_cmd(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MATRIX_PROFILE", "MATRIX_SHARD", "MATRIX_OUT", "MATRIX_RUN_ID")
    }
    proc = subprocess.run(
        [sys.executable, "-m", "matrix", *args],
        cwd=ROOT,
        env={**base, "MATRIX_CONFIG": str(SMALL), **env},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def site_files(site: Path) -> dict[str, bytes]:
    return {
        name: (site / name).read_bytes()
        for name in ("index.html", "summary.json", "results.json", "results.csv")
    }


def verdicts(site: Path) -> list[tuple]:
    cells = json.loads((site / "summary.json").read_text())["cells"]
    return sorted((c["cell_id"], c["verdict"], c["signature"]) for c in cells)


@pytest.mark.integration
def test_two_shards_through_the_workflow_commands_build_the_same_site(tmp_path) -> None:
    """Byte-identical pages need identical records, and two runs never have them (start
    times and durations differ). So the shards run once, and the page the workflow's
    commands build from them (each shard's folder merged, then report) is compared byte
    for byte with the page built from the same records as one plain folder, as a single
    run leaves it: records in the order they were written, and the unsharded plan. A real
    unsharded run of the same cells is compared cell verdict by cell verdict."""
    run = {"MATRIX_RUN_ID": "20261125T041700Z"}  # the plan job gives every shard one run id
    shards = tmp_path / "shards"
    for i in (1, 2):
        matrix_cmd("run", MATRIX_SHARD=f"{i}/2", MATRIX_OUT=str(shards / f"results-{i}"), **run)
    reports, previous = tmp_path / "reports", tmp_path / "previous"  # no page yet: no previous
    whole_plan = matrix_cmd("list", "--json", **run).stdout
    matrix_cmd("merge", "--out", str(reports), *map(str, sorted(shards.iterdir())))
    (reports / "plan.json").write_text(whole_plan)
    matrix_cmd("report", "--previous", str(previous), MATRIX_OUT=str(reports))

    single = tmp_path / "single"
    matrix_cmd("run", MATRIX_OUT=str(single))
    matrix_cmd("report", MATRIX_OUT=str(single))
    assert verdicts(reports / "site") == verdicts(single / "site")
    assert len(verdicts(single / "site")) == 4

    # A shard that failed: the whole plan keeps its cells on the page, as not run.
    lost = tmp_path / "lost"
    matrix_cmd("merge", "--out", str(lost), str(shards / "results-1"))
    (lost / "plan.json").write_text(whole_plan)
    matrix_cmd("report", MATRIX_OUT=str(lost))
    shown = {cell: verdict for cell, verdict, _ in verdicts(lost / "site")}
    lines = (shards / "results-2" / "results.jsonl").read_text().splitlines()
    ran = {json.loads(line)["cell_id"] for line in lines}
    assert len(shown) == 4 and {shown[cell] for cell in ran} == {"not-run"}

    plain = tmp_path / "plain"
    plain.mkdir()
    with (plain / "results.jsonl").open("wb") as f:
        for i in (2, 1):  # completion order is arbitrary under nox -j auto
            f.write((shards / f"results-{i}" / "results.jsonl").read_bytes())
            shutil.copytree(shards / f"results-{i}" / "logs", plain / "logs", dirs_exist_ok=True)
    (plain / "plan.json").write_text(whole_plan)
    matrix_cmd("report", "--previous", str(previous), MATRIX_OUT=str(plain))
    # The site is built from the records, not their order in the file: byte for byte equal.
    assert site_files(reports / "site") == site_files(plain / "site")


@pytest.mark.integration
def test_the_regressions_job_carries_on_past_a_failed_gh_call_and_fails_at_the_end(
    jobs, tmp_path
) -> None:
    [apply] = [s for s in steps(jobs["regressions"]) if s.startswith("name: Apply them with gh")]
    [script] = scripts(apply)
    current = ROOT / "tests/data/regress-current.jsonl"
    actions = [
        a.to_json() for a in regress.plan(ROOT / "tests/data/regress-previous.jsonl", current, [])
    ]
    assert len(actions) >= 4
    failing = actions[1]["title"]  # this one's gh issue create fails (the API said no)
    (tmp_path / "regress").mkdir()
    (tmp_path / "regress/plan.json").write_text(json.dumps(actions))
    gh = tmp_path / "bin/gh"
    gh.parent.mkdir()
    gh.write_text(
        '#!/bin/bash\necho "$*" >> "$GH_CALLS"\n'
        f'if [[ "$*" == *{json.dumps(failing)}* ]]; then echo "HTTP 502" >&2; exit 1; fi\n'
    )
    gh.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{gh.parent}{os.pathsep}{os.environ['PATH']}",
        "GH_CALLS": str(tmp_path / "calls"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
    }
    # GitHub runs a step's script with ``bash -e``.
    proc = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    created = [
        line
        for line in (tmp_path / "calls").read_text().splitlines()
        if line.startswith("issue create")
    ]
    opened = [a for a in actions if a["kind"] == "open"]
    assert len(created) == len(opened)  # every open was tried, the failed one too
    assert f"::error::could not apply: open {failing}" in proc.stdout
    assert f"- open {failing}" in (tmp_path / "summary").read_text()
