"""Async tests that drive Playwright's sync API through an async fixture (closed at teardown)."""

import pytest
import pytest_asyncio
from playwright.sync_api import expect

from app.pages import COUNTER, FORM


@pytest_asyncio.fixture
async def sync_page(sync_browser):
    context = sync_browser.new_context()
    yield context.new_page()
    context.close()


@pytest.mark.asyncio
async def test_form_submit(sync_page):
    sync_page.set_content(FORM)
    sync_page.locator("input[name=name]").fill("probe")
    sync_page.get_by_role("button", name="Send").click()
    expect(sync_page.locator("#out")).to_have_text("Hi probe")


@pytest.mark.asyncio
async def test_counter_clicks(sync_page):
    sync_page.set_content(COUNTER)
    for _ in range(3):
        sync_page.locator("#inc").click()
    expect(sync_page.locator("#n")).to_have_text("3")
