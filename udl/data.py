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

import contextlib
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

from udl import download, formats, samples, settings
from udl._checks import one_of, positive_int
from udl.download import DownloadError, UnsafeArchiveError, extract, fetch, locked, sha256_of

SOURCES = ("mirror", "cache", "download", "builtin")
_loaded: dict[str, str] = {}
_origins: dict[str, str] = {}


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
    takes_train: Any = None                           # recordings: which take (repetition) of the word each is
    takes_test: Any = None
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
# The settings live in udl.settings; these names stay here for the notebooks and the CLI.
data_dir, cache_dir, offline, policy = settings.data_dir, settings.cache_dir, settings.offline, settings.policy


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


def _files(path: Path) -> list[Path]:
    return [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())


def _stamp(path: Path) -> str:
    """Fingerprint the files' names, sizes, times and inodes: cheap, and any replacement changes it."""
    stats = [(f.relative_to(path.parent).as_posix(), f.stat()) for f in _files(path)]
    return hashlib.sha256(repr([(n, s.st_size, s.st_mtime_ns, s.st_ino) for n, s in stats]).encode()).hexdigest()


def _cache_state(entry: Spec) -> str:
    """Return 'ok', 'missing', or why the cached copy of `entry` is damaged (checked against its manifest)."""
    root = cache_dir()
    path, manifest = root / entry.path, _manifest(root, entry.name)
    if not manifest.exists():
        return "missing"  # never completed: a fill writes the manifest last
    try:
        record = json.loads(manifest.read_text())
        recorded, stamp = record["sha256"], record.get("stamp")
        if not path.exists():
            return f"{path} is missing"
        if stamp == _stamp(path):
            return "ok"
        if _digest(path) == recorded:  # the same content, copied or touched: remember the new fingerprint
            with contextlib.suppress(OSError):
                download.write_atomically(manifest, json.dumps(dict(record, stamp=_stamp(path)), indent=1))
            return "ok"
        return f"{path} differs from what was fetched"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"{manifest} or {path} is unreadable ({type(exc).__name__})"


def _cached(spec: Spec) -> Path | None:
    return cache_dir() / spec.path if _cache_state(spec) == "ok" else None


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
# Download sizes in bytes (FSDD's tag archive is not byte-stable: a generous estimate); a download may be
# this plus a quarter, and an FSDD archive may expand to FSDD_EXTRACTED at most.
SIZES = {"mnist": 11_490_434, "cifar10": 170_498_071, "imdb": 84_125_825, "fsdd": 48_000_000,
         "shakespeare": 1_115_394, "pm25": 2_010_492}  # pm25: the CSV's size, more than its zip
FSDD_EXTRACTED = 256 << 20

URLS = {
    "mnist": "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
    "cifar10": "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    "imdb": "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
    "fsdd": "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/v1.0.10.tar.gz",
    "shakespeare": "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
    "pm25": "https://archive.ics.uci.edu/static/public/381/beijing+pm2+5+data.zip",
}


