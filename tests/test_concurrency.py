"""A classroom fills one shared cache (issue 9): 8 processes load each dataset into an empty cache at once, 5 rounds,
over a loopback server; then 8 processes record results at once. 0 crashes, identical arrays, a manifest every time."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from conftest import SHAKESPEARE, write_images
from test_data import cifar_archive, fsdd_archive

PROCESSES, ROUNDS, RECORDS = 8, 5, 20
NAMES = ["mnist", "shakespeare", "cifar10", "fsdd"]  # imdb's fill insists on 12,500 reviews per folder

CHILD = r"""
import hashlib, json, os, socket, sys, time
from pathlib import Path

real = socket.getaddrinfo
def loopback_only(host, *args, **kwargs):
    if host not in ("127.0.0.1", None):
        raise OSError(f"tests may connect to 127.0.0.1 only; refused {host!r}")
    return real(host, *args, **kwargs)
socket.getaddrinfo = loopback_only

from udl import data, results
config, me = json.loads(sys.argv[1]), sys.argv[2]
data.URLS.update(config["urls"])
for key, value in config["pins"].items():
    setattr(data, key, value)
base = Path(config["base"])

def barrier(name):
    folder = base / "barriers" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / me).touch()
    while len(os.listdir(folder)) < config["processes"]:
        time.sleep(0.002)

def digest(ds):
    h = hashlib.sha256(repr((ds.text, ds.class_names, ds.sample_rate)).encode())
    for key in ("x_train", "y_train", "x_test", "y_test", "speakers_train", "speakers_test"):
        value = getattr(ds, key)
        for item in (value if isinstance(value, list) else [value]):
            h.update(repr(None if item is None else (item.dtype.str, item.shape)).encode())
            h.update(b"" if item is None else item.tobytes())
    return h.hexdigest()

for name in config["names"]:
    for round in range(config["rounds"]):
        os.environ["UDL_CACHE_DIR"] = str(base / f"cache-{name}-{round}")
        barrier(f"{name}-{round}")
        out = {"name": name, "round": round}
        try:
            ds = data.load(name, verbose=False)
            out.update(source=ds.source, digest=digest(ds),
                       manifest=(Path(os.environ["UDL_CACHE_DIR"]) / f"{name}.manifest.json").is_file())
            os.environ["UDL_OFFLINE"] = "1"
            out["offline"] = data.load(name, verbose=False).source
            del os.environ["UDL_OFFLINE"]
        except Exception as exc:
            out["error"] = f"{type(exc).__name__}: {exc}"
        print(json.dumps(out), flush=True)

barrier("record")
errors = []
for i in range(config["records"]):
    try:
        results.record("concurrent", value=i)
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
print(json.dumps({"name": "record", "errors": errors}), flush=True)
"""


def serve_all(server, sha, tmp_path) -> tuple[dict, dict]:
    """Put a small copy of each dataset on the loopback server; return (urls, pinned hashes)."""
    write_images(server.root / "mnist.npz", (28, 28), 40, 10, seed=3)
    (server.root / "input.txt").write_text(SHAKESPEARE)
    cifar, _, _ = cifar_archive(np.random.default_rng(1))
    fsdd, content = fsdd_archive(tmp_path)
    server.put("cifar.tar.gz", cifar)
    server.put("fsdd.tar.gz", fsdd)
    urls = {"mnist": server.url("mnist.npz"), "shakespeare": server.url("input.txt"),
            "cifar10": server.url("cifar.tar.gz"), "fsdd": server.url("fsdd.tar.gz")}
    pins = {"MNIST_SHA": sha((server.root / "mnist.npz").read_bytes()), "SHAKESPEARE_SHA": sha(SHAKESPEARE.encode()),
            "CIFAR_SHA": sha(cifar), "FSDD_CONTENT": content}
    return urls, pins


def test_eight_processes_fill_one_cache_and_record_results_at_once(server, sha, tmp_path, isolate):
    urls, pins = serve_all(server, sha, tmp_path)
    config = {"urls": urls, "pins": pins, "base": str(tmp_path / "runs"), "names": NAMES, "rounds": ROUNDS,
              "processes": PROCESSES, "records": RECORDS}
    repo = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")]))
    children = [subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(config), str(i)], env=env, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in range(PROCESSES)]
    outputs = [child.communicate(timeout=240) for child in children]
    assert all(child.returncode == 0 for child in children), [err[-2000:] for _, err in outputs]
    lines = [json.loads(line) for out, _ in outputs for line in out.splitlines() if line.startswith("{")]

    loads = [line for line in lines if line["name"] != "record"]
    assert len(loads) == PROCESSES * ROUNDS * len(NAMES)
    assert [line for line in loads if "error" in line] == []  # 0 crashes
    for name in NAMES:
        mine = [line for line in loads if line["name"] == name]
        assert len({line["digest"] for line in mine}) == 1, f"{name}: different arrays"  # identical arrays
        assert all(line["manifest"] and line["offline"] == "cache" for line in mine)  # a manifest every time
        for round in range(ROUNDS):  # one process of each round downloaded; the others read its result
            sources = sorted(line["source"] for line in mine if line["round"] == round)
            assert sources == ["cache"] * (PROCESSES - 1) + ["download"], (name, round, sources)
    assert server.count() == ROUNDS * len(NAMES)

    records = [line for line in lines if line["name"] == "record"]
    assert len(records) == PROCESSES and all(line["errors"] == [] for line in records)
    assert sorted(p.name for p in isolate.results.iterdir()) == ["concurrent.json"]  # no temporary file left
    assert json.loads((isolate.results / "concurrent.json").read_text())["metrics"]["value"] == RECORDS - 1
