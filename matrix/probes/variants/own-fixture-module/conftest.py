

# Variant own-fixture-module: the suite starts Playwright's sync API itself, in a
# module-scoped fixture, and uses none of the plugin's fixtures.
from playwright.sync_api import sync_playwright


@pytest.fixture(scope="module")
def own_playwright():
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def own_browser(own_playwright):
    browser = own_playwright.chromium.launch(**launch_args())
    yield browser
    browser.close()


@pytest.fixture
def own_page(own_browser):
    context = own_browser.new_context()
    yield context.new_page()
    context.close()
