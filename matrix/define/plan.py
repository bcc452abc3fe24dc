"""The plan: cells from a profile, minus exclusions and declared-impossible combinations."""

from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
import hashlib
import itertools
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from matrix.define import variants as variant_catalogue
from matrix.define.cell import ASYNC_PLUGIN, BASELINE, SYNC_PLUGIN, Cell
from matrix.define.definition import Profile, is_selector
from matrix.errors import ConfigError, NothingToDo, OutputError

PLUGIN_AXIS = "plugin"
VARIANT_AXIS = "variant"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Plan:
    """The cells to run, and those that declared metadata rules out (with the reason)."""

    profile: Profile
    cells: tuple[Cell, ...]
    incompatible: tuple[tuple[Cell, str], ...] = ()
    snapshot_time: str | None = None

    def find(self, cell_id: str) -> Cell:
        """The planned cell with this id (an id naming an unknown variant says so)."""
        for cell in self.cells:
            if cell.id == cell_id:
                return cell
        if "+" in cell_id:
            variant_catalogue.load().get(cell_id.rsplit("+", 1)[1], f" in cell id {cell_id}")
        raise ConfigError(
            f"no cell '{cell_id}' in profile '{self.profile.name}' of "
            f"{self.profile.source}; list them with: nox -l -t cells"
        )

    def to_json(self, run_id: str) -> dict:
        """The plan as ``plan.json`` keeps it (read by the site)."""
        rows = [_row(c, "planned", None) for c in self.cells]
        rows += [_row(c, "incompatible", reason) for c, reason in self.incompatible]
        return {
            "run_id": run_id,
            "profile": self.profile.name,
            "snapshot_time": self.snapshot_time,
            "cells": rows,
        }


def _row(cell: Cell, status: str, reason: str | None) -> dict:
    row = {"cell_id": cell.id, "requested": cell.requested, "status": status, "reason": reason}
    if cell.suite and status == "planned":
        row["suite"] = cell.suite
    if cell.variant != BASELINE:  # baseline rows stay as they always were
        row["variant"] = cell.variant
    return row


def build(profile: Profile, snapshot=None) -> Plan:
    """All cells of ``profile``: explicit cells, then the axes, exclusions applied.

    Explicit cells are questions a user asked, so they always run and the resolver (or
    pytest) answers them; cells generated from axes are pruned first when declared
    metadata already rules them out, and listed as declared incompatible.
    """
    generated, vetoed = _from_axes(profile, snapshot)
    rows = _explicit_rows(profile) + [(r, False) for r in generated]
    seen: dict[str, Cell] = {}
    incompatible: dict[str, tuple[Cell, str]] = {}
    for pins, explicit in rows:
        if _excluded(pins, profile.exclude):
            continue
        cell = _cell(pins)
        reason = (
            _variant_misfit(cell, asked=explicit == "variant")
            if explicit
            else (_declared_incompatible(cell, snapshot))
        )
        if reason:
            incompatible.setdefault(cell.id, (cell, reason))
        else:
            seen.setdefault(cell.id, cell)
    for pins in vetoed:
        cell = _cell(pins)
        reason = _declared_incompatible(cell, snapshot) or "declared metadata rules it out"
        incompatible.setdefault(cell.id, (cell, reason))
    return Plan(
        profile=profile,
        cells=tuple(seen.values()),
        incompatible=tuple(incompatible.values()),
        snapshot_time=getattr(snapshot, "taken_at", None),
    )


def _explicit_rows(profile: Profile) -> list[tuple[dict[str, str], bool | str]]:
    """Explicit cells, one row per variant: the cell's own ``variants`` (then marked
    ``"variant"``: asked for explicitly) or the profile's."""
    rows: list[tuple[dict[str, str], bool | str]] = []
    for cell in profile.cells:
        pins = {k: v for k, v in cell.items() if k != "variants"}
        asked = "variants" in cell
        for variant in cell.get("variants") or profile.variants:
            rows.append(({**pins, VARIANT_AXIS: variant}, "variant" if asked else True))
    return rows


