"""Running one cell: interpreter, resolvability, env, then every scenario as its own pytest.

Each scenario's record is appended to the results file the moment it is classified, so
an interrupted cell keeps what it measured.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
import hashlib
import os
import re
import shlex
import shutil
import tempfile
import time
from pathlib import Path

from matrix.measure import browser, command, env, found, interpreters, junit
from matrix.results import signatures, store
from matrix.define.cell import Cell
from matrix.results.record import Counts, Outcome, Record
from matrix.measure.scenarios import BROWSER_ONLY, Scenario
from matrix.results.signatures import Failure, Verdict
from matrix.measure.suite import IGNORED, Suite

PROBES = Path(__file__).resolve().parent.parent / "probes"


def probes_root() -> Path:
    """Where the probe suites are: ``$MATRIX_PROBES`` or the repository's ``probes/``."""
    return Path(os.environ.get("MATRIX_PROBES") or PROBES).absolute()
INFRA_RETRIES, INFRA_PAUSE_S = 2, 5.0
_SECRET = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY)$", re.I)
_ERROR_LINE = re.compile(r"^(?:E\s+)?([A-Za-z_.]*(?:Error|Exception|Warning)\b.*)$")


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunOptions:
    """How to run cells (from the profile and the environment)."""

    out: Path
    run_id: str
    timeout: float = 180.0
    reruns: int = 1
    exclude_newer: str | None = None
    repro_prefix: str = ""
    probes: Path = dataclasses.field(default_factory=probes_root)
    suite: Suite | None = None  # a user's suite, run instead of the probes


@dataclasses.dataclass(kw_only=True)
class _Cell:
    """What the scenarios of one cell share while it runs."""

    cell: Cell
    opts: RunOptions
    fingerprint: str
    python: str | None = None
    resolved: dict[str, str] = dataclasses.field(default_factory=dict)
    envdir: Path | None = None
    chromium: Path | None = None
    control: list[Failure] = dataclasses.field(default_factory=list)
    suite_copy: Path | None = None  # a user's suite: the copy its project is installed from
    relaxed: tuple[str, ...] = ()  # its own pins that gave way
    found: dict[str, int] | None = None  # its tests, as the plugin counted them


def fingerprint(cell: Cell, scenario_names: list[str], opts: RunOptions) -> str:
    """What a recorded result depends on: cell, scenarios, probe code, snapshot time."""
    digest = hashlib.sha256()
    extra = "\n".join((*opts.suite.requirements, *map(str, opts.suite.local),
                       *opts.suite.constraints, found.PLUGIN.read_text())) if opts.suite else ""
    for part in (cell.id, ",".join(scenario_names), opts.exclude_newer or "",
                 _tree_hash(_source(cell, opts)), extra):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:16]


def _source(cell: Cell, opts: RunOptions) -> Path:
    """The folder a cell's tests come from: its probe, or the user's suite."""
    return opts.suite.root if opts.suite and cell.suite else opts.probes / cell.probe


def _tree_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    ignored = [re.compile(fnmatch.translate(p)) for p in IGNORED]
    files = [p for p in folder.rglob("*") if p.is_file() and not any(
        r.match(part) for part in p.relative_to(folder).parts for r in ignored)]
    for path in sorted(files):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def run_cell(cell: Cell, scenarios: list[Scenario], opts: RunOptions,
             done: frozenset[str] = frozenset()) -> list[Record]:
    """Run every scenario of ``cell`` not in ``done``; append and return their records.

    The control runs even when it is already recorded (its failures are what the other
    scenarios are judged against), but it is not recorded twice.
    """
    ctx = _Cell(cell=cell, opts=opts, fingerprint=fingerprint(cell, [s.name for s in scenarios], opts))
    todo = [s for s in scenarios if s.name not in done]
    verdict = _prepare(ctx)
    if verdict is None and cell.suite:
        verdict = _collect(ctx)
    if verdict is not None:
        log = "collect.log" if verdict.signature == "collection-error" else "env.log"
        return [_emit(ctx, s, verdict, Counts(), 0.0, _now(), log=f"logs/{cell.id}/{log}")
                for s in todo]
    if ctx.found is not None and ctx.found["browser"] == 0:  # nothing to move first or last
        scenarios = [s for s in scenarios if s.name not in BROWSER_ONLY]
    records = []
    for scenario in scenarios:
        if scenario.name in done:
            if scenario.name == "control" and len(todo) > 0:
                _attempt(ctx, scenario, attempt=1)  # sets ctx.control; already recorded
            continue
        records.append(_run_scenario(ctx, scenario))
    return records


