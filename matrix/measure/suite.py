"""A user's own test suite used as the probe: "does *my* suite break, and what do I pin?"

The suite is copied for every run (its folder is never written to), its own pytest
configuration is used, and its own dependencies are installed beside the cell's pins,
with the pins overriding whatever the suite asks for of the distributions under test.
"""

from __future__ import annotations

import dataclasses
import errno
import fnmatch
import hashlib
import os
import re
import sys
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from matrix.define.cell import DISTRIBUTIONS
from matrix.errors import MatrixError
from matrix.measure import requirements

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TEST_GROUPS = ("test", "tests", "testing", "dev")
#: Extras asked of a project whose metadata cannot be read without building it (setup.py);
#: an extra it does not have is ignored by the resolver. A Playwright extra is not asked
#: for: the cell says which plugin, and the two plugins refuse to load together.
SETUP_EXTRAS = TEST_GROUPS
IGNORED = (
    "__pycache__",
    ".pytest_cache",
    ".git",
    ".venv",
    "venv",
    ".nox",
    ".tox",
    "node_modules",
    "build",
    "dist",
    "*.egg-info",
    ".coverage",
    "reports",
)
_TEST_FILE = re.compile(r"^(test_.*|.*_test)\.py$")


class NotASuite(MatrixError):
    """The path given as a suite is not a pytest project."""

    return_code = 6


@dataclasses.dataclass(frozen=True)
class Local:
    """A requirement on a folder (``-e path``, ``./path``, ``file:path``): installed from a copy."""

    path: Path  # absolute
    editable: bool = False
    extras: tuple[str, ...] = ()

    def line(self, root: Path, copy: Path) -> str:
        """The requirement line, with a path inside the suite moved into its copy."""
        path = copy / self.path.relative_to(root) if self.path.is_relative_to(root) else self.path
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        return f"-e {path}{extras}" if self.editable else f"{path}{extras}"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Suite:
    """A user's pytest project, as the matrix runs it."""

    name: str
    root: Path
    requirements: tuple[str, ...]  # the suite's own dependencies (PEP 508 strings)
    local: tuple[Local, ...] = ()  # the project itself and other folders it installs
    constraints: tuple[str, ...] = ()  # -c files of its requirements file
    test_root: str = "tests"  # relative folder holding the tests ("." if at the top)
    installed: str = ""  # how the project itself is installed, said in every record's note

    @property
    def key(self) -> str:
        """Stable identity: the name plus a short hash of the folder (two suites of one name
        in different folders get different cell ids)."""
        return f"{self.name}-{hashlib.sha256(str(self.root).encode()).hexdigest()[:6]}"

    def install_lines(self, copy: Path) -> tuple[str, ...]:
        """Requirement lines for the resolver, folders inside the suite taken from ``copy``."""
        return (*self.requirements, *(local.line(self.root, copy) for local in self.local))

    def declared_pins(self) -> dict[str, str]:
        """Exact pins (``==``) the suite declares on the distributions under test."""
        pins = {}
        for line in self.requirements:
            req = Requirement(line)
            name, version = canonicalize_name(req.name), requirements.exact_version(req)
            if name in DISTRIBUTIONS and version:
                pins[name] = version
        return pins


def load(
    path: Path,
    requirements_file: str | None = None,
    install: bool = True,
    secrets: frozenset[str] = frozenset(),
) -> Suite:
    """Read the suite at ``path``; :class:`NotASuite` if it is not a pytest project.

    The project itself is installed (from a copy) whenever pip would install it, as tox
    does, so that its entry points register; ``install=False`` (``MATRIX_SUITE_INSTALL``)
    leaves it out, and a requirements file that names it (``-e .``) is followed as written.
    A line quoted from its requirements has ``secrets`` masked before it is cut short.
    """
    root = path.resolve()
    if not root.is_dir():
        raise NotASuite(
            f"{path} is not a folder; MATRIX_SUITE must name a pytest project's folder."
        )
    _check_links(root)  # the copy for every run would fail on it, after the env was built
    if not _has_tests(root):
        raise NotASuite(
            f"{path} is not a pytest project (no pytest configuration and no "
            "test_*.py files); point MATRIX_SUITE at the folder that holds its tests."
        )
    test_root = next((n for n in ("tests", "test") if (root / n).is_dir()), ".")
    if requirements_file:
        found = Requirements()
        found.read(root / requirements_file, root)  # never a file outside the suite
    else:
        found = _from_pyproject(root)
    local = list(found.local)
    how = installer(root)
    if any(item.path == root for item in local):
        installed = f"project installed as {found.source.name} says ({_named(found, root)})"
    elif how is None:
        installed = (
            f"project not installed: {NOT_INSTALLABLE}; its folder and src/ are on PYTHONPATH"
        )
    elif not install:
        installed = "project not installed: MATRIX_SUITE_INSTALL=false"
    else:
        extras = (
            ()
            if (root / "pyproject.toml").is_file() and _pyproject(root).get("project")
            else SETUP_EXTRAS
        )  # a pyproject's test extras are read above, setup.py's are asked for
        local.insert(0, Local(root, extras=extras))
        installed = f"project installed from its {how}"
    return Suite(
        name=_name(root),
        root=root,
        requirements=_checked(found.source, found.lines, secrets),
        local=tuple(local),
        constraints=_checked(found.source, found.constraints, secrets),
        test_root=test_root,
        installed=installed,
    )


NOT_INSTALLABLE = (
    "pip would not install it (no [project] table with a name and a version, "
    "no [build-system], setup.py or setup.cfg)"
)