def _variant_misfit(cell: Cell, asked: bool) -> str | None:
    """Why an explicit cell's variant cannot apply; an error when the cell asked for it."""
    reason = variant_catalogue.named(cell.variant).cannot_apply(cell)
    if reason and asked:
        raise ConfigError(f"cell {cell.id}: {reason}; remove it from that cell's variants.")
    return reason


def _cell(pins: dict[str, str]) -> Cell:
    pins = dict(pins)
    python = pins.pop("python", "")
    variant = pins.pop(VARIANT_AXIS, None) or BASELINE
    return Cell.make(python, {k: v for k, v in pins.items() if v != "none"}, variant=variant)


def _from_axes(profile: Profile, snapshot) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Rows from the axes, and the partial rows that declared metadata vetoed."""
    if not profile.axes:
        return [], []
    axes = {key: _expand(key, values, snapshot) for key, values in profile.axes.items()}
    plugins = [(SYNC_PLUGIN, v) for v in axes.pop(SYNC_PLUGIN, [])]
    plugins += [(ASYNC_PLUGIN, v) for v in axes.pop(ASYNC_PLUGIN, [])]
    if plugins:
        axes[PLUGIN_AXIS] = [f"{d}=={v}" for d, v in plugins]
    if "python" not in axes:
        raise ConfigError(
            f"{profile.source}: the axes of profile '{profile.name}' have no "
            "'python' key; every cell names its Python."
        )
    if profile.mode != "pairwise":
        axes[VARIANT_AXIS] = list(profile.variants)  # an axis like the others
        keys = list(axes)
        return [_unfold_plugin(dict(zip(keys, v))) for v in itertools.product(*axes.values())], []
    rows, vetoed = [], []
    if BASELINE in profile.variants:
        rows, vetoed = _covering(axes, [k for k in profile.critical if k in axes], snapshot)
    others = [v for v in profile.variants if v != BASELINE]
    if others:
        # The other variants get a covering of their own, so that the baseline grid stays
        # as complete as without them: every variant meets every other axis value (the
        # full product of the critical axes too when "variant" is one of them). Pairs of
        # two other axes are the baseline covering's to show, when there is one.
        axes = {**axes, VARIANT_AXIS: others}
        critical = (
            [k for k in profile.critical if k in axes]
            if VARIANT_AXIS in profile.critical
            else [VARIANT_AXIS]
        )
        focus = [VARIANT_AXIS] if BASELINE in profile.variants else []
        more, lost = _covering(axes, critical, snapshot, focus)
        rows, vetoed = rows + more, vetoed + lost
    return rows, vetoed


def _covering(
    axes: dict[str, list[str]], critical: list[str], snapshot, focus: list[str] = ()
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """A pairwise covering of ``axes`` (of the pairs that involve a ``focus`` axis, if any),
    and the partial rows that declared metadata vetoed."""
    from matrix.define import pairwise

    # Vetoing during generation moves the pairs of an impossible cell to possible ones.
    covering = pairwise.cover(
        axes, critical, allowed=lambda row: _possible(row, snapshot, axes), focus=focus
    )
    vetoed = [dict(c) for c in covering.excluded] + [dict(p) for p in covering.uncoverable]
    return ([_unfold_plugin(dict(c)) for c in covering.cells], [_unfold_plugin(v) for v in vetoed])


def _possible(row: dict[str, str], snapshot, axes: dict[str, list[str]]) -> bool:
    """Whether a (partial) row of a covering may become a cell: its variant can apply to
    what the row settles, and declared metadata does not rule its pins out."""
    row = dict(row)
    variant = row.pop(VARIANT_AXIS, BASELINE)
    pins = _unfold_plugin(dict(row))
    python = pins.pop("python", "")
    pins = {k: v for k, v in pins.items() if v != "none"}
    if variant != BASELINE:
        # a partial row: judge only what it settles (its probe needs the plugin axis)
        known = {k for k in row if k != PLUGIN_AXIS} | {SYNC_PLUGIN, ASYNC_PLUGIN}
        if PLUGIN_AXIS in row or (
            PLUGIN_AXIS not in axes and ("playwright" in row or "playwright" not in axes)
        ):
            known.add("probe")
        if variant_catalogue.named(variant).cannot_apply(Cell.make(python, pins), frozenset(known)):
            return False
    # a partial row that pins nothing yet (Python and a variant, say) rules nothing out
    return not pins or _pins_incompatible(python, pins, snapshot, why=False) is None


def _unfold_plugin(row: dict[str, str]) -> dict[str, str]:
    plugin = row.pop(PLUGIN_AXIS, None)
    if plugin:
        dist, version = plugin.split("==")
        row[dist] = version
    return row


def _expand(key: str, values: Iterable[str], snapshot) -> list[str]:
    out: list[str] = []
    for value in values:
        if key == "python" or value == "none" or not is_selector(value):
            out.append(value)
            continue
        if snapshot is None:
            raise ConfigError(
                f"'{value}' for {key} needs the releases snapshot; refresh it with: nox -s releases"
            )
        from matrix.define import selection

        try:
            out.extend(selection.expand(key, value, snapshot))
        except ValueError as exc:
            raise ConfigError(f"{key} = {value!r}: {exc}") from None
    return list(dict.fromkeys(out))


def _excluded(pins: dict[str, str], exclusions: Iterable[dict[str, tuple[str, ...]]]) -> bool:
    """Whether an exclusion matches every one of its keys (a key by any of its patterns)."""
    for exclusion in exclusions:
        if all(
            any(fnmatch.fnmatchcase(str(pins.get(k, "none")), p) for p in patterns)
            for k, patterns in exclusion.items()
        ):
            return True
    return False


def _declared_incompatible(cell: Cell, snapshot) -> str | None:
    """Why declared metadata (or the variant) rules ``cell`` out; None if nothing does."""
    if cell.variant != BASELINE:
        reason = variant_catalogue.named(cell.variant).cannot_apply(cell)
        if reason:
            return reason
    return _pins_incompatible(cell.python, cell.pin_map, snapshot)


def _pins_incompatible(python: str, pins: dict[str, str], snapshot, why: bool = True) -> str | None:
    """Why declared metadata rules ``pins`` out on ``python``; None if nothing does.
    Without ``why`` a conflict is only named as such (planning's fast path)."""
    if not pins:
        return 'it pins no distribution (every axis is "none"), so its env would hold no pytest'
    if SYNC_PLUGIN in pins and ASYNC_PLUGIN in pins:
        return (
            "pytest-playwright and pytest-playwright-asyncio refuse to load together; "
            "a suite uses one of them"
        )
    if snapshot is None:
        return None
    from matrix.define import selection

    # "3" stands for any Python 3 when a vetoed pair does not involve Python
    if not why:
        return None if selection.installable(python or "3", pins, snapshot) else "conflict"
    return selection.declared_incompatible(python or "3", pins, snapshot)


def shard(cells: tuple[Cell, ...], spec: str | None) -> tuple[Cell, ...]:
    """The share ``i/n`` (1-based) of ``cells``: sorted by id, then dealt round-robin."""
    if not spec:
        return cells
    try:
        index, count = (int(x) for x in spec.split("/"))
        assert 1 <= index <= count
    except (ValueError, AssertionError):
        raise ConfigError(
            f"MATRIX_SHARD={spec} is not of the form i/n with 1 <= i <= n, e.g. MATRIX_SHARD=2/4."
        ) from None
    ordered = sorted(cells, key=lambda c: c.id)
    return tuple(ordered[index - 1 :: count])


def selected(profile: Profile, snapshot=None, share: str | None = None) -> Plan:
    """The plan for this run: the profile's cells, limited to the shard ``share`` if given."""
    full = build(profile, snapshot)
    cells = shard(full.cells, share)
    if not cells:
        where = f" in shard {share}" if share else ""
        raise NothingToDo(
            f"profile '{profile.name}' of {profile.source} selects no cell"
            f"{where}; check its axes, cells and exclusions, or the shard number."
        )
    return dataclasses.replace(full, cells=cells)


def write(plan: Plan, out: Path, run_id: str) -> None:
    """Write ``plan.json`` into the results folder, keeping other profiles' cells.

    One folder can hold several profiles' results (a run, then bisect's searched cells):
    each profile's rows are replaced by its current plan, the others stay.
    """
    out.mkdir(parents=True, exist_ok=True)
    data = plan.to_json(run_id)
    for row in data["cells"]:
        row["profile"] = plan.profile.name
    try:
        kept = [
            row
            for row in json.loads((out / "plan.json").read_text())["cells"]
            if row.get("profile", plan.profile.name) != plan.profile.name
        ]
    except (OSError, ValueError, KeyError, TypeError):
        kept = []
    data["cells"] = sorted(kept + data["cells"], key=lambda row: row["cell_id"])
    tmp = out / f".plan-{os.getpid()}.json"  # cells of a parallel run all write it
    try:
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        os.replace(tmp, out / "plan.json")
    except OSError as exc:  # a full disk: the previous plan.json stays, no half file
        tmp.unlink(missing_ok=True)
        raise OutputError.from_os_error(exc, "writing plan.json") from None


# ---------------------------------------------------------------- one plan per run

#: Written plans, by fingerprint, in the results folder: every cell process and every
#: listing of a run reads the plan made once instead of planning again.
WRITTEN = ".plans"


def fingerprint(profile: Profile, snapshot_file: Path, share: str | None, suite: str) -> str:
    """What a plan depends on: the definition file, the profile, the releases snapshot,
    the shard, the suite, and the planning code itself."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    parts = [
        profile.source.read_bytes(),
        profile.name.encode(),
        (share or "").encode(),
        suite.encode(),
        *(code.read_bytes() for code in sorted(here.glob("*.py"))),
        variant_catalogue.CATALOGUE.read_bytes(),  # where each variant applies
        snapshot_file.read_bytes() if snapshot_file.is_file() else b"",
    ]
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:20]


def current(
    profile: Profile,
    snapshot_file: Path,
    out: Path,
    *,
    share: str | None = None,
    suite: str = "",
    load_snapshot=None,
) -> Plan:
    """The plan of this run: the one written for the same inputs, else planned and written.

    ``load_snapshot(path)`` reads the releases snapshot; it is only called when planning.
    The cache is an optimisation: a results folder that cannot be written only costs time.
    """
    path = out / WRITTEN / f"{fingerprint(profile, snapshot_file, share, suite)}.json"
    written = _read_written(path, profile)
    if written is not None:
        return written
    snapshot = load_snapshot(snapshot_file) if load_snapshot and snapshot_file.is_file() else None
    planned = selected(profile, snapshot, share)
    if suite:  # a variant changes a probe: a user's suite runs as it is
        planned = dataclasses.replace(
            planned,
            cells=tuple(
                dataclasses.replace(c, suite=suite) for c in planned.cells if c.variant == BASELINE
            ),
        )
    try:
        _write_atomically(path, json.dumps(_plan_json(planned)))
    except OSError:  # a full disk or a read-only folder: plan again next time, leave nothing
        with contextlib.suppress(OSError):
            path.parent.rmdir()
    return planned


def _plan_json(planned: Plan) -> dict:
    def cell(c: Cell) -> dict:
        return {"python": c.python, "pins": dict(c.pins), "suite": c.suite, "variant": c.variant}

    return {
        "snapshot_time": planned.snapshot_time,
        "cells": [cell(c) for c in planned.cells],
        "incompatible": [[cell(c), reason] for c, reason in planned.incompatible],
    }


def _read_written(path: Path, profile: Profile) -> Plan | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))

        def cell(d: dict) -> Cell:
            return Cell.make(d["python"], d["pins"], d.get("suite", ""), d.get("variant", BASELINE))

        return Plan(
            profile=profile,
            cells=tuple(cell(d) for d in data["cells"]),
            incompatible=tuple((cell(d), r) for d, r in data["incompatible"]),
            snapshot_time=data["snapshot_time"],
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None  # not written yet, or unreadable: plan again


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
