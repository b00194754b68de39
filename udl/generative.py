"""Helpers the generative notebooks (12-14) share: sample grids, a classifier-based score, text sampling, bits per character.

- ``SampleGrid``: a callback that keeps a generator's samples from fixed noise after every epoch; ``plot`` shows them.
- ``classifier_score``: exp(E_x[KL(p(y|x) || p(y))]) from a classifier's probabilities on generated (or real) images.
- ``reweight`` and ``sample_with_temperature``: sharpen or flatten a distribution with a temperature, and draw from it.
- ``sample_text``: generate text from a stateful character model, one row per temperature.
- ``bits_per_char``: the mean -log2 probability a model gave to the characters that came next.

The models themselves (autoencoders, the character RNN, the GAN) are the lesson and stay in the notebooks.
"""

from __future__ import annotations

import math

import keras
import matplotlib.pyplot as plt
import numpy as np

from udl._checks import fail, positive_int


# --- checks shared by the public functions ----------------------------------------------------------------

def _float_array(arg: str, value, ndim: tuple[int, ...]) -> np.ndarray:
    """Return `value` as a finite float array with one of the dimensions `ndim`, else raise."""
    array = value.numpy() if hasattr(value, "numpy") else np.asarray(value)
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise fail(arg, "an array of numbers", value, TypeError)
    dims = " or ".join(f"{d}-D" for d in ndim)
    if array.ndim not in ndim or array.size == 0:
        raise fail(arg, f"a non-empty {dims} array", array)
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise fail(arg, "finite numbers (no NaN or inf)", array)
    return array


def _probabilities(arg: str, value, ndim: tuple[int, ...]) -> np.ndarray:
    """Return `value` as an array of probability rows (last axis sums to 1), else raise."""
    p = _float_array(arg, value, ndim)
    if p.min() < 0 or not np.allclose(p.sum(axis=-1), 1.0, atol=1e-3):
        raise fail(arg, "probabilities: non-negative, each row summing to 1 (apply a softmax to logits)", value)
    return p


