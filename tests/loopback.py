"""A loopback HTTP server that serves each course dataset as its canonical origin does, built from a mirror.

`build(mirror, folder)` writes, from the real files of a mirror folder (data/README.md layout), the archives
that `udl.data` downloads, in their canonical formats and layouts, under the canonical URL paths:

- ``storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz``: Keras's ``mnist.npz`` (x_train (60000, 28, 28)
  uint8, y_train, x_test (10000, 28, 28), y_test);
- ``www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz``: ``cifar-10-batches-py/`` with ``data_batch_1``..``5`` and
  ``test_batch`` (Python pickles of 10,000 rows: bytes keys ``batch_label``, ``labels``, ``data`` (N, 3072) uint8 in
  channel planes, ``filenames``), ``batches.meta`` and ``readme.html``;
- ``ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz``: ``aclImdb/`` with ``README``, ``imdb.vocab``,
  ``imdbEr.txt``, ``{train,test}/{pos,neg}/{id}_{rating}.txt`` (12,500 per folder), ``{train,test}/urls_{pos,neg}.txt``,
  ``{train,test}/labeledBow.feat``, ``train/unsup/{id}_0.txt`` and ``train/urls_unsup.txt``;
- ``github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/v1.0.10.tar.gz``: GitHub's tag archive,
  ``free-spoken-digit-dataset-1.0.10/`` with ``recordings/*.wav``, ``README.md`` and ``utils/``;
- ``raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt``: the plain text;
- ``archive.ics.uci.edu/static/public/381/beijing+pm2+5+data.zip``: UCI's zip holding the CSV.

The mirror holds subsets of MNIST, CIFAR-10 and IMDB: their examples are repeated, in order, up to the canonical
counts (`FULL`), so that the full profile meets full-size arrays; FSDD, Tiny Shakespeare and PM2.5 are whole in the
mirror and are served as they are (and so still match udl's content pins). `serve(folder)` starts the server on
127.0.0.1 and `origins(...)` writes the ``UDL_ORIGINS`` file that points udl at it, each archive pinned by the
SHA-256 of the bytes served. Test support only: nothing here is shipped or used by a student's udl.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import pickle
import tarfile
import threading
import time
import zipfile
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from udl import data

FULL = {"mnist": (60_000, 10_000), "cifar10": (50_000, 10_000), "imdb": (12_500, 12_500)}  # imdb: per class
UNSUP = 2_000         # unlabelled reviews in train/unsup (50,000 upstream; udl never extracts them)
BATCH = 10_000        # rows per CIFAR-10 batch file
VERSION = 1           # of the archives' recipe: a cached build from another version is rebuilt
FSDD_ROOT = "free-spoken-digit-dataset-1.0.10"
MTIME = 1_300_000_000  # a fixed member time: the same mirror always gives the same bytes


def url_path(name: str) -> str:
    """Return the path the loopback server serves `name` under: the canonical URL's host and path."""
    parts = urlsplit(data.URLS[name])
    return parts.hostname + parts.path


def _repeat(values: np.ndarray, n: int) -> np.ndarray:
    return values[np.arange(n) % len(values)]


def _tar(path: Path, members) -> None:
    """Write a gzip'd tar of (name, bytes or None for a folder) members, with fixed times and modes."""
    with tarfile.open(path, "w:gz", compresslevel=1, format=tarfile.PAX_FORMAT) as tar:
        for name, content in members:
            info = tarfile.TarInfo(name)
            info.mtime, info.uname, info.gname = MTIME, "", ""
            if content is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size, info.mode = len(content), 0o644
                tar.addfile(info, io.BytesIO(content))


def _mnist(mirror: Path, out: Path, sizes) -> None:
    with np.load(mirror / "mnist.npz") as m:
        arrays = {"x_train": _repeat(m["x_train"], sizes[0]), "y_train": _repeat(m["y_train"], sizes[0]),
                  "x_test": _repeat(m["x_test"], sizes[1]), "y_test": _repeat(m["y_test"], sizes[1])}
    with open(out, "wb") as handle:
        np.savez_compressed(handle, **arrays)


