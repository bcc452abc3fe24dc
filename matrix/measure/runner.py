"""Running one cell: interpreter, resolvability, env, then every scenario as its own pytest.

Each scenario's record is appended to the results file the moment it is classified, so
an interrupted cell keeps what it measured.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import fnmatch
import hashlib
import os
import re
import shlex
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from matrix import masking, processes
from matrix.define import variants
from matrix.define.cell import BASELINE, Cell
from matrix.define.scenarios import BROWSER_ONLY, Scenario
from matrix.log import info as log_info  # "log" names each scenario's log file here
from matrix.measure import browser, command, env, found, interpreters, plugin_wheel
from matrix.measure.suite import IGNORED, Suite
from matrix.options import Options
from matrix.results import junit, signatures, store
from matrix.results.record import Counts, Outcome, Record, cap_message
from matrix.results.signatures import Failure, Verdict

PROGRESS_PLUGIN = Path(__file__).with_name("progress_plugin.py")
INFRA_RETRIES, INFRA_PAUSE_S = 2, 5.0
WORK_PREFIX = "loop-compat-work-"  # + the pid of the cell process that owns the folder
SUITE_LOCK_PREFIX = "loop-compat-suite-"  # + the suite's key: see suite_lock
BASE_PROBE = "control"  # every probe is this project plus a layer of its own
_ERROR_LINE = re.compile(r"^(?:E\s+)?([A-Za-z_.]*(?:Error|Exception|Warning)\b.*)$")


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunOptions:
    """How to run cells: the invocation's settings and what the plan says."""

    settings: Options
    timeout: float = 180.0
    reruns: int = 1
    exclude_newer: str | None = None
    repro: str = "nox"  # how a record's repro command reruns a cell: "nox" or "loop-compat"
    repro_prefix: str = ""
    suite: Suite | None = None  # a user's suite, run instead of the probes
    pass_env: tuple[str, ...] = ()  # the profile's pass-env: more variables for the suite
    variant: str = ""  # anything else a cell's outcome depends on, named by its caller

    @property
    def out(self) -> Path:
        return self.settings.out

    @property
    def run_id(self) -> str:
        return self.settings.run_id

    @property
    def probes(self) -> Path:
        return self.settings.probes

    @property
    def secrets(self) -> frozenset[str]:
        """The values masked in every log, JUnit copy and record (``pass-env`` ones too)."""
        return self.settings.masked(self.pass_env)


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
    code: str = ""  # hash of the probe's or suite's files, computed once
    interp: interpreters.Interpreter | None = None
    resolution: env.Resolution | None = None


def fingerprint(cell: Cell, scenario_names: list[str], opts: RunOptions) -> str:
    """What a recorded result depends on: cell, scenarios, probe code, snapshot time."""
    digest = hashlib.sha256()
    extra = suite_inputs(opts)
    if cell.variant != BASELINE:  # baseline fingerprints stay what they were
        extra += "\0" + variants.named(cell.variant).digest()
    code = "".join(_tree_hash(layer) for layer in layers(cell, opts))
    for part in (cell.id, ",".join(scenario_names), opts.exclude_newer or "", code, extra):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:16]


def suite_inputs(opts: RunOptions) -> str:
    """What a suite's results depend on beyond its files: its requirements and the plugin."""
    if not opts.suite:
        return ""
    suite = opts.suite
    return "\n".join(
        (*suite.requirements, *map(str, suite.local), *suite.constraints, found.PLUGIN.read_text())
    )


def inputs_key(ctx: _Cell, scenario: Scenario) -> str:
    """What a scenario's outcome depends on once the cell is resolved: the probe's or
    suite's code (and the suite's own requirements), the variant, the Python patch release,
    every installed distribution and version, and the scenario's runs. Unlike the
    fingerprint it leaves out the snapshot time: a new snapshot that resolves to the same
    installation does not invalidate a record."""
    if not ctx.code:
        ctx.code = "".join(_tree_hash(layer) for layer in layers(ctx.cell, ctx.opts))
    digest = hashlib.sha256()
    extra = suite_inputs(ctx.opts) if ctx.cell.suite else ""
    if ctx.cell.variant != BASELINE:  # the probe variant's own files and packages
        extra += "\0" + variants.named(ctx.cell.variant).digest()
    installed = "\n".join(f"{d}=={v}" for d, v in sorted(ctx.resolved.items()))
    runs = repr((scenario.runs, scenario.coverage))
    for part in (
        ctx.cell.id,
        ctx.code,
        extra,
        ctx.opts.variant,
        ctx.python or "",
        installed,
        scenario.name,
        runs,
    ):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:16]