def _temperature(arg: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or value <= 0:
        raise fail(arg, "a positive number, e.g. 0.5 (sharper) or 1.2 (flatter)", value)
    return float(value)


# --- scores -----------------------------------------------------------------------------------------------

def bits_per_char(probabilities, targets, *, logits: bool = False) -> float:
    """Return the mean -log2 probability that `probabilities` gave to the `targets` (bits per character).

    Args:
        probabilities: (N, V) or (B, T, V): a distribution over the V characters at each position
            (or unnormalised scores with ``logits=True``).
        targets: (N,) or (B, T) integers in [0, V): the characters that came next.

    Example:
        >>> bits_per_char([[0.5, 0.5], [0.25, 0.75]], [0, 1])   # (1 + 0.415) / 2
        0.7075187496394219
    """
    scores = (_float_array if logits else _probabilities)("probabilities", probabilities, (2, 3))
    ids = np.asarray(targets)
    if not np.issubdtype(ids.dtype, np.integer):
        raise fail("targets", "integer character ids", targets, TypeError)
    if ids.shape != scores.shape[:-1]:
        raise fail("targets", f"an array of shape {scores.shape[:-1]} (one id per row of `probabilities`)", ids)
    if ids.min() < 0 or ids.max() >= scores.shape[-1]:
        raise fail("targets", f"ids in [0, {scores.shape[-1]})", ids)
    if logits:
        shifted = scores - scores.max(axis=-1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    else:
        with np.errstate(divide="ignore"):
            log_p = np.log(scores)
    picked = np.take_along_axis(log_p, ids[..., None], axis=-1)
    return float(-picked.mean() / np.log(2))


def classifier_score(probabilities) -> float:
    """Return exp(E_x[KL(p(y|x) || p(y))]) for a classifier's class probabilities (N, K) on N images.

    It is the Inception Score with a classifier for the images at hand: K when every image is classified
    confidently and all K classes are equally common, 1 when all images look alike to the classifier (one class,
    or noise it is unsure about). Real MNIST test digits score about 9.9 with a good digit classifier.

    Example:
        >>> classifier_score(np.eye(10))        # ten confident images, one per class
        10.000000000000002
        >>> classifier_score(np.full((5, 10), 0.1))   # unsure about everything
        1.0
    """
    p = _probabilities("probabilities", probabilities, (2,))
    marginal = p.mean(axis=0, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(p) - np.log(marginal)), 0.0)  # 0 log 0 = 0
    return float(np.exp(terms.sum(axis=1).mean()))


# --- sampling ---------------------------------------------------------------------------------------------

def reweight(probabilities, temperature: float) -> np.ndarray:
    """Return p**(1/temperature), renormalised: below 1 sharper (towards the likeliest), above 1 flatter.

    Example:
        >>> reweight([0.2, 0.8], temperature=0.5).round(3)   # 0.04 and 0.64, renormalised
        array([0.059, 0.941])
    """
    p = _probabilities("probabilities", probabilities, (1, 2))
    t = _temperature("temperature", temperature)
    with np.errstate(divide="ignore"):
        log_p = np.log(p) / t
    log_p -= log_p.max(axis=-1, keepdims=True)
    weights = np.exp(log_p)
    return weights / weights.sum(axis=-1, keepdims=True)


def sample_with_temperature(probabilities, temperature: float = 1.0, rng=None):
    """Draw an index from `probabilities` (V,), or one per row of (B, V), after `reweight` by `temperature`.

    Example:
        >>> sample_with_temperature([0.1, 0.9], temperature=0.01, rng=np.random.default_rng(0))
        1
    """
    p = reweight(probabilities, temperature)
    rng = _rng(rng)
    rows = np.atleast_2d(p)
    picks = np.array([rng.choice(rows.shape[1], p=row) for row in rows])
    return int(picks[0]) if p.ndim == 1 else picks


def _rng(rng) -> np.random.Generator:
    if rng is None or isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(rng)
    if not isinstance(rng, np.random.Generator):
        raise fail("rng", "None, an integer seed or a numpy.random.Generator", rng, TypeError)
    return rng


def _reset_states(model) -> None:
    """Reset every stateful recurrent layer of `model`, nested models included (Keras 3 has no `Model.reset_states`)."""
    for layer in model.layers:
        if getattr(layer, "stateful", False) and hasattr(layer, "reset_state"):
            layer.reset_state()
        elif isinstance(layer, keras.Model):
            _reset_states(layer)


def sample_text(model, vocabulary, prompt: str, length: int = 200, temperature=1.0, *, seed: int = 0,
                logits: bool = True) -> list[str]:
    """Generate `length` characters after `prompt` from a stateful character model; return one text per row.

    Args:
        model: a Keras model built on ``keras.Input(batch_shape=(B, None))`` whose stateful recurrent layers
            carry the context; it maps character ids (B, T) to scores (B, T, V) for the next character.
        vocabulary: the V characters, in id order (a string or a list of one-character strings).
        prompt: the text to start from; every character must be in `vocabulary`.
        temperature: one number for every row, or a sequence of B numbers (one per row).
        logits: True when the model outputs logits, False when it outputs probabilities.

    Example:
        >>> texts = sample_text(generator, vocabulary, "ROMEO:", length=100, temperature=[0.2, 0.5, 1.0, 1.2])
    """
    if not isinstance(model, keras.Model):
        raise fail("model", "a keras.Model", model, TypeError)
    batch = model.inputs[0].shape[0]
    if batch is None or len(model.inputs[0].shape) != 2:
        raise fail("model", "a model on keras.Input(batch_shape=(B, None)) with a fixed batch size B",
                   tuple(model.inputs[0].shape))
    chars = list(vocabulary) if isinstance(vocabulary, str) else vocabulary
    if not isinstance(chars, (list, tuple)) or not chars or not all(isinstance(c, str) and len(c) == 1 for c in chars):
        raise fail("vocabulary", "a string or a list of single characters", vocabulary, TypeError)
    if not isinstance(prompt, str) or not prompt:
        raise fail("prompt", "a non-empty string", prompt, TypeError)
    index = {c: i for i, c in enumerate(chars)}
    unknown = sorted(set(prompt) - set(index))
    if unknown:
        raise fail("prompt", f"characters from `vocabulary` only (not {''.join(unknown)!r})", prompt)
    length = positive_int("length", length)
    temps = [temperature] * batch if np.ndim(temperature) == 0 else list(temperature)
    if len(temps) != batch:
        raise fail("temperature", f"one number, or {batch} numbers (the model's batch size)", temperature)
    temps = [_temperature("temperature", t) for t in temps]

    rng = np.random.default_rng(seed)
    _reset_states(model)
    ids = np.tile([index[c] for c in prompt], (batch, 1))
    out = []
    for _ in range(length):
        scores = np.asarray(model.predict_on_batch(ids))[:, -1].astype(np.float64)
        p = _softmax(scores) if logits else scores / scores.sum(axis=-1, keepdims=True)
        ids = np.array([[sample_with_temperature(row, t, rng)] for row, t in zip(p, temps)])
        out.append(ids[:, 0])
    return [prompt + "".join(chars[i] for i in row) for row in np.stack(out, axis=1)]


def _softmax(scores: np.ndarray) -> np.ndarray:
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# --- a generator's samples over training --------------------------------------------------------------------

class SampleGrid(keras.callbacks.Callback):
    """Keep `generator`'s outputs on fixed `noise` before training and after every `every` epochs.

    Args:
        generator: a Keras model mapping noise (N, ...) to images (N, H, W) or (N, H, W, C).
        noise: the fixed inputs, drawn once, so that the rows of the grid are comparable.
        value_range: the range of the generator's output (``(-1, 1)`` for tanh), shown as black to white.

    Example:
        >>> grid = SampleGrid(gan.generator, keras.random.normal((8, 64), seed=1), value_range=(-1, 1))
        >>> gan.fit(dataset, epochs=5, callbacks=[grid])
        >>> grid.plot()
    """

    def __init__(self, generator, noise, value_range=(0.0, 1.0), every: int = 1):
        super().__init__()
        if not isinstance(generator, keras.Model):
            raise fail("generator", "a keras.Model", generator, TypeError)
        self.noise = _float_array("noise", noise, (2, 3, 4)).astype("float32")
        if (not isinstance(value_range, (tuple, list)) or len(value_range) != 2
                or not all(isinstance(v, (int, float)) for v in value_range) or value_range[0] >= value_range[1]):
            raise fail("value_range", "a pair (low, high) with low < high, e.g. (-1, 1) for tanh", value_range)
        self.generator, self.value_range, self.every = generator, tuple(value_range), positive_int("every", every)
        self.epochs: list[int] = []
        self.images: list[np.ndarray] = []
        self._seen = 0  # epochs trained, counted across calls to fit

    def _keep(self, epoch: int) -> None:
        low, high = self.value_range
        images = np.asarray(self.generator.predict(self.noise, verbose=0), dtype="float32")
        if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] not in (1, 3)):
            raise fail("generator", "a model that outputs images (N, H, W) or (N, H, W, C) with C 1 or 3 "
                       "(end a flat decoder with layers.Reshape)", images)
        self.epochs.append(epoch)
        self.images.append(np.clip((images - low) / (high - low), 0.0, 1.0))

    def on_train_begin(self, logs=None):
        if not self.epochs:
            self._keep(0)

    def on_epoch_end(self, epoch, logs=None):
        self._seen += 1
        if self._seen % self.every == 0:
            self._keep(self._seen)

    def plot(self, n: int = 8, axes=None):
        """Show the first `n` samples of each kept epoch, one row per epoch; return the axes (rows × n)."""
        if not self.images:
            raise ValueError("SampleGrid has no samples yet: pass it to fit(callbacks=[...]) first")
        n = min(positive_int("n", n), len(self.noise))
        rows = len(self.images)
        if axes is None:
            _, axes = plt.subplots(rows, n, figsize=(1.1 * n, 1.1 * rows + 0.4), squeeze=False,
                                   layout="constrained")
        axes = np.asarray(axes, dtype=object).reshape(-1)
        if axes.size != rows * n or not all(isinstance(a, plt.Axes) for a in axes):
            raise fail("axes", f"{rows} × {n} matplotlib Axes", axes, TypeError)
        axes = axes.reshape(rows, n)
        for r, (epoch, images) in enumerate(zip(self.epochs, self.images)):
            for c in range(n):
                image = images[c]
                axes[r, c].imshow(image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image,
                                  cmap="gray", vmin=0, vmax=1)
                axes[r, c].set_xticks([])
                axes[r, c].set_yticks([])
            axes[r, 0].set_ylabel(f"epoch {epoch}", fontsize=9)
        axes[0, 0].figure.suptitle("Samples from the same fixed noise as training goes on")
        return axes
