"""Training helpers that are not the lesson: a learning-rate finder, the update/weight ratio, activation statistics.

- ``find_learning_rate`` trains a copy of a compiled model with an exponentially growing learning rate.
- ``UpdateRatio`` is a callback that records ||dw|| / ||w|| per kernel while ``fit`` runs.
- ``activation_stats`` measures mean, std and dead units per layer on a batch; ``plot_activation_stats``
  draws one histogram per layer.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from udl import stepcap, viz
from udl._checks import fail, positive_int, positive_number



# --------------------------------------------------------------------------- shared checks


def _check_model(model, arg: str = "model") -> keras.Model:
    """Return `model` if it is a built Keras model with known inputs, else raise."""
    if not isinstance(model, keras.Model):
        raise fail(arg, "a keras.Model", model, TypeError)
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not model.built or not inputs:
        raise fail(arg, "a built Sequential or functional model (start it with keras.Input(shape=...))", model)
    return model


def _check_array_input(model: keras.Model, x, arg: str = "x") -> np.ndarray:
    """Return `x` as an array whose per-example shape matches the model's single input."""
    array = np.asarray(x.numpy() if hasattr(x, "numpy") else x)
    if array.ndim == 0 or len(array) == 0 or not np.issubdtype(array.dtype, np.number):
        raise fail(arg, "a non-empty numeric array with one example per row", array)
    if not np.isfinite(array).all():
        raise fail(arg, "an array of finite values (no NaN or infinity)", array)
    if len(model.inputs) != 1:
        raise fail("model", "a model with a single input", model)
    expected = tuple(model.inputs[0].shape[1:])
    received = array.shape[1:]
    if len(expected) != len(received) or any(e is not None and e != r for e, r in zip(expected, received)):
        shape = "(N, " + ", ".join("?" if e is None else str(e) for e in expected) + ")"
        raise fail(arg, f"an array of shape {shape} to match the model's input", array)
    return array


# --------------------------------------------------------------------------- scoring


def accuracy(model, x, y, batch_size: int = 1000) -> float:
    """Return the share of examples in `x` whose highest-scoring class is the integer label in `y`.

    The model is called directly, in inference mode, on chunks of `batch_size` examples. ``evaluate`` would first
    build and compile a test function, which for a model scored once costs more than the scoring itself.

    Example:
        >>> training.accuracy(model, x_test, y_test)
        0.9485
    """
    model = _check_model(model)
    array = _check_array_input(model, x)
    labels = np.asarray(y)
    if labels.shape != (len(array),) or not np.issubdtype(labels.dtype, np.integer):
        raise fail("y", f"{len(array)} integer class labels, one per example of x (shape ({len(array)},))", labels)
    batch_size = positive_int("batch_size", batch_size)
    scores = np.concatenate([keras.ops.convert_to_numpy(model(array[i:i + batch_size], training=False))
                             for i in range(0, len(array), batch_size)])
    if scores.ndim != 2:
        raise fail("model", "a classifier with one score per class, output shape (N, classes)", model)
    return float(np.mean(scores.argmax(axis=1) == labels))


# --------------------------------------------------------------------------- learning-rate finder


@dataclass
class LRFinderResult:
    """What ``find_learning_rate`` measured: learning rates, smoothed losses and a suggestion.

    ``suggestion`` is one tenth of the learning rate at the minimum of the smoothed loss (the rule from
    Smith 2017 / fastai: the minimum is already too close to divergence). ``steepest`` is the learning rate
    at which the smoothed loss fell fastest per decade, shown for comparison.
    """

    lrs: np.ndarray
    losses: np.ndarray
    raw_losses: np.ndarray
    suggestion: float
    lr_at_min: float
    steepest: float
    diverged: bool
    min_lr: float
    max_lr: float

    def __repr__(self) -> str:
        end = f"diverged at lr={self.lrs[-1]:.2g}" if self.diverged else f"reached lr={self.lrs[-1]:.2g}"
        return (f"LRFinderResult(steps={len(self.lrs)}, {end}, minimum at lr={self.lr_at_min:.2g}, "
                f"suggestion={self.suggestion:.2g}, steepest={self.steepest:.2g})")

    def plot(self, ax=None):
        """Draw the smoothed loss against the learning rate, the suggestion marked (see `viz.lr_finder`)."""
        return viz.lr_finder(self, ax=ax)


