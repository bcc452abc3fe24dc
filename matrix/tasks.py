"""The steps the commands are made of: plan, run cells, tell progress, build the report.

Each step takes the invocation's :class:`~matrix.options.Options` (built once by the CLI)
and what the step before it produced, so a command reads as a short chain of named steps,
and the noxfile and the search commands call the same steps rather than the CLI.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from matrix import locations, log
from matrix.define import definition, plan, releases, scenarios
from matrix.define.cell import Cell
from matrix.errors import EarlierResultsError, IndexUnreachable, OutputError
from matrix.measure import runner
from matrix.options import Options
from matrix.results import model, progress, sources, store
from matrix.results.record import Outcome, Record


def load_profile(settings: Options) -> definition.Profile:
    """The profile in force (``MATRIX_CONFIG``, ``MATRIX_PROFILE``), checked."""
    return definition.load(settings.config, settings.profile)


def load_suite(settings: Options, profile: definition.Profile):
    """The user's suite in force: ``MATRIX_SUITE``, else the profile's ``suite`` key."""
    from matrix.measure import suite

    if settings.suite is not None:
        return suite.load(
            settings.suite,
            settings.suite_requirements,
            settings.suite_install,
            settings.masked(profile.pass_env),
        )
    if profile.suite is not None:
        return suite.load(
            profile.suite,
            profile.suite_requirements,
            settings.suite_install,
            settings.masked(profile.pass_env),
        )
    return None


def load_plan(
    settings: Options, profile: definition.Profile | None = None, the_suite=None
) -> plan.Plan:
    """This run's plan: written once per run and read back by every cell process."""
    profile = profile or load_profile(settings)
    if the_suite is None:
        the_suite = load_suite(settings, profile)
    return plan.current(
        profile,
        settings.releases,
        settings.out,
        share=settings.shard,
        suite=the_suite.key if the_suite else "",
        load_snapshot=releases.load,
    )


def launcher() -> str:
    """How a record's repro command reruns a cell: nox in a checkout (the noxfile is
    beside the package), else the installed console command."""
    return "nox" if locations.in_checkout() else "loop-compat"


def run_options(
    settings: Options,
    the_suite,
    *,
    exclude_newer: str | None,
    timeout: float,
    reruns: int,
    repro_prefix: str | None = None,
    pass_env: tuple[str, ...] = (),
) -> runner.RunOptions:
    """How cells are run: the one place run options are built (the search commands give
    their own repro prefix, which names the definition of the cells they searched)."""
    return runner.RunOptions(
        settings=settings,
        suite=the_suite,
        timeout=timeout,
        reruns=reruns,
        exclude_newer=exclude_newer,
        repro=launcher(),
        pass_env=pass_env,
        repro_prefix=settings.repro_prefix() if repro_prefix is None else repro_prefix,
    )


def search_options(settings: Options, *, timeout: float, reruns: int) -> runner.RunOptions:
    """Run options for the cells a search (bisect, explain) measures: the snapshot's time
    and the suite in force (``MATRIX_SUITE``, else the profile's ``suite`` key)."""
    the_suite = load_suite(settings, None if settings.suite else load_profile(settings))
    return run_options(
        settings,
        the_suite,
        exclude_newer=releases.load(settings.releases).taken_at,
        timeout=timeout,
        reruns=reruns,
    )


def earlier_records(settings: Options) -> tuple[Record, ...]:
    """The records of ``--previous`` / ``MATRIX_PREVIOUS``, for carrying over; none if unset
    or unreadable (then nothing is carried over, and the warning says why)."""
    if not settings.previous:
        return ()
    try:
        return tuple(sources.read_earlier(settings.previous).records)
    except EarlierResultsError as exc:
        log.warning(f"{exc}; nothing is carried over")
        return ()


def run_cell(
    settings: Options,
    cell_id: str,
    wanted: Sequence[str] = (),
    fresh: bool = False,
    earlier: Sequence[Record] | None = None,
) -> list[Record]:
    """Measure one cell of the plan (the scenarios ``wanted``, default the profile's);
    records of ``earlier`` (default: ``--previous``) and of the results folder whose inputs
    are equal are carried over instead of measured, unless ``fresh``."""
    runner.remove_stale_work()
    profile = load_profile(settings)
    the_suite = load_suite(settings, profile)
    the_plan = load_plan(settings, profile, the_suite)
    cell = the_plan.find(cell_id)
    opts = run_options(
        settings,
        the_suite,
        exclude_newer=the_plan.snapshot_time,
        timeout=profile.timeout,
        reruns=profile.reruns,
        pass_env=profile.pass_env,
    )
    store.check_writable(settings.out)  # before any env is built
    chosen = scenarios.for_cell(cell, tuple(wanted or profile.scenarios), the_suite)
    plan.write(the_plan, settings.out, settings.run_id)
    # A second run on the same results folder waits here, then finds the cell recorded.
    earlier = () if fresh else (earlier_records(settings) if earlier is None else earlier)
    with store.cell_lock(settings.out, cell.id), log.group(f"cell {cell.id}"):
        # Read once: what the folder held (for resuming and the progress line), then this
        # cell's records as they were appended; a long folder is not parsed twice a cell.
        # (Records that cells running in parallel append meanwhile show in the next line.)
        here = store.read(settings.out, warn=not (fresh or wanted))
        records = _run_unless_recorded(
            cell, chosen, opts, fresh=fresh or bool(wanted), earlier=earlier, here=here
        )
    log.info(f"progress: {progress_line(the_plan, the_suite, [*here, *records], settings.run_id)}")
    check_index(records)
    return records


