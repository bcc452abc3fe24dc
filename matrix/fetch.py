"""One way to GET a URL: a deadline for the whole request and a cap on what it reads.

``urlopen``'s timeout is per read: a server that drips one byte every few seconds keeps it
waiting for ever, and ``read()`` takes a body of any size into memory. :func:`get` runs the
request in a worker thread that it waits for until the deadline (headers included), reads
the body in chunks up to a cap, and turns every way a reply can be wrong (not HTTP, cut
short, a header past http.client's limits, too slow, too large) into :class:`Failed`, an
``OSError`` whose text is the reason in words.
"""

from __future__ import annotations

import dataclasses
import http.client
import threading
import time
import urllib.error
import urllib.request
from email.message import Message

#: Seconds one request may take from connecting to its last byte.
DEADLINE_S = 60.0
#: Bytes of a body read at most: a published results.json of every cell is far smaller.
MAX_BYTES = 64 * 2**20
_CHUNK = 2**16


class Failed(OSError):
    """A request that gave no usable reply; ``str()`` is the reason (``reason`` too, as
    ``URLError`` has it)."""

    @property
    def reason(self) -> str:
        return str(self.args[0]) if self.args else "no reply"


class TooLarge(Failed):
    """A body past the cap: refused, never read whole."""


@dataclasses.dataclass(frozen=True)
class Reply:
    """A whole reply: its status, headers and body."""

    status: int
    headers: Message
    data: bytes


def get(
    request: urllib.request.Request | str,
    *,
    deadline: float | None = None,
    cap: int | None = None,
    read_timeout: float = 20.0,
) -> Reply:
    """GET ``request`` within ``deadline`` seconds, reading at most ``cap`` bytes.

    ``urllib.error.HTTPError`` (a reply with an error status) is raised as urlopen raises
    it; any other failure is :class:`Failed`.
    """
    deadline = DEADLINE_S if deadline is None else deadline
    cap = MAX_BYTES if cap is None else cap
    done: dict[str, object] = {}
    ends = time.monotonic() + deadline

    def work() -> None:
        try:
            done["reply"] = _fetch(request, ends, cap, min(read_timeout, deadline))
        except BaseException as exc:  # handed to the caller's thread
            done["error"] = exc

    worker = threading.Thread(target=work, daemon=True, name="matrix-fetch")
    worker.start()
    worker.join(deadline)
    if worker.is_alive():  # left to die with the process: a socket cannot be interrupted
        raise Failed(f"no whole reply within {deadline:g} seconds")
    if "error" in done:
        raise _failure(done["error"])
    return done["reply"]  # type: ignore[return-value]


def _fetch(request, ends: float, cap: int, read_timeout: float) -> Reply:
    with urllib.request.urlopen(request, timeout=read_timeout) as response:  # noqa: S310
        chunks, size = [], 0
        while chunk := response.read(_CHUNK):
            size += len(chunk)
            if size > cap:
                raise TooLarge(
                    f"the reply is larger than {cap // 2**20 or cap} "
                    f"{'MB' if cap >= 2**20 else 'bytes'}, the most read"
                )
            if time.monotonic() > ends:
                raise Failed("no whole reply within the deadline")
            chunks.append(chunk)
        if response.length:  # bytes the headers announced that never came
            raise Failed("the reply was cut short")
        return Reply(response.status, response.headers, b"".join(chunks))


def _failure(exc: BaseException) -> BaseException:
    """The error the caller sees: an HTTP status as it is, anything else in words."""
    if isinstance(exc, (urllib.error.HTTPError, Failed)):
        return exc
    if isinstance(exc, http.client.IncompleteRead):
        return Failed("the reply was cut short")
    if isinstance(exc, http.client.LineTooLong):
        return Failed("a header line of the reply is too long")
    if isinstance(exc, http.client.HTTPException):
        return Failed(f"the reply is not HTTP ({type(exc).__name__})")
    if isinstance(exc, urllib.error.URLError):
        return Failed(str(exc.reason))
    if isinstance(exc, OSError):
        return Failed(exc.strerror or str(exc) or type(exc).__name__)
    if isinstance(exc, (ValueError, UnicodeError)):
        return Failed(f"the address or reply is malformed ({exc})")
    return exc
