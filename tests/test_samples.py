"""Tests for udl.samples: the built-in samples' form, determinism, cache safety and the properties they teach.

The autouse `isolate` fixture (conftest.py) refuses every connection beyond 127.0.0.1, so these tests also
show that no sample needs the network.
"""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from udl import samples

NAMES = ["mnist", "cifar10", "imdb", "fsdd", "shakespeare"]
MAKERS = {"mnist": samples._mnist, "cifar10": samples._cifar10, "imdb": samples._imdb, "fsdd": samples._fsdd,
          "shakespeare": samples._shakespeare}


def assert_same(a, b, where="sample"):
    """Assert two sample dicts (or their values) are equal, arrays and lists of arrays included."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b), where
    else:
        assert a == b, where


# ---------------------------------------------------------------- common to all samples
@pytest.mark.parametrize("name", NAMES)
def test_description_is_one_short_line(name):
    description = getattr(samples, name)()["description"]
    assert isinstance(description, str) and 20 < len(description) < 250 and "\n" not in description


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_when_made_again(name):
    first = getattr(samples, name)()
    MAKERS[name].cache_clear()
    assert_same(first, getattr(samples, name)())


@pytest.mark.parametrize("name", NAMES)
def test_callers_cannot_corrupt_the_cache(name):
    pristine = getattr(samples, name)()
    spoiled = getattr(samples, name)()
    for key, value in spoiled.items():
        if isinstance(value, np.ndarray):
            value[...] = value.flat[-1]
        elif isinstance(value, list):
            if isinstance(value[0], np.ndarray):
                value[0][:] = 0
            value.reverse()
            value.append(value[0])
    spoiled["text" if name == "shakespeare" else "class_names"] = "changed"
    spoiled["extra"] = 1
    assert_same(pristine, getattr(samples, name)())


def test_importing_samples_does_not_import_tensorflow():
    code = "import sys, udl.samples; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------- images
@pytest.mark.parametrize("name, shape", [("mnist", (28, 28)), ("cifar10", (32, 32, 3))])
def test_images_have_the_real_datasets_form(name, shape):
    d = getattr(samples, name)()
    assert len(d["class_names"]) == 10 and all(isinstance(c, str) for c in d["class_names"])
    for split in ("train", "test"):
        x, y = d[f"x_{split}"], d[f"y_{split}"]
        assert x.dtype == np.uint8 and x.shape[1:] == shape and len(x) == len(y) > 100
        assert y.dtype == np.uint8 and y.ndim == 1
        assert set(np.unique(y)) == set(range(10)), f"every class in {split}"
        assert x.max() == 255 and x.min() == 0
    assert len(d["x_train"]) > 3 * len(d["x_test"])


def test_mnist_looks_like_mnist():
    d = samples.mnist()
    assert d["class_names"] == [str(i) for i in range(10)]
    x = d["x_train"].astype(np.float64)
    frame = np.ones((28, 28), bool)
    frame[1:-1, 1:-1] = False
    assert x[:, frame].max() == 0  # a ~20-pixel white digit on black, nothing on the outer rim
    mass = x.sum(axis=(1, 2))
    rows = (x.sum(axis=2) * np.arange(28)).sum(axis=1) / mass
    cols = (x.sum(axis=1) * np.arange(28)).sum(axis=1) / mass
    assert np.abs(rows - 14).max() < 1 and np.abs(cols - 14).max() < 1  # centred by centre of mass
    assert 0.1 < (x > 128).mean() < 0.3  # thin bright strokes on a mostly black field


def test_cifar10_classes_differ_and_test_crops_are_new():
    d = samples.cifar10()
    means = np.stack([d["x_train"][d["y_train"] == k].mean(axis=(0, 1, 2)) for k in range(10)])
    assert np.unique(means.round(), axis=0).shape[0] == 10
    train = {bytes(image) for image in d["x_train"]}
    assert not any(bytes(image) in train for image in d["x_test"])
    assert sum(d["x_train"][:, :, :, 0].std(axis=(1, 2)) > 0) > 0.9 * len(d["x_train"])  # hardly any flat crop


# ---------------------------------------------------------------- imdb
def sentence_sentiment(sentence: str):
    """Read one sentence the way the sample's grammar means it: True/False, or None for a neutral sentence."""
    s = sentence.lower().rstrip(".")
    if "recommend" in s:
        return "not recommend" not in s
    words = s.split(", but ")[-1].split()  # the clause after "but" decides
    found = [i for i, w in enumerate(words) if w in samples.POSITIVE or w in samples.NEGATIVE]
    if not found:
        return None
    i = found[-1]
    return (words[i] in samples.POSITIVE) != (words[i - 1] in samples.NEGATIONS)  # a negation flips it


