"""Browser tests with pytest-playwright-asyncio's async page."""

import pytest
from playwright.async_api import Page, expect

from shop import CHECKOUT_PAGE


@pytest.mark.asyncio
async def test_checkout_starts_empty(page: Page) -> None:
    await page.set_content(CHECKOUT_PAGE)
    await expect(page.locator("#total")).to_have_text("0")


@pytest.mark.asyncio
async def test_adding_an_apple_updates_the_total(page: Page) -> None:
    await page.set_content(CHECKOUT_PAGE)
    await page.click("#add")
    await expect(page.locator("#items li")).to_have_count(1)
    await expect(page.locator("#total")).to_have_text("3")
