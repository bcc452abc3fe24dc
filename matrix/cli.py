"""``loop-compat`` (``python -m matrix``): parse, build the options once, dispatch.

Each command is a few calls to :mod:`matrix.tasks`; every user error is a
:class:`~matrix.errors.MatrixError` printed as one sentence with its own exit code.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from matrix import log, masking, options, tasks
from matrix.define import scenarios
from matrix.errors import ConfigError, MatrixError, OutputError
from matrix.measure import command
from matrix.publish import regress
from matrix.results import store

SEARCH_COMMANDS = ("bisect", "explain", "whence", "check", "accuracy")
#: What ``loop-compat --help`` opens with (the docstring above is for developers).
DESCRIPTION = """\
Measure which versions of pytest, pytest-asyncio, pytest-playwright or
pytest-playwright-asyncio, playwright, coverage and Python work together, which break
and how, by running small probe suites (or your own suite) in real environments, and
publish the answer as a static report.

main commands:
  run                  run every cell of the profile, then print the status and build
                       the report
  cell ID              run one cell again (every record's repro command names it)
  status, report       the outcome of every recorded cell; the report again
  check [PATH]         where a project's pins stand, from measured records, in a second
  explain PINS         the smallest change that makes a failing combination pass
  bisect PINS --axis   where along one axis the behaviour changes
  whence TEXT          where an error message comes from

The cells come from the built-in definition (profile quick), or MATRIX_CONFIG and
MATRIX_PROFILE. Results go to MATRIX_OUT (default ./reports): results.jsonl (one record
per scenario), logs/<cell>/ (each scenario's full log) and site/index.html (the report).
"""
#: Sphinx cross-references (``:mod:`matrix.x```), shown to users as their plain text.
_ROLE = re.compile(r":[a-z]+:`(~?)([^`]+)`")
#: A parenthesis that only names an internal module: nothing a user can act on.
_MODULE_ASIDE = re.compile(r"(\s*)\((?::[a-z]+:)?`{1,2}~?matrix\.[\w.]+`{1,2}\)(\S*) ?")
PREVIOUS_HELP = (
    "earlier results (a results folder, results.jsonl or a published results.json; "
    "default $MATRIX_PREVIOUS) whose records are carried over where a cell resolves "
    "to the same installation"
)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, read the options, dispatch, and turn user errors into exit codes."""
    args = _parser().parse_args(argv)
    carry = args.previous if args.func in (cmd_run, cmd_cell) else None  # not report's
    args.settings = options.read(verbosity=args.verbose - args.quiet, previous=carry)
    log.configure(verbosity=args.settings.verbosity, github_actions=args.settings.github_actions)
    streams = sys.stdout, sys.stderr
    _mask_console(args.settings.secrets)
    try:
        _read_stdin(args)
        return args.func(args) or 0
    except BrokenPipeError:  # `loop-compat list | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.__stdout__.fileno())
        return 0
    except MatrixError as exc:
        log.error(str(exc))
        return exc.return_code
    except OSError as exc:  # a disk that fills up mid-run is the machine's, not a defect
        if exc.errno not in OutputError.ERRNOS:
            raise
        error = OutputError.from_os_error(exc, "writing the results")
        log.error(str(error))
        return error.return_code
    except KeyboardInterrupt:
        log.error("interrupted: every record written so far is kept; rerun to finish")
        return 130
    finally:
        sys.stdout, sys.stderr = streams


def entry() -> None:
    """``loop-compat`` and ``python -m matrix``: :func:`main`, then exit with its code. A
    cell (what each nox cell session runs) leaves at once (:func:`command.leave`), so that
    a Ctrl-C as it ends still stops nox."""
    code = main()
    if sys.argv[1:2] == ["cell"]:
        command.leave(code)
    sys.exit(code)


def _read_stdin(args: argparse.Namespace) -> None:
    """A text of ``-`` (``whence -``) is standard input, read here as UTF-8 whatever the
    locale says: bytes that are no UTF-8 are one sentence, not a traceback or text changed
    behind the user's back."""
    if getattr(args, "text", None) != ["-"]:
        return
    stream = getattr(sys.stdin, "buffer", None)
    data = stream.read() if stream is not None else sys.stdin.read()
    if isinstance(data, str):
        args.text = [data]
        return
    try:
        args.text = [data.decode("utf-8")]
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"standard input is not UTF-8 text (byte {exc.start + 1}); convert "
            "the log to UTF-8 (iconv -t utf-8) or paste the error line "
            "itself."
        ) from None


def _mask_console(secrets: frozenset[str]) -> None:
    """Secret values never reach the console: stdout and stderr mask what they print."""
    if secrets:
        sys.stdout = masking.MaskedStream(sys.stdout, secrets)
        sys.stderr = masking.MaskedStream(sys.stderr, secrets)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="loop-compat",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more detail")
    parser.add_argument("-q", "--quiet", action="count", default=0, help="warnings and errors only")
    sub = parser.add_subparsers(required=True, metavar="command")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        # ``loop-compat <name> --help`` opens with the same words as the list of commands
        return sub.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".")

    cmd = command(
        "run",
        help="run every cell of the profile, then status and the report (what nox -s matrix does)",
    )
    cmd.add_argument(
        "--fresh", action="store_true", help="run even cells already recorded; carry nothing over"
    )
    cmd.add_argument("--previous", type=Path, help=PREVIOUS_HELP)
    cmd.set_defaults(func=cmd_run)
    cmd = command("cell", help="run one cell of the plan (what each nox cell session does)")
    cmd.add_argument("cell_id")
    cmd.add_argument(
        "--scenario",
        action="append",
        choices=scenarios.NAMES,
        help="run only this scenario (and the control); repeatable",
    )
    cmd.add_argument(
        "--fresh", action="store_true", help="run even if already recorded; carry nothing over"
    )
    cmd.add_argument("--previous", type=Path, help=PREVIOUS_HELP)
    cmd.set_defaults(func=cmd_cell)
    cmd = command("list", help="list the planned cells")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(func=cmd_list)
    cmd = command("validate", help="validate the matrix definition and exit")
    cmd.set_defaults(func=cmd_validate)
    cmd = command("status", help="print progress and the outcome of every recorded cell")
    cmd.set_defaults(func=cmd_status)
    cmd = command("releases", help="ask the package index for releases; write the snapshot")
    cmd.add_argument(
        "--since", default="2023-01-01", help="oldest upload date kept (default %(default)s)"
    )
    cmd.set_defaults(func=cmd_releases)
    cmd = command("merge", help="merge results folders (shards, runs) into one")
    cmd.add_argument("sources", nargs="+", type=Path, help="results folders or results.jsonl files")
    cmd.add_argument(
        "--out", type=Path, help="the merged results folder (default: $MATRIX_OUT or reports)"
    )
    cmd.set_defaults(func=cmd_merge)
    cmd = command(
        "regressions",
        help="plan the regression issues (open, comment, "
        "reopen, close) from the previous run and this one",
    )
    regress.add_arguments(cmd)
    cmd.set_defaults(func=regress.run)
    cmd = command("report", help="build the static site from the records")
    cmd.add_argument("--previous", type=Path, help="results of a previous run to compare with")
    cmd.add_argument("--site", type=Path, help="site folder (default: <results>/site)")
    cmd.add_argument(
        "--reference",
        action="store_true",
        help="build the page of the reference dataset shipped in the package "
        "(into <results>/site unless --site says otherwise)",
    )
    cmd.set_defaults(func=cmd_report)
    cmd = command(
        "reference",
        help="pack a results folder of the reference profile "
        "into the package's reference dataset (what nox -s reference ends with)",
    )
    cmd.add_argument("results", type=Path, help="the results folder the reference profile ran into")
    cmd.set_defaults(func=cmd_reference)
    for name in SEARCH_COMMANDS:
        module = importlib.import_module(f"matrix.search.{name}")
        cmd = sub.add_parser(
            name,
            help=module.HELP,
            description=_description(module),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(cmd)
        cmd.set_defaults(
            func=_searching(module.run) if name in ("bisect", "explain") else module.run
        )
    return parser


def _description(module) -> str:
    """What a search command's ``--help`` says: the module's ``USAGE``, written for users,
    else its docstring with the Sphinx markup and internal module names taken out."""
    usage = getattr(module, "USAGE", None)
    return usage if usage is not None else user_text(module.__doc__ or "")


def user_text(doc: str) -> str:
    """A developer docstring as user text: cross-references shown as their plain name
    (``:func:`~a.b``` -> ``b``), asides naming a ``matrix.*`` module dropped, and
    ````code```` in single quotes as a terminal shows it."""
    text = _ROLE.sub(_role_text, _MODULE_ASIDE.sub(_without_aside, doc))
    text = text.replace("python -m matrix ", "loop-compat ")  # the command users have
    return re.sub(r"``([^`]+)``", r"'\1'", text)


def _without_aside(match: re.Match[str]) -> str:
    # An aside that opened a line leaves its line break after the words it was attached to.
    space, tail = match.groups()
    return f"{tail}\n" if "\n" in space else f"{tail} "


def _role_text(match: re.Match[str]) -> str:
    tilde, target = match.groups()
    return target.rsplit(".", 1)[-1] if tilde else target


def _searching(run):
    """A search command (bisect, explain), given the run options built here, once."""
    return lambda args: run(
        args, tasks.search_options(args.settings, timeout=args.timeout, reruns=args.reruns)
    )


def cmd_run(args: argparse.Namespace) -> int:
    report = argparse.Namespace(settings=args.settings, previous=None, site=None, reference=False)
    try:
        tasks.run_plan(args.settings, fresh=args.fresh)
    except MatrixError:  # the report still shows what was recorded before the run stopped
        if (args.settings.out / store.RESULTS).is_file():
            cmd_report(report)
        raise
    cmd_report(report)
    return cmd_status(args)


def cmd_cell(args: argparse.Namespace) -> int:
    command.tie_to_parent()  # nox killed alone must not leave the cell running on
    tasks.run_cell(args.settings, args.cell_id, args.scenario or (), fresh=args.fresh)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    the_plan = tasks.load_plan(args.settings)
    if args.json:
        log.answer(json.dumps(the_plan.to_json(args.settings.run_id), indent=1))
        return 0
    for cell in the_plan.cells:
        log.answer(f"{cell.id}  [{cell.probe}]")
    for cell, reason in the_plan.incompatible:
        log.answer(f"{cell.id}  declared incompatible: {reason}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    the_plan = tasks.load_plan(args.settings)
    log.answer(
        f"{the_plan.profile.source}: profile '{the_plan.profile.name}' is valid, "
        f"{len(the_plan.cells)} cells"
    )
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    lines, latest = tasks.status(args.settings)
    log.answer("\n".join(lines))
    tasks.check_index(latest)  # an unreachable index is the run's error, after the table
    return 0


def cmd_releases(args: argparse.Namespace) -> int:
    from matrix.define import releases

    path = args.settings.releases
    snapshot = releases.refresh(path, since=args.since, index=args.settings.index)
    for dist, found in snapshot.distributions.items():
        newest = found[-1]
        log.answer(
            f"{dist}: {len(found)} releases, newest {newest.version} "
            f"(Requires-Python {newest.requires_python or 'any'})"
        )
    for skipped in snapshot.skipped:
        log.warning(f"skipped {skipped.distribution} {skipped.version}: {skipped.reason}")
    log.info(f"snapshot taken at {snapshot.taken_at} written to {path}")
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    from matrix.results import merge

    log.answer(str(merge.merge(args.sources, args.out or args.settings.out)))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    index = tasks.build_report(
        args.settings, previous=args.previous, site_dir=args.site, reference=args.reference
    )
    log.info(f"report written to {index}")
    return 0


def cmd_reference(args: argparse.Namespace) -> int:
    from matrix.measure import browser
    from matrix.results import reference

    settings = args.settings
    chromium = browser.find(settings.chromium, settings.browsers_path, settings.environ.get("PATH"))
    written = reference.pack(args.results, chromium=browser.version(chromium))
    log.info(f"reference dataset written to {written} and {written.with_name('provenance.json')}")
    return 0
