"""Unit tests of the cart, async, without fixtures."""

import pytest

from shop import Cart, price_of


@pytest.mark.asyncio
async def test_empty_cart_costs_nothing() -> None:
    assert await Cart().total() == 0


@pytest.mark.asyncio
async def test_prices_add_up() -> None:
    cart = Cart()
    for item in ("apple", "pear"):
        cart.add(item)
    assert await cart.total() == 7


@pytest.mark.asyncio
async def test_unknown_items_raise() -> None:
    with pytest.raises(KeyError):
        await price_of("durian")
