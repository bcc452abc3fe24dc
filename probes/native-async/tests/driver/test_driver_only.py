"""Tests that start Playwright's async driver without launching a browser."""

import pytest
from playwright.async_api import async_playwright


@pytest.mark.asyncio
async def test_driver_browser_types():
    async with async_playwright() as p:
        assert p.chromium.name == "chromium"
        assert p.firefox.name == "firefox"


@pytest.mark.asyncio
async def test_driver_devices():
    async with async_playwright() as p:
        iphone = p.devices["iPhone 13"]
        assert iphone["is_mobile"] is True
        assert iphone["viewport"]["width"] > 0
