"""Async tests that start Playwright's sync API themselves: ``sync_playwright()`` inside an
``async def`` test, the shape that meets Playwright's own refusal ("It looks like you are
using Playwright Sync API inside the asyncio loop")."""

import pytest
from chromium import launch_args
from playwright.sync_api import expect, sync_playwright

from app.pages import COUNTER, FORM


@pytest.mark.asyncio
async def test_form_submit():
    with sync_playwright() as p:
        browser = p.chromium.launch(**launch_args())
        page = browser.new_page()
        page.set_content(FORM)
        page.locator("input[name=name]").fill("probe")
        page.get_by_role("button", name="Send").click()
        expect(page.locator("#out")).to_have_text("Hi probe")
        browser.close()


@pytest.mark.asyncio
async def test_counter_clicks():
    with sync_playwright() as p:
        browser = p.chromium.launch(**launch_args())
        page = browser.new_page()
        page.set_content(COUNTER)
        for _ in range(3):
            page.locator("#inc").click()
        expect(page.locator("#n")).to_have_text("3")
        browser.close()
