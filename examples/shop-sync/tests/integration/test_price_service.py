"""The price service over TCP, with an async fixture that starts it."""

import pytest
import pytest_asyncio

from shop import Cart, remote_price, serve_prices


@pytest_asyncio.fixture
async def price_port():
    server = await serve_prices()
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


@pytest.mark.asyncio
async def test_remote_price(price_port) -> None:
    assert await remote_price(price_port, "pear") == 4


@pytest.mark.asyncio
async def test_cart_with_remote_prices(price_port) -> None:
    cart = Cart(lookup=lambda item: remote_price(price_port, item))
    cart.add("apple")
    cart.add("plum")
    assert await cart.total() == 5
