"""The one subprocess wrapper: echo ``+ cmd``, log everything, never leave a process behind."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn

from matrix import log as logger
from matrix import masking

#: Seconds between SIGTERM and SIGKILL when a process group must go.
GRACE_S = 3.0
#: A log larger than this keeps its head and tail around a marker (a probe may print GBs).
MAX_LOG_BYTES = 4 * 1024 * 1024


@dataclasses.dataclass(frozen=True, kw_only=True)
class Completed:
    """How a command ended."""

    returncode: int | None  # None when it was killed for running too long
    duration_s: float
    timed_out: bool = False


def quote(args: Sequence[str | os.PathLike[str]]) -> str:
    """The command as one shell-ready line."""
    return " ".join(shlex.quote(str(a)) for a in args)


def run(
    args: Sequence[str | os.PathLike[str]],
    *,
    log: Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    echo: bool = True,
    secrets: frozenset[str] = frozenset(),
) -> Completed:
    """Run ``args`` with stdout and stderr appended to ``log``.

    The child gets a session (process group) of its own, so that on a timeout, an
    interrupt or an error here the whole group is killed: pytest, the Playwright
    driver and Chromium alike. With ``secrets`` the output goes through a pipe and is
    masked before it reaches the disk: a run killed at any moment (SIGKILL included)
    leaves no secret value in the log.
    """
    line = f"+ {quote(args)}"
    if echo:
        logger.info(line)
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with log.open("ab") as out:
        out.write(f"{line}\n".encode())
        out.flush()
        proc = subprocess.Popen(
            [str(a) for a in args],
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if secrets else out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        pump = _pump(proc, out, secrets) if secrets else None
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            _drained(pump)
            out.write(f"\n[matrix] killed after {timeout:g} s time limit\n".encode())
            out.close()
            trim(log)
            return Completed(returncode=None, duration_s=time.monotonic() - started, timed_out=True)
        finally:
            if proc.poll() is None:  # interrupted (Ctrl-C, SIGTERM) while waiting
                kill_group(proc)
        kill_group(proc)  # the leader exited; stragglers such as a browser must not stay
        _drained(pump)
    trim(log)
    return Completed(returncode=code, duration_s=time.monotonic() - started)


def _pump(proc: subprocess.Popen[bytes], out, secrets: frozenset[str]) -> threading.Thread:
    """Copy the child's output into ``out`` masked, as it comes (see :func:`mask_stream`)."""
    thread = threading.Thread(
        target=masking.mask_stream, args=(proc.stdout, out, secrets), daemon=True, name="matrix-log"
    )
    thread.start()
    return thread


def _drained(pump: threading.Thread | None) -> None:
    """Wait for the last output to be written (the group is dead: the pipe ends)."""
    if pump is not None:
        pump.join(10)


def trim(log: Path, limit: int = MAX_LOG_BYTES) -> None:
    """Cut the middle out of an oversized log, leaving a marker that says how much."""
    size = log.stat().st_size
    if size <= limit:
        return
    half = limit // 2
    with log.open("rb") as f:
        head = f.read(half)
        f.seek(size - half)
        tail = f.read()
    marker = f"\n\n[matrix] log truncated: {size - 2 * half} bytes cut from the middle\n\n"
    log.write_bytes(head + marker.encode() + tail)


def capture(
    args: Sequence[str | os.PathLike[str]],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float | None = 120,
    echo: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a short command and return its text output (uv queries; ``echo=False`` for the
    version probes asked of every candidate, which would only crowd the console)."""
    if echo:
        logger.info(f"+ {quote(args)}")
    return subprocess.run(
        [str(a) for a in args],
        env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _die_with_parent() -> None:
    """In the child: be killed if this process dies (SIGKILL gives it no chance to clean up).

    The child has a session of its own so that a timeout can kill its whole group, which
    also shields it from the terminal's Ctrl-C; this ties its life to ours instead.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def tie_to_parent() -> None:
    """Make this process stop like a Ctrl-C when its parent dies (nox killed alone), so its
    ``finally`` blocks kill the pytest process groups and remove the work folders."""
    signal.signal(signal.SIGTERM, _interrupted)
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() == 1:  # the parent died before the line above
        raise KeyboardInterrupt


def _interrupted(signum, frame) -> None:
    raise KeyboardInterrupt


def leave(code: int) -> NoReturn:
    """End this process at once with ``code``, past the interpreter's shutdown. nox sends a
    Ctrl-C to its session's process too and goes on to the next session when that process
    still ends 0: a Ctrl-C that lands while a cell shuts down (where Python only reports an
    interrupt it cannot raise) would let the run go on. Here an interrupt either comes
    before the exit and is raised (a non-zero end), or comes too late to matter."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group of ``proc``, then SIGKILL what is left of it."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    deadline = time.monotonic() + GRACE_S
    while time.monotonic() < deadline:
        if proc.poll() is not None and not _group_alive(proc.pid):
            return
        time.sleep(0.05)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _group_alive(pgid: int) -> bool:
    """Whether a process of the group still runs. Zombies do not count: an orphan that
    exited waits for the machine's init to reap it, and an init that reaps late (or never,
    as in a container started without one) would otherwise hold every run for GRACE_S."""
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return True  # no /proc to tell zombies apart: the signal's answer stands
    for entry in proc.iterdir():
        if entry.name.isdigit() and _running_in(entry / "stat", pgid):
            return True
    return False


def _running_in(stat: Path, pgid: int) -> bool:
    """Whether the process of ``/proc/<pid>/stat`` is in group ``pgid`` and not a zombie."""
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()  # the name may hold spaces
    except (OSError, IndexError):
        return False  # gone meanwhile
    return len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X")
