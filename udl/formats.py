"""Read and validate the mirror format: the on-disk layout of a dataset folder (``UDL_DATA_DIR`` or the cache).

The layout is documented in ``data/README.md``. Every reader checks keys, dtypes, shapes and label
ranges and raises `MirrorFormatError` naming the file, what was expected and what was found, so that a
hand-made classroom mirror with a mistake fails loudly instead of training on garbage.
"""

from __future__ import annotations

import re
import wave
import zipfile
import zlib
from pathlib import Path

import numpy as np

IMAGE_KEYS = ("x_train", "y_train", "x_test", "y_test")
FSDD_NAME = re.compile(r"^(\d)_([A-Za-z0-9-]+)_(\d+)\.wav$")
FSDD_TEST_INDICES = range(5)  # upstream FSDD: recordings 0-4 of each speaker and digit are the test set


class MirrorFormatError(ValueError):
    """A mirror or cache file does not have the documented layout."""


# What a damaged file raises while it is read: each becomes a MirrorFormatError naming the file.
UNREADABLE = (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile, zlib.error)


def _bad(path: Path, what: str, found) -> MirrorFormatError:
    return MirrorFormatError(f"{path}: {what}; found {found}. See data/README.md for the mirror format.")


def _unreadable(path: Path, what: str, exc: BaseException) -> MirrorFormatError:
    return _bad(path, what, f"{type(exc).__name__}: {str(exc)[:200]}")


def read_images(path: Path, image_shape: tuple[int, ...], n_classes: int) -> dict:
    """Read an ``.npz`` with x_train/y_train/x_test/y_test uint8 images of `image_shape` and labels < `n_classes`."""
    path = Path(path)
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise _bad(path, "expected a NumPy .npz archive", f"a single array ({type(archive).__name__})")
        with archive:
            missing = [k for k in IMAGE_KEYS if k not in archive.files]
            if missing:
                raise _bad(path, f"expected the keys {list(IMAGE_KEYS)}", f"keys {sorted(archive.files)}")
            out = {key: archive[key] for key in IMAGE_KEYS}  # reads (and decompresses) each array in full
    except MirrorFormatError:
        raise
    except UNREADABLE as exc:
        raise _unreadable(path, "expected a NumPy .npz archive of plain (not object) arrays, readable in full",
                          exc) from None
    for split in ("train", "test"):
        x, y = out[f"x_{split}"], out[f"y_{split}"]
        if len(x) == 0:
            raise _bad(path, f"expected at least one {split} image in x_{split}", "none")
        if x.dtype != np.uint8 or x.ndim != 1 + len(image_shape) or x.shape[1:] != tuple(image_shape):
            raise _bad(path, f"expected x_{split} of dtype uint8 and shape (N, {', '.join(map(str, image_shape))})",
                       f"dtype {x.dtype} and shape {x.shape}")
        if y.ndim == 2 and y.shape[1] == 1:  # Keras's CIFAR files store labels as (N, 1)
            y = y[:, 0]
        if not np.issubdtype(y.dtype, np.integer) or y.shape != (len(x),):
            raise _bad(path, f"expected y_{split} of integers with shape ({len(x)},)", f"dtype {y.dtype} and shape {y.shape}")
        if len(y) and (y.min() < 0 or y.max() >= n_classes):
            raise _bad(path, f"expected y_{split} labels in 0..{n_classes - 1}", f"range {y.min()}..{y.max()}")
        out[f"y_{split}"] = y.astype(np.uint8)
    return out


