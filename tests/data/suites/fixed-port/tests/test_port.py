import os
import socket
import time

PORT = 48127  # fixed, as the suite's server would be


def test_holds_the_fixed_port():
    with socket.socket() as server:
        server.bind(("127.0.0.1", PORT))  # OSError: [Errno 98] Address already in use if taken
        server.listen()
        with open(os.environ["PORT_TEST_LOG"], "a") as log:
            log.write(f"start {time.time()}\n")
        time.sleep(3)
        with open(os.environ["PORT_TEST_LOG"], "a") as log:
            log.write(f"end {time.time()}\n")
