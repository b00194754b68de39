"""Tests for udl.data and udl.formats: each lookup tier, the fill functions over loopback, subsets and bad input."""

import hashlib
import io
import os
import pickle
import tarfile

import numpy as np
import pytest

from conftest import SHAKESPEARE, write_images, write_recordings, write_wav
from udl import cli, data, runtime
from udl.download import DownloadError

NAMES = ["mnist", "cifar10", "imdb", "fsdd", "shakespeare"]


def files(folder):
    """The files (not folders) under `folder`, relative; not the lock files in .locks/."""
    found = (p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) if folder.exists() else ()
    return sorted(f for f in found if ".locks" not in f.split("/"))


def serve_mnist(server, monkeypatch, sha, route="files", pinned=None):
    """Serve a small valid mnist.npz, point udl at it (URL and pinned hash); return its arrays."""
    path = server.root / "mnist.npz"
    arrays = write_images(path, (28, 28), 50, 10, seed=5)
    monkeypatch.setitem(data.URLS, "mnist", server.url("mnist.npz", route))
    monkeypatch.setattr(data, "MNIST_SHA", pinned or sha(path.read_bytes()))
    return arrays


def tar_gz(members) -> bytes:
    """A .tar.gz of (name, bytes) members."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as handle:
        for name, content in members:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            handle.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("call", [data.load, data.spec, data.locate, data.fill_cache, data.verify])
def test_unknown_name_lists_the_known_names(call):
    with pytest.raises(ValueError, match="`name`") as info:
        call("mnsit")
    assert "'mnsit'" in str(info.value)
    assert all(repr(name) in str(info.value) for name in NAMES)


def test_bad_profile_is_named(monkeypatch):
    monkeypatch.setenv("UDL_PROFILE", "fast")
    for call in (lambda: data.load("mnist"), runtime.profile, lambda: runtime.pick(quick=1, full=2)):
        with pytest.raises(ValueError, match="UDL_PROFILE") as info:
            call()
        assert "'fast'" in str(info.value)


@pytest.mark.parametrize("arg", ["n_train", "n_test"])
@pytest.mark.parametrize("value", [0, -1, "10", 2.5, True])
def test_bad_subset_size_is_named(arg, value, server):
    with pytest.raises(ValueError, match=f"`{arg}` must be a positive integer") as info:
        data.load("mnist", **{arg: value})
    assert repr(value) in str(info.value)
    assert server.count() == 0


@pytest.mark.parametrize("profile,expected", [("quick", 3), ("full", 15), ("", 15)])
def test_pick_follows_the_profile(monkeypatch, profile, expected):
    monkeypatch.setenv("UDL_PROFILE", profile)
    assert runtime.pick(quick=3, full=15) == expected
    assert runtime.is_quick() == (expected == 3)


# ---------------------------------------------------------------- tier 1: the mirror
def test_mirror_images(mirror, monkeypatch, capsys):
    root = mirror("mnist", "cifar10")
    monkeypatch.setenv("UDL_DATA_DIR", str(root))
    for name, shape in (("mnist", (28, 28)), ("cifar10", (32, 32, 3))):
        with np.load(root / f"{name}.npz") as stored:
            written = dict(stored)
        ds = data.load(name)
        assert ds.source == "mirror" and not ds.is_sample
        assert ds.origin == str(root / f"{name}.npz")
        for key, value in written.items():
            np.testing.assert_array_equal(getattr(ds, key), value)
        assert ds.x_train.shape == (60, *shape) and ds.x_test.dtype == np.uint8 and ds.y_train.dtype == np.uint8
        assert ds.class_names == list(data.spec(name).class_names)
        line = capsys.readouterr().out
        assert line.startswith(f"{name}: real data from the mirror ({root / name}.npz) | 60 train / 20 test")
    assert data.loaded() == {"mnist": "mirror", "cifar10": "mirror"}


def test_mirror_accepts_keras_style_column_labels(tmp_path, monkeypatch):
    arrays = write_images(tmp_path / "m" / "cifar10.npz", (32, 32, 3), 12, 4)
    np.savez(tmp_path / "m" / "cifar10.npz", **dict(arrays, y_train=arrays["y_train"][:, None],
                                                    y_test=arrays["y_test"][:, None].astype(np.int64)))
    monkeypatch.setenv("UDL_DATA_DIR", str(tmp_path / "m"))
    ds = data.load("cifar10", verbose=False)
    assert ds.y_train.shape == (12,) and ds.y_test.dtype == np.uint8
    np.testing.assert_array_equal(ds.y_test, arrays["y_test"])


def test_mirror_reviews(mirror, monkeypatch, capsys):
    root = mirror("imdb", reviews=(6, 3))
    monkeypatch.setenv("UDL_DATA_DIR", str(root))
    ds = data.load("imdb")
    assert ds.source == "mirror" and ds.origin == str(root / "imdb")
    assert len(ds.x_train) == 12 and len(ds.x_test) == 6 and all(isinstance(t, str) for t in ds.x_train)
    assert sorted(ds.y_train.tolist()) == [0] * 6 + [1] * 6 and ds.y_train.dtype == np.uint8
    for text, label in zip(ds.x_train + ds.x_test, np.concatenate([ds.y_train, ds.y_test])):
        assert (" pos " in text) == (label == 1)  # labels travel with their texts through the shuffle
    assert ds.x_train[:6] != sorted(ds.x_train)[:6]  # shuffled, not grouped by class
    assert ds.class_names == ["neg", "pos"]
    assert str(root / "imdb") in capsys.readouterr().out


def test_mirror_recordings(mirror, monkeypatch, capsys):
    root = mirror("fsdd")  # 10 digits x 2 speakers x indices 0-6: 0-4 test, 5-6 train
    monkeypatch.setenv("UDL_DATA_DIR", str(root))
    ds = data.load("fsdd", n_train=10_000, n_test=10_000)
    assert ds.source == "mirror" and ds.sample_rate == 8000
    assert len(ds.x_test) == 100 and len(ds.x_train) == 40
    for x, y, speaker in zip(ds.x_train, ds.y_train, ds.speakers_train):
        assert x.dtype == np.float32 and x.ndim == 1
        value = round(float(x[0]) * 32768)  # the writer stored 100 * digit + 10 * speaker + index
        assert value // 100 == y and (value // 10) % 10 == ["alice", "bob"].index(speaker) and value % 10 in (5, 6)
    assert set(ds.speakers_test) == {"alice", "bob"} and set(ds.y_test.tolist()) == set(range(10))
    for x, take in zip(ds.x_train + ds.x_test, np.concatenate([ds.takes_train, ds.takes_test])):
        assert round(float(x[0]) * 32768) % 10 == take  # each recording's take travels with it
    assert set(ds.takes_train.tolist()) == {5, 6} and set(ds.takes_test.tolist()) == set(range(5))
    assert str(root / "fsdd" / "recordings") in capsys.readouterr().out


def test_mirror_text(mirror, monkeypatch, capsys):
    root = mirror("shakespeare")
    monkeypatch.setenv("UDL_DATA_DIR", str(root))
    ds = data.load("shakespeare")
    assert ds.source == "mirror" and ds.text == SHAKESPEARE and ds.x_train is None
    assert capsys.readouterr().out.strip() == (f"shakespeare: real data from the mirror "
                                               f"({root / 'shakespeare' / 'input.txt'}) | 24,800 characters")


def test_a_mirror_without_the_dataset_falls_through_and_says_so(mirror, monkeypatch, server):
    root = mirror("mnist")
    monkeypatch.setenv("UDL_DATA_DIR", str(root))
    monkeypatch.setenv("UDL_OFFLINE", "1")
    ds = data.load("cifar10", verbose=False)
    assert ds.source == "builtin"
    assert f"no cifar10.npz in UDL_DATA_DIR={root}" in ds.notice and "UDL_OFFLINE=1" in ds.notice


# ---------------------------------------------------------------- tiers 2 and 3: cache and download
def test_download_then_cache_then_verify(server, monkeypatch, sha, capsys, isolate):
    arrays = serve_mnist(server, monkeypatch, sha)
    ds = data.load("mnist")
    assert ds.source == "download" and server.count("mnist.npz") == 1
    np.testing.assert_array_equal(ds.x_train, arrays["x_train"])
    assert "mnist: real data from the download" in capsys.readouterr().out
    assert files(isolate.cache) == ["mnist.manifest.json", "mnist.npz"]

    again = data.load("mnist")
    assert again.source == "cache" and again.origin == str(isolate.cache / "mnist.npz")
    assert server.count() == 1  # served from the cache, no request
    assert f"real data from the cache ({isolate.cache / 'mnist.npz'})" in capsys.readouterr().out
    np.testing.assert_array_equal(again.y_test, arrays["y_test"])

    assert cli.main(["data", "verify"]) == 0
    out = capsys.readouterr().out
    assert f"mnist: ok ({isolate.cache / 'mnist.npz'}, sha256 " in out
    assert "cifar10: not in the cache" in out

    with open(isolate.cache / "mnist.npz", "r+b") as handle:  # flip one byte of the cached file
        handle.seek(-100, os.SEEK_END)
        byte = handle.read(1)
        handle.seek(-100, os.SEEK_END)
        handle.write(bytes([byte[0] ^ 0xFF]))
    assert "mnist: CORRUPTED" in data.verify("mnist")
    assert cli.main(["data", "verify", "mnist"]) == 1
    assert "CORRUPTED" in capsys.readouterr().out
    assert server.count() == 1


def test_fill_cache_then_load_makes_no_request(server, monkeypatch, sha, isolate, capsys):
    serve_mnist(server, monkeypatch, sha)
    assert data.locate("mnist")[1][:2] == ("cache", False)
    assert data.fill_cache("mnist") == isolate.cache / "mnist.npz"
    assert server.count() == 1
    assert data.locate("mnist")[1] == ("cache", True, str(isolate.cache / "mnist.npz"))
    assert data.fill_cache("mnist") == isolate.cache / "mnist.npz" and server.count() == 1
    ds = data.load("mnist")
    assert ds.source == "cache" and server.count() == 1


def test_fetch_repairs_a_corrupted_cache_and_force_downloads_again(server, monkeypatch, sha, isolate):
    arrays = serve_mnist(server, monkeypatch, sha)
    data.fill_cache("mnist")
    (isolate.cache / "mnist.npz").write_bytes(b"garbage")
    assert "CORRUPTED" in data.verify("mnist") and "udl data fetch --force mnist" in data.verify("mnist")
    assert data.fill_cache("mnist") == isolate.cache / "mnist.npz" and server.count() == 2  # damaged: fetched again
    assert data.verify("mnist").startswith("mnist: ok")
    assert data.fill_cache("mnist") == isolate.cache / "mnist.npz" and server.count() == 2  # intact: untouched
    (isolate.cache / "mnist.npz").write_bytes(b"garbage")
    data.fill_cache("mnist", force=True)
    assert server.count() == 3 and data.verify("mnist").startswith("mnist: ok")
    np.testing.assert_array_equal(data.load("mnist", verbose=False).x_test, arrays["x_test"])


def test_a_cache_without_its_manifest_is_not_used(server, monkeypatch, sha, isolate):
    serve_mnist(server, monkeypatch, sha)
    data.fill_cache("mnist")
    (isolate.cache / "mnist.manifest.json").unlink()  # e.g. a fetch interrupted before it finished
    assert data.verify("mnist").startswith("mnist: not in the cache")
    assert data.load("mnist", verbose=False).source == "download"


@pytest.mark.parametrize("route,pinned,reason", [
    ("404", None, "download failed: HTTP error 404"),
    ("files", "0" * 64, "download failed: the file's SHA-256 does not match the pinned hash"),
    ("truncated", None, "download failed: the connection broke off"),
])
def test_download_failure_falls_back_to_the_sample_and_caches_nothing(server, monkeypatch, sha, isolate, capsys,
                                                                      route, pinned, reason):
    serve_mnist(server, monkeypatch, sha, route=route, pinned=pinned)
    ds = data.load("mnist")
    assert ds.source == "builtin" and ds.is_sample and server.count() == 1
    assert ds.notice.startswith("offline: ") and reason in ds.notice
    out = capsys.readouterr().out
    assert out.startswith("mnist: BUILT-IN SAMPLE (") and reason in out
    assert files(isolate.cache) == []
    assert data.verify("mnist").startswith("mnist: not in the cache")


def test_offline_makes_no_request(server, monkeypatch, sha, isolate):
    serve_mnist(server, monkeypatch, sha)
    monkeypatch.setenv("UDL_OFFLINE", "1")
    ds = data.load("mnist", verbose=False)
    assert ds.source == "builtin" and "downloads off (UDL_OFFLINE=1)" in ds.notice
    assert data.locate("mnist")[2] == ("download", False, "off (UDL_OFFLINE=1)")
    with pytest.raises(DownloadError, match="UDL_OFFLINE=1"):
        data.fill_cache("mnist")
    assert "no downloads (UDL_OFFLINE=1)" in data.policy()
    assert server.count() == 0 and files(isolate.cache) == []


def test_policy_names_each_tier(monkeypatch, tmp_path, isolate):
    assert data.policy() == f"no mirror (UDL_DATA_DIR unset) > cache {isolate.cache} > download > built-in sample"
    monkeypatch.setenv("UDL_DATA_DIR", str(tmp_path / "m"))
    assert data.policy().startswith(f"mirror {tmp_path / 'm'} > cache ")


# ---------------------------------------------------------------- the fill functions, end to end over loopback
def cifar_archive(rng):
    """A cifar-10-python.tar.gz in the real format: pickled dicts with b'data' rows of 1024 R, G then B values."""
    images = {name: rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
              for name, n in [(f"data_batch_{i}", 4) for i in range(1, 6)] + [("test_batch", 5)]}
    labels = {name: rng.integers(0, 10, len(x)).tolist() for name, x in images.items()}
    members = [("cifar-10-batches-py/batches.meta", pickle.dumps({b"label_names": [b"airplane"]}, protocol=2)),
               ("cifar-10-batches-py/readme.html", b"<html></html>")]
    for name, x in images.items():
        batch = {b"batch_label": name.encode(), b"labels": labels[name],
                 b"data": x.transpose(0, 3, 1, 2).reshape(len(x), 3072), b"filenames": [b"f.png"] * len(x)}
        members.append((f"cifar-10-batches-py/{name}", pickle.dumps(batch, protocol=2)))
    return tar_gz(members), images, labels


def test_fill_cifar10_from_a_crafted_archive(server, monkeypatch, sha, isolate):
    archive, images, labels = cifar_archive(np.random.default_rng(0))
    monkeypatch.setitem(data.URLS, "cifar10", server.put("cifar-10-python.tar.gz", archive))
    monkeypatch.setattr(data, "CIFAR_SHA", sha(archive))
    ds = data.load("cifar10", verbose=False)
    assert ds.source == "download" and ds.class_names == list(data.CIFAR_CLASSES)
    np.testing.assert_array_equal(ds.x_train, np.concatenate([images[f"data_batch_{i}"] for i in range(1, 6)]))
    np.testing.assert_array_equal(ds.y_train, sum((labels[f"data_batch_{i}"] for i in range(1, 6)), []))
    np.testing.assert_array_equal(ds.x_test, images["test_batch"])
    np.testing.assert_array_equal(ds.y_test, labels["test_batch"])
    assert files(isolate.cache) == ["cifar10.manifest.json", "cifar10.npz"]  # archive and extraction cleaned up
    assert data.verify("cifar10").startswith("cifar10: ok")


def test_fill_cifar10_with_a_wrong_hash_saves_nothing(server, monkeypatch, isolate):
    archive, _, _ = cifar_archive(np.random.default_rng(0))
    monkeypatch.setitem(data.URLS, "cifar10", server.put("cifar-10-python.tar.gz", archive))
    monkeypatch.setattr(data, "CIFAR_SHA", "f" * 64)
    with pytest.raises(DownloadError, match="SHA-256 does not match"):
        data.fill_cache("cifar10")
    assert files(isolate.cache) == []


def imdb_archive(per_folder=3):
    members = [("aclImdb/README", b"readme"), ("aclImdb/imdb.vocab", b"film\nmovie\n")]
    for split in ("train", "test"):
        for cls in ("pos", "neg"):
            members += [(f"aclImdb/{split}/{cls}/{i}_8.txt", f"{split} {cls} {i}".encode()) for i in range(per_folder)]
    members.append(("aclImdb/train/unsup/0_0.txt", b"unlabelled"))
    return tar_gz(members)


def test_fill_imdb_with_missing_reviews_fails_clearly_and_caches_nothing(server, monkeypatch, sha, isolate):
    archive = imdb_archive()
    monkeypatch.setitem(data.URLS, "imdb", server.put("aclImdb_v1.tar.gz", archive))
    monkeypatch.setattr(data, "IMDB_SHA", sha(archive))
    with pytest.raises(DownloadError, match="expected 12,500 train/pos reviews, found 3"):
        data.fill_cache("imdb")
    assert files(isolate.cache) == []
    ds = data.load("imdb", verbose=False)  # through load: the sample, with the reason
    assert ds.source == "builtin" and "expected 12,500 train/pos reviews, found 3" in ds.notice
    assert files(isolate.cache) == []


def fsdd_archive(tmp_path, extra_recording=False):
    """A GitHub-style tag archive of FSDD with a few recordings; returns (bytes, content digest of recordings)."""
    folder = tmp_path / "fsdd-src" / "recordings"
    write_recordings(folder, speakers=("jackson", "theo"), digits=range(3), indices=range(6))
    if extra_recording:
        write_wav(folder / "9_nicolas_0.wav", np.ones(100, np.int16))
    digest = hashlib.sha256()
    for f in sorted(folder.iterdir()):
        digest.update(f.name.encode() + b"\0" + hashlib.sha256(f.read_bytes()).digest())
    top = "free-spoken-digit-dataset-1.0.10"
    members = [(f"{top}/README.md", b"# FSDD"), (f"{top}/utils/spectogramer.py", b"print()")]
    members += [(f"{top}/recordings/{f.name}", f.read_bytes()) for f in sorted(folder.iterdir())]
    return tar_gz(members), digest.hexdigest()


def test_fill_fsdd_checks_the_content_hash(server, monkeypatch, tmp_path, isolate):
    archive, content = fsdd_archive(tmp_path)
    monkeypatch.setitem(data.URLS, "fsdd", server.put("fsdd.tar.gz", archive))
    monkeypatch.setattr(data, "FSDD_CONTENT", content)
    ds = data.load("fsdd", verbose=False)
    assert ds.source == "download" and ds.sample_rate == 8000
    assert len(ds.x_test) == 30 and len(ds.x_train) == 6 and set(ds.speakers_train) == {"jackson", "theo"}
    assert files(isolate.cache) == ["fsdd.manifest.json"] + sorted(
        f"fsdd/recordings/{d}_{s}_{i}.wav" for d in range(3) for s in ("jackson", "theo") for i in range(6))
    assert data.verify("fsdd").startswith("fsdd: ok")


def test_fill_fsdd_with_other_content_saves_nothing_and_a_retry_downloads_again(server, monkeypatch, tmp_path,
                                                                                  isolate):
    tampered, _ = fsdd_archive(tmp_path / "a", extra_recording=True)
    good, content = fsdd_archive(tmp_path / "b")
    monkeypatch.setitem(data.URLS, "fsdd", server.put("fsdd.tar.gz", tampered))
    monkeypatch.setattr(data, "FSDD_CONTENT", content)
    with pytest.raises(DownloadError, match="do not match the pinned content hash"):
        data.fill_cache("fsdd")
    assert files(isolate.cache) == []
    server.put("fsdd.tar.gz", good)  # upstream fixed: the next attempt must download again, not reuse
    assert data.fill_cache("fsdd") == isolate.cache / "fsdd" / "recordings"
    assert server.count("fsdd.tar.gz") == 2


def test_fill_shakespeare(server, monkeypatch, sha, isolate):
    text = SHAKESPEARE.encode()
    monkeypatch.setitem(data.URLS, "shakespeare", server.put("input.txt", text))
    monkeypatch.setattr(data, "SHAKESPEARE_SHA", sha(text))
    ds = data.load("shakespeare", verbose=False)
    assert ds.source == "download" and ds.text == SHAKESPEARE
    assert files(isolate.cache) == ["shakespeare.manifest.json", "shakespeare/input.txt"]


# ---------------------------------------------------------------- tier 4: the built-in samples
@pytest.mark.parametrize("name", NAMES)
def test_builtin_samples_through_load(name, monkeypatch, capsys):
    monkeypatch.setenv("UDL_OFFLINE", "1")
    monkeypatch.setenv("UDL_PROFILE", "full")
    ds = data.load(name)
    out = capsys.readouterr().out
    assert ds.source == "builtin" and ds.is_sample and ds.origin
    assert out.startswith(f"{name}: BUILT-IN SAMPLE ({ds.origin}) | ") and "\n  offline: " in out
    assert "no mirror (UDL_DATA_DIR unset)" in ds.notice and "not in the cache" in ds.notice
    if name == "shakespeare":
        assert isinstance(ds.text, str) and len(ds.text) >= 10_000 and ds.x_train is None
        return
    assert 0 < len(ds.x_test) < len(ds.x_train) and len(ds.y_train) == len(ds.x_train)
    assert len(ds.class_names) == len(set(ds.y_train.tolist())) == len(set(ds.y_test.tolist()))
    assert ds.y_train.dtype == np.uint8 and ds.y_train.max() == len(ds.class_names) - 1
    if name in ("mnist", "cifar10"):
        shape = (28, 28) if name == "mnist" else (32, 32, 3)
        assert ds.x_train.shape[1:] == ds.x_test.shape[1:] == shape
        assert ds.x_train.dtype == ds.x_test.dtype == np.uint8 and ds.x_train.max() > 200
    elif name == "imdb":
        assert all(isinstance(t, str) and t for t in ds.x_train + ds.x_test)
        assert ds.class_names == ["neg", "pos"] and not set(ds.x_train) & set(ds.x_test)
    elif name == "fsdd":
        assert ds.sample_rate == 8000 and isinstance(ds.sample_rate, int)
        assert all(x.dtype == np.float32 and x.ndim == 1 and np.abs(x).max() <= 1 for x in ds.x_train)
        assert len(ds.speakers_train) == len(ds.x_train) and len(ds.speakers_test) == len(ds.x_test)


def test_builtin_samples_are_fresh_copies(monkeypatch):
    monkeypatch.setenv("UDL_OFFLINE", "1")
    first = data.load("mnist", verbose=False)
    first.x_train[:] = 0
    assert data.load("mnist", verbose=False).x_train.max() > 0


@pytest.mark.parametrize("name", NAMES)
def test_builtin_samples_in_the_quick_profile_are_within_the_documented_subset(name, monkeypatch):
    monkeypatch.setenv("UDL_OFFLINE", "1")
    ds = data.load(name, verbose=False)
    n_train, n_test = data.spec(name).quick
    if name == "shakespeare":
        assert len(ds.text) == min(n_train, len(data.spec(name).sample()["text"]))
    else:
        assert len(ds.x_train) <= n_train and len(ds.x_test) <= n_test


# ---------------------------------------------------------------- subsets
def indexed_mnist(path, n_train, n_test):
    """An mnist.npz whose image i carries i in its first two pixels and whose label is i % 10."""
    out = {}
    for split, n in (("train", n_train), ("test", n_test)):
        x = np.zeros((n, 28, 28), np.uint8)
        x[:, 0, 0], x[:, 0, 1] = np.arange(n) // 256, np.arange(n) % 256
        out[f"x_{split}"], out[f"y_{split}"] = x, (np.arange(n) % 10).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **out)


def _indices(ds, split):
    x, y = getattr(ds, f"x_{split}"), getattr(ds, f"y_{split}")
    index = x[:, 0, 0].astype(int) * 256 + x[:, 0, 1]
    np.testing.assert_array_equal(y, index % 10)  # labels still belong to their images
    return index


def test_quick_profile_takes_the_documented_subset_deterministically(tmp_path, monkeypatch):
    indexed_mnist(tmp_path / "m" / "mnist.npz", 9_000, 2_500)
    monkeypatch.setenv("UDL_DATA_DIR", str(tmp_path / "m"))
    first, second = data.load("mnist", verbose=False), data.load("mnist", verbose=False)
    assert (len(first.x_train), len(first.x_test)) == data.spec("mnist").quick == (8_000, 2_000)
    for split in ("train", "test"):
        index = _indices(first, split)
        assert np.all(np.diff(index) > 0)  # distinct, original order kept
        np.testing.assert_array_equal(index, _indices(second, split))
    assert _indices(first, "train").max() > 8_000  # a random subset, not the first 8,000

    small = data.load("mnist", n_train=100, n_test=30, verbose=False)
    assert (len(small.x_train), len(small.x_test)) == (100, 30)
    assert small.sizes() == "100 train / 30 test"

    monkeypatch.setenv("UDL_PROFILE", "full")
    full = data.load("mnist", verbose=False)
    np.testing.assert_array_equal(_indices(full, "train"), np.arange(9_000))
    np.testing.assert_array_equal(_indices(full, "test"), np.arange(2_500))
    explicit = data.load("mnist", n_train=50, verbose=False)
    assert len(explicit.x_train) == 50 and len(explicit.x_test) == 2_500


def test_subsets_of_lists_keep_texts_recordings_and_speakers_together(mirror, monkeypatch):
    root = mirror("imdb", "fsdd")
    monkeypatch.setenv("UDL_DATA_DIR", str(root))
    reviews = data.load("imdb", n_train=5, n_test=4, verbose=False)
    assert isinstance(reviews.x_train, list) and len(reviews.x_train) == 5 and len(reviews.x_test) == 4
    for text, label in zip(reviews.x_train + reviews.x_test, np.concatenate([reviews.y_train, reviews.y_test])):
        assert (" pos " in text) == (label == 1)
    recordings = data.load("fsdd", n_train=15, n_test=20, verbose=False)
    assert len(recordings.x_train) == len(recordings.speakers_train) == len(recordings.y_train) == 15
    assert len(recordings.takes_train) == 15 and len(recordings.takes_test) == 20
    for x, take in zip(recordings.x_train, recordings.takes_train):
        assert round(float(x[0]) * 32768) % 10 == take
    for x, y, speaker in zip(recordings.x_test, recordings.y_test, recordings.speakers_test):
        value = round(float(x[0]) * 32768)
        assert value // 100 == y and (value // 10) % 10 == ["alice", "bob"].index(speaker)


def test_text_subsets_are_prefixes(mirror, monkeypatch):
    text = "".join(f"line {i:06d} of the play\n" for i in range(20_000))  # 480,000 characters
    root = mirror("shakespeare", text=text)
    monkeypatch.setenv("UDL_DATA_DIR", str(root))
    assert data.load("shakespeare", verbose=False).text == text[:300_000]
    assert data.load("shakespeare", n_train=1_000, verbose=False).text == text[:1_000]
    monkeypatch.setenv("UDL_PROFILE", "full")
    assert data.load("shakespeare", verbose=False).text == text


def test_load_quietly_and_describe(mirror, monkeypatch, capsys):
    monkeypatch.setenv("UDL_DATA_DIR", str(mirror("mnist")))
    ds = data.load("mnist", verbose=False)
    assert capsys.readouterr().out == ""
    assert repr(ds) == "<Dataset mnist from mirror: 60 train / 20 test>"
    assert data.names() == NAMES + ["pm25"]  # pm25: tests/test_pm25.py
