"""Offline-first dataset loaders: mirror, cache, download, built-in sample — in that order.

```python
from udl import data
mnist = data.load("mnist")   # prints one provenance line: where the data came from, and how much
mnist.x_train.shape, mnist.class_names, mnist.source   # 'mirror' | 'cache' | 'download' | 'builtin'
```

Each dataset is looked up in this order:

1. the mirror folder ``UDL_DATA_DIR`` (layout in data/README.md, read and validated by `udl.formats`);
2. the user cache ``UDL_CACHE_DIR`` (default ``~/.cache/udl``), in the same layout;
3. a download from the canonical origin into the cache (skipped when ``UDL_OFFLINE=1``);
4. a built-in sample made by `udl.samples`, with a notice saying why the real data was not used.

In the quick profile (``UDL_PROFILE=quick``) loaders return the documented subsets in `Spec.quick`.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from udl import formats, samples
from udl._checks import one_of, positive_int
from udl.download import DownloadError, UnsafeArchiveError, extract, fetch, sha256_of

SOURCES = ("mirror", "cache", "download", "builtin")
_loaded: dict[str, str] = {}


@dataclass
class Dataset:
    """A loaded dataset: plain arrays/lists, class names, and where it came from."""

    name: str
    source: str
    origin: str
    description: str
    class_names: list[str] = field(default_factory=list)
    x_train: Any = None
    y_train: Any = None
    x_test: Any = None
    y_test: Any = None
    speakers_train: Any = None
    speakers_test: Any = None
    sample_rate: int | None = None
    text: str | None = None
    columns: list[str] = field(default_factory=list)  # a time series: the name of each column of x
    time_train: Any = None                            # a time series: the datetime64 of each row of x
    time_test: Any = None
    notice: str = ""

    @property
    def is_sample(self) -> bool:
        """True when this is the project's built-in sample rather than the real dataset."""
        return self.source == "builtin"

    def sizes(self) -> str:
        """Describe the size, e.g. '8,000 train / 2,000 test'."""
        if self.text is not None:
            return f"{len(self.text):,} characters"
        unit = " hours" if self.time_train is not None else ""
        return f"{len(self.x_train):,} train / {len(self.x_test):,} test{unit}"

    def provenance(self) -> str:
        """Return the one line `load` prints."""
        where = "BUILT-IN SAMPLE" if self.is_sample else f"real data from the {self.source}"
        line = f"{self.name}: {where} ({self.origin}) | {self.sizes()}"
        return line + (f"\n  {self.notice}" if self.notice else "")

    def __repr__(self) -> str:
        return f"<Dataset {self.name} from {self.source}: {self.sizes()}>"


@dataclass(frozen=True)
class Spec:
    """How to find, download and replace one dataset."""

    name: str
    summary: str
    path: str                      # relative path in the mirror/cache layout
    read: Callable[[Path], dict]
    fill: Callable[[Path], None]   # download into a cache root, in the mirror layout
    sample: Callable[[], dict]
    quick: tuple[int, int]         # (n_train, n_test), or (n_characters, 0) for text
    url: str
    class_names: tuple[str, ...] = ()
    series: bool = False           # rows in time order: subsets are the train's last and the test's first rows


# ---------------------------------------------------------------- where to look
def data_dir() -> Path | None:
    """Return the mirror folder from ``UDL_DATA_DIR``, or None when unset."""
    raw = os.environ.get("UDL_DATA_DIR", "").strip()
    return Path(raw).expanduser() if raw else None


def cache_dir() -> Path:
    """Return the cache folder: ``UDL_CACHE_DIR``, else ``~/.cache/udl``."""
    raw = os.environ.get("UDL_CACHE_DIR", "").strip()
    return Path(raw).expanduser() if raw else Path.home() / ".cache" / "udl"


def offline() -> bool:
    """Return True when downloads are switched off with ``UDL_OFFLINE=1``."""
    return os.environ.get("UDL_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def policy() -> str:
    """Describe the lookup order in force, for the setup line."""
    mirror = f"mirror {data_dir()}" if data_dir() else "no mirror (UDL_DATA_DIR unset)"
    download = "no downloads (UDL_OFFLINE=1)" if offline() else "download"
    return f"{mirror} > cache {cache_dir()} > {download} > built-in sample"


def _manifest(root: Path, name: str) -> Path:
    return root / f"{name}.manifest.json"


def _digest(path: Path) -> str:
    """Hash a file, or a folder's file names and contents in sorted order."""
    if path.is_file():
        files, base = [path], path.parent
    else:
        files, base = sorted(p for p in path.rglob("*") if p.is_file()), path
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.relative_to(base).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(f.read_bytes()).digest())
    return digest.hexdigest()


