"""Work folders: each named after the cell process that owns it, swept once that is gone."""

from __future__ import annotations

import os

from matrix.measure import runner


def test_work_folders_of_dead_processes_are_removed_and_live_ones_kept(tmp_path) -> None:
    mine = tmp_path / f"{runner.WORK_PREFIX}{os.getpid()}-abc"
    gone = tmp_path / f"{runner.WORK_PREFIX}{2**22 + 7}-def"  # above Linux's pid_max default
    other = tmp_path / "someone-elses-folder"
    for folder in (mine, gone, other):
        (folder / "tmp" / "playwright-artifacts-x").mkdir(parents=True)
    assert runner.remove_stale_work(tmp_path) == 1
    assert mine.is_dir() and other.is_dir() and not gone.exists()
