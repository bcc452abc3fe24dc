"""End-to-end tests converted to ``async def`` while keeping pytest-playwright's sync ``page``."""

import pytest
from playwright.sync_api import Page, expect

from app.pages import COUNTER, FORM


@pytest.mark.asyncio
async def test_form_submit(page: Page):
    page.set_content(FORM)
    page.locator("input[name=name]").fill("probe")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#out")).to_have_text("Hi probe")


@pytest.mark.asyncio
async def test_counter_clicks(page: Page):
    page.set_content(COUNTER)
    for _ in range(3):
        page.locator("#inc").click()
    expect(page.locator("#n")).to_have_text("3")
