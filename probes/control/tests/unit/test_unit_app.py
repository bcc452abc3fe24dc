"""Unit tests of the async app, as a real suite has them.

Two tests use no fixture (their failure, if any, comes from running the test
body); two use an async fixture (their failure comes from fixture setup).
"""

import asyncio

import pytest
import pytest_asyncio

import app


@pytest_asyncio.fixture
async def store():
    s = app.Store()
    await s.set("seed", 1)
    yield s
    await s.close()


@pytest.mark.asyncio
async def test_greet():
    assert await app.greet("probe") == "Hello, probe!"


@pytest.mark.asyncio
async def test_gather_greetings():
    names = ["a", "b", "c"]
    replies = await asyncio.gather(*(app.greet(n) for n in names))
    assert replies == ["Hello, a!", "Hello, b!", "Hello, c!"]


@pytest.mark.asyncio
async def test_store_roundtrip(store):
    await store.set("answer", 42)
    assert await store.get("answer") == 42
    assert await store.get("seed") == 1


@pytest.mark.asyncio
async def test_store_incr_concurrent(store):
    await asyncio.gather(*(store.incr("hits") for _ in range(10)))
    assert await store.get("hits") == 10
