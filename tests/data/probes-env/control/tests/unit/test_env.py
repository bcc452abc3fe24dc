"""A probe that prints its whole environment and fails, so any secret would reach the log."""

import os


def test_prints_environment():
    for key, value in sorted(os.environ.items()):
        print(f"{key}={value}")
    raise AssertionError("environment printed: " + " ".join(sorted(os.environ)))