def _batches(x, y, batch_size: int, seed):
    """Yield (x, y) training batches forever: shuffled slices of arrays, or the elements of a dataset."""
    if isinstance(x, tf.data.Dataset):
        for element in x.repeat():
            if not isinstance(element, tuple) or len(element) < 2:
                raise fail("x", "a tf.data.Dataset of (inputs, targets) batches", element)
            yield element[0], element[1]
        raise fail("x", "a non-empty tf.data.Dataset", x)
    rng = np.random.default_rng(seed)
    n = len(x)
    while True:
        order = rng.permutation(n)
        for start in range(0, n - batch_size + 1, batch_size):
            idx = order[start:start + batch_size]
            yield x[idx], y[idx]


def _copy_compiled(model: keras.Model, lr: float) -> keras.Model:
    """Return an independent copy of `model` with its weights, compiled with a fresh optimizer at `lr`."""
    try:
        clone = keras.models.clone_model(model)
    except (TypeError, ValueError, NotImplementedError) as err:
        raise fail("model", "a Sequential or functional model that keras.models.clone_model can copy",
                   model, TypeError) from err
    clone.set_weights(model.get_weights())
    original = model.optimizer
    if isinstance(original, keras.optimizers.LossScaleOptimizer):  # mixed precision: compile wraps it again
        original = original.inner_optimizer
    config = original.get_config()
    config["learning_rate"] = lr
    optimizer = type(original).from_config(config)
    clone.compile(optimizer=optimizer, loss=model.loss)
    return clone


def _centred_mean(values: np.ndarray, half: int) -> np.ndarray:
    """Return the moving average of `values` over a window of `half` steps either side (no lag)."""
    return np.array([values[max(0, i - half):i + half + 1].mean() for i in range(len(values))])


