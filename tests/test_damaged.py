"""Damaged mirrors and caches (issue 9): every case is a MirrorFormatError naming the file and what is wrong,
or, in the cache, is found by the recorded hashes and healed by a fresh download or a clear fallback notice."""

import json
import shutil

import numpy as np
import pytest

from conftest import write_images, write_wav
from test_data import files, serve_mnist
from udl import cli, data
from udl.formats import MirrorFormatError


def cut(path, keep=0.5):
    raw = path.read_bytes()
    path.write_bytes(raw[: int(len(raw) * keep)])


def replace_with_folder(path):
    path.unlink() if path.is_file() else shutil.rmtree(path)
    path.mkdir()
    (path / "inside").write_text("x")


def npz(path, **arrays):
    np.savez(path, **arrays)  # `path` ends in .npz, so numpy adds nothing to the name


def good_images(n_train=6, n_test=3):
    return {"x_train": np.zeros((n_train, 28, 28), np.uint8), "y_train": np.zeros(n_train, np.uint8),
            "x_test": np.zeros((n_test, 28, 28), np.uint8), "y_test": np.zeros(n_test, np.uint8)}


# (dataset, damage(mirror) -> the damaged path, words in the message)
CASES = {
    "npz-truncated": ("mnist", lambda m: (cut(m / "mnist.npz"), m / "mnist.npz")[1], "NumPy .npz archive of plain"),
    "npz-tail-cut": ("mnist", lambda m: (cut(m / "mnist.npz", 0.97), m / "mnist.npz")[1],
                     "NumPy .npz archive of plain"),
    "npz-junk": ("mnist", lambda m: ((m / "mnist.npz").write_bytes(b"junk" * 100), m / "mnist.npz")[1],
                 "NumPy .npz archive of plain"),
    "npy-not-npz": ("mnist", lambda m: (np.save(m / "x.npy", np.zeros(3)), (m / "x.npy").replace(m / "mnist.npz"),
                                        m / "mnist.npz")[2], "a single array"),
    "npz-object-array": ("mnist", lambda m: (npz(m / "mnist.npz", **dict(good_images(), x_train=np.array(
        [None, 1], dtype=object))), m / "mnist.npz")[1], "NumPy .npz archive of plain (not object) arrays"),
    "npz-missing-key": ("mnist", lambda m: (npz(m / "mnist.npz", x_train=np.zeros((2, 28, 28), np.uint8)),
                                            m / "mnist.npz")[1], "expected the keys"),
    "npz-float-images": ("mnist", lambda m: (npz(m / "mnist.npz", **dict(good_images(), x_test=np.zeros(
        (3, 28, 28), np.float32))), m / "mnist.npz")[1], "x_test of dtype uint8"),
    "npz-wrong-shape": ("mnist", lambda m: (npz(m / "mnist.npz", **dict(good_images(), x_train=np.zeros(
        (6, 28, 27), np.uint8))), m / "mnist.npz")[1], "shape (N, 28, 28)"),
    "npz-no-train-images": ("mnist", lambda m: (npz(m / "mnist.npz", **good_images(n_train=0)), m / "mnist.npz")[1],
                            "at least one train image"),
    "npz-label-count": ("mnist", lambda m: (npz(m / "mnist.npz", **dict(good_images(), y_test=np.zeros(
        5, np.uint8))), m / "mnist.npz")[1], "y_test of integers with shape (3,)"),
    "npz-float-labels": ("mnist", lambda m: (npz(m / "mnist.npz", **dict(good_images(), y_train=np.full(
        6, np.nan))), m / "mnist.npz")[1], "y_train of integers"),
    "npz-swapped-for-cifar": ("mnist", lambda m: (write_images(m / "mnist.npz", (32, 32, 3), 4, 2),
                                                  m / "mnist.npz")[1], "shape (N, 28, 28)"),
    "npz-is-a-folder": ("mnist", lambda m: (replace_with_folder(m / "mnist.npz"), m / "mnist.npz")[1],
                        "NumPy .npz archive of plain"),
    "cifar-truncated": ("cifar10", lambda m: (cut(m / "cifar10.npz", 0.8), m / "cifar10.npz")[1],
                        "NumPy .npz archive of plain"),
    "review-not-utf8": ("imdb", lambda m: ((m / "imdb/train/pos/0_7.txt").write_bytes(b"caf\xe9 ok"),
                                           m / "imdb/train/pos/0_7.txt")[1], "expected UTF-8 text"),
    "review-is-a-folder": ("imdb", lambda m: (replace_with_folder(m / "imdb/test/neg/1_2.txt"),
                                              m / "imdb/test/neg/1_2.txt")[1], "readable text file"),
    "reviews-split-empty": ("imdb", lambda m: (shutil.rmtree(m / "imdb/test/pos"), m / "imdb/test/pos")[1],
                            "folder of .txt reviews"),
    "wav-cut": ("fsdd", lambda m: (cut(m / "fsdd/recordings/3_alice_5.wav", 0.8),
                                   m / "fsdd/recordings/3_alice_5.wav")[1], "cut short"),
    "wav-header-cut": ("fsdd", lambda m: (cut(m / "fsdd/recordings/3_alice_5.wav", 0.1),
                                          m / "fsdd/recordings/3_alice_5.wav")[1], "readable PCM WAV"),
    "wav-zero-frames": ("fsdd", lambda m: (write_wav(m / "fsdd/recordings/2_bob_6.wav", np.zeros(0)),
                                           m / "fsdd/recordings/2_bob_6.wav")[1], "0 frames"),
    "wav-not-a-wav": ("fsdd", lambda m: ((m / "fsdd/recordings/1_bob_1.wav").write_text("hello"),
                                         m / "fsdd/recordings/1_bob_1.wav")[1], "readable PCM WAV"),
    "wav-stereo": ("fsdd", lambda m: (write_wav(m / "fsdd/recordings/1_bob_1.wav", np.zeros(20), channels=2),
                                      m / "fsdd/recordings/1_bob_1.wav")[1], "mono 16-bit"),
    "wav-is-a-folder": ("fsdd", lambda m: (replace_with_folder(m / "fsdd/recordings/0_alice_0.wav"),
                                           m / "fsdd/recordings/0_alice_0.wav")[1], "readable PCM WAV"),
    "recordings-no-train": ("fsdd", lambda m: ([p.unlink() for p in (m / "fsdd/recordings").glob("*_[56].wav")],
                                               m / "fsdd/recordings")[1], "no train recordings"),
    "text-not-utf8": ("shakespeare", lambda m: ((m / "shakespeare/input.txt").write_bytes(b"\xff\xfe" * 9000),
                                                m / "shakespeare/input.txt")[1], "expected UTF-8 text"),
    "text-is-a-folder": ("shakespeare", lambda m: (replace_with_folder(m / "shakespeare/input.txt"),
                                                   m / "shakespeare/input.txt")[1], "readable text file"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_damaged_mirror_is_a_mirror_format_error_naming_the_file(mirror, monkeypatch, case):
    name, damage, words = CASES[case]
    root = mirror(name)
    bad = damage(root)
    monkeypatch.setenv("UDL_DATA_DIR", str(root))
    with pytest.raises(MirrorFormatError) as info:
        data.load(name, verbose=False)
    assert str(bad) in str(info.value) and words in str(info.value), str(info.value)


# ---------------------------------------------------------------- the cache: found by its recorded hashes, healed
def test_a_cache_file_swapped_for_another_valid_npz_is_found_and_downloaded_again(server, monkeypatch, sha, isolate):
    arrays = serve_mnist(server, monkeypatch, sha)
    data.fill_cache("mnist")
    write_images(isolate.cache / "mnist.npz", (28, 28), 50, 10, seed=99)  # valid, but not what was fetched
    ds = data.load("mnist", verbose=False)
    assert ds.source == "download" and "cached copy was damaged" in ds.notice and "downloaded again" in ds.notice
    np.testing.assert_array_equal(ds.x_train, arrays["x_train"])
    assert server.count() == 2 and data.verify("mnist").startswith("mnist: ok")
    assert data.load("mnist", verbose=False).source == "cache"


@pytest.mark.parametrize("damage", ["truncate", "garbage", "manifest-json", "manifest-keys", "missing-file"])
def test_a_damaged_cache_is_healed_by_load_and_reported_by_verify(server, monkeypatch, sha, isolate, damage):
    arrays = serve_mnist(server, monkeypatch, sha)
    data.fill_cache("mnist")
    cached, manifest = isolate.cache / "mnist.npz", isolate.cache / "mnist.manifest.json"
    {"truncate": lambda: cut(cached), "garbage": lambda: cached.write_bytes(b"x" * 100),
     "manifest-json": lambda: manifest.write_text("{not json"), "manifest-keys": lambda: manifest.write_text("[]"),
     "missing-file": cached.unlink}[damage]()
    verdict = data.verify("mnist")
    assert verdict.startswith("mnist: CORRUPTED") and "udl data fetch --force mnist" in verdict
    assert cli.main(["data", "verify", "mnist"]) == 1
    ds = data.load("mnist", verbose=False)
    assert ds.source == "download" and "cached copy was damaged" in ds.notice
    np.testing.assert_array_equal(ds.x_test, arrays["x_test"])
    assert data.verify("mnist").startswith("mnist: ok")


def test_a_damaged_cache_offline_falls_back_with_a_notice(server, monkeypatch, sha, isolate):
    serve_mnist(server, monkeypatch, sha)
    data.fill_cache("mnist")
    cut(isolate.cache / "mnist.npz")
    monkeypatch.setenv("UDL_OFFLINE", "1")
    ds = data.load("mnist", verbose=False)
    assert ds.is_sample and "cached copy was damaged" in ds.notice and "downloads off" in ds.notice
    assert server.count() == 1


def test_the_manifest_is_written_last_so_a_fill_cut_short_is_not_used(server, monkeypatch, sha, isolate):
    serve_mnist(server, monkeypatch, sha)
    data.fill_cache("mnist")
    (isolate.cache / "mnist.manifest.json").unlink()  # as if the process died before the manifest
    assert data.locate("mnist")[1][1] is False
    assert data.load("mnist", verbose=False).source == "download"
    assert server.count() == 1  # the file itself is whole: its pinned hash matched, so it was not fetched again
    assert files(isolate.cache) == ["mnist.manifest.json", "mnist.npz"]
    assert json.loads((isolate.cache / "mnist.manifest.json").read_text())["sha256"]


def test_a_copied_cache_is_hashed_once_and_then_trusted_by_its_new_fingerprint(server, monkeypatch, sha, isolate,
                                                                                 tmp_path):
    serve_mnist(server, monkeypatch, sha)
    data.fill_cache("mnist")
    copy = tmp_path / "copied-cache"
    shutil.copytree(isolate.cache, copy)  # new inodes and times: the fingerprint no longer matches
    monkeypatch.setenv("UDL_CACHE_DIR", str(copy))
    before = json.loads((copy / "mnist.manifest.json").read_text())["stamp"]
    assert data.load("mnist", verbose=False).source == "cache"
    after = json.loads((copy / "mnist.manifest.json").read_text())["stamp"]
    assert after != before and after == data._stamp(copy / "mnist.npz") and server.count() == 1
