"""The mirror format (udl.formats): a hand-made mirror with a mistake is refused loudly, through `data.load`."""

import numpy as np
import pytest

from conftest import write_images, write_wav
from udl import data, formats


# ---------------------------------------------------------------- the mirror format, refused loudly
def _bad_npz(path, **changes):
    arrays = write_images(path, (28, 28), 10, 5)
    arrays.update(changes)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})


@pytest.mark.parametrize("changes,expected,found", [
    ({"x_train": None, "images": np.zeros((10, 28, 28), np.uint8)},
     "expected the keys ['x_train', 'y_train', 'x_test', 'y_test']", "keys ['images', 'x_test'"),
    ({"x_train": np.zeros((10, 28, 28), np.float32)}, "x_train of dtype uint8 and shape (N, 28, 28)", "float32"),
    ({"x_test": np.zeros((5, 32, 32), np.uint8)}, "x_test of dtype uint8 and shape (N, 28, 28)", "(5, 32, 32)"),
    ({"x_test": np.zeros((5, 28, 28, 1), np.uint8)}, "x_test of dtype uint8 and shape (N, 28, 28)", "(5, 28, 28, 1)"),
    ({"y_train": np.arange(10, dtype=np.float32)}, "y_train of integers with shape (10,)", "float32"),
    ({"y_test": np.zeros(4, np.uint8)}, "y_test of integers with shape (5,)", "(4,)"),
    ({"y_train": np.arange(1, 11, dtype=np.uint8)}, "y_train labels in 0..9", "range 1..10"),
    ({"y_test": -np.ones(5, np.int64)}, "y_test labels in 0..9", "range -1..-1"),
])
def test_mirror_npz_mistakes_name_the_file_and_what_was_expected(tmp_path, monkeypatch, server, changes, expected,
                                                                found):
    _bad_npz(tmp_path / "m" / "mnist.npz", **changes)
    monkeypatch.setenv("UDL_DATA_DIR", str(tmp_path / "m"))
    with pytest.raises(formats.MirrorFormatError) as info:
        data.load("mnist")  # a broken mirror is an error, not a silent fallback
    message = str(info.value)
    assert message.startswith(str(tmp_path / "m" / "mnist.npz") + ":")
    assert expected in message and found in message and "data/README.md" in message
    assert server.count() == 0


def test_mirror_file_that_is_not_an_npz(tmp_path, monkeypatch):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "mnist.npz").write_text("not numpy")
    monkeypatch.setenv("UDL_DATA_DIR", str(tmp_path / "m"))
    with pytest.raises(formats.MirrorFormatError, match="expected a NumPy .npz archive"):
        data.load("mnist")


def test_mirror_reviews_and_recordings_mistakes(tmp_path, mirror, monkeypatch):
    root = mirror("imdb", "fsdd", "shakespeare")
    monkeypatch.setenv("UDL_DATA_DIR", str(root))
    for f in (root / "imdb" / "test" / "pos").iterdir():
        f.unlink()
    with pytest.raises(formats.MirrorFormatError, match="expected a folder of .txt reviews") as info:
        data.load("imdb")
    assert str(root / "imdb" / "test" / "pos") in str(info.value)

    recordings = root / "fsdd" / "recordings"
    (recordings / "seven_alice_3.wav").write_bytes((recordings / "7_alice_3.wav").read_bytes())
    with pytest.raises(formats.MirrorFormatError, match=r"expected a name \{digit\}_\{speaker\}_\{index\}.wav"):
        data.load("fsdd")
    (recordings / "seven_alice_3.wav").unlink()
    write_wav(recordings / "7_carol_1.wav", np.zeros(200, np.int16), channels=2)
    with pytest.raises(formats.MirrorFormatError, match="expected mono 16-bit PCM; found 2 channel") as info:
        data.load("fsdd")
    assert "7_carol_1.wav" in str(info.value)
    write_wav(recordings / "7_carol_1.wav", np.zeros(200, np.int16), rate=16000)
    with pytest.raises(formats.MirrorFormatError, match=r"expected one sample rate .*\[8000, 16000\]"):
        data.load("fsdd")

    (root / "shakespeare" / "input.txt").write_text("To be, or not to be.")
    with pytest.raises(formats.MirrorFormatError, match="expected at least 10,000 characters; found 20"):
        data.load("shakespeare")
    (root / "shakespeare" / "input.txt").write_bytes(b"\xff\xfe" + b"x" * 20_000)
    with pytest.raises(formats.MirrorFormatError, match="expected UTF-8 text"):
        data.load("shakespeare")
