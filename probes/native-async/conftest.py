"""Playwright's async API through fixtures of the project's own (no plugin).

Mirrors a project that drops pytest-playwright: a function-scoped async
fixture starts Playwright and Chromium in the test's own loop, so it works
from pytest-asyncio 0.21 to 1.x without any loop_scope argument. Chromium is
the one the runner names (see chromium.py), else Playwright's own.
"""

import pytest_asyncio
from chromium import launch_args
from playwright.async_api import async_playwright


@pytest_asyncio.fixture
async def browser():
    async with async_playwright() as p:
        browser = await p.chromium.launch(**launch_args())
        yield browser
        await browser.close()


@pytest_asyncio.fixture
async def page(browser):
    context = await browser.new_context()
    page = await context.new_page()
    yield page
    await context.close()
