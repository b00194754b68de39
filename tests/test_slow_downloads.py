"""Slow and stalled downloads (issue 19): below a rate floor for a window, a transfer fails in seconds, not minutes.

A transfer that brings fewer than ``UDL_DOWNLOAD_MIN_RATE`` bytes per second over a ``UDL_DOWNLOAD_STALL_SECONDS``
window is aborted (curl's ``--speed-limit`` / ``--speed-time``), whatever size it announced or whether it announced
one; a transfer that keeps above the floor completes. The window is 2 s here (15 s by default), and the per-read
timeout stays longer than the window, as with the defaults (20 s), so that only the floor can stop these transfers.
Each server here stops on its own after `SERVE_AT_MOST` seconds, so code without the floor fails these tests in
bounded time instead of hanging, and every server is shut down when its test ends.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import urlparse

import numpy as np
import pytest

from udl import data
from udl.download import DownloadError, fetch

LOOPBACK = "127.0.0.1"
FLOOR = 1000        # UDL_DOWNLOAD_MIN_RATE in these tests (bytes per second; the default)
WINDOW = 2.0        # UDL_DOWNLOAD_STALL_SECONDS in these tests
WAIT = 20.0         # UDL_DOWNLOAD_TIMEOUT (the default): longer than the window
MARGIN = 6.0        # seconds allowed beyond the window on a heavily loaded machine
SERVE_AT_MOST = WINDOW + MARGIN + 8  # no server sends for longer; then it closes the connection
PAYLOAD = bytes(range(256)) * 772   # 197,632 bytes, about mnist.npz's size in the issue
BURST = 65_536      # what the "fast start" servers send at once before slowing down


class _Handler(BaseHTTPRequestHandler):
    """GET /<route>/<name>: the file `name`, sent as the route says.

    files: all at once. drip: one byte a second. steady: 500 bytes every 1/8 s (4 kB/s, four times the floor).
    burst-drip: BURST bytes at once, then a byte every 0.5 s. burst-silence: BURST bytes, then nothing.
    nolength-drip: one byte a second without a Content-Length.
    """

    def do_GET(self):  # noqa: N802 (http.server's naming)
        server = self.server
        route, _, name = urlparse(self.path).path.lstrip("/").partition("/")
        with server.lock:
            server.requests.append(self.path)
        body = server.files.get(name)
        if body is None:
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if route != "nolength-drip":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        first, step, pause = {"files": (len(body), 0, 0), "drip": (0, 1, 1.0), "nolength-drip": (0, 1, 1.0),
                              "steady": (0, 500, 0.125), "burst-drip": (BURST, 1, 0.5),
                              "burst-silence": (BURST, 0, SERVE_AT_MOST)}[route]
        self.close_connection = True
        try:
            self.wfile.write(body[:first])
            self.wfile.flush()
            sent, stop = first, time.monotonic() + SERVE_AT_MOST
            while sent < len(body) and time.monotonic() < stop:
                if server.release.wait(pause):
                    return
                self.wfile.write(body[sent:sent + step])
                self.wfile.flush()
                sent += step
        except OSError:  # the client gave up, as it should
            pass

    def log_message(self, format, *args):  # noqa: A002 (quiet)
        pass


@pytest.fixture
def slow_server():
    """A loopback server of `_Handler`'s routes; `put(name, bytes, route)` returns a URL. Always shut down."""
    httpd = ThreadingHTTPServer((LOOPBACK, 0), _Handler)
    httpd.daemon_threads = True
    httpd.files, httpd.requests, httpd.lock, httpd.release = {}, [], threading.Lock(), threading.Event()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    base = f"http://{LOOPBACK}:{httpd.server_address[1]}"

    def put(name: str, content: bytes, route: str) -> str:
        httpd.files[name] = content
        return f"{base}/{route}/{name}"

    try:
        yield SimpleNamespace(put=put, requests=httpd.requests)
    finally:
        httpd.release.set()  # every handler stops sending
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture(autouse=True)
def floor(monkeypatch, isolate):  # after conftest's isolate, which sets a 2 s timeout
    monkeypatch.setenv("UDL_DOWNLOAD_MIN_RATE", str(FLOOR))
    monkeypatch.setenv("UDL_DOWNLOAD_STALL_SECONDS", str(WINDOW))
    monkeypatch.setenv("UDL_DOWNLOAD_TIMEOUT", str(WAIT))


def files(folder):
    """Every path under `folder` (hidden temporaries included), relative; not the lock files."""
    found = {p.relative_to(folder).as_posix() for p in folder.rglob("*")} if folder.exists() else set()
    return {p for p in found if p != ".locks" and not p.startswith(".locks/")}


