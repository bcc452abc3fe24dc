"""A probe that hangs: the runner must kill it at its time limit, children included."""

import subprocess
import sys
import time


def test_hangs_with_a_child_process():
    # The child carries a marker in its command line so the test can look for leftovers.
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "matrix-hang-marker"])
    time.sleep(600)