def _cached(spec: Spec) -> Path | None:
    path = cache_dir() / spec.path
    return path if path.exists() and _manifest(cache_dir(), spec.name).exists() else None


# ---------------------------------------------------------------- downloads (tier 3), in the mirror layout
MNIST_SHA = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
CIFAR_SHA = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
IMDB_SHA = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
SHAKESPEARE_SHA = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
# GitHub's tag archives are not byte-stable, so FSDD is checked after extraction: 3,000 recordings whose
# names and contents hash (as `_digest` does) to this value, computed from the v1.0.10 recordings.
FSDD_CONTENT = "a2e8a660492f28d9eed6270b290d26cbc5c81d6077ce87d3c0ad5adf4d4ee696"
# UCI's zip is checked after extraction too: the SHA-256 of the CSV it holds (the mirror's file).
PM25_CSV = "PRSA_data_2010.1.1-2014.12.31.csv"
PM25_CONTENT = "892e9559205d16d32623135c127a3951c12e46ea1e0b3093e107ce89a9fd60e2"

URLS = {
    "mnist": "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
    "cifar10": "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    "imdb": "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
    "fsdd": "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/v1.0.10.tar.gz",
    "shakespeare": "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
    "pm25": "https://archive.ics.uci.edu/static/public/381/beijing+pm2+5+data.zip",
}


def _fill_mnist(root: Path) -> None:
    fetch(URLS["mnist"], root / "mnist.npz", MNIST_SHA)


def _fill_cifar10(root: Path) -> None:
    archive = fetch(URLS["cifar10"], root / "downloads" / "cifar-10-python.tar.gz", CIFAR_SHA)
    folder = extract(archive, root / "downloads" / "cifar10", keep=lambda n: "_batch" in n)
    batches = sorted(folder.rglob("*_batch*"))

    def load(pattern):  # the archive's hash was verified above, before any pickle is opened
        parts = [pickle.loads(p.read_bytes(), encoding="bytes") for p in batches if re.search(pattern, p.name)]
        x = np.concatenate([p[b"data"] for p in parts]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        return x.astype(np.uint8), np.concatenate([p[b"labels"] for p in parts]).astype(np.uint8)

    (x_train, y_train), (x_test, y_test) = load(r"^data_batch_\d$"), load(r"^test_batch$")
    _atomic_npz(root / "cifar10.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    shutil.rmtree(folder)
    archive.unlink()


def _atomic_npz(path: Path, **arrays) -> None:
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".npz", dir=path.parent)
    os.close(handle)
    try:
        np.savez(tmp, **arrays)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _move_into_place(source: Path, dest: Path) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, dest)


def _fill_imdb(root: Path) -> None:
    archive = fetch(URLS["imdb"], root / "downloads" / "aclImdb_v1.tar.gz", IMDB_SHA)
    wanted = re.compile(r"^aclImdb/(train|test)/(pos|neg)/[^/]+\.txt$")
    folder = extract(archive, root / "downloads" / "imdb", keep=lambda n: bool(wanted.match(n)))
    for split in ("train", "test"):
        for cls in ("pos", "neg"):
            count = len(list((folder / "aclImdb" / split / cls).glob("*.txt")))
            if count != 12_500:
                shutil.rmtree(folder)
                archive.unlink()
                raise DownloadError(f"aclImdb_v1.tar.gz: expected 12,500 {split}/{cls} reviews, found {count:,}; "
                                    f"nothing was saved.")
    _move_into_place(folder / "aclImdb", root / "imdb")
    shutil.rmtree(folder)
    archive.unlink()


def _fill_fsdd(root: Path) -> None:
    archive = fetch(URLS["fsdd"], root / "downloads" / "fsdd-v1.0.10.tar.gz", None)
    wanted = re.compile(r"^[^/]+/recordings/[^/]+\.wav$")
    folder = extract(archive, root / "downloads" / "fsdd", keep=lambda n: bool(wanted.match(n)))
    recordings = next(folder.glob("*/recordings"), folder / "recordings")
    if _digest(recordings) != FSDD_CONTENT:
        shutil.rmtree(folder)
        archive.unlink()  # unpinned, so `fetch` would reuse it: a retry must download again
        raise DownloadError("The FSDD archive's recordings do not match the pinned content hash (v1.0.10); "
                            "nothing was saved.")
    _move_into_place(recordings, root / "fsdd" / "recordings")
    shutil.rmtree(folder)
    archive.unlink()