def carried(ctx: _Cell, scenario: Scenario, previous: Sequence[Record]) -> Record | None:
    """The latest earlier record of this cell and scenario with the same inputs, carried
    over into this run (marked with the run it was measured in); None when there is none.
    ``infra`` results are never carried: they say nothing about the cell."""
    key = inputs_key(ctx, scenario)
    found = [
        r
        for r in previous
        if r.cell_id == ctx.cell.id and r.scenario == scenario.name and r.inputs == key
    ]
    if not found or found[-1].outcome is Outcome.INFRA:
        return None
    old = found[-1]
    return dataclasses.replace(
        old,
        run_id=ctx.opts.run_id,
        measured_in=old.measured_in or old.run_id,
        carried_over=True,
        fingerprint=ctx.fingerprint,
        repro=repro(ctx.cell, scenario.name, ctx.opts.repro_prefix, ctx.opts.repro),
    )


def layers(cell: Cell, opts: RunOptions) -> list[Path]:
    """The folders a cell's project is copied from, in order: the user's suite; or the
    ``control`` probe (the app and the async tests every probe shares) with the cell's own
    probe (its conftest and e2e tests) laid over it."""
    if opts.suite and cell.suite:
        return [opts.suite.root]
    ordered = dict.fromkeys([opts.probes / BASE_PROBE, opts.probes / cell.probe])
    return [folder for folder in ordered if folder.is_dir()]


def copy_project(cell: Cell, opts: RunOptions, project: Path) -> None:
    """A fresh copy of the cell's project at ``project`` (never run in the source)."""
    for layer in layers(cell, opts):
        shutil.copytree(
            layer,
            project,
            symlinks=False,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns(*IGNORED),
        )


def _tree_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    ignored = [re.compile(fnmatch.translate(p)) for p in IGNORED]
    files = [
        p
        for p in folder.rglob("*")
        if p.is_file()
        and not any(r.match(part) for part in p.relative_to(folder).parts for r in ignored)
    ]
    for path in sorted(files):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def run_cell(
    cell: Cell,
    scenarios: list[Scenario],
    opts: RunOptions,
    done: frozenset[str] = frozenset(),
    previous: Sequence[Record] = (),
) -> list[Record]:
    """Run every scenario of ``cell`` not in ``done``; append and return their records.

    After the pins are resolved, a scenario whose inputs (:func:`inputs_key`) equal those
    of a record in ``previous`` is not run: that record is carried over. The control runs
    even when it is already recorded or carried over (its failures are what the other
    scenarios are judged against), but it is not recorded twice.
    """
    ctx = _Cell(
        cell=cell, opts=opts, fingerprint=fingerprint(cell, [s.name for s in scenarios], opts)
    )
    todo = [s for s in scenarios if s.name not in done]
    verdict = _resolved(ctx)
    masking.mask_tree(opts.out / "logs" / cell.id, opts.secrets)  # uv's own logs
    if verdict is not None:
        log = "collect.log" if verdict.signature == "collection-error" else "env.log"
        return [
            _emit(ctx, s, verdict, Counts(), 0.0, _now(), log=f"logs/{cell.id}/{log}") for s in todo
        ]
    records = [r for r in (carried(ctx, s, previous) for s in todo) if r is not None]
    for record in records:
        store.append(opts.out, record)
    done = done | {r.scenario for r in records}
    if all(s.name in done for s in scenarios):
        return records
    verdict = _built(ctx)
    with suite_lock(opts.suite.key if cell.suite and opts.suite else None):
        return records + _measured(ctx, scenarios, todo, done, verdict)


def _measured(
    ctx: _Cell,
    scenarios: list[Scenario],
    todo: list[Scenario],
    done: frozenset[str],
    verdict: Verdict | None,
) -> list[Record]:
    """Collect a suite, then run every scenario not in ``done`` (the control again when
    others are to run); the records of those it ran."""
    cell, opts = ctx.cell, ctx.opts
    if verdict is None and cell.suite:
        verdict = _collect(ctx)
    masking.mask_tree(opts.out / "logs" / cell.id, opts.secrets)  # uv's own logs
    if verdict is not None:
        log = "collect.log" if verdict.signature == "collection-error" else "env.log"
        return [
            _emit(ctx, s, verdict, Counts(), 0.0, _now(), log=f"logs/{cell.id}/{log}")
            for s in scenarios
            if s.name not in done
        ]
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


