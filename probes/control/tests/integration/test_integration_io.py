"""Integration tests with real asyncio I/O, as a real suite has them.

An EchoServer on 127.0.0.1 is started by an async fixture; a queue pipeline
runs without fixtures.
"""

import asyncio

import pytest
import pytest_asyncio

import app


@pytest_asyncio.fixture
async def echo_server():
    server = await app.EchoServer().start()
    yield server
    await server.stop()


@pytest.mark.asyncio
async def test_echo_roundtrip(echo_server):
    reply = await asyncio.wait_for(app.echo(echo_server.port, "ping"), 5)
    assert reply == "PING"


@pytest.mark.asyncio
async def test_echo_concurrent_clients(echo_server):
    words = [f"w{i}" for i in range(5)]
    replies = await asyncio.wait_for(
        asyncio.gather(*(app.echo(echo_server.port, w) for w in words)), 5
    )
    assert replies == [w.upper() for w in words]


@pytest.mark.asyncio
async def test_queue_pipeline():
    async def double(x):
        await asyncio.sleep(0)
        return 2 * x

    result = await asyncio.wait_for(app.pipeline(range(10), double), 5)
    assert result == [2 * x for x in range(10)]
