"""A tiny plugin: registered through the ``shopmark_plugins`` entry point."""

import asyncio

PAGE = "<html><body><button id='add' onclick=\"document.querySelector('#n').textContent='1'\">add</button><p id='n'>0</p></body></html>"


async def price(item: str) -> int:
    await asyncio.sleep(0)
    return {"apple": 3}.get(item, 0)