def _prepare(ctx: _Cell) -> Verdict | None:
    """Interpreter, resolution and env; a verdict for every scenario if one fails."""
    interp = interpreters.find(ctx.cell.python)
    if interp is None:
        return Verdict(outcome=Outcome.NO_INTERPRETER,
                       message=f"Python {ctx.cell.python} is not installed on this machine")
    ctx.python = interp.version
    folder = ctx.opts.out / "logs" / ctx.cell.id
    resolution = _resolve(ctx, interp, folder)
    if resolution.infra:
        return Verdict(outcome=Outcome.INFRA, signature="index-unreachable",
                       message=f"the package index could not be reached: {resolution.reason}")
    if not resolution.ok:
        return _unresolvable(ctx, interp, resolution, folder)
    ctx.resolved = resolution.versions
    envdir, error = env.ensure(interp, resolution, log=folder / "env.log")
    if envdir is None:
        infra = env.is_network_error(error or "")
        return Verdict(outcome=Outcome.INFRA if infra else Outcome.FAIL,
                       signature="install: " + signatures.normalise(error or ""), message=error)
    ctx.envdir, ctx.chromium = envdir, browser.find()
    return None


def _suite_copy(ctx: _Cell) -> Path:
    """The copy of a suite its project is installed from (building writes into it, so the
    user's folder is never used); one per suite content, shared by cells and runs."""
    suite = ctx.opts.suite
    copy = env.envs_root() / "suites" / f"{suite.key}-{_tree_hash(suite.root)[:12]}"
    if not copy.is_dir():
        partial = copy.with_name(f".{copy.name}-{os.getpid()}")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(suite.root, partial, symlinks=False, ignore=shutil.ignore_patterns(*IGNORED))
        try:
            partial.rename(copy)
        except OSError:  # another cell made it first
            shutil.rmtree(partial, ignore_errors=True)
    return copy


def _collect(ctx: _Cell) -> Verdict | None:
    """Collect the suite once with the plugin: which tests use Playwright, which are async.

    A suite that cannot be collected under these pins fails every scenario with one line.
    """
    log_rel = f"logs/{ctx.cell.id}/collect.log"
    log = ctx.opts.out / log_rel
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_bytes(b"")
    work = Path(tempfile.mkdtemp(prefix="matrix-"))
    try:
        project = _copy_project(ctx, work)
        report = work / "collect.json"
        done = command.run(_pytest_args(ctx, log.with_suffix(".junit.xml"), ["--collect-only"]),
                           log=log, cwd=project, timeout=ctx.opts.timeout, echo=False,
                           env=_probe_env(ctx, work, project, found.settings(report, "all", None)))
        collected = found.read(report)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if done.returncode == 0 and collected is not None:
        ctx.found = collected.counts
        return None
    line = _failure_from_log(log, done.returncode).message
    return Verdict(outcome=Outcome.FAIL, signature="collection-error",
                   message=f"pytest could not collect the suite with these pins ({line}); "
                           f"see {log_rel}")


def _resolve(ctx: _Cell, interp, folder: Path) -> env.Resolution:
    """The resolver's answer, asked again (with a pause) while the index is unreachable."""
    for attempt in range(INFRA_RETRIES + 1):
        if attempt:
            time.sleep(INFRA_PAUSE_S)
        if ctx.cell.suite:
            ctx.suite_copy = _suite_copy(ctx)
            resolution = env.resolve_relaxing(
                ctx.cell, interp, folder=folder, exclude_newer=ctx.opts.exclude_newer,
                extra=ctx.opts.suite.install_lines(ctx.suite_copy),
                constraints=ctx.opts.suite.constraints)
            ctx.relaxed = resolution.relaxed
        else:
            resolution = env.resolve(ctx.cell, interp, folder=folder,
                                     exclude_newer=ctx.opts.exclude_newer)
        if not resolution.infra:
            break
    return resolution


def _unresolvable(ctx: _Cell, interp, resolution: env.Resolution, folder: Path) -> Verdict:
    """Unresolvable pins, or a suite whose own dependencies do not fit them: say which."""
    if ctx.cell.suite and ctx.opts.suite.install_lines(ctx.suite_copy):
        alone = env.resolve(ctx.cell, interp, folder=folder / "pins-alone",
                            exclude_newer=ctx.opts.exclude_newer)
        if alone.ok:
            return Verdict(outcome=Outcome.UNRESOLVABLE, signature="suite-dependencies",
                           message="the suite's own dependencies cannot be installed with these "
                                   f"pins: {resolution.reason}")
    return Verdict(outcome=Outcome.UNRESOLVABLE, signature="unresolvable", message=resolution.reason)


_RERUN = (Outcome.BUG, Outcome.FAIL, Outcome.TIMEOUT)