def fails_for_slowness(url, dest, *, announced: bool, **options) -> str:
    """Fetch `url`, expect the one-line too-slow error within the window plus MARGIN; return its message."""
    start = time.monotonic()
    with pytest.raises(DownloadError) as info:
        fetch(url, dest, None, progress=False, **options)
    took = time.monotonic() - start
    message = str(info.value)
    assert took < WINDOW + MARGIN, f"took {took:.1f} s: {message}"
    assert "\n" not in message and message.startswith(f"Could not download {url}: the transfer was too slow: ")
    seen = re.search(r"too slow: ([\d.,]+) B/s over the last 2 s, below the limit of 1,000 B/s", message)
    assert seen and float(seen.group(1).replace(",", "")) < FLOOR, message  # the rate seen, and the limit
    for advice in ("UDL_DATA_DIR", "`udl data fetch`", "UDL_OFFLINE=1", "Nothing was saved"):
        assert advice in message
    assert (f" of {len(PAYLOAD):,} bytes had arrived" in message) is announced
    assert "too slow" in info.value.reason and url not in info.value.reason  # the notice's short cause
    assert files(dest.parent) == set()  # no file, no temporary
    return message


def test_a_one_byte_a_second_drip_fails_within_the_window_and_the_next_call_starts_clean(slow_server, tmp_path):
    dest = tmp_path / "dl" / "payload.bin"
    fails_for_slowness(slow_server.put("payload.bin", PAYLOAD, "drip"), dest, announced=True)
    assert fetch(slow_server.put("payload.bin", PAYLOAD, "files"), dest, None, progress=False) == dest
    assert dest.read_bytes() == PAYLOAD and files(dest.parent) == {"payload.bin"}


def test_a_slow_but_steady_server_above_the_floor_completes(slow_server, tmp_path, monkeypatch):
    """4 kB/s for 4 s, with a cap of the file's size and a per-read timeout of 2 s (never reached here).

    Before, the total deadline assumed 50 kB/s on average: UDL_DOWNLOAD_TIMEOUT + cap / 50 kB/s = 2.3 s here; in
    real life a student at 30 kB/s was cut off after 307 s and 9 MB of mnist's 11.5 MB. Now the floor is the rule.
    """
    monkeypatch.setenv("UDL_DOWNLOAD_TIMEOUT", "2")
    content = PAYLOAD[:16_000]
    dest = tmp_path / "dl" / "steady.bin"
    start = time.monotonic()
    fetch(slow_server.put("steady.bin", content, "steady"), dest, None, max_bytes=len(content), progress=False)
    assert time.monotonic() - start >= 3.5  # it really was slow: 32 steps of 1/8 s
    assert dest.read_bytes() == content and files(dest.parent) == {"steady.bin"}


@pytest.mark.parametrize("route", ["burst-drip", "burst-silence"])
def test_a_server_that_stalls_mid_file_after_a_fast_start_fails_the_same_way(slow_server, tmp_path, route):
    dest = tmp_path / "dl" / "payload.bin"
    message = fails_for_slowness(slow_server.put("payload.bin", PAYLOAD, route), dest, announced=True)
    assert re.search(r"; (65,53[6-9]|65,5[4-9]\d) of 197,632 bytes had arrived", message)  # after the burst


def test_a_server_without_a_content_length_is_bounded_too(slow_server, tmp_path):
    dest = tmp_path / "dl" / "payload.bin"
    fails_for_slowness(slow_server.put("payload.bin", PAYLOAD, "nolength-drip"), dest, announced=False)


def test_load_of_a_dripping_mnist_falls_back_in_seconds_and_the_next_load_downloads(slow_server, monkeypatch,
                                                                                    isolate):
    """The issue's report: mnist.npz announced, then a byte a second; `data.load` used to wait for minutes."""
    rng = np.random.default_rng(3)
    buffer = io.BytesIO()
    labels = (np.arange(50) % 10).astype(np.uint8)
    np.savez(buffer, x_train=rng.integers(0, 256, (40, 28, 28), dtype=np.uint8), y_train=labels[:40],
             x_test=rng.integers(0, 256, (10, 28, 28), dtype=np.uint8), y_test=labels[40:])
    npz = buffer.getvalue()
    monkeypatch.setattr(data, "MNIST_SHA", hashlib.sha256(npz).hexdigest())
    monkeypatch.setitem(data.URLS, "mnist", slow_server.put("mnist.npz", npz, "drip"))
    took, real_fetch = [], data.fetch

    def timed(*args, **kwargs):  # the download alone: building the built-in sample takes its own seconds
        start = time.monotonic()
        try:
            return real_fetch(*args, **kwargs)
        finally:
            took.append(time.monotonic() - start)

    monkeypatch.setattr(data, "fetch", timed)
    first = data.load("mnist", verbose=False)
    assert len(took) == 1 and took[0] < WINDOW + MARGIN
    assert first.is_sample and "too slow" in first.notice and "below the limit of 1,000 B/s" in first.notice
    assert files(isolate.cache) <= {"downloads"}  # no file, no temporary, no manifest
    monkeypatch.setitem(data.URLS, "mnist", slow_server.put("mnist.npz", npz, "files"))
    second = data.load("mnist", verbose=False)
    assert second.source == "download" and len(second.x_train) > 0 and len(took) == 2
