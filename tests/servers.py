"""Starting real servers on 127.0.0.1 for the integration tests, and stopping them."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(command: list[str], ready_url: str, log_path: Path, timeout: float = 120,
            env=None) -> Iterator[subprocess.Popen]:
    """Run `command` until the block ends (the block gets its process); ready once `ready_url` answers."""
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.time() + timeout
            while True:
                try:
                    urllib.request.urlopen(ready_url, timeout=2)
                    break
                except OSError:
                    if proc.poll() is not None or time.time() > deadline:
                        raise RuntimeError(f"{command[0]} did not start: " + log_path.read_text()[-2000:]) from None
                    time.sleep(0.3)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


class InThread:
    """A scripted HTTP server (`self.server`) on 127.0.0.1, serving in a thread for the
    duration of a `with` block; `url` is its OpenAI-style base URL."""

    server: object

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/v1"

    def __enter__(self):
        import threading
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class Replies(BaseHTTPRequestHandler):
    """A scripted server's handler: bodies sent whole, without keep-alive (a client's pooled
    connection must not outlive the server), and no request log."""

    protocol_version = "HTTP/1.1"

    def reply(self, data: bytes, status: int = 200, content_type: str = "application/json",
              headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    def reply_json(self, payload: dict, status: int = 200, headers: dict | None = None) -> None:
        self.reply(json.dumps(payload).encode(), status, headers=headers)

    def log_message(self, *args: object) -> None:
        pass


CHROMIUM = Path("/usr/bin/chromium")


@contextmanager
def headless_chromium():
    """Debian's Chromium driven by Playwright (skipped without playwright), closed afterwards."""
    import pytest
    sync_api = pytest.importorskip("playwright.sync_api")
    assert CHROMIUM.exists(), "Debian's chromium is needed: `make browser` (or apt-get install chromium)"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            yield browser
        finally:
            browser.close()


def assert_not_served(url: str, paths: tuple[str, ...]) -> None:
    """None of these paths (the project's files, a way out of the app) is served: 404 each."""
    import urllib.error

    import pytest
    for path in paths:
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(url + path)
        assert e.value.code == 404