def read_reviews(folder: Path, seed: int = 0) -> dict:
    """Read ``{train,test}/{neg,pos}/*.txt`` reviews; labels 0 = neg, 1 = pos; each split shuffled with `seed`."""
    folder = Path(folder)
    out = {}
    for split in ("train", "test"):
        texts, labels = [], []
        for label, cls in enumerate(("neg", "pos")):
            files = sorted((folder / split / cls).glob("*.txt"))
            if not files:
                raise _bad(folder / split / cls, "expected a folder of .txt reviews", "no .txt files")
            for f in files:
                try:
                    texts.append(f.read_text(encoding="utf-8"))
                except UnicodeDecodeError as exc:
                    raise _unreadable(f, "expected UTF-8 text", exc) from None
                except OSError as exc:
                    raise _unreadable(f, "expected a readable text file", exc) from None
            labels += [label] * len(files)
        order = np.random.default_rng(seed).permutation(len(texts))
        out[f"x_{split}"] = [texts[i] for i in order]
        out[f"y_{split}"] = np.asarray(labels, dtype=np.uint8)[order]
    return out


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Read a mono 16-bit PCM WAV file as float32 in [-1, 1] and its sample rate."""
    try:
        with wave.open(str(path), "rb") as handle:
            channels, width, rate = handle.getnchannels(), handle.getsampwidth(), handle.getframerate()
            count = handle.getnframes()
            frames = handle.readframes(count)
    except (wave.Error, *UNREADABLE) as exc:
        raise _unreadable(Path(path), "expected a readable PCM WAV file", exc) from None
    if channels != 1 or width != 2:
        raise _bad(Path(path), "expected mono 16-bit PCM", f"{channels} channel(s) of {8 * width}-bit samples")
    if count == 0:
        raise _bad(Path(path), "expected a recording of at least one sample", "0 frames")
    if len(frames) != count * width or rate <= 0:
        raise _bad(Path(path), f"expected {count:,} frames at a positive rate, as its header says (is it cut short?)",
                   f"{len(frames) // width:,} frames at {rate} Hz")
    return np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0, rate


def read_recordings(folder: Path) -> dict:
    """Read ``recordings/{digit}_{speaker}_{index}.wav``; indices 0-4 are the test split, as upstream."""
    folder = Path(folder)
    files = sorted(folder.glob("*.wav"))
    if not files:
        raise _bad(folder, "expected {digit}_{speaker}_{index}.wav recordings", "no .wav files")
    split = {s: {"x": [], "y": [], "speakers": [], "takes": []} for s in ("train", "test")}
    rates = set()
    for f in files:
        match = FSDD_NAME.match(f.name)
        if not match:
            raise _bad(f, "expected a name {digit}_{speaker}_{index}.wav", repr(f.name))
        wav, rate = read_wav(f)
        rates.add(rate)
        part = split["test" if int(match.group(3)) in FSDD_TEST_INDICES else "train"]
        part["x"].append(wav)
        part["y"].append(int(match.group(1)))
        part["speakers"].append(match.group(2))
        part["takes"].append(int(match.group(3)))
    if len(rates) != 1:
        raise _bad(folder, "expected one sample rate for all recordings", sorted(rates))
    empty = [name for name, part in split.items() if not part["x"]]
    if empty:
        raise _bad(folder, "recordings for both splits (indices 0-4: test, 5 and above: train)",
                   f"no {empty[0]} recordings")
    out = {"sample_rate": rates.pop()}
    for name, part in split.items():
        out[f"x_{name}"] = part["x"]
        out[f"y_{name}"] = np.asarray(part["y"], dtype=np.uint8)
        out[f"speakers_{name}"] = np.asarray(part["speakers"])
        out[f"takes_{name}"] = np.asarray(part["takes"], dtype=np.int16)  # the index: which take of that digit
    return out


def read_text(path: Path, min_chars: int = 10_000) -> dict:
    """Read a UTF-8 text file of at least `min_chars` characters."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise _unreadable(Path(path), "expected UTF-8 text", exc) from None
    except OSError as exc:
        raise _unreadable(Path(path), "expected a readable text file", exc) from None
    if len(text) < min_chars:
        raise _bad(Path(path), f"expected at least {min_chars:,} characters", f"{len(text):,}")
    return {"text": text}


PM25_HEADER = ("No", "year", "month", "day", "hour", "pm2.5", "DEWP", "TEMP", "PRES", "cbwd", "Iws", "Is", "Ir")
PM25_COLUMNS = ("pm2.5", "dew_point", "temperature", "pressure", "wind_speed", "snow_hours", "rain_hours",
                "wind_NE", "wind_NW", "wind_SE", "wind_calm")
PM25_WINDS = ("NE", "NW", "SE", "cv")  # cv: calm and variable
PM25_TEST_YEAR = 2014  # the last year is the test split: split by time, never shuffled


def read_pm25(path: Path) -> dict:
    """Read UCI's Beijing PM2.5 CSV: hourly float32 `PM25_COLUMNS` (NaN where PM2.5 is missing), 2014 as test."""
    import csv

    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad(path, "expected a UTF-8 CSV file", repr(exc)) from None
    if not rows or tuple(rows[0]) != PM25_HEADER:
        raise _bad(path, f"expected the header {','.join(PM25_HEADER)}", ",".join(rows[0]) if rows else "an empty file")
    values, times, winds = [], [], []
    for line, row in enumerate(rows[1:], start=2):
        try:
            if len(row) != len(PM25_HEADER) or row[9] not in PM25_WINDS:
                raise ValueError(row)
            times.append(f"{int(row[1]):04d}-{int(row[2]):02d}-{int(row[3]):02d}T{int(row[4]):02d}")
            values.append([float("nan") if row[5] == "NA" else float(row[5])] + [float(v) for v in row[6:9] + row[10:]])
            winds.append(PM25_WINDS.index(row[9]))
        except ValueError:
            raise _bad(path, f"expected line {line} to hold {len(PM25_HEADER)} numbers (pm2.5 may be NA) and a "
                             f"wind direction in {PM25_WINDS}", ",".join(row)) from None
    time = np.array(times, dtype="datetime64[h]")
    if len(time) < 2 or np.any(np.diff(time) != np.timedelta64(1, "h")):
        raise _bad(path, "expected consecutive hours, one row each", f"{len(time)} rows, not hourly throughout")
    x = np.concatenate([np.asarray(values, np.float32), np.eye(4, dtype=np.float32)[winds]], axis=1)
    return split_by_year(x, time)


def split_by_year(x: np.ndarray, time: np.ndarray, test_year: int = PM25_TEST_YEAR) -> dict:
    """Split an hourly series in time: the hours before `test_year` train, the rest test."""
    test = time >= np.datetime64(f"{test_year}-01-01T00", "h")
    if test.all() or not test.any():
        raise MirrorFormatError(f"expected hours before and from {test_year}; found {time[0]} to {time[-1]}")
    return {"x_train": x[~test], "x_test": x[test], "time_train": time[~test], "time_test": time[test],
            "columns": list(PM25_COLUMNS)}
