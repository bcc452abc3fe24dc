"""Self-validation of the answer engine: each measured cell hidden in turn and inferred
from the others, the share answered printed beside the share right."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from matrix.results.answers import Answer, Engine, Query
from matrix.results.cells import CellResult


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
