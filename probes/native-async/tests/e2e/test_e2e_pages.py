"""End-to-end tests with the async `page` fixture from this probe's conftest.py.

The same pages as the sync-plugin probe: a form and a counter set with
set_content, and a page served by an HTTP server on 127.0.0.1 in a thread.
"""

import http.server
import threading

import pytest
from playwright.async_api import Page, expect

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


@pytest.fixture(scope="module")
def local_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.mark.asyncio
async def test_form_submit(page: Page):
    await page.set_content(FORM)
    await page.locator("input[name=name]").fill("probe")
    await page.get_by_role("button", name="Send").click()
    await expect(page.locator("#out")).to_have_text("Hi probe")


@pytest.mark.asyncio
async def test_counter_clicks(page: Page):
    await page.set_content(COUNTER)
    for _ in range(3):
        await page.locator("#inc").click()
    await expect(page.locator("#n")).to_have_text("3")


@pytest.mark.asyncio
async def test_local_server(page: Page, local_url):
    await page.goto(local_url)
    await expect(page).to_have_title("Probe")
    await expect(page.locator("h1")).to_have_text("served locally")
