"""Shared fixtures: every test runs isolated (tmp cache/results, quick profile, no mirror, loopback-only network).

- `isolate` (autouse) points ``UDL_CACHE_DIR``/``UDL_RESULTS_DIR`` at tmp folders, unsets ``UDL_DATA_DIR`` and
  ``UDL_OFFLINE``, sets ``UDL_PROFILE=quick`` and a small ``UDL_DOWNLOAD_TIMEOUT``, and refuses (and fails the
  test on) any name lookup or connection for an address other than 127.0.0.1: no test can reach the network.
- `server` serves a tmp folder over a loopback ``http.server`` with normal, 404, truncated and stalling routes.
- `mirror` writes small mirror-format datasets (data/README.md layout) into a tmp folder.
"""

from __future__ import annotations

import hashlib
import socket
import sys
import threading
import wave
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlparse

import numpy as np
import pytest

LOOPBACK = "127.0.0.1"
TIMEOUT = 2.0  # UDL_DOWNLOAD_TIMEOUT in every test; the stall tests lower it further


# ---------------------------------------------------------------- isolation
@pytest.fixture(autouse=True)
def isolate(tmp_path, monkeypatch):
    """Point every udl folder at tmp, use the quick profile, and allow connections to 127.0.0.1 only."""
    env = SimpleNamespace(cache=tmp_path / "udl-cache", results=tmp_path / "udl-results", blocked=[])
    monkeypatch.setenv("UDL_CACHE_DIR", str(env.cache))
    monkeypatch.setenv("UDL_RESULTS_DIR", str(env.results))
    monkeypatch.delenv("UDL_DATA_DIR", raising=False)
    monkeypatch.delenv("UDL_OFFLINE", raising=False)
    monkeypatch.delenv("UDL_MAX_STEPS", raising=False)  # a smoke run's step cap and origins never leak into tests
    monkeypatch.delenv("UDL_ORIGINS", raising=False)
    monkeypatch.setenv("UDL_PROFILE", "quick")
    monkeypatch.setenv("UDL_DOWNLOAD_TIMEOUT", str(TIMEOUT))
    if "udl.data" in sys.modules:  # the record of datasets loaded in this process is per test
        monkeypatch.setattr(sys.modules["udl.data"], "_loaded", {})
        monkeypatch.setattr(sys.modules["udl.data"], "_origins", {})

    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def allowed(sock, address) -> bool:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return True  # Unix sockets (e.g. a notebook kernel's) are local by nature
        if address[0] == LOOPBACK:
            return True
        env.blocked.append(address)
        return False

    def connect(sock, address):
        if not allowed(sock, address):
            raise ConnectionRefusedError(f"tests may connect to {LOOPBACK} only; refused {address!r}")
        return real_connect(sock, address)

    def connect_ex(sock, address):
        return real_connect_ex(sock, address) if allowed(sock, address) else 111  # ECONNREFUSED

    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):  # no DNS query either
        if host not in (LOOPBACK, LOOPBACK.encode(), None):
            env.blocked.append(host)
            raise socket.gaierror(socket.EAI_NONAME, f"tests may connect to {LOOPBACK} only; refused {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield env
    if env.blocked:
        pytest.fail(f"the test tried to reach the network beyond {LOOPBACK}: {env.blocked}")


# ---------------------------------------------------------------- loopback server
class _Handler(BaseHTTPRequestHandler):
    """Routes: /files/NAME (the file), /404/NAME, /truncated/NAME (half the body, then close),
    /stall/NAME (headers, then silence), /hang/NAME (no answer at all), /nolength/NAME (the body without a
    Content-Length), /cut/NAME (half the body without a Content-Length: looks complete), /drip/NAME (a byte
    every 50 ms)."""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        server = self.server
        route, _, name = urlparse(self.path).path.lstrip("/").partition("/")
        with server.lock:
            server.requests.append(self.path)
        file = server.root / name
        if route == "404" or not file.is_file():
            self.send_error(404, "Not Found")
            return
        body = file.read_bytes()
        if route == "hang":
            server.release.wait(60)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if route in ("nolength", "cut"):
            self.end_headers()
            self.wfile.write(body if route == "nolength" else body[: len(body) // 2])
            self.close_connection = True
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if route == "drip":
            for i in range(len(body)):
                if server.release.wait(0.05):
                    return
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
        elif route == "files":
            self.wfile.write(body)
        elif route == "truncated":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
        elif route == "stall":
            self.wfile.write(body[:16])
            self.wfile.flush()
            server.release.wait(60)
        else:
            raise AssertionError(f"unknown route {route!r}")

    def log_message(self, format, *args):  # noqa: A002 (quiet: no request log on stderr)
        pass


@pytest.fixture
def server(tmp_path):
    """Serve a tmp folder on 127.0.0.1 (a free port); `server.put(name, bytes)` adds a file and returns its URL."""
    root = tmp_path / "served"
    root.mkdir()
    httpd = ThreadingHTTPServer((LOOPBACK, 0), _Handler)
    httpd.daemon_threads = True
    httpd.root, httpd.requests, httpd.lock, httpd.release = root, [], threading.Lock(), threading.Event()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    base = f"http://{LOOPBACK}:{httpd.server_address[1]}"

    def url(name: str, route: str = "files") -> str:
        return f"{base}/{route}/{name}"

    def put(name: str, content: bytes, route: str = "files") -> str:
        (root / name).write_bytes(content)
        return url(name, route)

    def count(name: str | None = None) -> int:
        with httpd.lock:
            return sum(1 for r in httpd.requests if name is None or r.endswith("/" + name))

    yield SimpleNamespace(root=root, base=base, url=url, put=put, count=count, requests=httpd.requests)
    httpd.release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@pytest.fixture
def sha():
    """The hex SHA-256 of some bytes."""
    return sha256


# ---------------------------------------------------------------- mirror-format datasets
def write_images(path: Path, image_shape, n_train: int, n_test: int, seed: int = 0) -> dict:
    """Write an images .npz in the mirror format (uint8 images, uint8 labels 0-9); return its arrays."""
    rng = np.random.default_rng(seed)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, *image_shape), dtype=np.uint8),
        "y_train": (np.arange(n_train) % 10).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, *image_shape), dtype=np.uint8),
        "y_test": (np.arange(n_test) % 10).astype(np.uint8),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return arrays