def _cifar10(mirror: Path, out: Path, sizes) -> None:
    with np.load(mirror / "cifar10.npz") as m:
        parts = {"train": (_repeat(m["x_train"], sizes[0]), _repeat(m["y_train"], sizes[0])),
                 "test": (_repeat(m["x_test"], sizes[1]), _repeat(m["y_test"], sizes[1]))}

    def batch(label: str, x: np.ndarray, y: np.ndarray, first: int) -> bytes:
        rows = x.transpose(0, 3, 1, 2).reshape(len(x), 3072)  # red plane, green plane, blue plane, as upstream
        names = [f"loopback_{first + i:05d}.png".encode() for i in range(len(x))]
        return pickle.dumps({b"batch_label": label.encode(), b"labels": [int(v) for v in y], b"data": rows,
                             b"filenames": names}, protocol=2)

    root = "cifar-10-batches-py"
    members = [(root, None)]
    x, y = parts["train"]
    for i, start in enumerate(range(0, len(x), BATCH), start=1):
        members.append((f"{root}/data_batch_{i}", batch(f"training batch {i} of {-(-len(x) // BATCH)}",
                                                        x[start:start + BATCH], y[start:start + BATCH], start)))
    members.append((f"{root}/test_batch", batch("testing batch 1 of 1", *parts["test"], 0)))
    meta = {b"num_cases_per_batch": BATCH, b"label_names": [c.encode() for c in data.CIFAR_CLASSES], b"num_vis": 3072}
    members.append((f"{root}/batches.meta", pickle.dumps(meta, protocol=2)))
    members.append((f"{root}/readme.html", b"<meta HTTP-EQUIV='REFRESH' content='0; url=http://www.cs.toronto.edu/~kriz/cifar.html'>\n"))
    _tar(out, members)


def _imdb(mirror: Path, out: Path, sizes) -> None:
    root = "aclImdb"
    texts = {(split, cls): [f.read_bytes() for f in sorted((mirror / "imdb" / split / cls).glob("*.txt"))]
             for split in ("train", "test") for cls in ("pos", "neg")}
    vocabulary: dict[str, int] = {}
    for reviews in texts.values():
        for review in reviews:
            for word in review.decode("utf-8").lower().split():
                vocabulary[word] = vocabulary.get(word, 0) + 1
    words = sorted(vocabulary, key=lambda w: (-vocabulary[w], w))
    index = {w: i for i, w in enumerate(words)}
    members = [(root, None), (f"{root}/README", b"Large Movie Review Dataset v1.0 (layout as upstream; served by "
                                                 b"udl's loopback test server from its mirror's reviews)\n"),
               (f"{root}/imdb.vocab", "".join(w + "\n" for w in words).encode()),
               (f"{root}/imdbEr.txt", "".join("0.0\n" for _ in words).encode())]
    for split, n in (("train", sizes[0]), ("test", sizes[1])):
        members.append((f"{root}/{split}", None))
        bow = []
        for cls, ratings in (("pos", (7, 8, 9, 10)), ("neg", (1, 2, 3, 4))):
            members.append((f"{root}/{split}/{cls}", None))
            reviews, urls = texts[split, cls], []
            for i in range(n):
                rating, review = ratings[i % 4], reviews[i % len(reviews)]
                members.append((f"{root}/{split}/{cls}/{i}_{rating}.txt", review))
                urls.append(f"http://www.imdb.com/title/tt{i % len(reviews):07d}/usercomments\n")
                if i < len(reviews):  # one line per distinct review, in upstream's libsvm-like format
                    counts: dict[int, int] = {}
                    for word in review.decode("utf-8").lower().split():
                        counts[index[word]] = counts.get(index[word], 0) + 1
                    bow.append(f"{rating} " + " ".join(f"{k}:{v}" for k, v in sorted(counts.items())) + "\n")
            members.append((f"{root}/{split}/urls_{cls}.txt", "".join(urls).encode()))
        members.append((f"{root}/{split}/labeledBow.feat", "".join(bow).encode()))
    members.append((f"{root}/train/unsup", None))
    unlabelled = texts["train", "pos"] + texts["train", "neg"]
    for i in range(UNSUP):
        members.append((f"{root}/train/unsup/{i}_0.txt", unlabelled[i % len(unlabelled)]))
    members.append((f"{root}/train/urls_unsup.txt",
                    "".join(f"http://www.imdb.com/title/tt{i:07d}/usercomments\n" for i in range(UNSUP)).encode()))
    _tar(out, members)


