"""Self-validation of the answer engine: each measured cell hidden in turn and inferred
from the others, the share answered printed beside the share right; and its reach, the
share of pin sets drawn from the releases snapshot that it answers at all."""

from __future__ import annotations

import collections
import dataclasses
import math
import random
from collections.abc import Sequence

from matrix.define.cell import ASYNC_PLUGIN, SYNC_PLUGIN
from matrix.define.versions import version_key
from matrix.results.answers import Answer, Engine, Query
from matrix.results.cells import CellResult, family_name


@dataclasses.dataclass(frozen=True, kw_only=True)
class Validation:
    """Each measured cell hidden in turn and answered from the rest."""

    right: int
    wrong: tuple[tuple[CellResult, Answer], ...]
    abstained: int

    @property
    def total(self) -> int:
        return self.right + len(self.wrong) + self.abstained

    @property
    def answered(self) -> float:
        return (self.right + len(self.wrong)) / self.total if self.total else 0.0

    @property
    def accuracy(self) -> float:
        answered = self.right + len(self.wrong)
        return self.right / answered if answered else 0.0

    def lines(self) -> list[str]:
        out = [
            f"{self.total} measured cells, each hidden in turn and inferred from the rest:",
            f"  answered {self.right + len(self.wrong)} of {self.total} "
            f"({share(self.answered)}); right {self.right} of those ({share(self.accuracy)}); "
            f"wrong {len(self.wrong)}; unknown {self.abstained}",
        ]
        for cell, answer in self.wrong:
            out.append(
                f"  wrong: {cell.cell_id} measured {cell.verdict}, inferred "
                f"{answer.verdict} from {', '.join(c.cell_id for c in answer.evidence[:2])}"
            )
        return out


def share(fraction: float) -> str:
    """A share as a percentage that never rounds up to a whole: 271 of 272 is 99.6%, not
    100% (one wrong answer must show)."""
    tenths = math.floor(fraction * 1000) / 10
    return f"{tenths:.0f}%" if tenths in (0, 100) else f"{tenths:.1f}%"


def validate(found: Sequence[CellResult]) -> Validation:
    """Hide each decided cell, infer it from the others (the axes that matter found anew
    without it), and count right, wrong and unknown."""
    decided = [c for c in found if c.decided]
    right, wrong, abstained = 0, [], 0
    for hidden in decided:
        engine = Engine([c for c in decided if c.cell_id != hidden.cell_id])
        query = Query(family=hidden.family, values=dict(hidden.values))
        answer = engine.inferred(query)
        if answer.kind != "inferred":
            abstained += 1
        elif answer.verdict == hidden.verdict:
            right += 1
        else:
            wrong.append((hidden, answer))
    return Validation(right=right, wrong=tuple(wrong), abstained=abstained)


#: The plugins a drawn pin set uses, in turn (``None``: no Playwright plugin).
DRAWN_PLUGINS = (SYNC_PLUGIN, ASYNC_PLUGIN, None)
#: The distributions a drawn pin set pins besides its plugin.
DRAWN_AXES = ("pytest", "pytest-asyncio", "playwright")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Reach:
    """How many pin sets drawn from the releases snapshot the engine answers, by kind
    (measured, inferred, unknown, unresolvable) and, for the resolvable ones, by plugin."""

    drawn: int
    seed: int
    kinds: dict[str, int]
    plugins: dict[str, tuple[int, int]]  # plugin -> (answered, resolvable)

    @property
    def resolvable(self) -> int:
        return self.drawn - self.kinds.get("unresolvable", 0)

    @property
    def answered(self) -> int:
        return self.kinds.get("measured", 0) + self.kinds.get("inferred", 0)

    def lines(self) -> list[str]:
        each = "; ".join(
            f"{plugin} {done} of {total}" for plugin, (done, total) in self.plugins.items()
        )
        return [
            f"{self.drawn:,} pin sets drawn from the releases snapshot (seed {self.seed}; "
            "each axis's final releases from the oldest measured on):",
            f"  answered {self.answered} of the {self.resolvable} resolvable "
            f"({share(self.answered / self.resolvable if self.resolvable else 0.0)}): {each}; "
            f"unknown {self.kinds.get('unknown', 0)}; unresolvable by declared metadata "
            f"{self.kinds.get('unresolvable', 0)}",
        ]


def reach(found: Sequence[CellResult], snapshot, *, draws: int = 1000, seed: int = 0) -> Reach:
    """Answer ``draws`` pin sets drawn at random (``seed``) from the snapshot: a Python the
    records measured, each plugin in turn, and for each distribution one of its final
    releases from the oldest the records measured to the newest in the snapshot. How
    often the answers are right is what :func:`validate` measures; this is how often
    there is one."""
    engine = Engine(found, snapshot)
    pick = random.Random(seed)
    pythons = sorted({c.values["python"] for c in engine.cells}, key=version_key)
    kinds: collections.Counter[str] = collections.Counter()
    plugins: dict[str, list[int]] = {}
    spans = {d: _spanned(d, engine, snapshot) for d in DRAWN_AXES + DRAWN_PLUGINS if d}
    for n in range(draws):
        plugin = DRAWN_PLUGINS[n % len(DRAWN_PLUGINS)]
        dists = DRAWN_AXES + ((plugin,) if plugin else ())
        pins = {d: pick.choice(spans[d]) for d in dists}
        query = Query.of(pins, pick.choice(pythons))
        answer = engine.answer(query, fix=False)
        kinds[answer.kind] += 1
        if answer.kind != "unresolvable":
            tally = plugins.setdefault(family_name(query.family), [0, 0])
            tally[0] += answer.kind in ("measured", "inferred")
            tally[1] += 1
    return Reach(
        drawn=draws,
        seed=seed,
        kinds=dict(kinds),
        plugins={k: (a, b) for k, (a, b) in sorted(plugins.items())},
    )


def _spanned(dist: str, engine: Engine, snapshot) -> list[str]:
    """The final releases of ``dist`` in the snapshot from the oldest one measured on."""
    axis = "plugin" if dist in (SYNC_PLUGIN, ASYNC_PLUGIN) else dist
    measured = [
        c.values[axis]
        for c in engine.cells
        if c.values.get(axis) and (axis != "plugin" or c.family == dist)
    ]
    oldest = min((version_key(v) for v in measured if v[0].isdigit()), default=())
    return [
        r.version
        for r in snapshot.releases(dist)
        if not (r.parsed.is_prerelease or r.parsed.is_devrelease)
        and version_key(r.version) >= oldest
    ]
