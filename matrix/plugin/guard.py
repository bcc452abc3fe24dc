"""The guard: Playwright's sync API marks its loop as the thread's running loop only
while a sync call runs.

Playwright's sync API runs its event loop in a dispatcher greenlet. After every sync call
(``SyncBase._sync``, ``EventInfo.value``) and after ``sync_playwright().__enter__`` it
leaves that loop marked as the thread's running loop (``asyncio._set_running_loop``), and
the mark stays until the session's Playwright stops. pytest-asyncio, which must run its
own loop in the same thread between those calls, then fails (the loop-conflict
signatures). The guard wraps those functions: the mark is set when a call starts (the
dispatcher resumes the loop from inside it) and the previous mark, normally none, is put
back when the call returns. ``__exit__`` gets the mark back while the dispatcher winds
down, as it had it before.

Nothing is wrapped unless every wrapped function is there (:func:`missing`); the plugin
then refuses with one line and the run is as without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import importlib
from collections.abc import Callable, Iterator
from typing import Any

#: (module, class, attribute) wrapped; a property is wrapped through its getter.
TARGETS = (
    ("playwright._impl._sync_base", "SyncBase", "_sync"),
    ("playwright._impl._sync_base", "EventInfo", "value"),
    ("playwright.sync_api._context_manager", "PlaywrightContextManager", "__enter__"),
    ("playwright.sync_api._context_manager", "PlaywrightContextManager", "__exit__"),
)
_ASYNCIO = ("_get_running_loop", "_set_running_loop")


@dataclasses.dataclass
class Calls:
    """How many sync calls ran under the guard (the measuring variant reads it: an e2e
    test that made none did not drive the browser)."""

    count: int = 0


CALLS = Calls()
_installed: list[tuple[type, str, Any]] = []  # (class, attribute, original) to put back


def missing() -> list[str]:
    """The wrapped functions this installation lacks (empty: the guard can go on)."""
    out = [f"asyncio.{name}" for name in _ASYNCIO if not callable(getattr(asyncio, name, None))]
    for module, cls, attr in TARGETS:
        try:
            owner = getattr(importlib.import_module(module), cls)
        except (ImportError, AttributeError):
            out.append(f"{module}.{cls}")
            continue
        value = owner.__dict__.get(attr)
        if not (callable(value) or (isinstance(value, property) and value.fget)):
            out.append(f"{module}.{cls}.{attr}")
    return out


def install() -> None:
    """Wrap the targets (call :func:`missing` first); :func:`uninstall` undoes it."""
    if _installed:
        return
    for module, cls, attr in TARGETS:
        owner = getattr(importlib.import_module(module), cls)
        original = owner.__dict__[attr]
        if attr == "__exit__":
            wrapped: Any = _exiting(original)
        elif isinstance(original, property):
            wrapped = property(
                _confined(original.fget), original.fset, original.fdel, original.__doc__
            )
        else:
            wrapped = _confined(original)
        setattr(owner, attr, wrapped)
        _installed.append((owner, attr, original))


def uninstall() -> None:
    """Put the original functions back."""
    while _installed:
        owner, attr, original = _installed.pop()
        setattr(owner, attr, original)


def _loop_of(obj: Any) -> asyncio.AbstractEventLoop | None:
    loop = getattr(obj, "_loop", None)
    if loop is None:  # EventInfo keeps its SyncBase
        loop = getattr(getattr(obj, "_sync_base", None), "_loop", None)
    return loop


@contextlib.contextmanager
def _marked(loop: asyncio.AbstractEventLoop | None) -> Iterator[None]:
    """Playwright's ``loop`` marked as the thread's running loop for the span of the block
    (unless another is marked, or it is closed), and the previous mark put back after."""
    before = asyncio._get_running_loop()
    if loop is not None and before is None and not loop.is_closed():
        asyncio._set_running_loop(loop)  # the dispatcher resumes the loop in this call
    try:
        yield
    finally:
        if asyncio._get_running_loop() is not before:
            asyncio._set_running_loop(before)


def _confined(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` with Playwright's loop marked running only while it runs."""

    @functools.wraps(func)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        with _marked(_loop_of(self)):
            CALLS.count += 1
            return func(self, *args, **kwargs)

    return call


def _exiting(func: Callable[..., Any]) -> Callable[..., Any]:
    """``__exit__`` with the mark back while the dispatcher still runs the loop (as
    Playwright left it before the guard), and the previous mark restored after."""

    @functools.wraps(func)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        fiber = getattr(self, "_dispatcher_fiber", None) or getattr(  # 1.63+, then older
            getattr(self, "_connection", None), "_dispatcher_fiber", None
        )
        alive = fiber is not None and not getattr(fiber, "dead", True)
        with _marked(getattr(self, "_loop", None) if alive else None):
            return func(self, *args, **kwargs)

    return call