@contextlib.contextmanager
def suite_lock(key: str | None, folder: Path | None = None) -> Iterator[None]:
    """Hold a suite's lock while one of its cells runs its tests (nothing for a probe).

    Suites often listen on fixed ports (Datasette plugins' 8126 and 8127), so two cells
    of one suite must never run tests at once: under ``nox -j auto``, or in two runs with
    different results folders, the second waits. The lock is the machine's (in the
    temporary folder, like the work folders), named by the suite's key.
    """
    if key is None:
        yield
        return
    path = Path(folder or tempfile.gettempdir()) / f"{SUITE_LOCK_PREFIX}{key}.lock"
    with path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log_info(
                f"{key}: another cell of this suite is running its tests (their fixed "
                "ports would collide); waiting"
            )
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _resolved(ctx: _Cell) -> Verdict | None:
    """Interpreter and resolution; a verdict for every scenario if either fails."""
    settings = ctx.opts.settings
    interp = interpreters.find(ctx.cell.python, settings.environ, settings.pyenv_root)
    if interp is None:
        return Verdict(
            outcome=Outcome.NO_INTERPRETER,
            message=f"Python {ctx.cell.python} is not installed on this machine",
        )
    ctx.python = interp.version
    folder = ctx.opts.out / "logs" / ctx.cell.id
    resolution = _resolve(ctx, interp, folder)
    if resolution.infra:
        return Verdict(
            outcome=Outcome.INFRA,
            signature="index-unreachable",
            message=f"the package index could not be reached: {resolution.reason}",
        )
    if not resolution.ok:
        return _unresolvable(ctx, interp, resolution, folder)
    ctx.resolved, ctx.interp, ctx.resolution = resolution.versions, interp, resolution
    return None


def _built(ctx: _Cell) -> Verdict | None:
    """The env for the resolved pins; a verdict for every scenario left if it fails."""
    settings = ctx.opts.settings
    folder = ctx.opts.out / "logs" / ctx.cell.id
    envdir, error = env.ensure(
        ctx.interp,
        ctx.resolution,
        log=folder / "env.log",
        root=settings.envs,
        environ=settings.environ,
    )
    if envdir is None:
        infra = env.is_network_error(error or "")
        return Verdict(
            outcome=Outcome.INFRA if infra else Outcome.FAIL,
            signature="install: " + signatures.normalise(error or ""),
            message=error,
        )
    ctx.envdir = envdir
    ctx.chromium = browser.find(
        settings.chromium, settings.browsers_path, settings.environ.get("PATH")
    )
    return None


def _suite_copy(ctx: _Cell) -> Path:
    """The copy of a suite its project is installed from (building writes into it, so the
    user's folder is never used); one per suite content, shared by cells and runs."""
    suite = ctx.opts.suite
    copy = ctx.opts.settings.envs / "suites" / f"{suite.key}-{_tree_hash(suite.root)[:12]}"
    if not copy.is_dir():
        partial = copy.with_name(f".{copy.name}-{os.getpid()}")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(
            suite.root, partial, symlinks=False, ignore=shutil.ignore_patterns(*IGNORED)
        )
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
    work = Path(tempfile.mkdtemp(prefix=f"{WORK_PREFIX}{os.getpid()}-"))
    try:
        project = _copy_project(ctx, work)
        report = work / "collect.json"
        done = command.run(
            _pytest_args(
                ctx,
                log.with_suffix(".junit.xml"),
                ["--collect-only"],
                ctx.opts.timeout,
                work,
                _plugins(ctx, project, report, "all"),
            ),
            log=log,
            cwd=project,
            timeout=ctx.opts.timeout,
            echo=False,
            env=_probe_env(ctx, work, project),
            secrets=ctx.opts.secrets,
        )
        masking.mask_file(log, ctx.opts.secrets)
        collected = found.read(report)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if done.returncode == 0 and collected is not None:
        ctx.found = collected.counts
        return None
    line = _failure_from_log(log, done.returncode).message
    return Verdict(
        outcome=Outcome.FAIL,
        signature="collection-error",
        message=f"pytest could not collect the suite with these pins ({line}); see {log_rel}",
    )


