"""The loopback origin of `make smoke-full` (tests/loopback.py) and the setting that points udl at it (UDL_ORIGINS).

The archives are built in the canonical formats and layouts; udl's real download -> verify -> extract -> read path
must accept them, and a replaced origin must stay pinned: the wrong bytes are refused as from the real origin.
"""

import json
import pickle
import tarfile
import zipfile

import numpy as np
import pytest

import loopback
from test_pm25 import csv_text, write_csv
from udl import data
from udl.settings import SettingError

SIZES = {"mnist": (70, 25), "cifar10": (45, 12), "imdb": (8, 5)}  # more than the mirror holds: repeated


@pytest.fixture
def served(mirror, tmp_path, monkeypatch):
    """Build every archive from a small mirror, serve it and point UDL_ORIGINS at it (full profile)."""
    root = mirror("mnist", "cifar10", "imdb", "fsdd", "shakespeare", images=(30, 10), reviews=(6, 3))
    write_csv(root, csv_text())
    monkeypatch.setattr(data, "PM25_CONTENT", loopback.sha256(root / "pm25" / data.PM25_CSV))
    folder = tmp_path / "origin"
    files = loopback.build(root, folder, sizes=SIZES)
    expect = {"imdb": {"reviews_per_class": {"train": 8, "test": 5}},  # the canonical fill insists on 12,500
              "fsdd": {"recordings_digest": data._digest(root / "fsdd" / "recordings")}}  # not upstream's recordings
    with loopback.serve(folder) as base:
        origins = loopback.origins(base, files, folder, tmp_path / "origins.json", expect)
        monkeypatch.setenv("UDL_ORIGINS", str(origins))
        monkeypatch.setenv("UDL_PROFILE", "full")
        yield root, files, base


def test_each_dataset_is_downloaded_verified_extracted_and_read_from_the_loopback_origin(served, capsys):
    root, files, base = served
    for name in data.names():
        ds = data.load(name)
        assert ds.source == "download", (name, ds.notice)
        assert data.origins()[name] == f"download: {base}/{loopback.url_path(name)}"
        assert loopback.url_path(name) in capsys.readouterr().out
    with np.load(root / "mnist.npz") as m:
        mnist = data.load("mnist", verbose=False)
        assert mnist.x_train.shape == (70, 28, 28) and mnist.x_test.shape == (25, 28, 28)
        np.testing.assert_array_equal(mnist.x_train, m["x_train"][np.arange(70) % 30])
    with np.load(root / "cifar10.npz") as m:
        cifar = data.load("cifar10", verbose=False)
        np.testing.assert_array_equal(cifar.x_train, m["x_train"][np.arange(45) % 30])  # the planes read back
        np.testing.assert_array_equal(cifar.y_test, m["y_test"][np.arange(12) % 10])
    imdb = data.load("imdb", verbose=False)
    mirror_texts = {f.read_text() for f in (root / "imdb").rglob("*.txt")}
    assert len(imdb.x_train) == 16 and len(imdb.x_test) == 10 and set(imdb.x_train) <= mirror_texts
    assert data.load("shakespeare", verbose=False).text == (root / "shakespeare" / "input.txt").read_text()
    assert len(data.load("fsdd", verbose=False).x_train) + len(data.load("fsdd", verbose=False).x_test) == 140
    cached = data.cache_dir()
    assert not list(cached.rglob("unsup")) and not list(cached.rglob("urls_*.txt"))  # only the reviews are kept
    data.load("mnist")  # a second load reads the cache, and says where it was downloaded from
    assert data.origins()["mnist"] == (f"cache: {cached / 'mnist.npz'} (downloaded from "
                                       f"{base}/{loopback.url_path('mnist')})")


def test_the_archives_have_the_canonical_layouts(served):
    _, files, _ = served
    with tarfile.open(files["cifar10"]) as tar:
        names = tar.getnames()
        batch = pickle.loads(tar.extractfile("cifar-10-batches-py/data_batch_1").read(), encoding="bytes")
        meta = pickle.loads(tar.extractfile("cifar-10-batches-py/batches.meta").read(), encoding="bytes")
    assert {"cifar-10-batches-py/test_batch", "cifar-10-batches-py/readme.html"} <= set(names)
    assert set(batch) == {b"batch_label", b"labels", b"data", b"filenames"} and batch[b"data"].shape == (45, 3072)
    assert meta[b"label_names"][0] == b"airplane" and meta[b"num_vis"] == 3072
    with tarfile.open(files["imdb"]) as tar:
        names = set(tar.getnames())
    for name in ("aclImdb/README", "aclImdb/imdb.vocab", "aclImdb/train/urls_pos.txt", "aclImdb/test/urls_neg.txt",
                 "aclImdb/train/unsup/0_0.txt", "aclImdb/train/urls_unsup.txt", "aclImdb/train/labeledBow.feat",
                 "aclImdb/train/pos/7_10.txt", "aclImdb/test/neg/4_1.txt"):
        assert name in names
    assert sum(n.startswith("aclImdb/train/pos/") for n in names) == 8
    with tarfile.open(files["fsdd"]) as tar:
        assert all(n.startswith(loopback.FSDD_ROOT) for n in tar.getnames())
        assert f"{loopback.FSDD_ROOT}/recordings/0_alice_0.wav" in tar.getnames()
    assert zipfile.ZipFile(files["pm25"]).namelist() == [data.PM25_CSV]
    with np.load(files["mnist"]) as m:
        assert sorted(m.files) == ["x_test", "x_train", "y_test", "y_train"] and m["x_train"].dtype == np.uint8


