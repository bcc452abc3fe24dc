"""Browser tests with pytest-playwright's sync page."""

from playwright.sync_api import Page, expect

from shop import CHECKOUT_PAGE


def test_checkout_starts_empty(page: Page) -> None:
    page.set_content(CHECKOUT_PAGE)
    expect(page.locator("#total")).to_have_text("0")


def test_adding_an_apple_updates_the_total(page: Page) -> None:
    page.set_content(CHECKOUT_PAGE)
    page.click("#add")
    expect(page.locator("#items li")).to_have_count(1)
    expect(page.locator("#total")).to_have_text("3")
