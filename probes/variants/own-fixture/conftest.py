

# Variants own-fixture-session and own-fixture-module: the suite starts Playwright's sync
# API itself, in its own fixtures (its `playwright` replaces the plugin's), at the scope
# the variant's ini line `own_fixture_scope` names, and uses none of the plugin's browser
# fixtures.
from playwright.sync_api import sync_playwright


def pytest_addoption(parser):
    parser.addini("own_fixture_scope", "scope of the suite's own Playwright fixtures",
                  default="session")


def _own_scope(fixture_name, config):
    return config.getini("own_fixture_scope")


@pytest.fixture(scope=_own_scope)
def playwright():
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope=_own_scope)
def own_browser(playwright):
    browser = playwright.chromium.launch(**launch_args())
    yield browser
    browser.close()


@pytest.fixture
def own_page(own_browser):
    context = own_browser.new_context()
    yield context.new_page()
    context.close()