def test_a_replaced_origin_stays_pinned_wrong_bytes_are_refused(served, monkeypatch, tmp_path, capsys):
    table = json.loads((tmp_path / "origins.json").read_text())
    table["mnist"]["sha256"] = "0" * 64
    (tmp_path / "origins.json").write_text(json.dumps(table))
    mnist = data.load("mnist")
    assert mnist.is_sample and "SHA-256 does not match the pinned hash" in mnist.notice
    assert not (data.cache_dir() / "mnist.npz").exists()


def test_the_imdb_count_check_still_holds_unless_the_origins_file_says_otherwise(served, tmp_path):
    table = json.loads((tmp_path / "origins.json").read_text())
    del table["imdb"]["expect"]
    (tmp_path / "origins.json").write_text(json.dumps(table))
    imdb = data.load("imdb")
    assert imdb.is_sample and "expected 12,500 train/pos reviews, found 8" in imdb.notice


def _write(tmp_path, monkeypatch, table):
    path = tmp_path / "origins.json"
    path.write_text(json.dumps(table))
    monkeypatch.setenv("UDL_ORIGINS", str(path))


GOOD = {"url": "http://127.0.0.1:8000/mnist.npz", "sha256": "a" * 64}


@pytest.mark.parametrize("table, message", [
    ({"mnist": {**GOOD, "url": "https://storage.example.org/mnist.npz"}}, "whose URLs are on this machine"),
    ({"mnist": {**GOOD, "url": "file:///etc/passwd"}}, "whose URLs are on this machine"),
    ({"mnist": {"url": GOOD["url"]}}, "pinning every archive by its SHA-256"),
    ({"mnist": {**GOOD, "sha256": "A" * 64}}, "pinning every archive by its SHA-256"),
    ({"emnist": GOOD}, "whose keys are datasets"),
    ({"mnist": {**GOOD, "mirror": True}}, "whose entry for mnist is"),
    ({"mnist": {**GOOD, "expect": {"reviews_per_class": {"train": 1, "test": 1}}}}, "whose 'expect' names only reviews_per_class for imdb, recordings_digest for fsdd"),
    ({"imdb": {**GOOD, "expect": {"reviews_per_class": {"train": 0, "test": 1}}}}, "whose imdb reviews_per_class is"),
    ({"fsdd": {**GOOD, "expect": {"recordings_digest": "xyz"}}}, "whose fsdd recordings_digest is 64"),
    (["mnist"], "holding an object"),
])
def test_an_origins_file_that_is_not_loopback_and_pinned_is_refused(tmp_path, monkeypatch, table, message):
    _write(tmp_path, monkeypatch, table)
    with pytest.raises(SettingError, match=f"`UDL_ORIGINS` must be a JSON file {message}"):
        data.origin_url("mnist")


def test_origins_setting_names_a_missing_file_and_unset_means_canonical(tmp_path, monkeypatch):
    assert data.origin_url("imdb") == data.URLS["imdb"] and data.replaced_origins() == {}
    monkeypatch.setenv("UDL_ORIGINS", str(tmp_path / "nowhere.json"))
    with pytest.raises(SettingError, match="`UDL_ORIGINS` must be an existing JSON file .*no such file"):
        data.load("mnist")
    _write(tmp_path, monkeypatch, {"mnist": GOOD})
    assert data.origin_url("mnist") == GOOD["url"] and data.origin_url("imdb") == data.URLS["imdb"]


def test_the_smoke_reports_failed_asserts_and_fails_on_any_other_exception():
    import nbformat

    import smoke_full

    def cell(ename):
        return nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output("error", ename=ename, evalue="why",
                                                                               traceback=[])])

    nb = nbformat.v4.new_notebook(cells=[cell("AssertionError"), nbformat.v4.new_code_cell("y"), cell("ValueError"),
                                         cell("NameError")])
    crash, asserts = smoke_full._errors(nb)
    assert crash == "cell 2: ValueError: why" and asserts == ["cell 0: AssertionError: why"]
    assert smoke_full._errors(nbformat.v4.new_notebook(cells=[cell("AssertionError")]))[0] is None
