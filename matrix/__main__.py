"""``python -m matrix``: the commands behind the nox sessions and the CI steps.

Each command is a short chain of named steps; every user error is a
:class:`~matrix.errors.MatrixError` printed as one sentence with its own exit code.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import importlib
import json
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from matrix.define import definition, plan
from matrix.results import progress, store
from matrix.publish import regress
from matrix.measure import runner, scenarios
from matrix.errors import IndexUnreachable, MatrixError
from matrix.results.record import Outcome

SNAPSHOT = Path(__file__).with_name("releases.json")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, dispatch, and turn user errors into exit codes."""
    args = _parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except MatrixError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.return_code
    except KeyboardInterrupt:
        print("interrupted: every record written so far is kept; rerun to finish", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m matrix", description=__doc__)
    sub = parser.add_subparsers(required=True, metavar="command")
    cmd = sub.add_parser("cell", help="run one cell of the plan (what each nox cell session does)")
    cmd.add_argument("cell_id")
    cmd.add_argument("--scenario", action="append", choices=scenarios.NAMES,
                     help="run only this scenario (and the control); repeatable")
    cmd.add_argument("--fresh", action="store_true", help="run even if already recorded")
    cmd.set_defaults(func=cmd_cell)
    cmd = sub.add_parser("run", help="run every cell of the plan in this process, in order")
    cmd.add_argument("--fresh", action="store_true", help="run even cells already recorded")
    cmd.set_defaults(func=cmd_run)
    cmd = sub.add_parser("list", help="list the planned cells")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(func=cmd_list)
    cmd = sub.add_parser("check", help="check the matrix definition and exit")
    cmd.set_defaults(func=cmd_check)
    cmd = sub.add_parser("status", help="print progress and the outcome of every recorded cell")
    cmd.set_defaults(func=cmd_status)
    cmd = sub.add_parser("releases", help="ask the package index for releases; write the snapshot")
    cmd.add_argument("--since", default="2023-01-01", help="oldest upload date kept (default %(default)s)")
    cmd.set_defaults(func=cmd_releases)
    cmd = sub.add_parser("merge", help="merge results folders (shards, runs) into one")
    cmd.add_argument("sources", nargs="+", type=Path, help="results folders or results.jsonl files")
    cmd.add_argument("--out", type=Path, help="the merged results folder (default: $MATRIX_OUT or reports)")
    cmd.set_defaults(func=cmd_merge)
    cmd = sub.add_parser("regressions", help="plan the regression issues (open, comment, "
                         "reopen, close) from the previous run and this one")
    regress.add_arguments(cmd)
    cmd.set_defaults(func=regress.run)
    cmd = sub.add_parser("report", help="build the static site from the records")
    cmd.add_argument("--previous", type=Path, help="results of a previous run to compare with")
    cmd.add_argument("--site", type=Path, help="site folder (default: <results>/site)")
    cmd.set_defaults(func=cmd_report)
    for name in ("bisect", "explain", "whence"):
        module = importlib.import_module(f"matrix.search.{name}")
        cmd = sub.add_parser(name, help=module.HELP, description=module.__doc__,
                             formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(cmd)
        cmd.set_defaults(func=module.run)
    return parser


def load_plan() -> plan.Plan:
    """The plan for the definition, profile, suite and shard in force."""
    profile = definition.load(definition.config_path(), definition.profile_name())
    the_suite = load_suite(profile)
    the_plan = plan.selected(profile, _snapshot())
    if the_suite is None:
        return the_plan
    cells = tuple(dataclasses.replace(c, suite=the_suite.key) for c in the_plan.cells)
    return dataclasses.replace(the_plan, cells=cells)


def load_suite(profile: definition.Profile):
    """The user's suite in force: ``$MATRIX_SUITE``, else the profile's ``suite`` key."""
    from matrix.measure import suite

    if os.environ.get("MATRIX_SUITE"):
        return suite.load(Path(os.environ["MATRIX_SUITE"]), os.environ.get("MATRIX_SUITE_REQUIREMENTS"))
    if profile.suite is not None:
        return suite.load(profile.suite, profile.suite_requirements)
    return None


def _snapshot():
    if not SNAPSHOT.exists():
        return None
    from matrix.define import releases

    return releases.load(SNAPSHOT)


def options(the_plan: plan.Plan) -> runner.RunOptions:
    """Run options from the profile and the environment."""
    return runner.RunOptions(
        suite=load_suite(the_plan.profile),
        out=store.out_dir(),
        run_id=run_id(),
        timeout=the_plan.profile.timeout,
        reruns=the_plan.profile.reruns,
        exclude_newer=the_plan.snapshot_time,
        repro_prefix=_repro_prefix(),
    )


def run_id() -> str:
    """The run's id: ``$MATRIX_RUN_ID`` (set once by the noxfile) or now."""
    return os.environ.get("MATRIX_RUN_ID") or new_run_id()


def new_run_id() -> str:
    """A fresh run id from the current time."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _repro_prefix() -> str:
    keep = ("MATRIX_CONFIG", "MATRIX_PROFILE", "MATRIX_OUT", "MATRIX_SUITE", "MATRIX_SUITE_REQUIREMENTS")
    return "".join(f"{k}={shlex.quote(os.environ[k])} " for k in keep if os.environ.get(k))


def cmd_cell(args: argparse.Namespace) -> int:
    the_plan = load_plan()
    cell = the_plan.find(args.cell_id)
    opts = options(the_plan)
    chosen = scenarios.for_cell(cell, tuple(args.scenario or the_plan.profile.scenarios), opts.suite)
    plan.write(the_plan, opts.out, opts.run_id)
    # A second run on the same results folder waits here, then finds the cell recorded.
    with store.cell_lock(opts.out, cell.id):
        records = _run_unless_recorded(cell, chosen, opts, fresh=args.fresh or bool(args.scenario))
    _progress(the_plan, opts)
    unreachable = [r for r in records if r.signature == "index-unreachable"]
    if unreachable:
        raise IndexUnreachable(f"{unreachable[0].message}; check the network or the index "
                               "setting (UV_INDEX_URL) and rerun: these cells will be run again.")
    return 0


def _run_unless_recorded(cell, chosen, opts: runner.RunOptions, fresh: bool) -> list:
    fingerprint = runner.fingerprint(cell, [s.name for s in chosen], opts)
    done = frozenset() if fresh else _recorded(cell.id, fingerprint, opts.out)
    if all(s.name in done for s in chosen):
        print(f"[matrix] {cell.id}: already recorded for this definition, snapshot and probe "
              "code; skipped (pass --fresh to run it again)", file=sys.stderr)
        return []
    records = runner.run_cell(cell, chosen, opts, done)
    for record in records:
        print(f"[matrix] {cell.id} {record.scenario}: {record.outcome.value}"
              f"{' ' + record.signature if record.signature else ''}", file=sys.stderr)
    return records


def cmd_run(args: argparse.Namespace) -> int:
    the_plan = load_plan()
    for cell in the_plan.cells:
        cmd_cell(argparse.Namespace(cell_id=cell.id, scenario=None, fresh=args.fresh))
    return 0


def _recorded(cell_id: str, fingerprint: str, out: Path) -> frozenset[str]:
    """Scenarios of the cell already recorded from identical inputs (``infra`` is redone).

    A suite found to have no browser test has nothing to record for the browser scenarios.
    """
    mine = [r for r in store.read(out) if r.cell_id == cell_id and r.fingerprint == fingerprint
            and r.outcome is not Outcome.INFRA]
    done = {r.scenario for r in mine}
    if any(r.found and r.found.get("browser") == 0 for r in mine):
        done |= set(scenarios.BROWSER_ONLY)
    return frozenset(done)


def _progress(the_plan: plan.Plan, opts: runner.RunOptions) -> None:
    line = progress.line([c.id for c in the_plan.cells], store.read(opts.out, warn=False), opts.run_id)
    print(f"[matrix] progress: {line}", file=sys.stderr)


def cmd_list(args: argparse.Namespace) -> int:
    the_plan = load_plan()
    if args.json:
        print(json.dumps(the_plan.to_json(run_id()), indent=1))
        return 0
    for cell in the_plan.cells:
        print(f"{cell.id}  [{cell.probe}]")
    for cell, reason in the_plan.incompatible:
        print(f"{cell.id}  declared incompatible: {reason}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    the_plan = load_plan()
    print(f"{the_plan.profile.source}: profile '{the_plan.profile.name}' is valid, "
          f"{len(the_plan.cells)} cells")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    the_plan = load_plan()
    records = store.read(store.out_dir())
    latest = store.latest(records)
    for cell in the_plan.cells:
        row = [f"{s}={latest[(cell.id, s)].outcome.value}" for s in scenarios.NAMES
               if (cell.id, s) in latest]
        print(f"{cell.id}: {' '.join(row) or 'not run'}")
    opts = options(the_plan)
    _progress(the_plan, opts)
    if opts.suite is not None:
        from matrix.search import answer

        print("\n".join(answer.for_suite(opts.suite.key, records, opts.suite.declared_pins())))
    return 0


def cmd_releases(args: argparse.Namespace) -> int:
    from matrix.define import releases

    snapshot = releases.refresh(SNAPSHOT, since=args.since)
    for dist, found in snapshot.distributions.items():
        newest = found[-1]
        print(f"{dist}: {len(found)} releases, newest {newest.version} "
              f"(Requires-Python {newest.requires_python or 'any'})")
    for skipped in snapshot.skipped:
        print(f"note: skipped {skipped.distribution} {skipped.version}: {skipped.reason}")
    print(f"[matrix] snapshot taken at {snapshot.taken_at} written to {SNAPSHOT}")
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    from matrix.results import merge

    print(f"[matrix] {merge.merge(args.sources, args.out or store.out_dir())}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from matrix.publish import site

    out = store.out_dir()
    index = site.build(out, args.site or out / "site", previous=args.previous)
    print(f"[matrix] report written to {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
