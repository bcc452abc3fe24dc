"""The folder a site is built in and moved from: a build that fails leaves the previous page.

The site is written into a stage beside ``site_dir`` (``.<name>.building-<pid>``) and moved
into place at the end, index.html last; top-level entries the build does not make (a
``CNAME``) are carried over. Stages and old sites of builds that were killed are removed by
the next build (their process is gone: :func:`matrix.processes.alive`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from matrix import processes


def clear_leftovers(site_dir: Path) -> None:
    """Remove the stages and old sites of builds that were killed (their process is gone)."""
    if not site_dir.parent.is_dir():
        return
    for path in site_dir.parent.iterdir():
        name, _, pid = path.name.rpartition("-")
        if (
            name in (f".{site_dir.name}.building", f".{site_dir.name}.old")
            and pid.isdigit()
            and not processes.alive(int(pid))
        ):
            shutil.rmtree(path, ignore_errors=True)


def swap(stage: Path, site_dir: Path, whole: bool, owned: frozenset[str]) -> None:
    """Move the staged site into ``site_dir``, index.html last.

    A site of its own is swapped ``whole`` (two renames), its entries other than the
    ``owned`` ones (what a build writes) carried over; a site that holds the results
    folder (or is it) gets each staged entry replaced in turn, the results left alone.
    """
    if not whole:
        for entry in sorted(stage.iterdir(), key=lambda p: p.name == "index.html"):
            _replace(entry, site_dir / entry.name)
        return
    if not site_dir.exists():
        os.rename(stage, site_dir)
        return
    for entry in site_dir.iterdir():
        if entry.name not in owned:
            _link_tree(entry, stage / entry.name)
    old = site_dir.with_name(f".{site_dir.name}.old-{os.getpid()}")
    os.rename(site_dir, old)
    try:
        os.rename(stage, site_dir)
    except OSError:
        os.rename(old, site_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _replace(source: Path, dest: Path) -> None:
    """``dest`` becomes ``source``: a file atomically, a folder by a swap."""
    if source.is_dir() and dest.is_dir():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        os.rename(dest, old)
        os.rename(source, dest)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(source, dest)


def _link_tree(source: Path, dest: Path) -> None:
    if source.is_dir() and not source.is_symlink():
        shutil.copytree(source, dest, symlinks=True, copy_function=link_or_copy)
    else:
        link_or_copy(source, dest)


def link_or_copy(source: Path | str, dest: Path | str) -> None:
    """A hard link when the site is on the same file system (ten times faster than a copy
    for thousands of logs; Pages' tar stores the content), else a copy."""
    try:
        os.link(source, dest)
    except OSError:
        shutil.copyfile(source, dest)
