"""A cell: one Python version and one set of pins, with a stable, readable id."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

#: The distributions a matrix may pin, in the order they appear in cell ids.
DISTRIBUTIONS: dict[str, str] = {
    "pytest": "pytest",
    "pytest-asyncio": "asyncio",
    "pytest-playwright": "sync",
    "pytest-playwright-asyncio": "async",
    "playwright": "pw",
    "pytest-cov": "cov",
    "coverage": "coverage",
}

SYNC_PLUGIN = "pytest-playwright"
BASELINE = "baseline"  # the variant that changes nothing
ASYNC_PLUGIN = "pytest-playwright-asyncio"
#: The two Playwright plugins, one axis: a cell pins one of them or neither.
PLUGINS = (SYNC_PLUGIN, ASYNC_PLUGIN)
NATIVE = "native-async"  # Playwright without a plugin: the suite's own async fixtures
NONE = "none"  # no Playwright at all
#: The probe suite that fits each plugin state.
PROBES = {
    SYNC_PLUGIN: "sync-plugin",
    ASYNC_PLUGIN: "async-plugin",
    NATIVE: "native-async",
    NONE: "control",
}
_ID_SAFE = re.compile(r"[^A-Za-z0-9.+_-]")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Cell:
    """One combination to measure. ``pins`` maps distribution names to exact versions."""

    python: str
    pins: tuple[tuple[str, str], ...]
    suite: str = ""  # the user's suite this cell runs instead of a probe, by name
    variant: str = BASELINE  # the change made to the probe (matrix.define.variants)

    @classmethod
    def make(
        cls, python: str, pins: dict[str, str], suite: str = "", variant: str = BASELINE
    ) -> Cell:
        """A cell with its pins in the canonical order (so equal cells compare equal)."""
        order = list(DISTRIBUTIONS)
        items = sorted(pins.items(), key=lambda kv: order.index(kv[0]))
        return cls(python=python, pins=tuple(items), suite=suite, variant=variant)

    @property
    def id(self) -> str:
        """Stable id: only this cell's own values, so it survives changes elsewhere.

        A variant other than the baseline ends the id after a ``+``, so baseline ids
        stay what they always were.
        """
        parts = [self.suite] if self.suite else []  # several suites can share a site
        parts += [f"py{self.python}"] if self.python else []  # partial rows may have none
        parts += [f"{DISTRIBUTIONS[d]}{v}" for d, v in self.pins]
        tail = "" if self.variant == BASELINE else f"+{self.variant}"
        return _ID_SAFE.sub("_", "-".join(parts) + tail)

    @property
    def pin_map(self) -> dict[str, str]:
        return dict(self.pins)

    @property
    def requested(self) -> dict[str, str]:
        """What was asked for, as records keep it."""
        return {"python": self.python, **self.pin_map}

    @property
    def requirements(self) -> list[str]:
        """Requirement lines for the resolver."""
        return [f"{dist}=={version}" for dist, version in self.pins]

    @property
    def probe(self) -> str:
        """Which probe suite this cell's pins call for (``suite:<name>`` for a user's suite)."""
        if self.suite:
            return f"suite:{self.suite}"
        return PROBES[plugin_of(self.pin_map)[0]]

    @property
    def has_coverage(self) -> bool:
        return "pytest-cov" in self.pin_map


def plugin_of(pins: Mapping[str, Any]) -> tuple[str, str | None]:
    """Which Playwright plugin ``pins`` choose, and its version: one of :data:`PLUGINS`,
    :data:`NATIVE` (Playwright alone) or :data:`NONE`; a pin of ``"none"`` or empty is
    no pin. The async plugin wins if both are pinned (only a user's file can say that)."""
    for plugin in (ASYNC_PLUGIN, SYNC_PLUGIN):
        if pins.get(plugin) and pins[plugin] != NONE:
            return plugin, str(pins[plugin])
    return (NATIVE if pins.get("playwright") and pins["playwright"] != NONE else NONE), None
