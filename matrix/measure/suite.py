"""A user's own test suite used as the probe: "does *my* suite break, and what do I pin?"

The suite is copied for every run (its folder is never written to), its own pytest
configuration is used, and its own dependencies are installed beside the cell's pins,
with the pins overriding whatever the suite asks for of the distributions under test.
"""

from __future__ import annotations

import dataclasses
import errno
import fnmatch
import os
import re
import sys
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from matrix.define.cell import DISTRIBUTIONS
from matrix.errors import MatrixError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

#: Folders that hold browser tests in real projects, looked for under the test root.
E2E_NAMES = ("e2e", "browser", "ui", "playwright", "end_to_end", "end2end")
TEST_GROUPS = ("test", "tests", "testing", "dev")
IGNORED = ("__pycache__", ".pytest_cache", ".git", ".venv", "venv", ".nox", ".tox",
           "node_modules", "build", "dist", "*.egg-info", ".coverage", "reports")
_TEST_FILE = re.compile(r"^(test_.*|.*_test)\.py$")


class NotASuite(MatrixError):
    """The path given as a suite is not a pytest project."""

    return_code = 6


@dataclasses.dataclass(frozen=True, kw_only=True)
class Suite:
    """A user's pytest project, as the matrix runs it."""

    name: str
    root: Path
    requirements: tuple[str, ...]  # the suite's own dependencies (requirement strings)
    test_root: str = "tests"  # relative folder holding the tests ("." if at the top)
    e2e: str | None = None  # relative folder of browser tests, if the suite has one

    @property
    def others(self) -> tuple[str, ...]:
        """The test root's entries other than the e2e folder, in name order."""
        root = self.root / self.test_root
        entries = sorted(p for p in root.iterdir() if not p.name.startswith((".", "_")) and
                         (p.is_dir() or _TEST_FILE.match(p.name)) and p.name != "conftest.py")
        return tuple(str(p.relative_to(self.root)) for p in entries
                     if str(p.relative_to(self.root)) != self.e2e)

    def declared_pins(self) -> dict[str, str]:
        """Exact pins (``==``) the suite declares on the distributions under test."""
        pins = {}
        for line in self.requirements:
            req = Requirement(line)
            name = canonicalize_name(req.name)
            specs = list(req.specifier)
            if name in DISTRIBUTIONS and len(specs) == 1 and specs[0].operator == "==":
                pins[name] = specs[0].version
        return pins


def load(path: Path, requirements_file: str | None = None) -> Suite:
    """Read the suite at ``path``; :class:`NotASuite` if it is not a pytest project."""
    root = path.resolve()
    if not root.is_dir():
        raise NotASuite(f"{path} is not a folder; MATRIX_SUITE must name a pytest project's folder.")
    _check_links(root)  # the copy for every run would fail on it, after the env was built
    if not _has_tests(root):
        raise NotASuite(f"{path} is not a pytest project (no pytest configuration and no "
                        "test_*.py files); point MATRIX_SUITE at the folder that holds its tests.")
    test_root = next((n for n in ("tests", "test") if (root / n).is_dir()), ".")
    e2e = next((f"{test_root}/{n}".lstrip("./") for n in E2E_NAMES
                if (root / test_root / n).is_dir()), None)
    return Suite(name=_name(root), root=root, requirements=_requirements(root, requirements_file),
                 test_root=test_root, e2e=e2e)


def _has_tests(root: Path) -> bool:
    if (root / "pytest.ini").is_file() or (root / "conftest.py").is_file():
        return True
    if "pytest" in _table(root, _pyproject(root), "tool"):
        return True
    return any(_TEST_FILE.match(p.name) for p in _walk(root))


def _check_links(root: Path) -> None:
    """Refuse a link that loops (to itself or a folder above it) or leads nowhere."""
    for folder, dirs, files in os.walk(root, followlinks=True):
        dirs[:] = [d for d in dirs if not _ignored(d)]
        here = Path(folder)
        for name in (*dirs, *files):
            path = here / name
            if not path.is_symlink():
                continue
            try:
                target = path.resolve(strict=True)
                above = {Path(os.path.realpath(p)) for p in (here, *here.parents)
                         if p.is_relative_to(root)}
                fault = "loops" if target in above else None
            except RuntimeError:  # Python < 3.13: a link to itself
                fault = "loops"
            except OSError as exc:
                fault = "loops" if exc.errno == errno.ELOOP else "leads nowhere"
            if fault:
                raise NotASuite(f"{path} is a link that {fault}; remove or fix it, since the "
                                "suite is copied for every run.")


def _ignored(name: str) -> bool:
    return name.startswith(".") or any(fnmatch.fnmatch(name, p) for p in IGNORED)


def _walk(root: Path):
    for path in root.rglob("*.py"):
        if not any(part in IGNORED or part.startswith(".") for part in path.relative_to(root).parts):
            yield path


def _pyproject(root: Path) -> dict:
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise NotASuite(f"{path} is not valid TOML ({exc}); fix it and rerun.") from None


def _table(root: Path, data: dict, key: str) -> dict:
    """``data[key]`` when it is a table (empty when absent); one sentence otherwise."""
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise NotASuite(f"{root / 'pyproject.toml'}: {key} must be a table, not "
                        f"{type(value).__name__}; fix it and rerun.")
    return value


def _strings(root: Path, value, where: str, example: str) -> list[str]:
    """A list of strings from the pyproject, or one sentence saying how to write it."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise NotASuite(f"{root / 'pyproject.toml'}: {where} must be a list of strings "
                        f"(write {where.rsplit('.', 1)[-1]} = [{example}]); fix it and rerun.")
    return value


def _name(root: Path) -> str:
    name = _table(root, _pyproject(root), "project").get("name", root.name)
    if not isinstance(name, str) or not name:
        raise NotASuite(f"{root / 'pyproject.toml'}: project.name must be a quoted name "
                        f"(write name = \"my-project\"), not {name!r}; fix it and rerun.")
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _requirements(root: Path, requirements_file: str | None) -> tuple[str, ...]:
    """The suite's own dependencies: a named requirements file, else its pyproject."""
    if requirements_file:
        path = root / requirements_file
        if not path.is_file():
            raise NotASuite(f"{path} does not exist; name a requirements file inside the suite.")
        lines = [ln.split("#", 1)[0].strip() for ln in path.read_text().splitlines()]
        return _checked(path, [ln for ln in lines if ln and not ln.startswith("-")])
    pyproject = _pyproject(root)
    project = _table(root, pyproject, "project")
    deps = list(_strings(root, project.get("dependencies", []), "project.dependencies",
                         '"requests"'))
    groups = _table(root, pyproject, "dependency-groups")
    extras = _table(root, project, "optional-dependencies")
    for name in TEST_GROUPS:
        group = groups.get(name, [])
        if not isinstance(group, list):  # entries may also be {include-group = ...} tables
            _strings(root, group, f"dependency-groups.{name}", '"pytest"')
        deps += [d for d in group if isinstance(d, str)]
        deps += _strings(root, extras.get(name, []), f"project.optional-dependencies.{name}",
                         '"pytest"')
    return _checked(root / "pyproject.toml", deps)


def _checked(source: Path, lines: list[str]) -> tuple[str, ...]:
    for line in lines:
        try:
            Requirement(line)
        except InvalidRequirement as exc:
            raise NotASuite(f"{source}: '{line}' is not a requirement ({exc}).") from None
    return tuple(dict.fromkeys(lines))
