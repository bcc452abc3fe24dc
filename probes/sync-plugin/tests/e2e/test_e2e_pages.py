"""End-to-end tests with pytest-playwright's sync `page` fixture.

Mirrors a real e2e folder: a form on a page set with set_content, and a page
served by a tiny HTTP server on 127.0.0.1 running in a thread.
"""

import pytest
from playwright.sync_api import Page, expect

from app.pages import COUNTER, FORM, serve


@pytest.fixture(scope="module")
def local_url():
    with serve() as url:
        yield url


def test_form_submit(page: Page):
    page.set_content(FORM)
    page.locator("input[name=name]").fill("probe")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#out")).to_have_text("Hi probe")


def test_counter_clicks(page: Page):
    page.set_content(COUNTER)
    for _ in range(3):
        page.locator("#inc").click()
    expect(page.locator("#n")).to_have_text("3")


def test_local_server(page: Page, local_url):
    page.goto(local_url)
    expect(page).to_have_title("Probe")
    expect(page.locator("h1")).to_have_text("served locally")
