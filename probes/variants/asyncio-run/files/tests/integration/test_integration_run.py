"""A sync integration test that starts an echo server and a client with asyncio.run()."""

import asyncio

import app


def test_echo_roundtrip():
    async def roundtrip():
        server = await app.EchoServer().start()
        try:
            return await asyncio.wait_for(app.echo(server.port, "ping"), 5)
        finally:
            await server.stop()

    assert asyncio.run(roundtrip()) == "PING"
