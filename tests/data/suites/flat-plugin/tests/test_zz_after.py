import pytest

import shopmark


@pytest.mark.asyncio
async def test_price_after_the_browser_tests():
    assert await shopmark.price("pear") == 0
