"""The built-in samples: small stand-ins for the course datasets, made from what ships with the packages.

`udl.data.load(name)` falls back to these when there is neither a mirror nor a network. Each function returns
a fresh dict (the arrays are copies, so changing them cannot change later calls) in the same form as the real
dataset, plus a one-line `description` for the provenance message. Everything is deterministic and offline;
`data/README.md` says how each sample was made and under which licence its sources are.
"""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path

import numpy as np

DIGITS = tuple(str(d) for d in range(10))  # the class names of mnist and fsdd
SPOKEN_DIGITS = Path(__file__).resolve().parent / "_data" / "spoken_digits.npz"

# cifar10: one class per photograph bundled inside the scikit-image wheel, (loader, crop box or None).
PHOTOS = {
    "astronaut": ("astronaut", None),
    "chelsea": ("chelsea", None),  # a cat
    "coffee": ("coffee", None),
    "rocket": ("rocket", None),
    "hubble_deep_field": ("hubble_deep_field", None),
    "immunohistochemistry": ("immunohistochemistry", None),
    "retina": ("retina", (212, 1196, 212, 1196)),  # the square inside the fundus circle, no black corners
    "motorcycle": ("stereo_motorcycle", None),  # the left view of the stereo pair
    "coins": ("coins", None),  # grey
    "brick": ("brick", None),  # grey
}
CROP_FRACTIONS = (0.07, 0.28)  # crop side, as a fraction of the photo's short side (log-uniform)
TEST_BAND = 0.3  # test crops come from the last 30% along the long side; train crops from the rest

# imdb: the grammar of the synthetic reviews (every sentiment word appears in both classes).
ASPECTS = ["plot", "acting", "soundtrack", "pacing", "dialogue", "ending", "camera work", "script", "cast",
           "direction", "humour", "editing"]
POSITIVE = ["good", "great", "brilliant", "moving", "clever", "gripping", "funny", "beautiful", "convincing",
            "memorable"]
NEGATIVE = ["bad", "boring", "dull", "weak", "clumsy", "predictable", "awful", "forgettable", "tedious", "flat"]
INTENSIFIERS = ["very", "really", "truly", "quite", "rather", "remarkably"]
NEGATIONS = ["not", "never", "hardly"]
FILLERS = [
    ("I watched it {}.", ["last weekend", "on a rainy sunday", "with my brother", "at a late show",
                          "on a long flight", "twice"]),
    ("It is a {} from {}.", ["drama", "comedy", "thriller", "western", "musical", "science fiction film"],
     ["the eighties", "the nineties", "last year", "a first-time director", "a big studio"]),
    ("The film runs for about {}.", ["ninety minutes", "two hours", "two and a half hours"]),
    ("The story follows {} in {}.", ["a detective", "two sisters", "a young chef", "an old sailor", "a family"],
     ["a small town", "paris", "the desert", "a space station", "the war"]),
]


def mnist() -> dict:
    """Return 28×28 MNIST-style digits made from scikit-learn's bundled 8×8 handwritten digits."""
    return copy.deepcopy(_mnist())


def cifar10() -> dict:
    """Return 32×32 colour crops in 10 classes, one class per photograph bundled with scikit-image."""
    return copy.deepcopy(_cifar10())


def imdb() -> dict:
    """Return synthetic movie reviews whose sentiment depends on word order (negation, "X, but Y")."""
    return copy.deepcopy(_imdb())


def fsdd() -> dict:
    """Return spoken digits "zero".."nine" synthesised with espeak-ng, as 8 kHz float32 waveforms."""
    return copy.deepcopy(_fsdd())


def shakespeare() -> dict:
    """Return a long English text for character models: the Python language reference (not Shakespeare)."""
    return dict(_shakespeare())