def _run_scenario(ctx: _Cell, scenario: Scenario) -> Record:
    """Run a scenario; a failure is run once more, and a different answer is ``flaky``."""
    started = _now()
    verdict, counts, took, log = _with_infra_retries(ctx, scenario, attempt=1)
    if verdict.outcome not in _RERUN or ctx.opts.reruns < 1:
        return _emit(ctx, scenario, verdict, counts, took, started, log)
    first = _record(ctx, scenario, verdict, counts, took, started, log, attempt=1)
    again, counts, took, log = _with_infra_retries(ctx, scenario, attempt=2)
    if (again.outcome, again.signature) == (verdict.outcome, verdict.signature):
        return _emit(ctx, scenario, again, counts, took, started, log, attempt=2)
    store.append(ctx.opts.out, first)  # both runs are kept when they disagree
    flaky = Verdict(outcome=Outcome.FLAKY, signature=verdict.signature or again.signature,
                    message=f"run 1: {_said(verdict)}; run 2: {_said(again)}",
                    control_signature=again.control_signature)
    return _emit(ctx, scenario, flaky, counts, took, started, log, attempt=2)


def _said(verdict: Verdict) -> str:
    return verdict.outcome.value + (f" ({verdict.signature})" if verdict.signature else "")


def _with_infra_retries(ctx: _Cell, scenario: Scenario, attempt: int
                        ) -> tuple[Verdict, Counts, float, str]:
    """An attempt, repeated (with a pause) while the harness, not the cell, failed."""
    for retry in range(INFRA_RETRIES + 1):
        result = _attempt(ctx, scenario, attempt)
        if result[0].outcome is not Outcome.INFRA or ctx.chromium is None:
            break
        if retry < INFRA_RETRIES:
            time.sleep(INFRA_PAUSE_S)
    return result


def _attempt(ctx: _Cell, scenario: Scenario, attempt: int) -> tuple[Verdict, Counts, float, str]:
    """One run of a scenario: its pytest processes, read and classified."""
    name = scenario.name if attempt == 1 else f"{scenario.name}.{attempt}"
    log_rel = f"logs/{ctx.cell.id}/{name}.log"
    log = ctx.opts.out / log_rel
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_bytes(b"")
    if scenario.browser and ctx.chromium is None:
        return Verdict(outcome=Outcome.INFRA, signature="browser-missing", message=browser.HINT), Counts(), 0.0, log_rel
    work = Path(tempfile.mkdtemp(prefix="matrix-"))
    try:
        verdict, counts, took, failures = _pytest_runs(ctx, scenario, work, log)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if scenario.name == "control":
        ctx.control = failures
        if verdict.outcome is Outcome.BUG:  # no Playwright here: it is pytest-asyncio's own
            verdict = dataclasses.replace(verdict, outcome=Outcome.FAIL)
    return verdict, counts, took, log_rel


def _pytest_runs(ctx: _Cell, scenario: Scenario, work: Path, log: Path
                 ) -> tuple[Verdict, Counts, float, list[Failure]]:
    project = _copy_project(ctx, work)
    counts, failures, took, hollow = Counts(), [], 0.0, []
    for index, paths in enumerate(scenario.runs, 1):
        report = log.with_suffix(f".junit-{index}.xml")  # kept beside the log as evidence
        report.unlink(missing_ok=True)
        args = _pytest_args(ctx, report, paths)
        if scenario.coverage:  # the probes' code is app/; a suite's, whatever it imports
            args += ["--cov" if ctx.cell.suite else "--cov=app", "--cov-report="]
        selection = scenario.selections[index - 1] if scenario.selections else "all"
        plugin = found.settings(work / f"found-{index}.json", selection, _suite_chromium(ctx))
        done = command.run(args, log=log, cwd=project, timeout=ctx.opts.timeout, echo=False,
                           env=_probe_env(ctx, work, project, plugin if ctx.cell.suite else None))
        took += done.duration_s
        if done.timed_out:
            message = f"pytest did not finish within {ctx.opts.timeout:g} s and was killed"
            return Verdict(outcome=Outcome.TIMEOUT, signature="timeout", message=message
                           ), counts, took, failures
        seen = found.read(work / f"found-{index}.json")
        hollow += seen.hollow if seen else []
        parsed = junit.read(report)
        nothing_selected = done.returncode == 5 and selection in ("browser", "other")
        if not nothing_selected and (parsed is None or (done.returncode not in (0, 1) and not parsed[1])):
            failures.append(_failure_from_log(log, done.returncode))
        parsed = parsed or (Counts(), [])
        counts, failures = counts + parsed[0], failures + parsed[1]
    verdict = signatures.classify(failures, [] if scenario.name == "control" else ctx.control)
    verdict = found.hollow(verdict, tuple(hollow) or found.never_awaited(log))
    return verdict, counts, took, failures