def _fill_shakespeare(root: Path) -> None:
    fetch(URLS["shakespeare"], root / "shakespeare" / "input.txt", SHAKESPEARE_SHA)


def _fill_pm25(root: Path) -> None:
    archive = fetch(URLS["pm25"], root / "downloads" / "beijing-pm25.zip", None)
    folder = extract(archive, root / "downloads" / "pm25", keep=lambda n: n.rsplit("/", 1)[-1] == PM25_CSV)
    csv = next(folder.rglob(PM25_CSV), folder / PM25_CSV)
    if not csv.is_file() or sha256_of(csv) != PM25_CONTENT:
        shutil.rmtree(folder)
        archive.unlink()  # unpinned, so `fetch` would reuse it: a retry must download again
        raise DownloadError(f"UCI's Beijing PM2.5 zip holds no {PM25_CSV} with the pinned SHA-256; nothing was saved.")
    (root / "pm25").mkdir(parents=True, exist_ok=True)
    os.replace(csv, root / "pm25" / PM25_CSV)
    shutil.rmtree(folder)
    archive.unlink()


# ---------------------------------------------------------------- the registry
DIGITS = tuple(str(d) for d in range(10))
CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
REGISTRY: dict[str, Spec] = {
    s.name: s for s in (
        Spec("mnist", "MNIST handwritten digits, 28x28 grey (LeCun et al.)", "mnist.npz",
             lambda p: formats.read_images(p, (28, 28), 10), _fill_mnist, samples.mnist,
             (8_000, 2_000), URLS["mnist"], DIGITS),
        Spec("cifar10", "CIFAR-10 photos, 32x32 colour, 10 classes (Krizhevsky 2009)", "cifar10.npz",
             lambda p: formats.read_images(p, (32, 32, 3), 10), _fill_cifar10, samples.cifar10,
             (5_000, 1_000), URLS["cifar10"], CIFAR_CLASSES),
        Spec("imdb", "movie reviews, raw text, positive/negative (Maas et al. 2011)", "imdb",
             formats.read_reviews, _fill_imdb, samples.imdb, (1_600, 400), URLS["imdb"], ("neg", "pos")),
        Spec("fsdd", "Free Spoken Digit Dataset: 8 kHz recordings of digits (Jakobovski et al.)",
             "fsdd/recordings", formats.read_recordings, _fill_fsdd, samples.fsdd, (1_500, 300),
             URLS["fsdd"], DIGITS),
        Spec("shakespeare", "Tiny Shakespeare, one text (Karpathy's char-rnn)", "shakespeare/input.txt",
             formats.read_text, _fill_shakespeare, samples.shakespeare, (300_000, 0), URLS["shakespeare"]),
        Spec("pm25", "Beijing PM2.5 and weather, hourly 2010-2014 (Liang et al. 2015, UCI 381)", f"pm25/{PM25_CSV}",
             formats.read_pm25, _fill_pm25, samples.pm25, (17_544, 8_760), URLS["pm25"], series=True),
    )
}


def names() -> list[str]:
    """Return the names of the datasets in the registry."""
    return list(REGISTRY)


def spec(name: str) -> Spec:
    """Return the registry entry for `name`, or raise a ValueError listing the known names."""
    return REGISTRY[one_of("name", name, tuple(REGISTRY))]


# ---------------------------------------------------------------- the lookup
def locate(name: str) -> list[tuple[str, bool, str]]:
    """Return, for each tier in order, whether it can serve `name` right now and a short detail."""
    entry = spec(name)
    mirror = data_dir()
    cached = _cached(entry)
    return [
        ("mirror", bool(mirror and (mirror / entry.path).exists()),
         str(mirror / entry.path) if mirror else "UDL_DATA_DIR unset"),
        ("cache", cached is not None, str(cache_dir() / entry.path)),
        ("download", not offline(), "off (UDL_OFFLINE=1)" if offline() else entry.url),
        ("builtin", True, "built-in sample"),
    ]


def fill_cache(name: str, force: bool = False) -> Path:
    """Download `name` into the cache (in the mirror layout) unless it is there already; return its path."""
    entry, root = spec(name), cache_dir()
    if not force and _cached(entry):
        return root / entry.path
    if offline():
        raise DownloadError(f"Cannot download {name}: downloads are switched off (UDL_OFFLINE=1).")
    root.mkdir(parents=True, exist_ok=True)
    _manifest(root, name).unlink(missing_ok=True)
    entry.fill(root)
    entry.read(root / entry.path)  # validate before declaring the cache complete
    record = {"name": name, "url": entry.url, "path": entry.path, "sha256": _digest(root / entry.path)}
    tmp = _manifest(root, name).with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1))
    os.replace(tmp, _manifest(root, name))
    return root / entry.path