def _fsdd(mirror: Path, out: Path, sizes) -> None:
    recordings = sorted((mirror / "fsdd" / "recordings").glob("*.wav"))
    members = [(FSDD_ROOT, None),
               (f"{FSDD_ROOT}/README.md", b"# Free Spoken Digit Dataset (FSDD)\n\nServed by udl's loopback test server "
                                          b"from its mirror, in GitHub's tag-archive layout.\n"),
               (f"{FSDD_ROOT}/utils", None),
               (f"{FSDD_ROOT}/utils/__init__.py", b""),
               (f"{FSDD_ROOT}/recordings", None)]
    members += [(f"{FSDD_ROOT}/recordings/{f.name}", f.read_bytes()) for f in recordings]
    _tar(out, members)


def _shakespeare(mirror: Path, out: Path, sizes) -> None:
    out.write_bytes((mirror / "shakespeare" / "input.txt").read_bytes())


def _pm25(mirror: Path, out: Path, sizes) -> None:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        source = mirror / "pm25" / data.PM25_CSV
        info = zipfile.ZipInfo(data.PM25_CSV, date_time=time.gmtime(MTIME)[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, source.read_bytes())


BUILDERS = {"mnist": _mnist, "cifar10": _cifar10, "imdb": _imdb, "fsdd": _fsdd, "shakespeare": _shakespeare,
            "pm25": _pm25}


def build(mirror: Path, folder: Path, names=None, sizes: dict | None = None) -> dict[str, Path]:
    """Write the canonical archives of `names` (default all) from `mirror` under `folder`; return {name: file}.

    `sizes` replaces `FULL` ({name: (train, test)}, imdb per class), e.g. smaller for a quick test. An archive
    already there from the same recipe, mirror and sizes is kept (a stamp file beside it says which).
    """
    mirror, folder = Path(mirror), Path(folder)
    sizes = {**FULL, **(sizes or {})}
    made = {}
    for name in names or list(BUILDERS):
        path = folder / url_path(name)
        stamp = path.with_name(path.name + ".stamp")
        source = mirror / data.spec(name).path
        files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
        key = json.dumps([VERSION, str(mirror), sizes.get(name), [(f.name, f.stat().st_size, f.stat().st_mtime_ns)
                                                                  for f in files]])
        if not (path.is_file() and stamp.is_file() and stamp.read_text() == key):
            path.parent.mkdir(parents=True, exist_ok=True)
            part = path.with_name(path.name + ".part")
            BUILDERS[name](mirror, part, sizes.get(name))
            part.replace(path)
            stamp.write_text(key)
        made[name] = path
    return made


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # no line per request
        pass


@contextlib.contextmanager
def running(server):
    """Run an HTTP `server` bound to 127.0.0.1 in a thread while the block runs; yield its base URL."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def serve(folder: Path):
    """Serve `folder` over HTTP on 127.0.0.1 (a free port) while the block runs; yield the base URL."""
    return running(ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(folder))))


def origins(base: str, files: dict[str, Path], folder: Path, dest: Path, expect: dict | None = None) -> Path:
    """Write the ``UDL_ORIGINS`` file: each dataset's loopback URL and the SHA-256 of the file served there."""
    table = {name: {"url": f"{base}/{path.relative_to(folder).as_posix()}", "sha256": sha256(path)}
             for name, path in files.items()}
    for name, values in (expect or {}).items():
        table[name]["expect"] = values
    dest.write_text(json.dumps(table, indent=1))
    return dest