# ---------------------------------------------------------------- mnist
def _mnist_digit(image: np.ndarray, box: int = 19) -> np.ndarray:
    """Fit one 8×8 digit (values 0..1) into a `box`-pixel square, then centre it by mass in 28×28, as MNIST does."""
    from scipy import ndimage
    from skimage.transform import resize

    rows, cols = np.flatnonzero(image.max(1) > 0.1), np.flatnonzero(image.max(0) > 0.1)
    crop = np.pad(image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1], 1)  # a blank border to fade into
    h, w = crop.shape
    scale = box / (max(h, w) - 2)  # the ink (without the border) fills the box, aspect ratio kept
    big = resize(crop, (round(h * scale), round(w * scale)), order=3, mode="constant")  # smooth bicubic
    big = np.clip(1.8 * big - 0.25, 0, 1)  # sharpen the blurry upscale towards MNIST's saturated strokes
    rows, cols = np.flatnonzero(big.max(1)), np.flatnonzero(big.max(0))
    big = big[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]  # drop the blank border again
    cy, cx = ndimage.center_of_mass(big)
    top = int(np.clip(round(14 - cy), 0, 28 - big.shape[0]))
    left = int(np.clip(round(14 - cx), 0, 28 - big.shape[1]))
    out = np.zeros((28, 28))
    out[top : top + big.shape[0], left : left + big.shape[1]] = big
    return out


