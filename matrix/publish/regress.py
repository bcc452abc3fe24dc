"""Regression issues: what the scheduled job opens, comments on, reopens and closes.

The previous published run and the current run are compared failure signature by
failure signature (only ``bug`` and ``fail`` carry a signature worth an issue; the
latest record of each ``(cell_id, scenario)`` counts). The result is a plan of issue
actions, one issue per signature for its whole life, never one per run:

- a signature that newly appears is opened, or commented on when its issue is already
  open, or its issue reopened when it was closed;
- a signature in both runs that has no issue at all (issues switched on late, or a
  failed ``gh`` call) is opened: the plan reconciles against the issue list;
- a signature in both runs is commented on only when its cells changed;
- a signature that disappeared while every one of its cells now passes is closed.

This module never talks to GitHub: the existing issues come in as the JSON that
``gh issue list --json number,title,labels,state,body`` prints, and the plan goes out as
JSON that the workflow applies with ``gh``. So the same inputs always give the same plan,
and each issue body ends with a marker naming the cells it reports, so a plan computed
again after it was applied asks for nothing more.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from matrix import log
from matrix.define import scenarios
from matrix.errors import ConfigError, EarlierResultsError, NothingToDo
from matrix.results import model, signatures, sources
from matrix.results.record import Outcome, Record

LABEL = "compat-regression"
LABEL_PREFIX = "sig:"
TITLE_PREFIX = "Compatibility regression: "
#: Outcomes whose signature is a fact about the combination, worth an issue.
ISSUE_OUTCOMES = frozenset({Outcome.BUG, Outcome.FAIL})
MAX_LABEL = 50  # GitHub's limit on a label's name
MAX_ROWS = 60  # cells listed in one body; the page lists them all
MAX_BODY = 60_000  # GitHub refuses bodies over 65,536 characters
MARKER = re.compile(r"<!-- compat-regression key=(\S+) cells=([0-9a-f]+) -->")

Key = tuple[str, str]  # (cell_id, scenario)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Issue:
    """An existing issue, as ``gh issue list --json number,title,labels,state,body`` gives it."""

    number: int
    title: str
    labels: tuple[str, ...] = ()
    state: str = "open"  # "open" or "closed"
    body: str | None = None  # None when the listing did not ask for bodies

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Issue:
        """One issue from gh's JSON (labels as names or as ``{"name": ...}`` objects)."""
        labels = tuple(
            sorted(
                lab["name"] if isinstance(lab, Mapping) else str(lab)
                for lab in data.get("labels") or ()
            )
        )
        return cls(
            number=int(data["number"]),
            title=str(data.get("title") or ""),
            labels=labels,
            state=str(data.get("state") or "open").lower(),
            body=data.get("body"),
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Action:
    """One thing to do to the issue of one signature."""

    kind: str  # "open", "comment", "reopen" or "close"
    signature: str
    key: str  # short, label-safe id of the signature
    title: str
    labels: tuple[str, ...]
    body: str  # the new issue's body ("open") or the comment to post (the others)
    issue: int | None = None  # the existing issue; None for "open", or a close never filed
    refresh: str | None = None  # the issue body to write first ("comment", "reopen")
    cells: tuple[str, ...] = ()  # "cell_id scenario" of the occurrences it reports

    def to_json(self) -> dict[str, Any]:
        """The action as the workflow's ``jq`` reads it."""
        data = dataclasses.asdict(self)
        data["labels"], data["cells"] = list(self.labels), list(self.cells)
        return data


# ---------------------------------------------------------------- the plan


def plan(
    previous: Path | Iterable[Record],
    current: Path | Iterable[Record],
    existing: Iterable[Issue | Mapping[str, Any]] | None = None,
    *,
    page: str | None = None,
) -> list[Action]:
    """The issue actions that take the issues from ``previous`` to ``current``.

    Args:
        previous: the previous run: records, or a results folder, ``results.jsonl`` or a
            published site's ``results.json``. Missing or empty means unknown: nothing is
            then closed or reopened, only opened or commented on.
        current: the current run, in the same forms.
        existing: the issues already filed (open and closed), as :class:`Issue` or gh's
            JSON. None means the list is unknown: a signature already in the previous
            run is then taken to have its issue; given, one without an issue is opened.
        page: the published page's address, linked from each body.
    """
    before_latest, now = model.latest(_records(previous)), model.latest(_records(current))
    before, after = _by_signature(before_latest), _by_signature(now)
    issues = [i if isinstance(i, Issue) else Issue.from_json(i) for i in existing or ()]
    ctx = _Context(
        now=now, page=page, known_previous=bool(before_latest), known_issues=existing is not None
    )
    actions = []
    for sig in sorted(before.keys() | after.keys()):
        issue = _find(issues, key_of(sig))
        if after.get(sig):
            action = _still_failing(ctx, sig, before.get(sig, ()), after[sig], issue)
        else:
            action = _gone(ctx, sig, before[sig], issue)
        if action is not None:
            actions.append(action)
    return actions


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Context:
    now: Mapping[Key, Record]  # the current run's latest record per (cell, scenario)
    page: str | None
    known_previous: bool
    known_issues: bool  # the issue list was given: a signature without an issue gets one


def _still_failing(
    ctx: _Context, sig: str, before: Sequence[Record], after: Sequence[Record], issue: Issue | None
) -> Action | None:
    """A signature seen in this run: open, reopen, comment, or leave alone."""
    body = issue_body(sig, after, page=ctx.page)
    if issue is None:
        return None if before and not ctx.known_issues else _action("open", sig, after, body=body)
    if issue.state != "open":
        # Closed while it persisted: a person decided; only a comeback reopens it.
        if before or not ctx.known_previous:
            return None
        return _action(
            "reopen",
            sig,
            after,
            issue=issue,
            refresh=body,
            body=_comment("It is back in this run.", after, before, ctx),
        )
    reported = _reported_digest(issue)
    if reported is not None:
        changed = reported != digest(after)
    else:  # no body to read: compare with the previous run instead
        changed = _occurrences(before) != _occurrences(after)
    if not changed:
        return None
    note = "Seen again in this run." if not before else "Its cells changed in this run."
    return _action(
        "comment", sig, after, issue=issue, refresh=body, body=_comment(note, after, before, ctx)
    )


def _gone(ctx: _Context, sig: str, before: Sequence[Record], issue: Issue | None) -> Action | None:
    """A signature seen before but not now: close it once every one of its cells passes."""
    now = [ctx.now.get((r.cell_id, r.scenario)) for r in before]
    if not all(r is not None and r.outcome is Outcome.PASS for r in now):
        return None  # not measured, or failing otherwise: no evidence that it is fixed
    if issue is not None and issue.state != "open":
        return None
    passing = [r for r in now if r is not None]
    lines = [
        "Not seen in this run: every scenario that had it now passes.",
        "",
        _table(passing),
        "",
        *_page_line(ctx.page),
    ]
    return _action("close", sig, before, issue=issue, body=_cap("\n".join(lines)))


def _action(
    kind: str,
    sig: str,
    records: Sequence[Record],
    *,
    body: str,
    issue: Issue | None = None,
    refresh: str | None = None,
) -> Action:
    # What a record says reaches GitHub shown, never obeyed: the one escaping of log.
    return Action(
        kind=kind,
        signature=sig,
        key=key_of(sig),
        title=log.printable(title_of(sig)),
        labels=labels_of(sig),
        body=log.printable(body, lines=True),
        refresh=None if refresh is None else log.printable(refresh, lines=True),
        issue=issue.number if issue else None,
        cells=tuple(f"{c} {s}" for c, s, _ in _occurrences(records)),
    )


def _comment(note: str, after: Sequence[Record], before: Sequence[Record], ctx: _Context) -> str:
    """A comment: what changed, then the cells as they are now."""
    was, now = {o[:2] for o in _occurrences(before)}, {o[:2] for o in _occurrences(after)}
    lines = [note, ""]
    if ctx.known_previous and before:
        lines += [f"- new: {_cell_list(now - was)}", f"- gone: {_cell_list(was - now)}", ""]
    lines += [_table(after), "", *_page_line(ctx.page)]
    return _cap("\n".join(lines))


# ---------------------------------------------------------------- reading the runs


def load(path: Path) -> list[Record]:
    """The records of a results folder, ``results.jsonl`` or a site's ``results.json``
    (see :func:`matrix.results.sources.read_earlier`). A missing path gives no record (a
    first run has no previous page to compare with); a malformed one stops the command."""
    try:
        return sources.read_earlier(Path(path)).records
    except EarlierResultsError as exc:
        if exc.missing:
            return []
        raise


def _existing(path: Path) -> list[Issue]:
    """The issues of ``--existing`` (gh's JSON list), or one sentence saying what is wrong."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, list):
            raise TypeError("a JSON list was expected")
        return [Issue.from_json(item) for item in data]
    except OSError as exc:
        raise ConfigError(
            f"--existing {path} cannot be read ({exc.strerror}); give the file "
            "gh issue list --json number,title,labels,state,body wrote."
        ) from None
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise ConfigError(
            f"--existing {path} is not gh's list of issues "
            f"({type(exc).__name__}); write it with gh issue list --json "
            "number,title,labels,state,body."
        ) from None


def _records(source: Path | Iterable[Record]) -> list[Record]:
    return load(source) if isinstance(source, (str, Path)) else list(source)


def _by_signature(latest: Mapping[Key, Record]) -> dict[str, tuple[Record, ...]]:
    """The failing records of each signature, in cell then scenario order."""
    found: dict[str, list[Record]] = {}
    for record in latest.values():
        if record.outcome in ISSUE_OUTCOMES and record.signature:
            found.setdefault(record.signature, []).append(record)
    return {sig: tuple(sorted(rs, key=_order)) for sig, rs in found.items()}


def _order(record: Record) -> tuple:
    rank = scenarios.NAMES.index(record.scenario) if record.scenario in scenarios.NAMES else 99
    return (record.cell_id, rank, record.scenario)


def _occurrences(records: Iterable[Record]) -> tuple[tuple[str, str, str], ...]:
    return tuple(sorted((r.cell_id, r.scenario, r.outcome.value) for r in records))


def digest(records: Iterable[Record]) -> str:
    """A short digest of which cells and scenarios have the signature, and how."""
    text = "\n".join(" ".join(o) for o in _occurrences(records))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


# ---------------------------------------------------------------- names


def key_of(signature: str) -> str:
    """A short, label-safe id: the catalogue id itself, else a slug and a hash."""
    if re.fullmatch(r"[a-z0-9][a-z0-9-]*", signature) and len(signature) <= 40:
        return signature
    text = re.sub(r"^(?:\w+\.)+(?=\w+:)", "", signature)  # drop an exception's module path
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:28].rstrip("-")
    return f"{slug or 'failure'}-{hashlib.sha256(signature.encode()).hexdigest()[:8]}"


def labels_of(signature: str) -> tuple[str, ...]:
    """The issue's labels: the common one, and one naming the signature (found again by it)."""
    return (LABEL, f"{LABEL_PREFIX}{key_of(signature)}")  # at most 4 + 40 < MAX_LABEL


def title_of(signature: str) -> str:
    """The issue's title; a long signature is shortened and its key added."""
    key = key_of(signature)
    if key == signature:
        return f"{TITLE_PREFIX}{signature}"
    text = " ".join(signature.split())
    text = text if len(text) <= 100 else text[:99] + "…"
    return f"{TITLE_PREFIX}{text} ({key})"


def _find(issues: Sequence[Issue], key: str) -> Issue | None:
    """The issue of a signature: by its label (or exact title), open ones first."""
    label = f"{LABEL_PREFIX}{key}"
    hits = [
        i
        for i in issues
        if label in i.labels or i.title.endswith(f"({key})") or i.title == f"{TITLE_PREFIX}{key}"
    ]
    return max(hits, key=lambda i: (i.state == "open", i.number), default=None)


def _reported_digest(issue: Issue) -> str | None:
    found = MARKER.findall(issue.body or "")
    return found[-1][1] if found else None  # the last: ours ends the body


# ---------------------------------------------------------------- Markdown


FOOTER = (
    "This issue is kept by the scheduled matrix job: one issue per signature; it "
    "comments when the cells change and closes when they pass again."
)


def issue_body(signature: str, records: Sequence[Record], *, page: str | None = None) -> str:
    """The issue's body: the signature, first failure lines, cells, and repro commands."""
    known = signatures.BY_ID.get(signature)
    lines = [_headline(signature, records), ""]
    if known is not None:
        lines += [known.meaning, ""]
    lines += ["**First failure line**", "", *_fenced(_messages(records), "text"), ""]
    lines += ["**Where**", "", _table(records), ""]
    lines += _reproduce(records, page)
    if known is not None and known.fixes:
        lines += ["**Known fixes**", "", *(f"- {fix}" for fix in known.fixes), ""]
    marker = f"<!-- compat-regression key={key_of(signature)} cells={digest(records)} -->"
    lines += [*_page_line(page), FOOTER, "", marker]
    return _cap("\n".join(lines), keep_last=True)


def _headline(signature: str, records: Sequence[Record]) -> str:
    outcomes = ", ".join(_code(o) for o in sorted({r.outcome.value for r in records}))
    runs = ", ".join(_code(run) for run in sorted({r.run_id for r in records}))
    cells = len({r.cell_id for r in records})
    return (
        f"Failure signature {_code(signature)} (outcome {outcomes}) in "
        f"{_count(len(records), 'scenario')} of {_count(cells, 'cell')}, run {runs}."
    )


def _reproduce(records: Sequence[Record], page: str | None) -> list[str]:
    lines = [
        "**Reproduce** (from a checkout of this repository, one command per scenario)",
        "",
        *_fenced([" ".join(r.repro.split()) for r in records[:MAX_ROWS]], "sh"),
        "",
    ]
    if page:  # the cells were planned from the run's releases snapshot, kept beside the page
        fetch = f"curl -fsSL {_url(page)}releases.json -o matrix/releases.json"
        lines += [f"First fetch the run's releases snapshot: `{fetch}`", ""]
    return lines


def _messages(records: Sequence[Record]) -> list[str]:
    seen = dict.fromkeys(" ".join((r.message or "(no message)").split()) for r in records)
    return list(seen)[:5]


def _table(records: Sequence[Record]) -> str:
    """The cells as a Markdown table; every value in a code span that cannot break out."""
    rows = ["| cell | scenario | outcome | Python | requested |", "| --- | --- | --- | --- | --- |"]
    for r in records[:MAX_ROWS]:
        pins = ", ".join(_code(f"{k} {v}") for k, v in sorted(r.requested.items()) if k != "python")
        rows.append(
            f"| {_code(r.cell_id)} | {_code(r.scenario)} | {_code(r.outcome.value)} "
            f"| {_code(r.python or r.requested.get('python', '?'))} | {pins} |"
        )
    if len(records) > MAX_ROWS:
        rows.append(f"| … and {len(records) - MAX_ROWS} more (see the page) | | | | |")
    return "\n".join(rows)


def _code(text: object) -> str:
    """An inline code span: backticks dropped, pipes escaped for tables, one line."""
    clean = " ".join(str(text).replace("`", "").split()).replace("|", "\\|")
    return f"`{clean[:200]}`" if clean else "` `"


def _fenced(lines: Sequence[str], info: str) -> list[str]:
    """A fenced block longer than any backtick run inside it, so no text can close it."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{info}", *lines, fence]


def _cell_list(keys: Iterable[tuple[str, str]]) -> str:
    items = [f"{_code(c)} {_code(s)}" for c, s in sorted(keys)]
    return ", ".join(items[:MAX_ROWS]) or "none"


def _page_line(page: str | None) -> list[str]:
    return [f"The compatibility page: {_url(page)}", ""] if page else []


def _url(page: str) -> str:
    """The page's address, ending with one slash, with nothing that leaves a code span."""
    return re.sub(r"[\s`]", "", page).rstrip("/") + "/"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _cap(text: str, *, keep_last: bool = False) -> str:
    """Stay under GitHub's body limit; the marker (the last line) is kept."""
    if len(text) <= MAX_BODY:
        return text
    head, _, last = text.rpartition("\n")
    cut = text[:MAX_BODY] if not keep_last else head[: MAX_BODY - len(last) - 40]
    return f"{cut}\n\n(cut: see the page for the rest)" + (f"\n{last}" if keep_last else "")


def render(actions: Sequence[Action]) -> str:
    """A Markdown summary of the plan, for the job summary."""
    if not actions:
        return "### Regression issues\n\nNothing to do: no signature appeared or went away.\n"
    rows = [
        "### Regression issues",
        "",
        "| action | issue | signature | scenarios |",
        "| --- | --- | --- | --- |",
    ]
    for a in actions:
        number = f"#{a.issue}" if a.issue else "new" if a.kind == "open" else "none filed"
        rows.append(
            f"| {a.kind} | {number} | {_code(log.printable(a.signature))} | {len(a.cells)} |"
        )
    return "\n".join(rows) + "\n"


# ---------------------------------------------------------------- command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m matrix regressions``."""
    parser.add_argument(
        "--previous",
        type=Path,
        required=True,
        help="the previous run: results folder, results.jsonl or a site's "
        "results.json (missing: every signature counts as new)",
    )
    parser.add_argument(
        "--current",
        type=Path,
        required=True,
        help="the current run: results folder or results.jsonl",
    )
    parser.add_argument(
        "--existing",
        type=Path,
        help="the issues already filed: the JSON of gh issue list --json "
        "number,title,labels,state,body",
    )
    parser.add_argument("--page", help="the published page's address, linked from each issue")
    parser.add_argument(
        "--json",
        type=Path,
        dest="json_out",
        metavar="PATH",
        help="write the plan (a JSON list of actions) here",
    )
    parser.add_argument(
        "--markdown", type=Path, metavar="PATH", help="write the Markdown summary here"
    )


def run(args: argparse.Namespace) -> int:
    """Plan the issue actions, write them where asked, print them as a short table."""
    current = load(args.current)
    if not current:
        raise NothingToDo(
            f"no records at {args.current}: the run measured nothing, so there "
            "is nothing to compare; check the run and publish jobs"
        )
    if not load(args.previous):
        log.info(
            f"note: no previous records at {args.previous}: every signature counts as "
            "new, and nothing is closed or reopened"
        )
    existing = _existing(args.existing) if args.existing else None
    actions = plan(args.previous, current, existing, page=args.page)
    if args.json_out:
        args.json_out.write_text(
            json.dumps([a.to_json() for a in actions], indent=1, sort_keys=True, ensure_ascii=False)
            + "\n"
        )
    if args.markdown:
        args.markdown.write_text(render(actions), encoding="utf-8")
    for a in actions:
        number = f"#{a.issue}" if a.issue else "-"
        log.answer(f"{a.kind:<8} {number:>6}  {len(a.cells):>3} scenario(s)  {a.title}")
    log.info(f"{_count(len(actions), 'issue action')} planned")
    return 0
