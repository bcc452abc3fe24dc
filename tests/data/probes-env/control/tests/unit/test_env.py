"""A probe that prints its whole environment and fails with it, so any secret it was given
would reach the log, the JUnit XML, the record's message and the console."""

import os


def test_prints_environment():
    for key, value in sorted(os.environ.items()):
        print(f"{key}={value}")
    raise AssertionError("environment: " + " ".join(f"{k}={v}" for k, v in sorted(os.environ.items())))
