"""Tests that use only pytest-playwright's session `playwright` fixture.

Starting the Playwright driver (no browser) is enough to take over the
thread's event loop; this is the `driver-only` scenario.
"""


def test_driver_browser_types(playwright):
    assert playwright.chromium.name == "chromium"
    assert playwright.firefox.name == "firefox"


def test_driver_devices(playwright):
    iphone = playwright.devices["iPhone 13"]
    assert iphone["is_mobile"] is True
    assert iphone["viewport"]["width"] > 0
