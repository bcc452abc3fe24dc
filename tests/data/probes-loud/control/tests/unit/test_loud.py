"""A probe that prints 50 MB and fails: the log is capped, the record stays short."""

import sys


def test_prints_fifty_megabytes():
    line = "x" * 1023 + "\n"
    for _ in range(50 * 1024):
        sys.stdout.write(line)
    raise AssertionError("loud failure " + "y" * 5000)