def installer(root: Path) -> str | None:
    """How pip would install the folder, in a record's words ("pyproject.toml (...)",
    "setup.py"); None when it would not.

    A ``pyproject.toml`` without ``[build-system]`` is installable: pip and uv fall back to
    setuptools' legacy backend (PEP 517/518), which reads a ``[project]`` table. That table
    needs a version (or a dynamic one): setuptools refuses it otherwise.
    """
    data = _pyproject(root)
    backend = _table(root, data, "build-system").get("build-backend")
    if "build-system" in data:
        return f"pyproject.toml ([build-system]: {backend or 'setuptools legacy backend'})"
    for name in ("setup.py", "setup.cfg"):
        if (root / name).is_file():
            return name
    project = _table(root, data, "project")
    dynamic = project.get("dynamic", [])
    versioned = "version" in project or (isinstance(dynamic, list) and "version" in dynamic)
    if project.get("name") and versioned:
        return "pyproject.toml (no [build-system]: setuptools' legacy backend)"
    return None


def _named(found: Requirements, root: Path) -> str:
    """The requirement line of ``found`` that installs the project itself."""
    item = next(item for item in found.local if item.path == root)
    extras = f"[{','.join(item.extras)}]" if item.extras else ""
    return f"{'-e ' if item.editable else ''}.{extras}"


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
                above = {
                    Path(os.path.realpath(p))
                    for p in (here, *here.parents)
                    if p.is_relative_to(root)
                }
                fault = "loops" if target in above else None
            except RuntimeError:  # Python < 3.13: a link to itself
                fault = "loops"
            except OSError as exc:
                fault = "loops" if exc.errno == errno.ELOOP else "leads nowhere"
            if fault:
                raise NotASuite(
                    f"{path} is a link that {fault}; remove or fix it, since the "
                    "suite is copied for every run."
                )


def _ignored(name: str) -> bool:
    return name.startswith(".") or any(fnmatch.fnmatch(name, p) for p in IGNORED)


def _walk(root: Path):
    for path in root.rglob("*.py"):
        if not any(
            part in IGNORED or part.startswith(".") for part in path.relative_to(root).parts
        ):
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
        raise NotASuite(
            f"{root / 'pyproject.toml'}: {key} must be a table, not "
            f"{type(value).__name__}; fix it and rerun."
        )
    return value


def _strings(root: Path, value, where: str, example: str) -> list[str]:
    """A list of strings from the pyproject, or one sentence saying how to write it."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise NotASuite(
            f"{root / 'pyproject.toml'}: {where} must be a list of strings "
            f"(write {where.rsplit('.', 1)[-1]} = [{example}]); fix it and rerun."
        )
    return value


def _name(root: Path) -> str:
    name = _table(root, _pyproject(root), "project").get("name", root.name)
    if not isinstance(name, str) or not name:
        raise NotASuite(
            f"{root / 'pyproject.toml'}: project.name must be a quoted name "
            f'(write name = "my-project"), not {name!r}; fix it and rerun.'
        )
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


@dataclasses.dataclass
class Requirements:
    """What a requirements file asks for, ``-r`` and ``-c`` files followed, paths resolved."""

    source: Path = Path("requirements.txt")
    lines: list[str] = dataclasses.field(default_factory=list)
    local: list[Local] = dataclasses.field(default_factory=list)
    constraints: list[str] = dataclasses.field(default_factory=list)

    def read(self, path: Path, root: Path | None = None) -> None:
        """Read ``path`` (relative paths inside it are relative to its folder); no file
        outside ``root`` (default: its folder) is read."""
        self.source = path
        for line in requirements.read(path, _missing, root=root):
            here = line.source.parent
            if line.local:
                text = line.text.split("@", 1)[-1].strip() if "@ file:" in line.text else line.text
                self.local.append(_local(text, here, editable=line.editable))
            else:
                (self.constraints if line.constraint else self.lines).append(line.text)


def _missing(path: Path) -> NotASuite:
    return NotASuite(f"{path} does not exist; name a requirements file inside the suite.")


def _local(text: str, here: Path, editable: bool = False) -> Local:
    """A folder requirement: ``./path[extra]``, ``file:path`` or ``file:///abs/path``."""
    match = re.match(r"^(.*?)(?:\[([^\]]*)\])?$", text.strip())
    target, extras = match.group(1), match.group(2) or ""
    target = re.sub(r"^file:(//)?", "", target)
    path = (here / target).resolve()
    if not path.exists():
        raise NotASuite(
            f"{here}: '{text}' names {path}, which does not exist; fix the requirements file."
        )
    return Local(
        path, editable=editable, extras=tuple(e.strip() for e in extras.split(",") if e.strip())
    )


def _from_pyproject(root: Path) -> Requirements:
    """Dependencies, and the test dependency groups and extras, of a pyproject."""
    pyproject = _pyproject(root)
    project = _table(root, pyproject, "project")
    deps = list(
        _strings(root, project.get("dependencies", []), "project.dependencies", '"requests"')
    )
    groups = _table(root, pyproject, "dependency-groups")
    extras = _table(root, project, "optional-dependencies")
    for name in TEST_GROUPS:
        group = groups.get(name, [])
        if not isinstance(group, list):  # entries may also be {include-group = ...} tables
            _strings(root, group, f"dependency-groups.{name}", '"pytest"')
        deps += [d for d in group if isinstance(d, str)]
        deps += _strings(
            root, extras.get(name, []), f"project.optional-dependencies.{name}", '"pytest"'
        )
    return Requirements(source=root / "pyproject.toml", lines=deps)


def _checked(source: Path, lines: list[str], secrets: frozenset[str]) -> tuple[str, ...]:
    for line in lines:
        try:
            Requirement(line)
        except InvalidRequirement:  # packaging's reason quotes the whole line again
            raise NotASuite(
                f"{source}: {requirements.quoted(line, secrets)!r} is not a "
                "requirement; fix the line."
            ) from None
    return tuple(dict.fromkeys(lines))
