"""Plain sync tests that run the async app with asyncio.run(), as some suites do."""

import asyncio

import app


def test_greet():
    assert asyncio.run(app.greet("probe")) == "Hello, probe!"


def test_store_roundtrip():
    async def roundtrip():
        store = app.Store()
        await store.set("answer", 42)
        value = await store.get("answer")
        await store.close()
        return value

    assert asyncio.run(roundtrip()) == 42