@functools.lru_cache(maxsize=None)
def _mnist() -> dict:
    """Make the mnist sample once per process."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = np.stack([_mnist_digit(image / 16.0) for image in digits.images])
    x = np.round(images * 255).astype(np.uint8)
    y = digits.target.astype(np.uint8)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, stratify=y, random_state=0)
    description = (f"scikit-learn's bundled 8×8 handwritten digits, upscaled to 28×28 "
                   f"({len(y_train):,} train / {len(y_test):,} test)")
    return dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test, class_names=list(DIGITS),
                description=description)


# ---------------------------------------------------------------- cifar10
def _photo(name: str):
    """Return a bundled scikit-image photograph as an RGB PIL image."""
    import skimage.data
    from PIL import Image

    loader, box = PHOTOS[name]
    image = getattr(skimage.data, loader)()
    image = image[0] if isinstance(image, tuple) else image  # stereo_motorcycle -> (left, right, disparity)
    if box is not None:
        image = image[box[0] : box[1], box[2] : box[3]]
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    return Image.fromarray(np.ascontiguousarray(image[..., :3]))


def _crops(photo, n: int, test: bool, rng: np.random.Generator) -> np.ndarray:
    """Cut `n` random square crops at random scales from the train or test region, resized to 32×32, half flipped."""
    from PIL import Image

    width, height = photo.size
    long_side, short_side = max(width, height), min(width, height)
    cut = int((1 - TEST_BAND) * long_side)
    sides = np.maximum(32, short_side * np.exp(rng.uniform(*np.log(CROP_FRACTIONS), n)))
    out = np.empty((n, 32, 32, 3), np.uint8)
    for i, side in enumerate(sides):
        along = rng.uniform(cut, long_side - side) if test else rng.uniform(0, cut - side)
        across = rng.uniform(0, short_side - side)
        x, y = (along, across) if width >= height else (across, along)
        crop = np.asarray(photo.resize((32, 32), Image.Resampling.BILINEAR, box=(x, y, x + side, y + side)))
        out[i] = crop[:, ::-1] if rng.random() < 0.5 else crop
    return out


@functools.lru_cache(maxsize=None)
def _cifar10(n_train: int = 300, n_test: int = 60) -> dict:
    """Make the cifar10 sample once per process: `n_train` and `n_test` crops per class."""
    parts = {"train": [], "test": []}
    for label, name in enumerate(PHOTOS):
        rng = np.random.default_rng(label)
        photo = _photo(name)
        parts["train"].append(_crops(photo, n_train, False, rng))
        parts["test"].append(_crops(photo, n_test, True, rng))
    x_train, x_test = np.concatenate(parts["train"]), np.concatenate(parts["test"])
    y_train, y_test = (np.repeat(np.arange(10, dtype=np.uint8), n) for n in (n_train, n_test))
    order_train, order_test = (np.random.default_rng(seed).permutation(len(y)) for seed, y in
                               ((10, y_train), (11, y_test)))
    description = (f"32×32 crops of 10 photographs bundled with scikit-image, one class per photo (8 colour; "
                   f"coins and brick grey), test crops from a region no train crop touches "
                   f"({len(y_train):,} train / {len(y_test):,} test)")
    return dict(x_train=x_train[order_train], y_train=y_train[order_train], x_test=x_test[order_test],
                y_test=y_test[order_test], class_names=list(PHOTOS), description=description)


# ---------------------------------------------------------------- imdb
def _pick(rng: np.random.Generator, words: list):
    """Return one of `words` (faster than rng.choice on a list)."""
    return words[rng.integers(len(words))]


def _phrase(rng: np.random.Generator, positive: bool) -> str:
    """Return an adjective phrase with the given sentiment: plain (maybe intensified) or a negated opposite."""
    if rng.random() < 0.75:
        adjective = _pick(rng, POSITIVE if positive else NEGATIVE)
        return f"{_pick(rng, INTENSIFIERS)} {adjective}" if rng.random() < 0.4 else adjective
    return f"{_pick(rng, NEGATIONS)} {_pick(rng, NEGATIVE if positive else POSITIVE)}"


def _opinion(rng: np.random.Generator, positive: bool) -> str:
    """Return one opinion sentence with the given sentiment."""
    form = rng.random()
    aspect, other = (ASPECTS[i] for i in rng.choice(len(ASPECTS), 2, replace=False))
    if form < 0.65:
        return f"The {aspect} was {_phrase(rng, positive)}."
    if form < 0.86:  # the clause after "but" decides
        return f"The {other} was {_phrase(rng, not positive)}, but the {aspect} was {_phrase(rng, positive)}."
    if form < 0.93:
        return f"At first it seemed {_phrase(rng, not positive)}, but in the end it was {_phrase(rng, positive)}."
    qualifier = _pick(rng, ["", "honestly ", "really "])
    return f"I would {qualifier}{'' if positive else 'not '}recommend it{_pick(rng, ['', ' to anyone'])}."


def _filler(rng: np.random.Generator) -> str:
    """Return one neutral sentence (no sentiment words)."""
    template, *choices = FILLERS[rng.integers(len(FILLERS))]
    return template.format(*(_pick(rng, c) for c in choices))


def _review(rng: np.random.Generator, positive: bool) -> str:
    """Return a review of 1–4 sentences: one or two opinions that agree, and up to two neutral sentences."""
    sentences = [_opinion(rng, positive) for _ in range(rng.integers(1, 3))]
    sentences += [_filler(rng) for _ in range(rng.integers(0, 3))]
    return " ".join(sentences[i] for i in rng.permutation(len(sentences)))


@functools.lru_cache(maxsize=None)
def _imdb(n_train: int = 2_000, n_test: int = 500) -> dict:
    """Make the imdb sample once per process: balanced, no review repeated."""
    rng = np.random.default_rng(0)
    texts, labels, seen = [], [], set()
    while len(texts) < n_train + n_test:  # alternate labels, drop repeats (so no review is in both splits)
        label = len(texts) % 2
        text = _review(rng, bool(label))
        if text not in seen:
            seen.add(text)
            texts.append(text)
            labels.append(label)
    order = np.concatenate([rng.permutation(n_train), n_train + rng.permutation(n_test)])
    texts, labels = [texts[i] for i in order], np.array(labels, dtype=np.uint8)[order]
    description = (f"synthetic movie reviews whose sentiment depends on word order (negation, 'X, but Y'); "
                   f"not real IMDB text ({n_train:,} train / {n_test:,} test)")
    return dict(x_train=texts[:n_train], y_train=labels[:n_train], x_test=texts[n_train:],
                y_test=labels[n_train:], class_names=["neg", "pos"], description=description)


# ---------------------------------------------------------------- fsdd
@functools.lru_cache(maxsize=None)
def _fsdd() -> dict:
    """Read and mu-law-decode the spoken digits once per process."""
    if not SPOKEN_DIGITS.is_file():
        raise FileNotFoundError(f"The built-in spoken digits {SPOKEN_DIGITS} are missing from this installation "
                                f"of udl; reinstall it (the file is package data) or use the mirror or cache.")
    with np.load(SPOKEN_DIGITS, allow_pickle=False) as stored:
        z = {key: stored[key] for key in stored.files}
    mu = float(z["mu"])
    y = z["codes"].astype(np.float32) / 255 * 2 - 1  # mu-law decode
    waves = np.sign(y) * np.expm1(np.abs(y) * np.log1p(mu)) / mu
    clips = np.split(waves.astype(np.float32), z["offsets"][1:-1])
    out = {}
    for split, mask in (("train", ~z["is_test"]), ("test", z["is_test"])):
        out[f"x_{split}"] = [clips[i] for i in np.flatnonzero(mask)]
        out[f"y_{split}"] = z["labels"][mask]
        out[f"speakers_{split}"] = z["speakers"][mask]
        out[f"takes_{split}"] = z["takes"][mask].astype(np.int16)
    version = re.search(r"\d+(\.\d+)+", str(z["espeak_version"]))
    description = (f"spoken digits synthesised with espeak-ng {version.group() if version else ''}, "
                   f"{len(np.unique(z['speakers']))} synthetic voices × {z['takes'].max() + 1} takes, "
                   f"take 0 held out for test "
                   f"({len(out['y_train'])} train / {len(out['y_test'])} test)")
    return dict(out, sample_rate=int(z["sample_rate"]), class_names=list(DIGITS), description=description)


# ---------------------------------------------------------------- shakespeare
@functools.lru_cache(maxsize=None)
def _shakespeare() -> dict:
    """Join the shipped documentation text once per process."""
    try:
        from pydoc_data.topics import topics

        parts, source = [topics[key] for key in sorted(topics)], "the Python language reference (pydoc_data)"
    except ImportError:  # some distributions leave pydoc_data out: use numpy's docstrings instead
        import inspect

        parts = [inspect.getdoc(getattr(np, n)) or "" for n in sorted(dir(np)) if callable(getattr(np, n))]
        source = "NumPy's docstrings"
    text = "\n\n".join(part.strip() for part in parts)
    text = re.sub(r"\n{3,}", "\n\n", re.sub(r"[ \t]+\n", "\n", text)) + "\n"
    return dict(text=text, description=f"not Shakespeare: the English text of {source}, "
                                       f"{len(text):,} characters")


# ---------------------------------------------------------------- pm25
def pm25() -> dict:
    """Return a synthetic hourly weather series (daily and yearly cycles, noise) in the Beijing PM2.5 layout."""
    return copy.deepcopy(_pm25())


def _ar1(rng: np.random.Generator, n: int, keep: float, scale: float) -> np.ndarray:
    """Return `n` steps of a slow random walk that forgets at rate 1 - `keep` (an AR(1) process)."""
    from scipy.signal import lfilter

    return lfilter([scale], [1.0, -keep], rng.normal(size=n))


def _cumulated(flags: np.ndarray) -> np.ndarray:
    """Return, for each hour, how many hours in a row `flags` has been true (0 where it is false)."""
    count = np.cumsum(flags)
    return count - np.maximum.accumulate(np.where(flags, 0, count))


@functools.lru_cache(maxsize=None)
def _pm25() -> dict:
    """Make the pm25 sample once per process: the real file's five years, hour by hour."""
    from udl import formats

    rng = np.random.default_rng(25)
    time = np.arange("2010-01-01T00", "2015-01-01T00", dtype="datetime64[h]")
    hours = np.arange(len(time), dtype=np.float64)
    day, year = 2 * np.pi * hours / 24, 2 * np.pi * (hours - 24 * 15) / (24 * 365.25)  # coldest in mid-January
    weather = _ar1(rng, len(time), 0.97, 0.6)  # fronts that come and go over a few days
    temperature = 12 - 15 * np.cos(year) - 5 * np.cos(day - 0.5) + weather
    dew_point = temperature - 8 - 4 * np.cos(day - 0.5) + _ar1(rng, len(time), 0.95, 0.5)
    pressure = 1016 + 10 * np.cos(year) - 0.8 * weather / 0.6 + 0.7 * np.cos(2 * day)
    wind_speed = np.abs(_ar1(rng, len(time), 0.9, 3.0)) + 1
    calm = np.cumsum(wind_speed < 4) % 60  # pollution builds up over calm hours, and is blown away
    pm = np.exp(3.6 + 0.6 * np.cos(year) + 0.2 * np.cos(day - 3) + 0.03 * calm + _ar1(rng, len(time), 0.95, 0.15))
    wet = _ar1(rng, len(time), 0.8, 1.0) > 2.2 - 0.6 * np.cos(year)  # spells of a few hours, mostly in summer
    snow, rain = (_cumulated(wet & (temperature < 0)), _cumulated(wet & (temperature >= 0)))
    wind = rng.choice(4, size=len(time), p=[0.1, 0.35, 0.3, 0.25])
    columns = [pm, dew_point, temperature, pressure, wind_speed, snow, rain]
    x = np.concatenate([np.stack(columns, axis=1), np.eye(4)[wind]], axis=1).astype(np.float32)
    x[rng.random(len(time)) < 0.04, 0] = np.nan  # missing PM2.5 readings, as in the real data
    out = formats.split_by_year(x, time)
    description = (f"synthetic hourly weather with daily and yearly cycles and noise; not Beijing's data "
                   f"({len(out['x_train']):,} train / {len(out['x_test']):,} test hours)")
    return dict(out, description=description)
