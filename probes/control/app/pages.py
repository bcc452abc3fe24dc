"""The app's pages: what every probe's e2e tests open, set directly or served locally."""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Iterator

FORM = """
<form onsubmit="event.preventDefault();
  document.getElementById('out').textContent = 'Hi ' + this.name.value;">
  <input name="name"><button type="submit">Send</button>
</form>
<p id="out"></p>
"""

COUNTER = """
<button id="inc" onclick="this.dataset.n = +(this.dataset.n || 0) + 1;
  document.getElementById('n').textContent = this.dataset.n;">+1</button>
<span id="n">0</span>
"""


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<title>Probe</title><h1>served locally</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve() -> Iterator[str]:
    """The app on 127.0.0.1 (a free port) in a thread; yields its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