def test_imdb_form_and_balance():
    d = samples.imdb()
    assert d["class_names"] == ["neg", "pos"]
    for split in ("train", "test"):
        x, y = d[f"x_{split}"], d[f"y_{split}"]
        assert isinstance(x, list) and all(isinstance(t, str) and t for t in x)
        assert y.dtype == np.uint8 and len(y) == len(x) and set(np.unique(y)) == {0, 1}
        assert np.bincount(y)[0] == np.bincount(y)[1]
    assert not set(d["x_train"]) & set(d["x_test"])
    assert len(set(d["x_train"])) == len(d["x_train"])


def test_imdb_label_follows_word_order():
    d = samples.imdb()
    for text, label in zip(d["x_train"] + d["x_test"], np.concatenate([d["y_train"], d["y_test"]])):
        sentences = re.split(r"(?<=\.) ", text)
        assert 1 <= len(sentences) <= 4, text
        opinions = {sentence_sentiment(s) for s in sentences} - {None}
        assert opinions == {bool(label)}, text


def test_imdb_same_words_in_both_classes():
    d = samples.imdb()
    words = {0: set(), 1: set()}
    for text, label in zip(d["x_train"], d["y_train"]):
        words[label].update(re.findall(r"[a-z]+", text.lower()))
    for word in samples.POSITIVE + samples.NEGATIVE + samples.NEGATIONS + ["but", "recommend"]:
        assert word in words[0] and word in words[1], word


def test_imdb_a_sentence_and_its_negation_carry_opposite_labels():
    d = samples.imdb()
    labels_of = {}  # sentence -> labels of the reviews it occurs in
    for text, label in zip(d["x_train"] + d["x_test"], np.concatenate([d["y_train"], d["y_test"]])):
        for sentence in re.split(r"(?<=\.) ", text):
            labels_of.setdefault(sentence, set()).add(int(label))
    pairs = []
    for sentence, labels in labels_of.items():
        plain = re.fullmatch(r"The ([a-z ]+) was ([a-z]+)\.", sentence)
        if plain and plain[2] in samples.POSITIVE + samples.NEGATIVE:
            for negation in samples.NEGATIONS:
                negated = f"The {plain[1]} was {negation} {plain[2]}."
                if negated in labels_of:
                    pairs.append((sentence, negated))
                    assert len(labels) == 1 and labels_of[negated] == {1 - min(labels)}, (sentence, negated)
    assert len(pairs) >= 20


# ---------------------------------------------------------------- fsdd
def test_fsdd_recordings():
    d = samples.fsdd()
    assert d["sample_rate"] == 8000 and d["class_names"] == [str(i) for i in range(10)]
    for split in ("train", "test"):
        x, y, speakers = d[f"x_{split}"], d[f"y_{split}"], d[f"speakers_{split}"]
        assert isinstance(x, list) and len(x) == len(y) == len(speakers)
        assert y.dtype == np.uint8 and set(np.unique(y)) == set(range(10))
        for clip in x:
            assert clip.dtype == np.float32 and clip.ndim == 1
            assert 0.1 < len(clip) / d["sample_rate"] < 1.0
            assert np.abs(clip).max() <= 1.0 and np.abs(clip).max() > 0.9  # peak-normalised
        assert speakers.dtype.kind == "U"
        assert all(s.startswith("espeak-") and "_" not in s for s in speakers)  # fits {digit}_{speaker}_{index}
    assert set(d["speakers_train"]) == set(d["speakers_test"])
    assert len(d["x_train"]) == 4 * len(d["x_test"])
    assert set(d["takes_test"].tolist()) == {0} and set(d["takes_train"].tolist()) == {1, 2, 3, 4}
    assert len(d["takes_train"]) == len(d["x_train"]) and len(d["takes_test"]) == len(d["x_test"])


# ---------------------------------------------------------------- shakespeare
def test_shakespeare_text():
    d = samples.shakespeare()
    text = d["text"]
    assert isinstance(text, str) and len(text) >= 200_000
    assert "\n\n\n" not in text and text.endswith("\n")
    assert "not Shakespeare" in d["description"]
