"""Tests that use only pytest-playwright-asyncio's session `playwright` fixture.

The Playwright driver is started in the session loop; no browser is launched.
"""

import pytest


@pytest.mark.asyncio
async def test_driver_browser_types(playwright):
    assert playwright.chromium.name == "chromium"
    assert playwright.firefox.name == "firefox"


@pytest.mark.asyncio
async def test_driver_devices(playwright):
    iphone = playwright.devices["iPhone 13"]
    assert iphone["is_mobile"] is True
    assert iphone["viewport"]["width"] > 0
