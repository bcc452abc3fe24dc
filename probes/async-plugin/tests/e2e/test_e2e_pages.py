"""End-to-end tests with an async `page`: pytest-playwright-asyncio's, or the suite's own.

The same pages as the sync-plugin probe: a form and a counter set with
set_content, and a page served by an HTTP server on 127.0.0.1 in a thread.
"""

import pytest
from playwright.async_api import Page, expect

from app.pages import COUNTER, FORM, serve


@pytest.fixture(scope="module")
def local_url():
    with serve() as url:
        yield url


@pytest.mark.asyncio
async def test_form_submit(page: Page):
    await page.set_content(FORM)
    await page.locator("input[name=name]").fill("probe")
    await page.get_by_role("button", name="Send").click()
    await expect(page.locator("#out")).to_have_text("Hi probe")


@pytest.mark.asyncio
async def test_counter_clicks(page: Page):
    await page.set_content(COUNTER)
    for _ in range(3):
        await page.locator("#inc").click()
    await expect(page.locator("#n")).to_have_text("3")


@pytest.mark.asyncio
async def test_local_server(page: Page, local_url):
    await page.goto(local_url)
    await expect(page).to_have_title("Probe")
    await expect(page.locator("h1")).to_have_text("served locally")
