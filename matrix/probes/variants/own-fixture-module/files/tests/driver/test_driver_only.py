"""Tests that use only the suite's own Playwright driver fixture, without a browser."""


def test_driver_browser_types(own_playwright):
    assert own_playwright.chromium.name == "chromium"
    assert own_playwright.firefox.name == "firefox"


def test_driver_devices(own_playwright):
    iphone = own_playwright.devices["iPhone 13"]
    assert iphone["is_mobile"] is True
    assert iphone["viewport"]["width"] > 0