def write_reviews(folder: Path, per_class: dict) -> None:
    """Write ``{split}/{neg,pos}/*.txt`` reviews; per_class = {'train': n, 'test': n}."""
    for split, n in per_class.items():
        for cls in ("neg", "pos"):
            (folder / split / cls).mkdir(parents=True, exist_ok=True)
            for i in range(n):
                (folder / split / cls / f"{i}_{7 if cls == 'pos' else 2}.txt").write_text(
                    f"{split} {cls} review number {i}: {'great' if cls == 'pos' else 'awful'} film.")


def write_wav(path: Path, samples: np.ndarray, rate: int = 8000, channels: int = 1, width: int = 2) -> None:
    """Write 16-bit PCM samples (int16 values) as a WAV file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(channels)
        handle.setsampwidth(width)
        handle.setframerate(rate)
        handle.writeframes(np.asarray(samples, dtype="<i2").tobytes())


def write_recordings(folder: Path, speakers=("alice", "bob"), digits=range(10), indices=range(7)) -> None:
    """Write ``{digit}_{speaker}_{index}.wav`` recordings whose first sample encodes digit and index."""
    for d in digits:
        for s, speaker in enumerate(speakers):
            for i in indices:
                samples = np.full(80 + 10 * i, 100 * d + 10 * s + i, dtype=np.int16)
                write_wav(folder / f"{d}_{speaker}_{i}.wav", samples)


SHAKESPEARE = "First Citizen:\nBefore we proceed any further, hear me speak.\n\n" * 400  # 24,800 characters


def write_text(path: Path, text: str = SHAKESPEARE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def mirror(tmp_path):
    """Return make(*names, **options) that writes those datasets into tmp 'mirror/' and returns the folder.

    Options: ``images=(n_train, n_test)`` for mnist/cifar10, ``reviews=(n_train, n_test)`` per class for imdb,
    ``text=`` for shakespeare.
    """
    root = tmp_path / "mirror"

    def make(*names, images=(60, 20), reviews=(6, 3), text=SHAKESPEARE) -> Path:
        root.mkdir(exist_ok=True)
        for name in names:
            if name == "mnist":
                write_images(root / "mnist.npz", (28, 28), *images, seed=1)
            elif name == "cifar10":
                write_images(root / "cifar10.npz", (32, 32, 3), *images, seed=2)
            elif name == "imdb":
                write_reviews(root / "imdb", {"train": reviews[0], "test": reviews[1]})
            elif name == "fsdd":
                write_recordings(root / "fsdd" / "recordings")
            elif name == "shakespeare":
                write_text(root / "shakespeare" / "input.txt", text)
            else:
                raise AssertionError(f"no mirror writer for {name!r}")
        return root

    return make
