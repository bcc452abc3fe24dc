try:
    from playwright import sync_api
except ImportError:
    sync_api = None
import pytest

import shopmark

pytestmark = pytest.mark.skipif(sync_api is None, reason="playwright not installed")


def test_button_counts(page):
    page.set_content(shopmark.PAGE)
    page.click("#add")