def check_index(records: Sequence[Record]) -> None:
    """Raise :class:`IndexUnreachable` if any of ``records`` could not reach the index."""
    unreachable = [r for r in records if r.signature == "index-unreachable"]
    if unreachable:
        raise IndexUnreachable(
            f"{unreachable[0].message}; check the network or the index "
            "setting (UV_INDEX_URL) and rerun: these cells will be run again."
        )


def _run_unless_recorded(
    cell: Cell,
    chosen,
    opts: runner.RunOptions,
    fresh: bool,
    earlier: Sequence[Record] = (),
    here: Sequence[Record] = (),
) -> list[Record]:
    """Resume what this folder holds (``here``) from identical inputs (same snapshot too);
    otherwise resolve and run, carrying over records of earlier runs whose inputs are equal."""
    fingerprint = runner.fingerprint(cell, [s.name for s in chosen], opts)
    here = [] if fresh else here
    done = _recorded(cell.id, fingerprint, here)
    if all(s.name in done for s in chosen):
        log.info(
            f"{cell.id}: already recorded for this definition, snapshot and probe "
            "code; skipped (pass --fresh to run it again)"
        )
        return []
    records = runner.run_cell(cell, chosen, opts, done, previous=[*earlier, *here])
    for record in records:
        said = f" {record.signature}" if record.signature else ""
        how = f" (carried over from run {record.measured_in})" if record.carried_over else ""
        log.info(f"{cell.id} {record.scenario}: {record.outcome.value}{said}{how}")
    return records


def _recorded(cell_id: str, fingerprint: str, records: Sequence[Record]) -> frozenset[str]:
    """Scenarios of the cell already recorded from identical inputs (``infra`` is redone).

    A suite found to have no browser test has nothing to record for the browser scenarios.
    """
    mine = [
        r
        for r in records
        if r.cell_id == cell_id and r.fingerprint == fingerprint and r.outcome is not Outcome.INFRA
    ]
    done = {r.scenario for r in mine}
    if any(r.found and r.found.get("browser") == 0 for r in mine):
        done |= set(scenarios.BROWSER_ONLY)
    return frozenset(done)


def progress_line(the_plan: plan.Plan, the_suite, records: Sequence[Record], run_id: str) -> str:
    """Cells done (every scenario they run recorded) of all, outcomes, time left."""
    wanted = {
        c.id: [s.name for s in scenarios.for_cell(c, the_plan.profile.scenarios, the_suite)]
        for c in the_plan.cells
    }
    # a suite found to have no browser test runs none of the browser scenarios
    bare = {r.cell_id for r in records if r.found and r.found.get("browser") == 0}
    wanted = {
        cid: [n for n in names if cid not in bare or n not in scenarios.BROWSER_ONLY]
        for cid, names in wanted.items()
    }
    return progress.line(wanted, records, run_id)


def run_plan(settings: Options, fresh: bool = False) -> None:
    """Measure every cell of the plan in this process, in order; an unreachable index
    stops nothing until every cell had its turn, then is the run's error."""
    cells = load_plan(settings).cells  # a wrong definition stops here, before any output
    store.check_writable(settings.out)
    unreachable = None
    earlier = () if fresh else earlier_records(settings)  # read once, not once per cell
    for cell in cells:
        try:
            run_cell(settings, cell.id, fresh=fresh, earlier=earlier)
        except IndexUnreachable as exc:
            unreachable = exc
    if unreachable is not None:
        raise unreachable


def status(settings: Options) -> tuple[list[str], list[Record]]:
    """Each planned cell's scenarios and outcomes, progress, and a suite's answer; and
    the latest record of every planned scenario."""
    profile = load_profile(settings)
    the_suite = load_suite(settings, profile)
    the_plan = load_plan(settings, profile, the_suite)
    records = store.read(settings.out)
    latest = model.latest(records)
    found = model.verdicts(records)  # a pass retried after a failure in one run is flaky
    lines = []
    for cell in the_plan.cells:
        row = [
            f"{s}={found[(cell.id, s)].outcome}" for s in scenarios.NAMES if (cell.id, s) in found
        ]
        lines.append(f"{cell.id}: {' '.join(row) or 'not run'}")
    lines.append(f"progress: {progress_line(the_plan, the_suite, records, settings.run_id)}")
    if the_suite is not None:
        from matrix.search import suite_answer

        lines += suite_answer.for_suite(the_suite.key, records, the_suite.declared_pins())
    planned = {c.id for c in the_plan.cells}
    return lines, [r for key, r in latest.items() if key[0] in planned]


def build_report(
    settings: Options,
    previous: Path | None = None,
    site_dir: Path | None = None,
    reference: bool = False,
) -> Path:
    """Build the static site from the records of the results folder (or of the reference
    dataset shipped in the package)."""
    from matrix.publish import site

    records = sources.REFERENCE if reference else settings.out
    site_dir = site_dir or settings.out / "site"
    _check_site_folder(site_dir)
    return site.build(records, site_dir, previous=previous, secrets=settings.secrets)


def _check_site_folder(site_dir: Path) -> None:
    """Refuse, before anything is read or written, a site folder whose nearest existing
    folder takes no new entry (``--site /proc/self/x``: a folder that exists but where
    nothing can be made, which the build would meet only as it stages the page)."""
    here = Path(site_dir).absolute().parent
    while not here.exists() and here != here.parent:
        here = here.parent
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".site-check-", dir=here))
    except OSError as exc:
        raise OutputError(
            f"the site {site_dir} cannot be written ({exc.strerror} in {here}); "
            "give --site (or MATRIX_OUT) a folder this user can write: nothing "
            "was written."
        ) from None
