import asyncio
from importlib.metadata import entry_points

import pytest


def _registered():
    eps = entry_points()
    group = eps.select(group="legacyplug_plugins") if hasattr(eps, "select") else eps.get("legacyplug_plugins", [])
    return {ep.name for ep in group}


def test_plugin_is_installed():
    assert "legacy" in _registered()


@pytest.mark.asyncio
async def test_async_after_install():
    await asyncio.sleep(0)
    assert "legacy" in _registered()