def _cap(name: str) -> int:
    return SIZES[name] + max(SIZES[name] // 4, 1 << 20)


# ---------------------------------------------------------------- replaced origins (UDL_ORIGINS: tests and smoke runs)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_EXPECT = {"imdb": {"reviews_per_class"}, "fsdd": {"recordings_digest"}}


def replaced_origins() -> dict[str, dict]:
    """Return the origins that ``UDL_ORIGINS`` replaces: {dataset: {"url", "sha256"[, "expect"]}}, validated.

    The file is for tests and `make smoke-full`, which serve archives in the canonical formats from a loopback
    server: every URL must be on this machine (127.0.0.1, localhost or ::1) and every archive is pinned by its
    SHA-256 (including FSDD's and PM2.5's, which the canonical origins cannot pin); the checks after extraction
    stay, their expected values replaceable only where the file says so under "expect" (imdb:
    ``reviews_per_class`` {"train": n, "test": n}; fsdd: ``recordings_digest``). Nothing is relaxed without
    this file: a student never sets it.
    """
    path = settings.origins()
    if path is None:
        return {}
    from urllib.parse import urlsplit

    def bad(expected, received, detail=""):
        return settings._bad("UDL_ORIGINS", f"a JSON file {expected}", str(received), detail or f"in {path}")

    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise bad("of replacement origins", path, f"unreadable: {type(exc).__name__}") from None
    if not isinstance(table, dict):
        raise bad("holding an object {dataset: {url, sha256}}", type(table).__name__)
    for name, entry in table.items():
        if name not in URLS:
            raise bad(f"whose keys are datasets ({', '.join(URLS)})", name)
        if not isinstance(entry, dict) or set(entry) - {"url", "sha256", "expect"}:
            raise bad(f"whose entry for {name} is {{url, sha256[, expect]}}", entry)
        url, pin = entry.get("url"), entry.get("sha256")
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or parts.hostname not in LOOPBACK_HOSTS:
            raise bad(f"whose URLs are on this machine ({', '.join(LOOPBACK_HOSTS)})", url, f"{name} in {path}")
        if not (isinstance(pin, str) and re.fullmatch(r"[0-9a-f]{64}", pin)):
            raise bad("pinning every archive by its SHA-256 (64 lowercase hex digits)", pin, f"{name} in {path}")
        expect = entry.get("expect", {})
        if not isinstance(expect, dict) or set(expect) - _EXPECT.get(name, set()):
            allowed = ", ".join(f"{k} for {n}" for n, keys in _EXPECT.items() for k in sorted(keys))
            raise bad(f"whose 'expect' names only {allowed}", expect, f"{name} in {path}")
        counts = expect.get("reviews_per_class", {"train": 1, "test": 1})
        if not (isinstance(counts, dict) and set(counts) == {"train", "test"}
                and all(type(n) is int and n > 0 for n in counts.values())):
            raise bad("whose imdb reviews_per_class is {\"train\": n, \"test\": n}", counts)
        if not re.fullmatch(r"[0-9a-f]{64}", str(expect.get("recordings_digest", "0" * 64))):
            raise bad("whose fsdd recordings_digest is 64 lowercase hex digits", expect["recordings_digest"])
    return table


def origin_url(name: str) -> str:
    """Return the URL `name` is downloaded from: the canonical origin, or its replacement (``UDL_ORIGINS``)."""
    return replaced_origins().get(name, {}).get("url") or URLS[name]


def _source(name: str, pin: str | None) -> tuple[str, str | None]:
    """Return (URL, SHA-256 pin or None) of `name`'s download."""
    replaced = replaced_origins().get(name)
    return (replaced["url"], replaced["sha256"]) if replaced else (URLS[name], pin)


def _expected(name: str, key: str, default):
    return replaced_origins().get(name, {}).get("expect", {}).get(key, default)


def _fill_mnist(root: Path) -> None:
    url, pin = _source("mnist", MNIST_SHA)
    fetch(url, root / "mnist.npz", pin, max_bytes=_cap("mnist"))


@contextlib.contextmanager
def _unpacked(name: str, archive: Path, sha256: str | None, keep, **caps):
    """Download and extract `name`'s archive for the block to use; delete both afterwards, whether or not it worked."""
    folder = archive.parent / name
    url, pin = _source(name, sha256)
    try:
        yield extract(fetch(url, archive, pin, max_bytes=_cap(name)), folder, keep=keep, **caps)
    finally:
        archive.unlink(missing_ok=True)  # never kept: a failed or tampered archive is fetched afresh next time
        shutil.rmtree(folder, ignore_errors=True)


def _fill_cifar10(root: Path) -> None:
    archive = root / "downloads" / "cifar-10-python.tar.gz"
    with _unpacked("cifar10", archive, CIFAR_SHA, lambda n: "_batch" in n) as folder:
        batches = sorted(folder.rglob("*_batch*"))

        def load(pattern):  # the archive's hash was verified, before any pickle is opened
            parts = [pickle.loads(p.read_bytes(), encoding="bytes") for p in batches if re.search(pattern, p.name)]
            x = np.concatenate([p[b"data"] for p in parts]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
            return x.astype(np.uint8), np.concatenate([p[b"labels"] for p in parts]).astype(np.uint8)

        (x_train, y_train), (x_test, y_test) = load(r"^data_batch_\d$"), load(r"^test_batch$")
        _atomic_npz(root / "cifar10.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


def _atomic_npz(path: Path, **arrays) -> None:
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".npz", dir=path.parent)
    os.close(handle)
    try:
        np.savez(tmp, **arrays)
        download.as_created(tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _move_into_place(source: Path, dest: Path) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, dest)


def _fill_imdb(root: Path) -> None:
    wanted = re.compile(r"^aclImdb/(train|test)/(pos|neg)/[^/]+\.txt$")
    archive = root / "downloads" / "aclImdb_v1.tar.gz"
    expected = _expected("imdb", "reviews_per_class", {"train": 12_500, "test": 12_500})
    with _unpacked("imdb", archive, IMDB_SHA, lambda n: bool(wanted.match(n))) as folder:
        for split in ("train", "test"):
            for cls in ("pos", "neg"):
                count = len(list((folder / "aclImdb" / split / cls).glob("*.txt")))
                if count != expected[split]:
                    raise DownloadError(f"aclImdb_v1.tar.gz: expected {expected[split]:,} {split}/{cls} reviews, "
                                        f"found {count:,}; nothing was saved.")
        _move_into_place(folder / "aclImdb", root / "imdb")


def _fill_fsdd(root: Path) -> None:
    # Unpinned (GitHub's tag archives are not byte-stable): verified by the content hash of the recordings.
    wanted = re.compile(r"^[^/]+/recordings/[^/]+\.wav$")
    with _unpacked("fsdd", root / "downloads" / "fsdd-v1.0.10.tar.gz", None, lambda n: bool(wanted.match(n)),
                   max_bytes=FSDD_EXTRACTED) as folder:
        recordings = next(folder.glob("*/recordings"), folder / "recordings")
        if _digest(recordings) != _expected("fsdd", "recordings_digest", FSDD_CONTENT):
            raise DownloadError("The FSDD archive's recordings do not match the pinned content hash (v1.0.10); "
                                "nothing was saved.")
        _move_into_place(recordings, root / "fsdd" / "recordings")


def _fill_shakespeare(root: Path) -> None:
    url, pin = _source("shakespeare", SHAKESPEARE_SHA)
    fetch(url, root / "shakespeare" / "input.txt", pin, max_bytes=_cap("shakespeare"))


def _fill_pm25(root: Path) -> None:
    # Unpinned (UCI's zip may be rebuilt): verified by the SHA-256 of the CSV inside, the mirror's file.
    with _unpacked("pm25", root / "downloads" / "beijing-pm25.zip", None,
                   lambda n: n.rsplit("/", 1)[-1] == PM25_CSV) as folder:
        csv = next(folder.rglob(PM25_CSV), folder / PM25_CSV)
        if not csv.is_file() or sha256_of(csv) != PM25_CONTENT:
            raise DownloadError(f"UCI's Beijing PM2.5 zip holds no {PM25_CSV} with the pinned SHA-256; "
                                f"nothing was saved.")
        (root / "pm25").mkdir(parents=True, exist_ok=True)
        os.replace(csv, root / "pm25" / PM25_CSV)


# ---------------------------------------------------------------- the registry
CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
REGISTRY: dict[str, Spec] = {
    s.name: s for s in (
        Spec("mnist", "MNIST handwritten digits, 28x28 grey (LeCun et al.)", "mnist.npz",
             lambda p: formats.read_images(p, (28, 28), 10), _fill_mnist, samples.mnist,
             (8_000, 2_000), URLS["mnist"], samples.DIGITS),
        Spec("cifar10", "CIFAR-10 photos, 32x32 colour, 10 classes (Krizhevsky 2009)", "cifar10.npz",
             lambda p: formats.read_images(p, (32, 32, 3), 10), _fill_cifar10, samples.cifar10,
             (5_000, 1_000), URLS["cifar10"], CIFAR_CLASSES),
        Spec("imdb", "movie reviews, raw text, positive/negative (Maas et al. 2011)", "imdb",
             formats.read_reviews, _fill_imdb, samples.imdb, (1_600, 400), URLS["imdb"], ("neg", "pos")),
        Spec("fsdd", "Free Spoken Digit Dataset: 8 kHz recordings of digits (Jakobovski et al.)",
             "fsdd/recordings", formats.read_recordings, _fill_fsdd, samples.fsdd, (1_500, 300),
             URLS["fsdd"], samples.DIGITS),
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
        ("download", not offline(), "off (UDL_OFFLINE=1)" if offline() else origin_url(name)),
        ("builtin", True, "built-in sample"),
    ]


def fill_cache(name: str, force: bool = False) -> Path:
    """Download `name` into the cache (in the mirror layout) unless it is there already; return its path.

    Processes sharing a cache take turns (an inter-process lock per dataset): the first downloads, the others
    find its result. A damaged cached copy (see `verify`) is downloaded again.
    """
    return _fill(spec(name), force)[0]


def _fill(entry: Spec, force: bool) -> tuple[Path, bool]:
    """Fill the cache with `entry` unless it is there (or force); return its path and whether this process did."""
    name, root = entry.name, cache_dir()
    if not force and _cached(entry):
        return root / entry.path, False
    if offline():
        raise DownloadError(f"Cannot download {name}: downloads are switched off (UDL_OFFLINE=1).")
    settings.download_timeout()  # a bad UDL_DOWNLOAD_* setting is reported before anything is written
    settings.download_min_rate()
    settings.download_stall_seconds()
    root.mkdir(parents=True, exist_ok=True)
    with locked(root / name):
        if not force and _cached(entry):  # another process filled it while this one waited
            return root / entry.path, False
        manifest = _manifest(root, name)
        manifest.unlink(missing_ok=True)
        download._clean_leftovers(root / entry.path)
        download._clean_leftovers(manifest)
        entry.fill(root)
        entry.read(root / entry.path)  # validate before declaring the cache complete
        record = {"name": name, "url": origin_url(name), "path": entry.path, "sha256": _digest(root / entry.path),
                  "stamp": _stamp(root / entry.path)}
        download.write_atomically(manifest, json.dumps(record, indent=1))
    return root / entry.path, True


def verify(name: str) -> str:
    """Check a cached dataset against the hash recorded when it was fetched; return a one-line verdict."""
    entry, root = spec(name), cache_dir()
    path, manifest = root / entry.path, _manifest(root, name)
    if not manifest.exists():
        return f"{name}: not in the cache ({path})"
    fix = f"; run `udl data fetch --force {name}`"
    try:
        record = json.loads(manifest.read_text())
        if _digest(path) != record["sha256"]:
            return f"{name}: CORRUPTED: {path} differs from what was fetched" + fix
        entry.read(path)
    except formats.MirrorFormatError as exc:
        return f"{name}: CORRUPTED: {exc}" + fix
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"{name}: CORRUPTED: {manifest} or {path} is unreadable ({type(exc).__name__}: {exc})" + fix
    return f"{name}: ok ({path}, sha256 {record['sha256'][:12]}…)"


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
    state, path = _cache_state(entry), cache_dir() / entry.path
    if state == "ok":
        try:
            return entry.read(path), "cache", str(path), ""
        except formats.MirrorFormatError as exc:  # recorded hashes match, yet unreadable: treat as damaged
            state = str(exc)
    damaged = "" if state == "missing" else f"the cached copy was damaged ({state})"
    reasons.append(damaged or "not in the cache")
    if offline():
        reasons.append("downloads off (UDL_OFFLINE=1)")
    else:
        try:
            path, downloaded = _fill(entry, force=False)  # a damaged copy is not `_cached`: filled again
            if not downloaded:  # another process sharing the cache filled it meanwhile
                return entry.read(path), "cache", str(path), ""
            return entry.read(path), "download", origin_url(entry.name), f"{damaged}: downloaded again." if damaged else ""
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

    Example:

    ```python
    mnist = data.load("mnist")     # prints e.g. "mnist: real data from the mirror (...) | 8,000 train / 2,000 test"
    mnist.x_train.shape, mnist.y_train[:5], mnist.class_names
    if mnist.is_sample:            # the built-in sample stands in: expect lower accuracies
        ...
    ```
    """
    entry = spec(name)
    n_train = positive_int("n_train", n_train, allow_none=True)
    n_test = positive_int("n_test", n_test, allow_none=True)
    if settings.profile() == "quick":
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
            for key in ("x", "y", "speakers", "takes", "time"):
                if f"{key}_{split}" in raw:
                    setattr(ds, f"{key}_{split}", _take(raw[f"{key}_{split}"], n, seed=1 if split == "test" else 0,
                                                        series=split if entry.series else ""))
    _loaded[name] = source
    _origins[name] = f"{source}: {origin}" + (f" (downloaded from {_fetched_from(entry)})" if source == "cache" else "")
    if verbose:
        print(ds.provenance())
    return ds


def loaded() -> dict[str, str]:
    """Return {dataset name: source} for the datasets loaded in this process."""
    return dict(_loaded)


def origins() -> dict[str, str]:
    """Return {dataset name: where it came from} for the datasets loaded in this process: the tier and the
    path or URL, and for the cache the URL it was downloaded from."""
    return dict(_origins)


def _fetched_from(entry: Spec) -> str:
    try:
        return str(json.loads(_manifest(cache_dir(), entry.name).read_text())["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return "an unrecorded origin"
