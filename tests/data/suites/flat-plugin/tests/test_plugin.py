from importlib.metadata import entry_points

import pytest

import shopmark


@pytest.mark.asyncio
async def test_plugin_is_installed():
    names = [ep.name for ep in entry_points(group="shopmark_plugins")]
    assert names == ["flat"]  # only true when the project itself is installed


@pytest.mark.asyncio
async def test_price():
    assert await shopmark.price("apple") == 3
