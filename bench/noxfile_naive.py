"""The obvious alternative to the matrix: a noxfile a team writes by hand.

One nox session per cell x scenario, each with its own virtualenv (nox's ``virtualenv``
backend) and the cell's pins installed by pip, then the scenario's pytest processes in a
copy of the probe. The cells are read from ``bench/bench.toml`` (or ``$MATRIX_CONFIG``);
the scenarios are spelled out here by hand, with the same pytest arguments and paths as
``matrix/scenarios.py`` and the same ``MATRIX_CHROMIUM``, so that the pytest work is the
same as the matrix's and only the way environments are made differs.

    nox -f bench/noxfile_naive.py            # every cell x scenario
    nox -f bench/noxfile_naive.py -k control # one scenario of every cell

``$NAIVE_OUT`` names a folder for the JUnit reports and ``timings.jsonl``, the seconds of
each pytest process (the benchmark checks that both sides ran the same tests, and tells
the pytest time from the time spent making environments).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import time
from pathlib import Path

import nox

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
PROBES = HERE.parent / "probes"
CONFIG = Path(os.environ.get("MATRIX_CONFIG") or HERE / "bench.toml")

nox.options.download_python = "never"  # like the matrix: this machine's interpreters only
nox.options.error_on_missing_interpreters = True

E2E, DRIVER, UNIT, INTEGRATION = "tests/e2e", "tests/driver", "tests/unit", "tests/integration"
ASYNC_ONLY = (UNIT, INTEGRATION)
#: Scenario name -> the paths of each pytest process it runs (as matrix/scenarios.py).
SCENARIOS: dict[str, tuple[tuple[str, ...], ...]] = {
    "control": (ASYNC_ONLY,),
    "e2e-first": ((E2E, INTEGRATION, UNIT),),
    "e2e-first-cov": ((E2E, INTEGRATION, UNIT),),
    "e2e-last": ((UNIT, INTEGRATION, E2E),),
    "e2e-last-cov": ((UNIT, INTEGRATION, E2E),),
    "driver-only": ((DRIVER, INTEGRATION, UNIT),),
    "isolated": ((E2E,), ASYNC_ONLY),
}
SHORT = {
    "pytest": "pytest",
    "pytest-asyncio": "asyncio",
    "pytest-playwright": "sync",
    "pytest-playwright-asyncio": "async",
    "playwright": "pw",
    "pytest-cov": "cov",
    "coverage": "coverage",
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Case:
    """One session: a cell's Python and pins, one scenario of its probe."""

    python: str
    pins: tuple[tuple[str, str], ...]
    scenario: str

    @property
    def cell(self) -> str:
        """The cell's id, spelled as the matrix spells it."""
        return "-".join([f"py{self.python}", *(f"{SHORT[d]}{v}" for d, v in self.pins)])

    @property
    def id(self) -> str:
        return f"{self.cell}-{self.scenario}"

    @property
    def probe(self) -> str:
        """The probe suite the pins call for."""
        names = dict(self.pins)
        if "pytest-playwright" in names:
            return "sync-plugin"
        if "pytest-playwright-asyncio" in names:
            return "async-plugin"
        return "native-async" if "playwright" in names else "control"

    @property
    def runs(self) -> tuple[tuple[str, ...], ...]:
        return SCENARIOS[self.scenario]

    @property
    def coverage(self) -> bool:
        return self.scenario.endswith("-cov")

    @property
    def requirements(self) -> list[str]:
        return [f"{dist}=={version}" for dist, version in self.pins]


def scenarios_for(pins: dict[str, str]) -> list[str]:
    """The scenarios that fit a cell: Playwright ones need Playwright, -cov ones pytest-cov."""
    with_playwright = any(
        d in pins for d in ("playwright", "pytest-playwright", "pytest-playwright-asyncio")
    )
    return [
        name
        for name in SCENARIOS
        if name == "control"
        or (with_playwright and ("pytest-cov" in pins or not name.endswith("-cov")))
    ]


def read_cases(config: Path) -> list[Case]:
    """Every cell x scenario of the ``[[cell]]`` tables of ``config``, in file order."""
    cells = tomllib.loads(config.read_text()).get("cell", [])
    order = list(SHORT)
    cases = []
    for table in cells:
        pins = {k: str(v) for k, v in table.items() if k != "python"}
        ordered = tuple(sorted(pins.items(), key=lambda kv: order.index(kv[0])))
        cases += [
            Case(python=str(table["python"]), pins=ordered, scenario=name)
            for name in scenarios_for(pins)
        ]
    return cases


def pytest_args(case: Case, paths: tuple[str, ...], junit: Path) -> list[str]:
    """One pytest process's arguments, as the matrix passes them."""
    args = ["-p", "no:cacheprovider", "-q", "-rfE", f"--junitxml={junit}", *paths]
    return args + (["--cov=app", "--cov-report="] if case.coverage else [])


CASES = {case.id: case for case in read_cases(CONFIG)}


@nox.session(venv_backend="virtualenv")
@nox.parametrize("python,case", [(c.python, c.id) for c in CASES.values()], ids=list(CASES))
def probe(session: nox.Session, case: str) -> None:
    """One cell x scenario: pip installs the pins, then the scenario's pytest processes."""
    case = CASES[case]  # parameters are plain strings: nox's --report writes them as JSON
    session.install(*case.requirements)
    tmp = Path(session.create_tmp()).absolute()
    out = Path(os.environ.get("NAIVE_OUT") or tmp / "junit").absolute()
    (out / case.id).mkdir(parents=True, exist_ok=True)
    session.chdir(copy_probe(case, tmp))
    for index, paths in enumerate(case.runs, 1):
        started = time.perf_counter()
        # Exit code 1 is failing tests: a result (the loop bug), not a broken session.
        session.run(
            "pytest",
            *pytest_args(case, paths, out / case.id / f"junit-{index}.xml"),
            env=probe_env(tmp),
            success_codes=[0, 1],
        )
        with (out / "timings.jsonl").open("a") as f:
            f.write(
                json.dumps(
                    {"case": case.id, "run": index, "seconds": time.perf_counter() - started}
                )
                + "\n"
            )


def copy_probe(case: Case, tmp: Path) -> Path:
    """A fresh copy of the probe to run in: the control project (the app and the async
    tests), the probe's own files laid over it, symlinks made plain files."""
    project = tmp / "project"
    shutil.rmtree(project, ignore_errors=True)
    for layer in dict.fromkeys([PROBES / "control", PROBES / case.probe]):
        shutil.copytree(
            layer,
            project,
            symlinks=False,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"),
        )
    return project


def probe_env(tmp: Path) -> dict[str, str]:
    """What the matrix sets for a probe: the Chromium to launch, no downloads, no bytecode."""
    env = {
        "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "COVERAGE_FILE": str(tmp / ".coverage"),
    }
    chromium = os.environ.get("MATRIX_CHROMIUM") or shutil.which("chromium")
    if chromium:
        env["MATRIX_CHROMIUM"] = chromium
    return env
