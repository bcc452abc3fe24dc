"""The built-in profiles, planned from the committed releases snapshot (no network)."""

from __future__ import annotations

import functools

from matrix.define import definition, plan, releases
from matrix.define.releases import SNAPSHOT_PATH as SNAPSHOT


@functools.cache
def full_plan() -> plan.Plan:
    return plan.build(definition.load(definition.DEFAULT_FILE, "full"), releases.load(SNAPSHOT))


def test_quick_is_the_default_profile_and_runs_every_explicit_cell() -> None:
    profile = definition.load(definition.DEFAULT_FILE)
    the_plan = plan.build(profile, releases.load(SNAPSHOT))
    assert profile.name == "quick"
    variants = sum(len(cell.get("variants", ("baseline",))) for cell in profile.cells)
    assert len(the_plan.cells) == variants and the_plan.incompatible == ()
    assert len(profile.cells) == sum(c.variant == "baseline" for c in the_plan.cells)
    assert {c.probe for c in the_plan.cells} == {
        "sync-plugin",
        "async-plugin",
        "native-async",
        "control",
    }


def test_full_prunes_what_declared_metadata_rules_out_with_the_reason() -> None:
    reasons = {cell.id: reason for cell, reason in full_plan().incompatible}
    assert reasons["py3.9-pytest9.2.0"] == (
        "pytest 9.2.0 requires Python >=3.10; the cell uses Python 3.9"
    )
    pytest7_async = [
        r for cid, r in reasons.items() if cid.startswith("pytest7.") and "-async0." in cid
    ]
    # directly (0.10.0 declares pytest>=8.2) or through pytest-asyncio>=0.24, which needs 8.2
    assert pytest7_async and all(
        "requires pytest-asyncio>=0.24.0" in r or "requires pytest>=8.2" in r for r in pytest7_async
    )


def test_full_never_plans_a_cell_that_declared_metadata_rules_out() -> None:
    the_plan = full_plan()
    assert not any(
        c.python == "3.9" and c.pin_map.get("pytest", "").startswith("9.") for c in the_plan.cells
    )
    assert not any(
        "pytest-playwright-asyncio" in c.pin_map and c.pin_map.get("pytest", "8").startswith("7.")
        for c in the_plan.cells
    )


def test_full_crosses_python_pytest_asyncio_and_plugin_in_full() -> None:
    the_plan = full_plan()
    planned = {(c.python, c.pin_map["pytest-asyncio"], c.probe) for c in the_plan.cells}
    assert ("3.13", "1.5.0", "sync-plugin") in planned
    assert ("3.13", "1.5.0", "async-plugin") in planned
    assert ("3.15", "1.5.0", "async-plugin") in planned


def test_shards_are_deterministic_balanced_and_disjoint() -> None:
    cells = full_plan().cells
    shards = [plan.shard(cells, f"{i}/4") for i in range(1, 5)]
    assert sorted(c.id for s in shards for c in s) == sorted(c.id for c in cells)
    assert max(map(len, shards)) - min(map(len, shards)) <= 1
    assert plan.shard(cells, "3/4") == shards[2]