def _copy_project(ctx: _Cell, work: Path) -> Path:
    project = work / "project"
    shutil.copytree(_source(ctx.cell, ctx.opts), project, symlinks=False,
                    ignore=shutil.ignore_patterns(*IGNORED))
    return project


def _pytest_args(ctx: _Cell, junit_xml: Path, paths) -> list:
    """pytest in the cell's env; a suite's runs load the product's plugin."""
    plugin = ["-p", found.MODULE] if ctx.cell.suite else []
    return [ctx.envdir / "bin" / "python", "-m", "pytest", "-p", "no:cacheprovider", *plugin,
            "-q", "-rfE", f"--junitxml={junit_xml}", *paths]


def _suite_chromium(ctx: _Cell) -> Path | None:
    """The Chromium given to a suite's launches: a system one only. Without one the suite
    uses Playwright's own browser install, as it would on a user's machine."""
    return ctx.chromium if ctx.chromium is not None and browser.is_system(ctx.chromium) else None


def _failure_from_log(log: Path, code: int | None) -> Failure:
    """A whole-run failure (startup error, no tests): the log says what happened."""
    text = log.read_text(errors="replace")[-200_000:]
    if code == 5:
        return Failure(test="", message="pytest collected no tests (exit code 5)")
    lines = [ln.strip() for ln in text.splitlines()]
    known = next((ln for ln in lines if signatures.match(ln)), None)
    errors = [m.group(1) for ln in lines if (m := _ERROR_LINE.match(ln))]
    message = known or (errors[-1] if errors else f"pytest exited with code {code}")
    return Failure(test="", message=message, text=text[-5000:])


def _probe_env(ctx: _Cell, work: Path, project: Path,
               plugin: dict[str, str] | None = None) -> dict[str, str]:
    """The probe's environment: the cell's env first on PATH, no secrets, no stray pytest options."""
    base = {k: v for k, v in os.environ.items()
            if not _SECRET.search(k) and not k.startswith(("PYTEST_", "COV_CORE", "VIRTUAL_ENV"))
            and k not in ("PYTHONPATH", "PYTHONHOME", "COVERAGE_PROCESS_START")}
    base.update(
        PATH=f"{ctx.envdir / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        VIRTUAL_ENV=str(ctx.envdir),
        PYTHONDONTWRITEBYTECODE="1",
        COVERAGE_FILE=str(work / ".coverage"),
        PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1",
    )
    if ctx.chromium:
        base[browser.ENV_VAR] = str(ctx.chromium)
    if ctx.cell.suite:  # the plugin, and src/ of a suite that is not installed as a package
        base.pop(browser.ENV_VAR, None)  # the plugin's settings say which browser, if any
        paths = [found.place(work)]
        if not any(item.path == ctx.opts.suite.root for item in ctx.opts.suite.local):
            paths += [project, project / "src"]
        base["PYTHONPATH"] = os.pathsep.join(map(str, paths))
        base.update(plugin or {})
    return base


def _emit(ctx: _Cell, scenario: Scenario, verdict: Verdict, counts: Counts, took: float,
          started: str, log: str | None, attempt: int = 1) -> Record:
    record = _record(ctx, scenario, verdict, counts, took, started, log, attempt)
    store.append(ctx.opts.out, record)
    return record


def _record(ctx: _Cell, scenario: Scenario, verdict: Verdict, counts: Counts, took: float,
            started: str, log: str | None, attempt: int) -> Record:
    return Record(
        run_id=ctx.opts.run_id, cell_id=ctx.cell.id, python=ctx.python,
        requested=ctx.cell.requested, resolved=ctx.resolved, probe=ctx.cell.probe,
        scenario=scenario.name, outcome=verdict.outcome, signature=verdict.signature,
        message=verdict.message, tests=counts, duration_s=round(took, 2), started_at=started,
        repro=repro(ctx.cell, scenario.name, ctx.opts.repro_prefix), log=log,
        control_signature=verdict.control_signature, attempt=attempt,
        fingerprint=ctx.fingerprint, suite=ctx.cell.suite or None, found=ctx.found,
        hollow=verdict.hollow, relaxed=ctx.relaxed,
        note=found.note(ctx.found) if ctx.found is not None else None,
    )


def repro(cell: Cell, scenario: str, prefix: str = "") -> str:
    """The one command that reruns exactly this cell and scenario."""
    return f"{prefix}nox -s {shlex.quote(f'cell({cell.id})')} -- --scenario {scenario}"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
