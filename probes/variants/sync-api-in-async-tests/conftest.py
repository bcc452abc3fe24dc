

# Variant sync-api-in-async-tests: async tests drive Playwright's sync API themselves;
# nest_asyncio lets the sync API's calls re-enter the running loop.
import nest_asyncio
from playwright.sync_api import sync_playwright


def pytest_configure(config):
    nest_asyncio.apply()


@pytest.fixture(scope="session")
def sync_browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(**launch_args())
        yield browser
        browser.close()
