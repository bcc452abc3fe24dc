import asyncio

import pytest


async def answer():
    return 42


@pytest.mark.playwright
def test_starts_playwright(playwright):
    assert playwright.chromium.name == "chromium"


def test_asyncio_run():
    assert asyncio.run(answer()) == 42


@pytest.mark.asyncio
async def test_awaits():
    assert await answer() == 42
