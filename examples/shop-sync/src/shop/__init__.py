"""A tiny async shop: a cart, a price service over TCP, and a checkout page."""

from __future__ import annotations

import asyncio

PRICES = {"apple": 3, "pear": 4, "plum": 2}

CHECKOUT_PAGE = """
<h1>Checkout</h1>
<ul id="items"></ul>
<p>Total: <span id="total">0</span></p>
<button id="add" onclick="
  const li = document.createElement('li'); li.textContent = 'apple';
  document.getElementById('items').appendChild(li);
  const t = document.getElementById('total'); t.textContent = +t.textContent + 3;">Add apple</button>
"""


class Cart:
    """A cart whose prices come from an async lookup."""

    def __init__(self, lookup=None) -> None:
        self.items: list[str] = []
        self._lookup = lookup or price_of

    def add(self, item: str) -> None:
        self.items.append(item)

    async def total(self) -> int:
        prices = await asyncio.gather(*(self._lookup(i) for i in self.items))
        return sum(prices)


async def price_of(item: str) -> int:
    await asyncio.sleep(0)
    return PRICES[item]


async def serve_prices(host: str = "127.0.0.1", port: int = 0) -> asyncio.Server:
    """A line protocol: send an item name, get its price back."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            writer.write(f"{PRICES.get(line.decode().strip(), -1)}\n".encode())
            await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, host, port)


async def remote_price(port: int, item: str) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"{item}\n".encode())
    await writer.drain()
    price = int((await reader.readline()).decode())
    writer.close()
    await writer.wait_closed()
    return price