def verify(name: str) -> str:
    """Check a cached dataset against the hash recorded when it was fetched; return a one-line verdict."""
    entry, root = spec(name), cache_dir()
    if not _cached(entry):
        return f"{name}: not in the cache ({root / entry.path})"
    record = json.loads(_manifest(root, name).read_text())
    if _digest(root / entry.path) != record["sha256"]:
        return f"{name}: CORRUPTED: {root / entry.path} differs from what was fetched; run `udl data fetch --force {name}`"
    entry.read(root / entry.path)
    return f"{name}: ok ({root / entry.path}, sha256 {record['sha256'][:12]}…)"


def _resolve(entry: Spec) -> tuple[dict, str, str, str]:
    """Return (raw data, source, origin, notice) from the first tier that has `entry`."""
    reasons = []
    mirror = data_dir()
    if mirror is None:
        reasons.append("no mirror (UDL_DATA_DIR unset)")
    elif (mirror / entry.path).exists():
        return entry.read(mirror / entry.path), "mirror", str(mirror / entry.path), ""
    else:
        reasons.append(f"no {entry.path} in UDL_DATA_DIR={mirror}")
    if _cached(entry):
        return entry.read(cache_dir() / entry.path), "cache", str(cache_dir() / entry.path), ""
    reasons.append("not in the cache")
    if offline():
        reasons.append("downloads off (UDL_OFFLINE=1)")
    else:
        try:
            path = fill_cache(entry.name)
            return entry.read(path), "download", entry.url, ""
        except (DownloadError, UnsafeArchiveError, formats.MirrorFormatError) as exc:
            reasons.append(f"download failed: {getattr(exc, 'reason', '') or exc}")
    raw = entry.sample()
    return raw, "builtin", raw["description"], "offline: " + "; ".join(reasons) + "."


def _take(values, n: int | None, seed: int, series: str = ""):
    """Return a seeded random subset of `n` items (original order kept), or all when n is None or too large.

    For a time series (`series` 'train' or 'test') the subset is the `n` hours nearest the split instead.
    """
    if n is None or n >= len(values):
        return values
    if series:
        return values[-n:] if series == "train" else values[:n]
    keep = np.sort(np.random.default_rng(seed).choice(len(values), size=n, replace=False))
    return values[keep] if isinstance(values, np.ndarray) else [values[i] for i in keep]


def load(name: str, *, n_train: int | None = None, n_test: int | None = None, verbose: bool = True) -> Dataset:
    """Load a dataset from the first tier that has it, print one provenance line and return a `Dataset`.

    Args:
        name: one of `names()`: 'mnist', 'cifar10', 'imdb', 'fsdd', 'shakespeare', 'pm25'.
        n_train, n_test: subset sizes (for 'shakespeare', n_train is a number of characters; for 'pm25', hours:
            the train's last and the test's first). By default
            the quick profile uses the documented subset `REGISTRY[name].quick` and the full profile all.
    """
    from udl import runtime

    entry = spec(name)
    n_train = positive_int("n_train", n_train, allow_none=True)
    n_test = positive_int("n_test", n_test, allow_none=True)
    if runtime.is_quick():
        n_train = n_train or entry.quick[0]
        n_test = n_test or entry.quick[1] or None
    raw, source, origin, notice = _resolve(entry)
    ds = Dataset(name=name, source=source, origin=origin, notice=notice,
                 description=raw.get("description", entry.summary),
                 class_names=list(raw.get("class_names", entry.class_names)),
                 sample_rate=raw.get("sample_rate"), columns=list(raw.get("columns", [])))
    if "text" in raw:
        ds.text = raw["text"][:n_train] if n_train else raw["text"]
    else:
        for split, n in (("train", n_train), ("test", n_test)):
            for key in ("x", "y", "speakers", "time"):
                if f"{key}_{split}" in raw:
                    setattr(ds, f"{key}_{split}", _take(raw[f"{key}_{split}"], n, seed=1 if split == "test" else 0,
                                                        series=split if entry.series else ""))
    _loaded[name] = source
    if verbose:
        print(ds.provenance())
    return ds


def loaded() -> dict[str, str]:
    """Return {dataset name: source} for the datasets loaded in this process."""
    return dict(_loaded)