def _resolve(ctx: _Cell, interp, folder: Path) -> env.Resolution:
    """The resolver's answer, asked again (with a pause) while the index is unreachable."""
    for attempt in range(INFRA_RETRIES + 1):
        if attempt:
            time.sleep(INFRA_PAUSE_S)
        if ctx.cell.suite:
            ctx.suite_copy = _suite_copy(ctx)
            resolution = env.resolve_relaxing(
                ctx.cell,
                interp,
                folder=folder,
                exclude_newer=ctx.opts.exclude_newer,
                extra=ctx.opts.suite.install_lines(ctx.suite_copy),
                constraints=ctx.opts.suite.constraints,
                environ=ctx.opts.settings.environ,
            )
            ctx.relaxed = resolution.relaxed
        else:
            resolution = env.resolve(
                ctx.cell,
                interp,
                folder=folder,
                exclude_newer=ctx.opts.exclude_newer,
                environ=ctx.opts.settings.environ,
                added=plugin_wheel.resolved(
                    variants.named(ctx.cell.variant).requirements(ctx.cell)
                ),
            )
        if not resolution.infra:
            break
    return resolution


def _unresolvable(ctx: _Cell, interp, resolution: env.Resolution, folder: Path) -> Verdict:
    """Unresolvable pins, or a suite whose own dependencies do not fit them: say which."""
    if ctx.cell.suite and ctx.opts.suite.install_lines(ctx.suite_copy):
        alone = env.resolve(
            ctx.cell,
            interp,
            folder=folder / "pins-alone",
            exclude_newer=ctx.opts.exclude_newer,
            environ=ctx.opts.settings.environ,
        )
        if alone.ok:
            return Verdict(
                outcome=Outcome.UNRESOLVABLE,
                signature="suite-dependencies",
                message="the suite's own dependencies cannot be installed with these "
                f"pins: {resolution.reason}",
            )
    return Verdict(
        outcome=Outcome.UNRESOLVABLE, signature="unresolvable", message=resolution.reason
    )


_RERUN = (Outcome.BUG, Outcome.FAIL, Outcome.TIMEOUT)


def _run_scenario(ctx: _Cell, scenario: Scenario) -> Record:
    """Run a scenario; a failure is run again up to ``reruns`` times (``reruns = 3``: at
    most 4 attempts). A rerun that answers differently makes it ``flaky`` (the last
    failing attempt is kept too); one that answers the same keeps it as it is."""
    started = _now()
    verdict, counts, took, log = _with_infra_retries(ctx, scenario, attempt=1)
    attempt = 1
    while verdict.outcome in _RERUN and attempt <= ctx.opts.reruns:
        attempt += 1
        again, counts_again, took_again, log_again = _with_infra_retries(ctx, scenario, attempt)
        if (again.outcome, again.signature) != (verdict.outcome, verdict.signature):
            store.append(
                ctx.opts.out,
                _record(ctx, scenario, verdict, counts, took, started, log, attempt=attempt - 1),
            )
            return _emit(
                ctx,
                scenario,
                _flaky(verdict, again, attempt),
                counts_again,
                took_again,
                started,
                log_again,
                attempt=attempt,
            )
        verdict, counts, took, log = again, counts_again, took_again, log_again
    return _emit(ctx, scenario, verdict, counts, took, started, log, attempt=attempt)


def _flaky(failed: Verdict, then: Verdict, attempt: int) -> Verdict:
    """Attempts 1 to ``attempt - 1`` said ``failed``, attempt ``attempt`` said ``then``."""
    runs = "run 1" if attempt == 2 else f"runs 1-{attempt - 1}"
    return Verdict(
        outcome=Outcome.FLAKY,
        signature=failed.signature or then.signature,
        message=f"{runs}: {_said(failed)}; run {attempt}: {_said(then)}",
        control_signature=then.control_signature,
    )


def _said(verdict: Verdict) -> str:
    return verdict.outcome.value + (f" ({verdict.signature})" if verdict.signature else "")


