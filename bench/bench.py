"""``nox -s bench``: what the matrix costs and what it saves, measured side by side.

Four comparisons, each run in one invocation, alternating, several repetitions, with
medians and ratios (these machines are shared and noisy; a single run proves little):

* ``overhead``: per cell of ``bench/bench.toml``, the time to resolve its pins and build
  its env from a warm uv cache (a fresh ``MATRIX_ENVS`` each time, so the env is really
  built), against the time its scenarios' pytest processes take. Target: at most 15 % of
  the cell's wall time.
* ``naive``: the same cells x scenarios as a hand-written noxfile
  (``bench/noxfile_naive.py``: a virtualenv and pip install per scenario) against
  ``nox -t cells``. Target: the matrix at least 5x faster, both caches warm.
* ``parallel``: ``nox -t cells -j auto`` against ``-j 1`` on the ``quick`` profile.
  Target: the parallel wall time within 1.3x of (pytest time / cores).
* ``site``: build time, peak memory and time to a usable page for synthetic results
  (through ``bench/site_bench.py``), and how they grow with the record count.
* ``incremental``: on the twelve cells of ``tests/data/incremental.toml``, after a first
  run, the next run on a snapshot with one new release (pytest 8.4.2) against a fresh run
  of the same plan: wall time, cells measured and carried over.
* ``explain``: ``explain`` on the reported combination (Python 3.13, pytest 8.4.2,
  pytest-asyncio 1.3.0, pytest-playwright 0.7.1, playwright 1.56.0) from an empty results
  folder and a warm uv cache, then again when the records decide: wall time and new cells.

    python bench/bench.py [--reps N] [--only overhead naive parallel site incremental explain]

Everything, raw samples and machine facts included, is written to ``reports/bench.json``.
The exit code is 1 when a measured run failed (its numbers would mean nothing), else 0,
whether or not the targets are met: they are findings, printed and recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib.util
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "bench"
BENCH_TOML = HERE / "bench.toml"
NAIVE_NOXFILE = HERE / "noxfile_naive.py"
PRODUCT_NOXFILE = ROOT / "noxfile.py"
QUICK_TOML = ROOT / "matrix" / "matrix.toml"
sys.path[:0] = [str(ROOT), str(HERE)]

import plan_bench  # noqa: E402  (bench/plan_bench.py: listing and cell start, full profile)
import plugin_bench  # noqa: E402  (bench/plugin_bench.py: the pytest plugin, with and without)
import site_bench  # noqa: E402  (bench/site_bench.py: reused, not rewritten)

SECTIONS = ("overhead", "naive", "parallel", "site", "incremental", "explain", "plan", "plugin")
#: Repetitions per section when --reps is not given: about 30 minutes on 2 cores.
DEFAULT_REPS = {
    "overhead": 3,
    "naive": 3,
    "parallel": 2,
    "site": 3,
    "incremental": 2,
    "explain": 1,
    "plan": 3,
    "plugin": 5,
}
MAX_PLUGIN_RATIO = 1.10  # the pytest plugin on a suite without the conflict: wall time with/without
MAX_PLAN_S = 1.5  # full profile: listing the cells, and a cell process up to its first command
INCREMENTAL_TOML = ROOT / "tests" / "data" / "incremental.toml"
#: An hour before and after pytest 8.4.2 was uploaded (2025-09-04T14:34:20Z).
BEFORE, AFTER = "2025-09-04T14:00:00Z", "2025-09-04T15:00:00Z"
REPORTED = (
    "python=3.13",
    "pytest=8.4.2",
    "pytest-asyncio=1.3.0",
    "pytest-playwright=0.7.1",
    "playwright=1.56.0",
)
MAX_OVERHEAD_SHARE, MIN_SPEEDUP, MAX_PARALLEL_RATIO = 0.15, 5.0, 1.3
#: Settings of the caller's that would change what the child runs measure.
_DROPPED = ("MATRIX_", "NOX_", "PYTEST_", "COV_CORE")
_KEPT = ("MATRIX_CHROMIUM",)


# ---------------------------------------------------------------- numbers (pure)


def median(values: Iterable[float | None]) -> float | None:
    """The median of the known values (None when there are none), rounded for reading."""
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 3) if known else None


def ratio(top: float | None, bottom: float | None) -> float | None:
    """``top / bottom``, or None when either is unknown or the bottom is not positive."""
    if top is None or bottom is None or bottom <= 0:
        return None
    return round(top / bottom, 3)


def growth_exponent(n1: float, y1: float | None, n2: float, y2: float | None) -> float | None:
    """``k`` in ``y ~ n**k`` between two sizes: 1 is linear, below 1 sublinear."""
    if not y1 or not y2 or n1 <= 0 or n2 <= 0 or n1 == n2:
        return None
    return round(math.log(y2 / y1) / math.log(n2 / n1), 2)


def verdict(ok: bool | None) -> str:
    """How a target reads in the table."""
    return "n/a" if ok is None else ("met" if ok else "MISSED")


def format_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Rows as left-aligned text columns under a header and a rule."""
    cells = [[str(c) for c in header]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def line(row: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def seconds(value: float | None) -> str:
    return "?" if value is None else f"{value:.1f} s"


def times(value: float | None) -> str:
    return "?" if value is None else f"{value:.2f}x"


def percent(value: float | None) -> str:
    return "?" if value is None else f"{100 * value:.1f}%"


# -------------------------------------------- what runs leave behind (no processes)


def pytest_seconds(records: Iterable[dict]) -> float:
    """The pytest time of a results file's records.

    A scenario that failed twice the same way keeps only its second attempt's record;
    its first attempt took about as long, so it is counted twice (an estimate, and the
    only rerun time the records do not show). With ``reruns = 0`` this is exact.
    """
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for record in records:
        groups[(record["cell_id"], record["scenario"])].append(record)
    total = 0.0
    for group in groups.values():
        total += sum(r["duration_s"] for r in group)
        attempts = {r.get("attempt", 1) for r in group}
        if 1 not in attempts:
            total += max(r["duration_s"] for r in group)
    return round(total, 2)


def tests_run(records: Iterable[dict]) -> int:
    """How many tests the records ran (passed, failed, errors and skipped)."""
    return sum(sum((r.get("tests") or {}).values()) for r in records)


def session_durations(report: dict) -> dict[str, float]:
    """Seconds per session of a ``nox --report`` file, keyed by its one parameter's value."""
    out = {}
    for session in report.get("sessions", []):
        key = next(iter((session.get("args") or {}).values()), session.get("name", "?"))
        out[str(key)] = round(float(session.get("duration", 0.0)), 3)
    return out


def pyenv_version_value(current: str, installed: Sequence[str]) -> str:
    """``PYENV_VERSION`` that keeps the versions in force first and adds every installed
    CPython 3.9 or newer.

    The hand-written noxfile asks for ``python3.12`` and the like on PATH, which pyenv's
    shims answer only for the versions listed there (the matrix needs no such help). A
    process started through a shim already has ``PYENV_VERSION`` set to that one version.
    """

    def modern(v: str) -> bool:
        parts = v.split(".")
        return (
            len(parts) == 3
            and all(p.isdigit() for p in parts)
            and parts[0] == "3"
            and int(parts[1]) >= 9
        )

    first = [v for v in current.split(":") if v]
    return ":".join(dict.fromkeys([*first, *filter(modern, installed)]))


def junit_tests(folder: Path) -> int:
    """The number of tests in every JUnit XML report under ``folder``."""
    total = 0
    for path in folder.rglob("*.xml"):
        root = ET.parse(path).getroot()
        suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
        total += sum(int(s.get("tests", 0)) for s in suites)
    return total


def file_span(start: Path, end: Path) -> float | None:
    """Seconds between two files' modification times, None if either is missing."""
    try:
        return round(end.stat().st_mtime - start.stat().st_mtime, 3)
    except OSError:
        return None


def env_timings(out: Path, envs: Path, cell_id: str) -> tuple[float | None, float | None]:
    """(resolve, env build) seconds of a cell, read from what the run left behind.

    The resolver's input and output files bracket ``uv pip compile``; an env's lock file
    (written before ``uv venv``) and its ready marker (written after ``uv pip sync``)
    bracket the build. Reading timestamps keeps the product unchanged and unslowed.
    """
    logs = out / "logs" / cell_id
    resolve = file_span(logs / "requirements.in", logs / "requirements.txt")
    try:
        lock = (logs / "requirements.txt").read_text()
    except OSError:
        return resolve, None
    for txt in sorted(envs.glob("*.txt")):
        if txt.read_text() == lock:
            return resolve, file_span(txt, txt.with_suffix("") / ".matrix-ready")
    return resolve, None


# ---------------------------------------------------------------- samples


@dataclasses.dataclass(frozen=True, kw_only=True)
class NoxRun:
    """One timed nox invocation."""

    label: str
    wall_s: float
    returncode: int
    sessions: dict[str, float]  # session parameter -> seconds, from nox's own report
    load: tuple[float, float]  # 1-minute load average before and after: the noise
    log: str  # relative to the work folder


@dataclasses.dataclass(frozen=True, kw_only=True)
class CellTime:
    """Where one cell's wall time went."""

    cell: str
    wall_s: float  # its nox session, start to end
    pytest_s: float  # its scenarios' pytest processes
    resolve_s: float | None
    env_s: float | None
    tests: int

    @property
    def setup_s(self) -> float | None:
        """Making the env and installing the pins: resolution plus env build."""
        if self.resolve_s is None or self.env_s is None:
            return None
        return round(self.resolve_s + self.env_s, 3)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ProductRun:
    """A run of the matrix's cell sessions."""

    nox: NoxRun
    pytest_s: float
    tests: int
    cells: tuple[CellTime, ...]
    outcomes: dict[str, int]


@dataclasses.dataclass(frozen=True, kw_only=True)
class NaiveRun:
    """A run of the hand-written noxfile."""

    nox: NoxRun
    pytest_s: float
    tests: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class Context:
    """What every measurement shares."""

    work: Path
    env: dict[str, str]  # the children's environment
    cells: tuple[str, ...]  # the bench cells in use (ids)
    all_cells: bool  # every cell of bench.toml: then `-t cells`, as a user types it


# ---------------------------------------------------------------- running nox


def child_env() -> dict[str, str]:
    """The environment of every child run: the caller's minus settings that would change
    what is measured, with one Chromium and every pyenv interpreter findable by both sides."""
    from matrix.measure import browser

    env = {
        k: v
        for k, v in os.environ.items()
        if k in _KEPT or not (k.startswith(_DROPPED) or k in ("VIRTUAL_ENV", "PYTHONPATH"))
    }
    env["UV_PYTHON_DOWNLOADS"] = "never"
    chromium = browser.find()
    if chromium:
        env["MATRIX_CHROMIUM"] = str(chromium)
    if shutil.which("pyenv"):
        current = env.get("PYENV_VERSION") or _output(["pyenv", "version-name"])
        installed = _output(["pyenv", "versions", "--bare"]).split()
        if current or installed:
            env["PYENV_VERSION"] = pyenv_version_value(current, installed)
    return env


def _output(args: list[str]) -> str:
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def run_nox(ctx: Context, label: str, args: list[str], env: dict[str, str]) -> NoxRun:
    """Run nox (this interpreter's) with ``args`` from the repository root, timed."""
    report, log = ctx.work / "reports" / f"{label}.json", ctx.work / "logs" / f"{label}.log"
    report.parent.mkdir(parents=True, exist_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    report.unlink(missing_ok=True)
    before = os.getloadavg()[0]
    start = time.perf_counter()
    with log.open("w") as out:
        code = subprocess.run(
            [sys.executable, "-m", "nox", "--report", str(report), *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        ).returncode
    wall = time.perf_counter() - start
    sessions = session_durations(json.loads(report.read_text())) if report.exists() else {}
    if code != 0:
        _say(f"{label}: nox exited with {code}; see {log}")
    return NoxRun(
        label=label,
        wall_s=round(wall, 2),
        returncode=code,
        sessions=sessions,
        load=(round(before, 2), round(os.getloadavg()[0], 2)),
        log=str(log.relative_to(ctx.work)),
    )


def _say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _fresh(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def read_records(out: Path) -> list[dict]:
    path = out / "results.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# ---------------------------------------------------------------- the two sides


def run_product(
    ctx: Context,
    label: str,
    *,
    config: Path,
    cells: Sequence[str] | None,
    envs: Path | None = None,
    jobs: str = "1",
    extra: Sequence[str] = (),
) -> ProductRun:
    """The matrix's cell sessions with a fresh results folder (and fresh envs unless given).

    ``cells=None`` selects them as a user does, ``-t cells``; else by name.
    """
    base = _fresh(ctx.work / label)
    out, envs = base / "out", envs or base / "envs"
    env = {
        **ctx.env,
        "MATRIX_CONFIG": str(config),
        "MATRIX_OUT": str(out),
        "MATRIX_ENVS": str(envs),
    }
    if config == QUICK_TOML:
        env["MATRIX_PROFILE"] = "quick"
    select = ["-t", "cells"] if cells is None else ["-s", *[f"cell({c})" for c in cells]]
    posargs = ["--", *extra] if extra else []
    run = run_nox(ctx, label, ["-f", str(PRODUCT_NOXFILE), *select, "-j", jobs, *posargs], env)
    records = read_records(out)
    per_cell = tuple(_cell_time(run, records, out, envs, cell) for cell in run.sessions)
    outcomes: dict[str, int] = defaultdict(int)
    for record in records:
        outcomes[record["outcome"]] += 1
    shutil.rmtree(base / "envs", ignore_errors=True)  # links into uv's cache: cheap to redo
    return ProductRun(
        nox=run,
        pytest_s=pytest_seconds(records),
        tests=tests_run(records),
        cells=per_cell,
        outcomes=dict(outcomes),
    )


def _cell_time(run: NoxRun, records: list[dict], out: Path, envs: Path, cell: str) -> CellTime:
    mine = [r for r in records if r["cell_id"] == cell]
    resolve, env = env_timings(out, envs, cell)
    return CellTime(
        cell=cell,
        wall_s=run.sessions[cell],
        pytest_s=pytest_seconds(mine),
        resolve_s=resolve,
        env_s=env,
        tests=tests_run(mine),
    )


def run_naive(ctx: Context, label: str, *, sessions: Sequence[str] | None) -> NaiveRun:
    """The hand-written noxfile, in a fresh env folder (nox rebuilds its envs each run
    anyway unless told to reuse them; a fresh folder makes that certain)."""
    base = _fresh(ctx.work / label)
    env = {**ctx.env, "MATRIX_CONFIG": str(BENCH_TOML), "NAIVE_OUT": str(base / "out")}
    select = ["-s", *sessions] if sessions else []
    run = run_nox(
        ctx, label, ["-f", str(NAIVE_NOXFILE), "--envdir", str(base / "envs"), *select], env
    )
    shutil.rmtree(base / "envs", ignore_errors=True)  # about 100 MB per session
    return NaiveRun(
        nox=run, pytest_s=naive_pytest_seconds(base / "out"), tests=junit_tests(base / "out")
    )


def naive_pytest_seconds(out: Path) -> float:
    """The naive side's pytest time, as its noxfile recorded it per process."""
    path = out / "timings.jsonl"
    if not path.exists():
        return 0.0
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return round(sum(row["seconds"] for row in rows), 2)


def naive_sessions(cells: Sequence[str]) -> list[str]:
    """The hand-written noxfile's session names for these cells."""
    return [
        f"probe({case.id})" for case in _naive_module().read_cases(BENCH_TOML) if case.cell in cells
    ]


def _naive_module():
    """The hand-written noxfile as a module (loaded once; importing it only reads cells)."""
    if "noxfile_naive" not in sys.modules:
        spec = importlib.util.spec_from_file_location("noxfile_naive", NAIVE_NOXFILE)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules["noxfile_naive"]


def bench_cells() -> list[str]:
    """The cell ids of ``bench/bench.toml`` as the matrix plans them."""
    from matrix.define import definition, plan

    return [cell.id for cell in plan.build(definition.load(BENCH_TOML)).cells]


# ---------------------------------------------------------------- the measurements


def measure_cells(ctx: Context, reps: int, with_naive: bool) -> dict:
    """``overhead`` and ``naive``: the matrix's runs of the bench cells (fresh envs each),
    alternating with the hand-written noxfile's, after one untimed warm-up of each side.

    The warm-ups run each cell's control scenario, which installs all of its pins: uv's
    cache, pip's cache and virtualenv's seed cache are then warm for every timed run.
    """
    cells = None if ctx.all_cells else ctx.cells
    sessions = None if ctx.all_cells else naive_sessions(ctx.cells)
    controls = [s for s in naive_sessions(ctx.cells) if s.endswith("-control)")]
    _say("warming up the caches (untimed)")
    warm = [
        run_product(
            ctx, "warm-product", config=BENCH_TOML, cells=cells, extra=["--scenario", "control"]
        ).nox
    ]
    if with_naive:
        warm.append(run_naive(ctx, "warm-naive", sessions=controls).nox)
    product: list[ProductRun] = []
    naive: list[NaiveRun] = []
    for rep in range(1, reps + 1):
        # Alternate which side goes first, so a drift in the machine's load hits both.
        for side in ("product", "naive") if rep % 2 else ("naive", "product"):
            if side == "product":
                product.append(run_product(ctx, f"product-{rep}", config=BENCH_TOML, cells=cells))
                _say(f"matrix, rep {rep}/{reps}: {seconds(product[-1].nox.wall_s)}")
            elif with_naive:
                naive.append(run_naive(ctx, f"naive-{rep}", sessions=sessions))
                _say(f"naive noxfile, rep {rep}/{reps}: {seconds(naive[-1].nox.wall_s)}")
    return {"warmup": warm, "product": product, "naive": naive}


def measure_parallel(ctx: Context, reps: int) -> dict:
    """``parallel``: the quick profile with ``-j auto`` and ``-j 1``, alternating, each with
    a fresh results folder (nothing skipped as already recorded) and the same envs."""
    envs = ctx.work / "quick-envs"  # kept between runs (and bench runs): envs are not measured
    _say("building the quick profile's envs (untimed)")
    warm = run_product(
        ctx,
        "warm-quick",
        config=QUICK_TOML,
        cells=None,
        envs=envs,
        jobs="auto",
        extra=["--scenario", "control"],
    ).nox
    runs: dict[str, list[ProductRun]] = {"1": [], "auto": []}
    for rep in range(1, reps + 1):
        for jobs in ("1", "auto") if rep % 2 else ("auto", "1"):
            run = run_product(
                ctx, f"quick-j{jobs}-{rep}", config=QUICK_TOML, cells=None, envs=envs, jobs=jobs
            )
            runs[jobs].append(run)
            _say(f"quick profile -j {jobs}, rep {rep}/{reps}: {seconds(run.nox.wall_s)}")
    return {"warmup": [warm], "sequential": runs["1"], "parallel": runs["auto"]}


def measure_site(ctx: Context, reps: int, sizes: Sequence[int]) -> list[dict]:
    """``site``: each size's results generated once, then built (each build in a fresh
    process, see site_bench) and opened in Chromium ``reps`` times, sizes alternating."""
    folder = _fresh(ctx.work / "site")
    rows = [
        {
            "records": site_bench.generate(folder / f"results-{n}", n),
            "size": n,
            "builds": [],
            "pages": [],
        }
        for n in sizes
    ]
    for rep in range(1, reps + 1):
        for row in rows if rep % 2 else rows[::-1]:
            site_dir = folder / f"site-{row['size']}"
            shutil.rmtree(site_dir, ignore_errors=True)
            row["builds"].append(
                site_bench.measure_build(folder / f"results-{row['size']}", site_dir)
            )
            row["pages"].append(_page(site_dir / "index.html"))
            _say(
                f"site, {row['records']} records, rep {rep}/{reps}: "
                f"{seconds(row['builds'][-1]['build_s'])}"
            )
    for row in rows:
        row.update(site_bench.site_size(folder / f"site-{row['size']}"))
    shutil.rmtree(folder, ignore_errors=True)
    return rows


def _page(index: Path) -> dict | None:
    """The page's timings in Chromium, or None where Playwright is not installed."""
    if importlib.util.find_spec("playwright") is None:
        return None
    return asyncio.run(site_bench.measure_page(index))


# ---------------------------------------------------------------- summaries (pure)


def snapshot_at(taken_at: str, folder: Path) -> Path:
    """The repository's releases snapshot as it would have been taken at ``taken_at``."""
    from matrix.define import releases

    return releases.as_of(releases.SNAPSHOT_PATH, taken_at, folder)


def run_matrix(ctx: Context, label: str, args: Sequence[str], **settings: str) -> dict:
    """One timed ``python -m matrix`` command in the children's environment."""
    log = ctx.work / f"{label}.log"
    env = {**ctx.env, **{k: str(v) for k, v in settings.items()}}
    load = os.getloadavg()[0]
    start = time.perf_counter()
    with log.open("w") as f:
        done = subprocess.run(
            [sys.executable, "-m", "matrix", *args],
            cwd=ROOT,
            env=env,
            stdout=f,
            stderr=subprocess.STDOUT,
            check=False,
        )
    return {
        "label": label,
        "wall_s": round(time.perf_counter() - start, 3),
        "returncode": done.returncode,
        "load": (load, os.getloadavg()[0]),
        "log": str(log.relative_to(ctx.work)),
    }


def measure_incremental(ctx: Context, reps: int) -> dict:
    """After a first run on the older snapshot, per repetition (alternating which goes
    first): the next run on the newer one in a copy of that folder, and a fresh run of the
    newer one; each with fresh envs from the warm uv cache."""
    work = _fresh(ctx.work / "incremental")
    before, after = snapshot_at(BEFORE, work), snapshot_at(AFTER, work)
    common = {"MATRIX_CONFIG": INCREMENTAL_TOML}
    first = run_matrix(
        ctx,
        "incremental/first",
        ["run"],
        **common,
        MATRIX_OUT=work / "first",
        MATRIX_ENVS=work / "envs-first",
        MATRIX_RELEASES=before,
        MATRIX_RUN_ID="first",
    )
    samples: dict[str, list] = {"incremental": [], "fresh": []}
    for rep in range(reps):
        for side in ("incremental", "fresh") if rep % 2 == 0 else ("fresh", "incremental"):
            out = _fresh(work / f"{side}-{rep}")
            if side == "incremental":
                shutil.rmtree(out)
                shutil.copytree(work / "first", out)
            envs = _fresh(work / f"envs-{side}-{rep}")
            run = run_matrix(
                ctx,
                f"incremental/{side}-{rep}",
                ["run"],
                **common,
                MATRIX_OUT=out,
                MATRIX_ENVS=envs,
                MATRIX_RELEASES=after,
                MATRIX_RUN_ID=f"{side}-{rep}",
            )
            mine = [r for r in read_records(out) if r["run_id"] == f"{side}-{rep}"]
            run |= {
                "measured": len({r["cell_id"] for r in mine if not r.get("carried_over")}),
                "carried": len({r["cell_id"] for r in mine if r.get("carried_over")}),
                "verdicts": sorted((r["cell_id"], r["scenario"], r["outcome"]) for r in mine),
            }
            samples[side].append(run)
            shutil.rmtree(envs, ignore_errors=True)
    return {"first": first, **samples}


def measure_explain(ctx: Context, reps: int) -> list[dict]:
    """``explain`` on the reported combination from an empty results folder (fresh envs,
    warm uv cache), then once more on the same folder, where the records decide."""
    rows = []
    for rep in range(reps):
        work = _fresh(ctx.work / f"explain-{rep}")
        settings = {"MATRIX_OUT": work / "out", "MATRIX_ENVS": work / "envs"}
        for label in ("empty", "recorded"):
            run = run_matrix(ctx, f"explain-{rep}/{label}", ["explain", *REPORTED], **settings)
            findings = (
                [
                    json.loads(x)
                    for x in (work / "out" / "explain.jsonl").read_text().splitlines()
                    if x.strip()
                ]
                if (work / "out" / "explain.jsonl").exists()
                else []
            )
            last = findings[-1] if findings else {}
            rows.append(
                run
                | {
                    "state": label,
                    "cells_run": last.get("cells_run"),
                    "listed": [c["summary"] for c in last.get("candidates", [])],
                }
            )
        shutil.rmtree(work / "envs", ignore_errors=True)
    return rows


def summarise_incremental(samples: dict) -> dict:
    """Medians of both sides, their ratio, and whether they agree cell for cell."""
    inc, fresh = samples["incremental"], samples["fresh"]
    i_wall, f_wall = median(r["wall_s"] for r in inc), median(r["wall_s"] for r in fresh)
    return {
        "incremental_wall_s": i_wall,
        "fresh_wall_s": f_wall,
        "speedup": ratio(f_wall, i_wall),
        "samples": [len(inc), len(fresh)],
        "first_wall_s": samples["first"]["wall_s"],
        "measured": sorted({r["measured"] for r in inc}),
        "carried": sorted({r["carried"] for r in inc}),
        "fresh_measured": sorted({r["measured"] for r in fresh}),
        "same_verdicts": all(r["verdicts"] == fresh[0]["verdicts"] for r in inc + fresh),
    }


def summarise_explain(rows: Sequence[dict]) -> dict:
    """Medians of explain's wall time from an empty folder and with the records deciding."""
    empty = [r for r in rows if r["state"] == "empty" and r["returncode"] == 0]
    again = [r for r in rows if r["state"] == "recorded" and r["returncode"] == 0]
    wall = median(r["wall_s"] for r in empty)
    return {
        "empty_wall_s": wall,
        "empty_cells": sorted({r["cells_run"] for r in empty}),
        "recorded_wall_s": median(r["wall_s"] for r in again),
        "recorded_cells": sorted({r["cells_run"] for r in again}),
        "listed": empty[0]["listed"] if empty else [],
        "target_wall_s": 120.0,
        "met": None if wall is None else wall <= 120.0,
    }


def succeeded(runs: Sequence[ProductRun | NaiveRun]) -> list:
    """The runs whose nox exited 0: a failed run's times measure the failure, not the work."""
    return [run for run in runs if run.nox.returncode == 0]


def summarise_overhead(runs: Sequence[ProductRun]) -> dict:
    """Per cell: medians of wall, pytest, resolve, env build; setup's share of the wall."""
    by_cell: dict[str, list[CellTime]] = defaultdict(list)
    for run in succeeded(runs):
        for cell in run.cells:
            by_cell[cell.cell].append(cell)
    rows = [_overhead_row(cell, samples) for cell, samples in by_cell.items()]
    shares = [r["setup_share"] for r in rows]
    met = None if not rows or None in shares else all(s <= MAX_OVERHEAD_SHARE for s in shares)
    return {"cells": rows, "target_max_share": MAX_OVERHEAD_SHARE, "met": met}


def _overhead_row(cell: str, samples: Sequence[CellTime]) -> dict:
    """Shares are taken per sample (its setup and wall come from the same run), then the
    median: steadier on a loaded machine than a ratio of two separate medians."""

    def share(part: Callable[[CellTime], float | None]) -> float | None:
        return median(ratio(part(s), s.wall_s) for s in samples)

    return {
        "cell": cell,
        "samples": len(samples),
        "wall_s": median(s.wall_s for s in samples),
        "pytest_s": median(s.pytest_s for s in samples),
        "resolve_s": median(s.resolve_s for s in samples),
        "env_s": median(s.env_s for s in samples),
        "setup_s": median(s.setup_s for s in samples),
        "setup_share": share(lambda s: s.setup_s),
        "non_pytest_share": share(lambda s: round(s.wall_s - s.pytest_s, 3)),
    }


def summarise_naive(product: Sequence[ProductRun], naive: Sequence[NaiveRun]) -> dict:
    """Medians of both sides' wall times and their ratio; the same outside pytest."""
    pairs = [(p, n) for p, n in zip(product, naive) if p.nox.returncode == n.nox.returncode == 0]
    product, naive = succeeded(product), succeeded(naive)
    p_wall, n_wall = median(r.nox.wall_s for r in product), median(r.nox.wall_s for r in naive)
    p_other = median(r.nox.wall_s - r.pytest_s for r in product)
    n_other = median(r.nox.wall_s - r.pytest_s for r in naive)
    speedup = ratio(n_wall, p_wall)
    n_pytest = median(r.pytest_s for r in naive)
    return {
        "product_wall_s": p_wall,
        "naive_wall_s": n_wall,
        "speedup": speedup,
        "paired_speedups": [ratio(n.nox.wall_s, p.nox.wall_s) for p, n in pairs],
        "samples": [len(product), len(naive)],
        "product_pytest_s": median(r.pytest_s for r in product),
        "naive_pytest_s": n_pytest,
        # The best any tool could do here: nothing outside pytest, pytest as quick as pip's.
        "speedup_ceiling": ratio(n_wall, n_pytest),
        "product_outside_pytest_s": p_other,
        "naive_outside_pytest_s": n_other,
        "speedup_outside_pytest": ratio(n_other, p_other),
        "product_tests": sorted({r.tests for r in product}),
        "naive_tests": sorted({r.tests for r in naive}),
        "target_min_speedup": MIN_SPEEDUP,
        "met": None if speedup is None else speedup >= MIN_SPEEDUP,
    }


def summarise_parallel(
    sequential: Sequence[ProductRun], parallel: Sequence[ProductRun], cores: int
) -> dict:
    """Parallel against sequential, and against the ideal: the sequential runs' pytest
    time (uncontended, so the stricter yardstick) spread evenly over the cores."""
    sequential, parallel = succeeded(sequential), succeeded(parallel)
    seq, par = median(r.nox.wall_s for r in sequential), median(r.nox.wall_s for r in parallel)
    pytest_sum = median(r.pytest_s for r in sequential)
    ideal = None if pytest_sum is None else round(pytest_sum / cores, 3)
    against_ideal = ratio(par, ideal)
    return {
        "sequential_wall_s": seq,
        "parallel_wall_s": par,
        "parallel_over_sequential": ratio(par, seq),
        "samples": [len(sequential), len(parallel)],
        "cores": cores,
        "pytest_sum_s": pytest_sum,
        "ideal_s": ideal,
        "parallel_over_ideal": against_ideal,
        "parallel_runs_pytest_sum_s": median(r.pytest_s for r in parallel),
        "target_max_ratio": MAX_PARALLEL_RATIO,
        "met": None if against_ideal is None else against_ideal <= MAX_PARALLEL_RATIO,
    }


def summarise_site(rows: Sequence[dict]) -> dict:
    """Medians per size, and how build time and memory grow from the smallest to the largest."""
    sizes = [_site_row(row) for row in rows]
    out: dict = {
        "sizes": sizes,
        "target_build_s": site_bench.TARGET_BUILD_S,
        "target_usable_s": site_bench.TARGET_USABLE_S,
    }
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        out["growth"] = {
            key: {
                "ratio": ratio(large[key], small[key]),
                "exponent": growth_exponent(
                    small["records"], small[key], large["records"], large[key]
                ),
            }
            for key in ("build_s", "peak_rss_mb", "peak_traced_mb", "usable_s")
        }
        out["growth"]["records_ratio"] = ratio(large["records"], small["records"])
    if sizes:  # the targets are for the largest size
        large = sizes[-1]
        out["build_met"] = _at_most(large["build_s"], site_bench.TARGET_BUILD_S)
        out["usable_met"] = _at_most(large["usable_s"], site_bench.TARGET_USABLE_S)
    return out


def summarise_plan(samples: dict) -> dict:
    """Medians of each plan measure, before and after the plan was written once per run."""
    return {
        side: {key: median(values) for key, values in found.items() if key != "cells"}
        | {"cells": max(found["cells"], default=None)}
        for side, found in samples.items()
    }


def _at_most(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


def _site_row(row: dict) -> dict:
    pages = [p for p in row["pages"] if p]
    return {
        "records": row["records"],
        **{
            key: median(b.get(key) for b in row["builds"])
            for key in ("build_s", "peak_rss_mb", "peak_traced_mb")
        },
        "usable_s": median(p["usable_s"] for p in pages),
        "site_mb": row.get("site_mb"),
        "index_mb": row.get("index_mb"),
    }


# ---------------------------------------------------------------- the table (pure)


def table_rows(summary: dict) -> list[tuple[str, str, str, str]]:
    """(measure, medians, target, result) for every section that was measured."""
    rows = [_overhead_row_text(cell) for cell in summary.get("overhead", {}).get("cells", [])]
    sections = {
        "naive": _naive_rows,
        "parallel": _parallel_rows,
        "site": _site_rows,
        "incremental": _incremental_rows,
        "explain": _explain_rows,
        "plan": _plan_rows,
        "plugin": _plugin_rows,
    }
    for name, rows_of in sections.items():
        rows += rows_of(summary[name]) if name in summary else []
    return rows


def _plan_rows(s: dict) -> list[tuple[str, str, str, str]]:
    before, after = s.get("before", {}), s["after"]
    rows = []
    for key, words in (
        ("list_cold", "full profile: nox -l -t cells --json, first of a run"),
        ("list_warm", "full profile: nox -l -t cells --json, plan written"),
        ("cell_start", "full profile: a cell process up to its first command"),
    ):
        value = f"before {seconds(before.get(key))}, after {seconds(after[key])}"
        rows.append(
            (words, value, f"<= {seconds(MAX_PLAN_S)}", verdict(_at_most(after[key], MAX_PLAN_S)))
        )
    return rows


def _plugin_rows(s: dict) -> list[tuple[str, str, str, str]]:
    value = (
        f"with {seconds(s['median_with'])}, without {seconds(s['median_without'])} = "
        f"{times(s['ratio'])}" + ("" if s["silent"] else "; it printed output")
    )
    return [
        (
            f"pytest plugin on a suite without the conflict ({s['tests']} tests)",
            value,
            f"<= {times(MAX_PLUGIN_RATIO)}, silent",
            verdict(None if s["ratio"] is None else s["ratio"] <= MAX_PLUGIN_RATIO and s["silent"]),
        )
    ]


def _overhead_row_text(cell: dict) -> tuple[str, str, str, str]:
    value = (
        f"setup {seconds(cell['setup_s'])} = {percent(cell['setup_share'])} of "
        f"{seconds(cell['wall_s'])} (pytest {seconds(cell['pytest_s'])}, "
        f"all but pytest {percent(cell['non_pytest_share'])})"
    )
    return (
        f"overhead {cell['cell']}",
        value,
        f"<= {percent(MAX_OVERHEAD_SHARE)}",
        verdict(_at_most(cell["setup_share"], MAX_OVERHEAD_SHARE)),
    )


def _quotient(top: float | None, bottom: float | None, value: float | None) -> str:
    return f"{seconds(top)} / {seconds(bottom)} = {times(value)}"


def _naive_rows(s: dict) -> list[tuple[str, str, str, str]]:
    same = s["product_tests"] == s["naive_tests"] and len(s["product_tests"]) == 1
    tests = f"{'/'.join(map(str, s['naive_tests']))} / {'/'.join(map(str, s['product_tests']))}"
    pytest_times = f"{seconds(s['naive_pytest_s'])} / {seconds(s['product_pytest_s'])}"
    return [
        (
            f"naive noxfile / nox -t cells, wall (n={'/'.join(map(str, s['samples']))})",
            _quotient(s["naive_wall_s"], s["product_wall_s"], s["speedup"]),
            f">= {times(MIN_SPEEDUP)}",
            verdict(s["met"]),
        ),
        (
            "  the same outside pytest",
            _quotient(
                s["naive_outside_pytest_s"],
                s["product_outside_pytest_s"],
                s["speedup_outside_pytest"],
            ),
            "",
            "info",
        ),
        ("  pytest time, naive / matrix", pytest_times, "", "info"),
        (
            "  ceiling: naive wall / naive pytest",
            _quotient(s["naive_wall_s"], s["naive_pytest_s"], s["speedup_ceiling"]),
            "",
            "info",
        ),
        ("  tests run, naive / matrix", tests, "equal", verdict(same)),
    ]


def _parallel_rows(s: dict) -> list[tuple[str, str, str, str]]:
    ideal = (
        f"{seconds(s['parallel_wall_s'])} / ({seconds(s['pytest_sum_s'])} / {s['cores']})"
        f" = {times(s['parallel_over_ideal'])}"
    )
    return [
        (
            f"quick -j auto / -j 1, wall (n={'/'.join(map(str, s['samples'][::-1]))})",
            _quotient(s["parallel_wall_s"], s["sequential_wall_s"], s["parallel_over_sequential"]),
            "",
            "info",
        ),
        (
            "quick -j auto / (pytest sum / cores)",
            ideal,
            f"<= {times(MAX_PARALLEL_RATIO)}",
            verdict(s["met"]),
        ),
    ]


def _incremental_rows(s: dict) -> list[tuple[str, str, str, str]]:
    return [
        (
            "one new release: fresh / incremental run, wall "
            f"(n={'/'.join(map(str, s['samples'][::-1]))})",
            _quotient(s["fresh_wall_s"], s["incremental_wall_s"], s["speedup"]),
            "",
            "info",
        ),
        (
            "  cells measured / carried over (fresh: measured)",
            f"{'/'.join(map(str, s['measured']))} / {'/'.join(map(str, s['carried']))} "
            f"(fresh {'/'.join(map(str, s['fresh_measured']))})",
            "",
            "info",
        ),
        (
            "  verdicts, incremental and fresh",
            "equal" if s["same_verdicts"] else "DIFFER",
            "equal",
            verdict(s["same_verdicts"]),
        ),
    ]


def _explain_rows(s: dict) -> list[tuple[str, str, str, str]]:
    return [
        (
            "explain, reported combination, empty folder",
            f"{seconds(s['empty_wall_s'])}, {'/'.join(map(str, s['empty_cells']))} cells",
            "<= 2 min",
            verdict(s["met"]),
        ),
        (
            "explain, the same when the records decide",
            f"{seconds(s['recorded_wall_s'])}, {'/'.join(map(str, s['recorded_cells']))} cells",
            "0 cells",
            verdict(s["recorded_cells"] == [0]),
        ),
    ]


def _site_rows(s: dict) -> list[tuple[str, str, str, str]]:
    rows = []
    for size in s["sizes"]:
        value = (
            f"build {seconds(size['build_s'])}, peak RSS {size['peak_rss_mb']} MB "
            f"(traced {size['peak_traced_mb']} MB), usable {seconds(size['usable_s'])}"
        )
        rows.append((f"site, {size['records']} records", value, "", "info"))
    if rows:  # the targets are for the largest size
        target = (
            f"build <= {seconds(s['target_build_s'])}, usable <= {seconds(s['target_usable_s'])}"
        )
        result = f"{verdict(s.get('build_met'))}, {verdict(s.get('usable_met'))}"
        rows[-1] = (*rows[-1][:2], target, result)
    growth = s.get("growth")
    if growth:
        rows.append(
            (
                f"site growth, records x{growth['records_ratio']:g}",
                ", ".join(
                    f"{key.rsplit('_', 1)[0]} {times(g['ratio'])} (n^{g['exponent']})"
                    for key, g in growth.items()
                    if key != "records_ratio" and g["ratio"] is not None
                ),
                "",
                "info",
            )
        )
    return rows


# ---------------------------------------------------------------- main


def machine_info() -> dict:
    """What the figures were measured on: cores, interpreters, tool versions, load."""
    from importlib.metadata import PackageNotFoundError, version

    def dist(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    from matrix.measure import browser

    chromium = browser.find()
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "nox": dist("nox"),
        "uv": _output(["uv", "--version"]).removeprefix("uv ") or None,
        "virtualenv": dist("virtualenv"),
        "playwright": dist("playwright"),
        "chromium": _output([chromium, "--version"]) if chromium else None,
        "load_at_start": os.getloadavg(),
    }


def _cpu_model() -> str | None:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or None
    return next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), None)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reps",
        type=int,
        help="repetitions of every section (default: "
        + ", ".join(f"{k} {v}" for k, v in DEFAULT_REPS.items())
        + ")",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=SECTIONS,
        default=list(SECTIONS),
        help="the sections to run (default: all)",
    )
    parser.add_argument("--cells", type=int, help="use only the first N cells of bench.toml")
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[1000, 10000],
        help="record counts of the site section (default: %(default)s)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "bench.json")
    # Not .nox/bench: that is the bench session's own env.
    parser.add_argument(
        "--work",
        type=Path,
        default=ROOT / ".nox" / "bench-work",
        help="scratch folder, on the same filesystem as uv's cache so envs "
        "are linked from it (default: .nox/bench-work)",
    )
    args = parser.parse_args(argv)
    if args.reps is not None and args.reps < 1:
        parser.error("--reps must be at least 1")
    return args


def run(args: argparse.Namespace) -> dict:
    """Every chosen section: raw samples and summaries."""
    reps = {k: args.reps or v for k, v in DEFAULT_REPS.items()}
    cells = bench_cells()
    chosen = tuple(cells[: args.cells] if args.cells else cells)
    ctx = Context(
        work=args.work.absolute(),
        env=child_env(),
        cells=chosen,
        all_cells=len(chosen) == len(cells),
    )
    samples: dict = {}
    summary: dict = {}
    if {"overhead", "naive"} & set(args.only):
        with_naive = "naive" in args.only
        samples["cells"] = measure_cells(
            ctx, reps["naive" if with_naive else "overhead"], with_naive
        )
        if "overhead" in args.only:
            summary["overhead"] = summarise_overhead(samples["cells"]["product"])
        if with_naive:
            summary["naive"] = summarise_naive(
                samples["cells"]["product"], samples["cells"]["naive"]
            )
    if "parallel" in args.only:
        samples["parallel"] = measure_parallel(ctx, reps["parallel"])
        summary["parallel"] = summarise_parallel(
            samples["parallel"]["sequential"], samples["parallel"]["parallel"], os.cpu_count() or 1
        )
    if "site" in args.only:
        samples["site"] = measure_site(ctx, reps["site"], args.sizes)
        summary["site"] = summarise_site(samples["site"])
    if "incremental" in args.only:
        samples["incremental"] = measure_incremental(ctx, reps["incremental"])
        summary["incremental"] = summarise_incremental(samples["incremental"])
    if "explain" in args.only:
        samples["explain"] = measure_explain(ctx, reps["explain"])
        summary["explain"] = summarise_explain(samples["explain"])
    if "plan" in args.only:
        samples["plan"] = plan_bench.measure(ctx.work, ctx.env, reps["plan"])
        summary["plan"] = summarise_plan(samples["plan"])
    if "plugin" in args.only:
        samples["plugin"] = plugin_bench.measure(ctx.work, ctx.env, reps["plugin"])
        summary["plugin"] = {k: v for k, v in samples["plugin"].items() if k != "samples"}
    return {
        "cells": list(chosen),
        "reps": reps,
        "pyenv_version": ctx.env.get("PYENV_VERSION"),
        "summary": summary,
        "samples": samples,
    }


def failed_runs(samples: dict) -> list[str]:
    """Labels of the nox runs that exited non-zero (their figures cannot be trusted)."""
    found = []

    def walk(value) -> None:
        if isinstance(value, NoxRun):
            found.extend([value.label] if value.returncode != 0 else [])
        elif isinstance(value, (ProductRun, NaiveRun)):
            walk(value.nox)
        elif isinstance(value, dict):
            if value.get("returncode") not in (None, 0) and "label" in value:  # run_matrix's
                found.append(value["label"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(samples)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started, machine = time.perf_counter(), machine_info()
    result = run(args)
    failed = failed_runs(result["samples"])
    total = round(time.perf_counter() - started, 1)
    rows = table_rows(result["summary"]) + [("total bench time", seconds(total), "", "info")]
    print(format_table(("measure", "medians", "target", "result"), rows))
    report = {
        "schema": 1,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "total_s": total,
        "machine": machine,
        "failed_runs": failed,
        **{k: v for k, v in result.items() if k != "samples"},
        "samples": _jsonable(result["samples"]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(
        f"[bench] written to {args.out}" + (f"; FAILED runs: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


def _jsonable(value):
    if dataclasses.is_dataclass(value):
        return _jsonable(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


if __name__ == "__main__":
    sys.exit(main())
