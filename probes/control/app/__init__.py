"""A tiny async application, standing in for the code a real suite tests.

It has a key-value store, a greeting service, an asyncio TCP echo server and a
queue pipeline. Probes measure coverage of this package with ``--cov=app``.
"""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, Iterable, List, Optional


async def greet(name: str) -> str:
    """Return a greeting after yielding to the loop once."""
    await asyncio.sleep(0)
    return f"Hello, {name}!"


class Store:
    """An in-memory async key-value store guarded by a lock."""

    def __init__(self) -> None:
        self._data: dict = {}
        self._lock = asyncio.Lock()

    async def set(self, key: str, value: object) -> None:
        async with self._lock:
            self._data[key] = value

    async def get(self, key: str, default: object = None) -> object:
        async with self._lock:
            return self._data.get(key, default)

    async def incr(self, key: str) -> int:
        async with self._lock:
            self._data[key] = int(self._data.get(key, 0)) + 1
            return self._data[key]

    async def close(self) -> None:
        async with self._lock:
            self._data.clear()


class EchoServer:
    """An asyncio TCP server on 127.0.0.1 that echoes each line upper-cased."""

    def __init__(self) -> None:
        self._server: Optional[asyncio.AbstractServer] = None
        self.port = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                writer.write(line.upper())
                await writer.drain()
        finally:
            writer.close()

    async def start(self) -> "EchoServer":
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


async def echo(port: int, message: str) -> str:
    """Send one line to an EchoServer and return its reply."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(message.encode() + b"\n")
    await writer.drain()
    reply = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return reply.decode().rstrip("\n")


async def pipeline(
    items: Iterable[int], work: Callable[[int], Awaitable[int]], workers: int = 3
) -> List[int]:
    """Feed items through an asyncio.Queue to a pool of workers; results sorted."""
    queue: asyncio.Queue = asyncio.Queue()
    results: List[int] = []

    async def worker() -> None:
        while True:
            item = await queue.get()
            try:
                results.append(await work(item))
            finally:
                queue.task_done()

    for item in items:
        queue.put_nowait(item)
    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    await queue.join()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return sorted(results)