def _with_infra_retries(
    ctx: _Cell, scenario: Scenario, attempt: int
) -> tuple[Verdict, Counts, float, str]:
    """An attempt, repeated (with a pause) while the harness, not the cell, failed."""
    for retry in range(INFRA_RETRIES + 1):
        result = _attempt(ctx, scenario, attempt)
        if result[0].outcome is not Outcome.INFRA or result[0].signature == "browser-missing":
            break  # waiting would not give a browser; a port, an index or a launch may free up
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
    if scenario.browser and ctx.chromium is None:  # not retried: waiting would not give one
        reason = browser.missing_reason(ctx.opts.settings.chromium)
        log.write_text(f"[matrix] {reason}\n", encoding="utf-8")
        return (
            Verdict(outcome=Outcome.INFRA, signature="browser-missing", message=reason),
            Counts(),
            0.0,
            log_rel,
        )
    work = Path(tempfile.mkdtemp(prefix=f"{WORK_PREFIX}{os.getpid()}-"))
    try:
        verdict, counts, took, failures = _pytest_runs(ctx, scenario, work, log)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if scenario.name == "control":
        ctx.control = failures
        if verdict.outcome is Outcome.BUG:  # no Playwright here: it is pytest-asyncio's own
            verdict = dataclasses.replace(verdict, outcome=Outcome.FAIL)
    return verdict, counts, took, log_rel


def _pytest_runs(
    ctx: _Cell, scenario: Scenario, work: Path, log: Path
) -> tuple[Verdict, Counts, float, list[Failure]]:
    project = _copy_project(ctx, work)
    limit = variants.named(ctx.cell.variant).limit(ctx.opts.timeout)
    counts, failures, took, hollow = Counts(), [], 0.0, []
    reports: list[junit.Report] = []
    browser_ids: set[str] = set()  # the tests the product's plugin found to use Playwright
    for index, paths in enumerate(scenario.runs, 1):
        report = log.with_suffix(f".junit-{index}.xml")  # kept beside the log as evidence
        report.unlink(missing_ok=True)
        (work / "progress.txt").unlink(missing_ok=True)  # each pytest process says its own
        selection = scenario.selections[index - 1] if scenario.selections else "all"
        plugins = _plugins(ctx, project, work / f"found-{index}.json", selection)
        args = _pytest_args(ctx, report, paths, limit, work, plugins)
        if scenario.coverage:  # the probes' code is app/; a suite's, whatever it imports
            args += ["--cov" if ctx.cell.suite else "--cov=app", "--cov-report="]
        done = command.run(
            args,
            log=log,
            cwd=project,
            timeout=limit,
            echo=False,
            env=_probe_env(ctx, work, project),
            secrets=ctx.opts.secrets,
        )
        for written in (log, report):  # masked before anything is read from them
            masking.mask_file(written, ctx.opts.secrets)
        took += done.duration_s
        if done.timed_out:
            return _hung(work, limit), counts, took, failures
        seen = found.read(work / f"found-{index}.json")
        hollow += seen.hollow if seen else []
        browser_ids |= {
            junit.case_id(t["id"]) for t in (seen.tests if seen else ()) if t["browser"]
        }
        parsed = junit.report(report)
        nothing_selected = done.returncode == 5 and selection in ("browser", "other")
        if not nothing_selected and (
            parsed is None or (done.returncode not in (0, 1) and not parsed.failures)
        ):
            failures.append(_failure_from_log(log, done.returncode))
        parsed = parsed or junit.Report(counts=Counts())
        counts, failures = counts + parsed.counts, failures + list(parsed.failures)
        reports.append(parsed)
    verdict = signatures.classify(failures, [] if scenario.name == "control" else ctx.control)
    verdict = _not_the_cells(verdict, reports, browser_ids)
    verdict = found.hollow(verdict, tuple(hollow) or found.never_awaited(log))
    return verdict, counts, took, failures


