"""End-to-end tests on the suite's own sync Playwright fixture (``own_page``), no plugin fixture."""

from playwright.sync_api import expect

from app.pages import COUNTER, FORM


def test_form_submit(own_page):
    own_page.set_content(FORM)
    own_page.locator("input[name=name]").fill("probe")
    own_page.get_by_role("button", name="Send").click()
    expect(own_page.locator("#out")).to_have_text("Hi probe")


def test_counter_clicks(own_page):
    own_page.set_content(COUNTER)
    for _ in range(3):
        own_page.locator("#inc").click()
    expect(own_page.locator("#n")).to_have_text("3")