def find_learning_rate(model, x, y=None, min_lr=1e-6, max_lr=1.0, steps=100, batch_size=32,
                       window=None, diverge_factor=4.0, seed=0) -> LRFinderResult:
    """Train a copy of `model` for `steps` batches with the learning rate growing from `min_lr` to `max_lr`.

    The caller's model (weights and optimizer state) is left untouched: a clone with the same weights and
    a fresh optimizer of the same type is trained. The run stops early once the loss diverges: it stops
    being finite, or its running average (exponential, factor 0.8) exceeds `diverge_factor` times its minimum.
    In a smoke run (``UDL_MAX_STEPS=N``, `udl.stepcap`) it takes max(N, 10) timed steps instead of `steps`.

    Args:
        model: a compiled Sequential or functional model (its optimizer type and loss are reused).
        x, y: training arrays, or `x` a tf.data.Dataset of (inputs, targets) batches and `y` None.
        window: odd number of steps of the centred moving average that smooths the batch losses
            (default: about steps / 12).

    Returns:
        An ``LRFinderResult`` with ``lrs``, ``losses`` (smoothed), ``raw_losses``, ``suggestion``
        (one tenth of the learning rate at the smoothed minimum), ``steepest``, ``diverged`` and ``plot()``.

    Example:

    ```python
    finder = training.find_learning_rate(model, x_train, y_train, steps=100)
    finder.plot()                  # loss against learning rate, the suggestion marked
    model.compile(optimizer=keras.optimizers.Adam(finder.suggestion), loss=..., metrics=["accuracy"])
    ```
    """
    _check_model(model)
    if not getattr(model, "compiled", False) or model.optimizer is None or model.loss is None:
        raise fail("model", "a compiled model (call model.compile(optimizer=..., loss=...) first)", model)
    min_lr, max_lr = positive_number("min_lr", min_lr), positive_number("max_lr", max_lr)
    if min_lr >= max_lr:
        raise fail("min_lr", f"smaller than `max_lr`={max_lr:g}", min_lr)
    steps = positive_int("steps", steps)
    if steps < 10:
        raise fail("steps", "at least 10", steps)
    asked, steps = steps, stepcap.cap(steps, at_least=10)  # UDL_MAX_STEPS (a smoke run): fewer, timed steps
    batch_size = positive_int("batch_size", batch_size)
    window = 2 * max(1, steps // 25) + 1 if window is None else positive_int("window", window)
    if window % 2 == 0:
        raise fail("window", "an odd number of steps", window)
    if positive_number("diverge_factor", diverge_factor) <= 1:
        raise fail("diverge_factor", "a number greater than 1", diverge_factor)
    if isinstance(x, tf.data.Dataset):
        if y is not None:
            raise fail("y", "None when `x` is a tf.data.Dataset (the dataset yields the targets)", y)
    else:
        x = _check_array_input(model, x)
        if y is None:
            raise fail("y", "an array of targets when `x` is an array", y)
        y = np.asarray(y)
        if np.issubdtype(y.dtype, np.number) and not np.isfinite(y).all():
            raise fail("y", "targets of finite values (no NaN or infinity)", y)
        if len(y) != len(x):
            raise fail("y", f"an array with one target per example of `x` ({len(x)})", y)
        batch_size = min(batch_size, len(x))

    clone = _copy_compiled(model, min_lr)
    lrs = min_lr * (max_lr / min_lr) ** (np.arange(steps) / (steps - 1))
    raw, avg, best, diverged = [], 0.0, math.inf, False
    batches, durations, cpu = _batches(x, y, batch_size, seed), [], []
    for i, lr in enumerate(lrs):
        clone.optimizer.learning_rate = float(lr)
        started = (time.perf_counter(), time.process_time())
        xb, yb = next(batches)
        loss = float(np.asarray(clone.train_on_batch(xb, yb)).reshape(-1)[0])
        durations.append(time.perf_counter() - started[0])
        cpu.append(time.process_time() - started[1])
        if not math.isfinite(loss):
            diverged = True
            break
        raw.append(loss)
        avg = 0.8 * avg + 0.2 * loss
        best = min(best, avg / (1 - 0.8 ** (i + 1)))
        if i >= 5 and avg / (1 - 0.8 ** (i + 1)) > diverge_factor * best:
            diverged = True
            break
    stepcap.record_loop("find_learning_rate", asked, durations, cpu)
    if not raw:
        raise ValueError(f"The first batch gave a non-finite loss at `min_lr`={min_lr:g}: check the inputs and "
                         f"targets for NaN or infinite values, then try a smaller `min_lr`")
    lrs, raw = lrs[:len(raw)], np.array(raw)
    smooth = _centred_mean(raw, window // 2)
    i_min = int(np.argmin(smooth))
    slope = np.gradient(smooth[:i_min + 1], np.log10(lrs[:i_min + 1])) if i_min >= 2 else np.zeros(1)
    return LRFinderResult(lrs=lrs, losses=smooth, raw_losses=raw, suggestion=float(lrs[i_min]) / 10,
                          lr_at_min=float(lrs[i_min]), steepest=float(lrs[int(np.argmin(slope))]),
                          diverged=diverged, min_lr=min_lr, max_lr=max_lr)


# --------------------------------------------------------------------------- update / weight ratio


def one_cycle(epochs: int, steps_per_epoch: int, peak_lr: float = 5e-3):
    """Return a one-cycle learning-rate schedule: a linear warm-up from 0 over 2 % of the steps, then a half cosine to 0.

    It is Keras's ``CosineDecay`` with ``warmup_target``; pass it to an optimizer as its learning rate.

    Example:

    ```python
    schedule = training.one_cycle(EPOCHS, steps_per_epoch=math.ceil(len(x_train) / BATCH_SIZE))
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=..., metrics=["accuracy"])
    ```
    """
    epochs, steps_per_epoch = positive_int("epochs", epochs), positive_int("steps_per_epoch", steps_per_epoch)
    peak_lr = positive_number("peak_lr", peak_lr)
    total = epochs * steps_per_epoch
    warmup = max(1, total // 50)
    return keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=max(1, total - warmup), warmup_target=peak_lr, warmup_steps=warmup)


def _kernel_layers(model: keras.Model) -> list:
    """Return the layers of `model` (nested models included) that own a `kernel` variable."""
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found.extend(_kernel_layers(layer))
        elif isinstance(getattr(layer, "kernel", None), keras.Variable):
            found.append(layer)
    return found


class UpdateRatio(keras.callbacks.Callback):
    """Record ||dw|| / ||w|| of every kernel (Dense, Conv, ...) every `every` training batches.

    A healthy ratio is around 1e-3 (the lecture's rule of thumb: between 1e-4 and 1e-2). Much larger means
    the learning rate is too high, much smaller that the layer hardly learns.

    After ``fit``: ``history`` maps layer name to the list of ratios, ``steps`` lists the global batch
    index of each entry; ``medians()`` summarises, ``plot()`` draws them.

    Example:

    ```python
    ratio = training.UpdateRatio(every=10)
    model.fit(x_train, y_train, epochs=1, callbacks=[ratio])
    ratio.medians()                # {layer name: median ||dw|| / ||w||}, about 1e-3 when healthy
    ratio.plot()
    ```
    """

    def __init__(self, every: int = 1, layers=None):
        super().__init__()
        self.every = positive_int("every", every)
        if layers is not None and (isinstance(layers, str) or not all(isinstance(n, str) for n in layers)):
            raise fail("layers", "a list of layer names or None", layers, TypeError)
        self.layer_names = None if layers is None else list(layers)
        self.history: dict[str, list[float]] = {}
        self.steps: list[int] = []
        self._layers, self._before, self._step = [], None, 0

    def on_train_begin(self, logs=None):
        available = _kernel_layers(self.model)
        if not available:
            raise fail("model", "a model with at least one layer that has a kernel (Dense, Conv, ...)", self.model)
        by_name = {layer.name: layer for layer in available}
        if self.layer_names is not None:
            unknown = [n for n in self.layer_names if n not in by_name]
            if unknown:
                raise fail("layers", "names of layers with a kernel: " + ", ".join(by_name), unknown)
            available = [by_name[n] for n in self.layer_names]
        self._layers = available
        for layer in available:
            self.history.setdefault(layer.name, [])

    def on_train_batch_begin(self, batch, logs=None):
        if self._step % self.every == 0:
            self._before = [layer.kernel.numpy().copy() for layer in self._layers]

    def on_train_batch_end(self, batch, logs=None):
        if self._before is not None:
            for layer, before in zip(self._layers, self._before):
                after = layer.kernel.numpy()
                norm = float(np.linalg.norm(before))
                ratio = float(np.linalg.norm(after - before)) / norm if norm > 0 else math.nan
                self.history[layer.name].append(ratio)
            self.steps.append(self._step)
            self._before = None
        self._step += 1

    def medians(self) -> dict:
        """Return the median ratio per layer."""
        return {name: float(np.nanmedian(r)) if r else math.nan for name, r in self.history.items()}

    def plot(self, ax=None, title: str = "Update/weight ratio per layer"):
        """Draw the ratios per layer against the training step, the 1e-3 band marked (see `viz.update_ratios`)."""
        return viz.update_ratios(self, ax=ax, title=title)


# --------------------------------------------------------------------------- activation statistics


@dataclass
class LayerStats:
    """Statistics of one layer's activations over a batch."""

    layer: str
    activation: str
    units: int
    mean: float
    std: float
    dead_fraction: float
    zero_fraction: float


@dataclass
class ActivationStats:
    """Per-layer activation statistics; prints as a table, indexable by layer name or position."""

    rows: list
    values: dict = field(repr=False)
    n_examples: int = 0

    def __len__(self):
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, key):
        if isinstance(key, str):
            for row in self.rows:
                if row.layer == key:
                    return row
            raise KeyError(f"no statistics for layer {key!r}; layers: {', '.join(r.layer for r in self.rows)}")
        return self.rows[key]

    def __str__(self) -> str:
        width = max([5] + [len(r.layer) for r in self.rows])
        lines = [f"{'layer':<{width}}  {'activation':<10} {'units':>6} {'mean':>8} {'std':>8} "
                 f"{'dead':>7} {'zeros':>7}"]
        for r in self.rows:
            lines.append(f"{r.layer:<{width}}  {r.activation:<10} {r.units:>6d} {r.mean:>8.3f} {r.std:>8.3f} "
                         f"{r.dead_fraction:>7.1%} {r.zero_fraction:>7.1%}")
        lines.append(f"({self.n_examples} examples; dead = a unit that is 0 for every one of them)")
        return "\n".join(lines)

    __repr__ = __str__

    def plot(self, axes=None, bins: int = 40, title: str | None = None):
        """Draw one histogram of activations per layer (see `viz.activation_histograms`); return `axes`."""
        return viz.activation_histograms(self, axes=axes, bins=bins, title=title)


def _activation_name(layer) -> str | None:
    """Return the name of the activation `layer` applies, or None if it applies none."""
    if isinstance(layer, (keras.layers.ReLU, keras.layers.LeakyReLU, keras.layers.ELU, keras.layers.PReLU)):
        return {"ReLU": "relu", "LeakyReLU": "leaky_relu", "ELU": "elu", "PReLU": "prelu"}[type(layer).__name__]
    fn = getattr(layer, "activation", None)
    if fn is None or not callable(fn):
        return None
    return getattr(fn, "__name__", type(fn).__name__)


def activation_stats(model, x, layers=None, batch_size: int = 256, max_values: int = 20_000) -> ActivationStats:
    """Measure the mean, std and fraction of dead units of each layer's activations on the examples `x`.

    A unit is one output feature (the last axis; a channel for convolutions); it is dead when it outputs
    exactly 0 for every example (and every position). By default every hidden layer with an activation is
    measured (not the output layer); `layers` picks layers by name. `values` keeps up to `max_values`
    activations per layer for ``plot()``.

    Example:

    ```python
    stats = training.activation_stats(model, x_train[:512])
    print(stats)                   # a table: layer, activation, units, mean, std, dead, zeros
    stats.plot()                   # one histogram per layer
    ```
    """
    _check_model(model)
    x = _check_array_input(model, x)
    batch_size = positive_int("batch_size", batch_size)
    max_values = positive_int("max_values", max_values)
    named = {layer.name: layer for layer in model.layers}
    if layers is None:
        output_ids = {id(t) for t in model.outputs}
        chosen = [l for l in model.layers
                  if _activation_name(l) not in (None, "linear") and id(l.output) not in output_ids]
        if not chosen:
            raise fail("model", "a model with at least one hidden layer that has an activation", model)
    else:
        if isinstance(layers, str) or not all(isinstance(n, str) for n in layers) or not layers:
            raise fail("layers", "a non-empty list of layer names or None", layers, TypeError)
        unknown = [n for n in layers if n not in named]
        if unknown:
            raise fail("layers", "names of layers in the model: " + ", ".join(named), unknown)
        chosen = [named[n] for n in layers]
    probe = keras.Model(model.inputs[0], [layer.output for layer in chosen])
    chunks = [probe(x[i:i + batch_size], training=False) for i in range(0, len(x), batch_size)]
    rng = np.random.default_rng(0)
    rows, values = [], {}
    for j, layer in enumerate(chosen):
        act = np.concatenate([keras.ops.convert_to_numpy(c[j] if len(chosen) > 1 else c) for c in chunks])
        units = act.reshape(-1, act.shape[-1])
        dead = np.all(units == 0, axis=0)
        rows.append(LayerStats(layer=layer.name, activation=_activation_name(layer) or "-", units=units.shape[1],
                               mean=float(units.mean()), std=float(units.std()),
                               dead_fraction=float(dead.mean()), zero_fraction=float((units == 0).mean())))
        flat = units.reshape(-1)
        values[layer.name] = flat if flat.size <= max_values else rng.choice(flat, max_values, replace=False)
    return ActivationStats(rows=rows, values=values, n_examples=len(x))