def _not_the_cells(verdict: Verdict, reports: list[junit.Report], browser_ids: set[str]) -> Verdict:
    """The verdict once the machine's own shortcomings are told apart from the cell's.

    A port that another process holds makes the run ``infra`` (retried): a suite with a
    fixed port fails whatever the pins. A test set aside because its browser is not
    installed here (a Firefox test on a Chromium-only machine) leaves the other tests'
    verdict standing, and a pass says which were set aside; only when no browser test
    ran at all is the run ``infra``, since then Playwright was never measured.
    """
    port = next((r.port_in_use for r in reports if r.port_in_use), "")
    if port:
        return Verdict(
            outcome=Outcome.INFRA,
            signature="port-in-use",
            message=f"a port the suite needs was in use ({port}); two runs of one "
            "suite, or another program, held it at once",
            control_signature=verdict.control_signature,
        )
    aside = [item for r in reports for item in r.set_aside]
    if not aside:
        return verdict
    ran = {t for r in reports for t in r.tests} - {a.rsplit(": ", 1)[0] for a in aside}
    named = "; ".join(aside[: found.LISTED]) + (
        f"; and {len(aside) - found.LISTED} more" if len(aside) > found.LISTED else ""
    )
    if not browser_ids & ran:
        return Verdict(
            outcome=Outcome.INFRA,
            signature="browser-missing",
            message=f"no browser test could start its browser: {named}",
            control_signature=verdict.control_signature,
        )
    if verdict.outcome is Outcome.PASS:
        return dataclasses.replace(
            verdict,
            message=f"{len(aside)} test(s) set aside, their browser is not installed here: {named}",
        )
    return verdict


def _hung(work: Path, limit: float) -> Verdict:
    """A killed pytest: ``timeout``, with the test and phase the progress file ended in."""
    hang = last_progress(work / "progress.txt")
    where = f"hung in {hang['phase']}" + (f" of {hang['test']}" if hang["test"] else "")
    message = f"{where}: pytest did not finish within {limit:g} s and was killed"
    return Verdict(outcome=Outcome.TIMEOUT, signature="timeout", message=message, hang=hang)


def last_progress(path: Path) -> dict[str, str]:
    """Where a pytest run was when it stopped, from its progress file: the last test
    started and its phase (``setup``, ``call``, ``teardown``), ``between tests`` after a
    test finished, ``collection`` before the first, ``session finish`` after the last."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    last = lines[-1] if lines else "collection"
    phase, _, test = last.partition(" ")
    phase = {"finished": "between tests", "sessionfinish": "session finish"}.get(phase, phase)
    return {"phase": phase, "test": test}


def _copy_project(ctx: _Cell, work: Path) -> Path:
    """The copy of the probe (or suite) a scenario runs in, with the cell's variant applied,
    and the progress plugin beside it."""
    project = work / "project"
    copy_project(ctx.cell, ctx.opts, project)
    variants.named(ctx.cell.variant).apply(project)
    shutil.copyfile(PROGRESS_PLUGIN, work / "matrix_progress.py")
    return project


def _plugins(ctx: _Cell, project: Path, report: Path, selection: str) -> list[str]:
    """The plugins one pytest process loads, with their settings as ini options: a suite's,
    the product's plugin (its ``report``, the ``selection``, a system Chromium); a probe's,
    the probe's own ``chromium`` plugin, when it has one, given the Chromium found."""
    if ctx.cell.suite:
        return ["-p", found.MODULE, *found.settings(report, selection, _suite_chromium(ctx))]
    if (project / "chromium.py").is_file():
        return ["-p", "chromium", *browser.ini(ctx.chromium)]
    return []


def _pytest_args(
    ctx: _Cell, junit_xml: Path, paths, limit: float, work: Path, plugins: list[str]
) -> list:
    """pytest in the cell's env with ``plugins`` (:func:`_plugins`), the progress plugin
    (where a hang is, see :func:`last_progress`) and faulthandler, which dumps every
    thread's stack into the log well before the kill at ``limit`` (its clock starts with
    each test, after start-up)."""
    return [
        ctx.envdir / "bin" / "python",
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        *plugins,
        "-p",
        "matrix_progress",
        "-o",
        f"matrix_progress_file={work / 'progress.txt'}",
        "-o",
        f"faulthandler_timeout={max(1, limit * 0.75):g}",
        *junit.PYTEST_OPTIONS,
        "-q",
        "-rfE",
        f"--junitxml={junit_xml}",
        *paths,
    ]


def _suite_chromium(ctx: _Cell) -> Path | None:
    """The Chromium given to a suite's launches: a system one only. Without one the suite
    uses Playwright's own browser install, as it would on a user's machine."""
    system = ctx.chromium is not None and browser.is_system(
        ctx.chromium, ctx.opts.settings.browsers_path
    )
    return ctx.chromium if system else None


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


def _probe_env(ctx: _Cell, work: Path, project: Path) -> dict[str, str]:
    """The probe's environment: the allow-list and the profile's pass-env only, the cell's
    env first on PATH; a suite's runs find the product's plugin."""
    environ = ctx.opts.settings.environ
    base = {
        k: v
        for k, v in masking.allowed_environ(environ, ctx.opts.pass_env).items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "COVERAGE_PROCESS_START")
    }
    base.update(
        PATH=f"{ctx.envdir / 'bin'}{os.pathsep}{environ.get('PATH', '')}",
        VIRTUAL_ENV=str(ctx.envdir),
        PYTHONDONTWRITEBYTECODE="1",
        COVERAGE_FILE=str(work / ".coverage"),
        PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1",
        # the progress plugin beside the project; a suite's root and src/ after it
        PYTHONPATH=str(work),
        # Playwright's artifact and browser-profile folders land in the work folder too, so
        # they go with it even when the driver is killed.
        TMPDIR=str(_made(work / "tmp")),
    )
    if ctx.cell.suite:  # the plugin, and src/ of a suite that is not installed as a package
        paths = [found.place(work), work]
        if not any(item.path == ctx.opts.suite.root for item in ctx.opts.suite.local):
            paths += [project, project / "src"]
        base["PYTHONPATH"] = os.pathsep.join(map(str, paths))
    return base


def _made(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def remove_stale_work(tmp: Path | None = None) -> int:
    """Remove the work folders of cell processes that are gone (killed with no chance to
    clean up); returns how many. A folder is named after the process that made it."""
    removed = 0
    for folder in Path(tmp or tempfile.gettempdir()).glob(f"{WORK_PREFIX}*-*"):
        pid = folder.name[len(WORK_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not processes.alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def _emit(
    ctx: _Cell,
    scenario: Scenario,
    verdict: Verdict,
    counts: Counts,
    took: float,
    started: str,
    log: str | None,
    attempt: int = 1,
) -> Record:
    record = _record(ctx, scenario, verdict, counts, took, started, log, attempt)
    store.append(ctx.opts.out, record)
    return record


def _record(
    ctx: _Cell,
    scenario: Scenario,
    verdict: Verdict,
    counts: Counts,
    took: float,
    started: str,
    log: str | None,
    attempt: int,
) -> Record:
    def clean(text: str | None) -> str | None:  # secrets masked, then the length capped
        return None if text is None else masking.mask(text, ctx.opts.secrets)

    return Record(
        run_id=ctx.opts.run_id,
        cell_id=ctx.cell.id,
        python=ctx.python,
        requested=ctx.cell.requested,
        resolved=ctx.resolved,
        probe=ctx.cell.probe,
        scenario=scenario.name,
        outcome=verdict.outcome,
        signature=clean(verdict.signature),
        message=cap_message(clean(verdict.message)),
        tests=counts,
        duration_s=round(took, 2),
        started_at=started,
        log=log,
        control_signature=clean(verdict.control_signature),
        repro=clean(repro(ctx.cell, scenario.name, ctx.opts.repro_prefix, ctx.opts.repro)),
        attempt=attempt,
        variant=ctx.cell.variant,
        hang=verdict.hang,
        fingerprint=ctx.fingerprint,
        inputs=inputs_key(ctx, scenario) if ctx.resolved else "",
        suite=ctx.cell.suite or None,
        found=ctx.found,
        hollow=verdict.hollow,
        relaxed=ctx.relaxed,
        note=_note(ctx),
    )


def _note(ctx: _Cell) -> str | None:
    """How a suite's project was installed and what was found in it; None for a probe."""
    suite = ctx.opts.suite if ctx.cell.suite else None
    parts = [
        suite.installed if suite else "",
        found.note(ctx.found) if ctx.found is not None else "",
    ]
    return "; ".join(p for p in parts if p) or None


def repro(cell: Cell, scenario: str, prefix: str = "", launcher: str = "nox") -> str:
    """The one command that reruns exactly this cell and scenario, the way it was run: a
    nox session in a checkout, or the installed console command."""
    if launcher == "nox":
        return f"{prefix}nox -s {shlex.quote(f'cell({cell.id})')} -- --scenario {scenario}"
    return f"{prefix}{launcher} cell {shlex.quote(cell.id)} --scenario {scenario} --fresh"


def _now() -> str:
    return (
        dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    )
