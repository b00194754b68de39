"""Plotting code that is too long to inline into a notebook.

Images and curves (``image_grid``, ``plot_history``, ``confusion_matrix``, ``misclassified``), what a
convnet learned (``filters``, ``feature_maps``, ``max_activation``, ``saliency``, ``gradcam``, ``overlay``) and
what `udl.training` measured (``lr_finder``, ``update_ratios``, ``activation_histograms``).
Every plot takes an optional ``ax``/``axes``, returns it and never calls ``plt.show()``.
"""

from __future__ import annotations

from collections.abc import Mapping

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from matplotlib.ticker import MaxNLocator
from sklearn import metrics as skm

from udl._checks import class_labels, fail, image_batch, number, one_of, positive_int, positive_number

_SQUASH = (keras.activations.softmax, keras.activations.sigmoid)


RULE_OF_THUMB = 1e-3              # ||dw|| / ||w|| per step (the lecture's rule of thumb) ...
RULE_OF_THUMB_BAND = (1e-4, 1e-2)  # ... and the band it may move in


# --- images and curves -------------------------------------------------------------------------------

def _grid(axes, n: int, ncols: int, size: float = 1.6) -> np.ndarray:
    """Return `axes` as a flat array of at least `n` axes, creating a grid with `ncols` columns when None."""
    if axes is None:
        ncols = min(ncols, n)
        nrows = -(-n // ncols)
        _, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.4), squeeze=False,
                               layout="constrained")
    flat = np.ravel(np.asarray(axes, dtype=object))
    if flat.size < n or not all(isinstance(a, plt.Axes) for a in flat):
        raise fail("axes", f"at least {n} matplotlib Axes", axes, TypeError)
    return flat


def _displayable(image: np.ndarray) -> np.ndarray:
    """Return an image imshow draws faithfully: uint8 as is, anything else as float rescaled when outside [0, 1]."""
    if image.dtype == np.uint8:
        return image
    x = image.astype(np.float32)
    lo, hi = float(x.min()), float(x.max())
    if lo < 0 or hi > 1:
        x = (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)
    return x


def _show(ax, image: np.ndarray, cmap=None, title=None):
    """Draw one (H, W, C) image on `ax` without ticks; grey images use `cmap` (default "gray")."""
    image = _displayable(image)
    if image.shape[-1] == 1:
        vmax = 255 if image.dtype == np.uint8 else 1
        artist = ax.imshow(image[..., 0], cmap=cmap or "gray", vmin=0, vmax=vmax)
    else:
        artist = ax.imshow(image)
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(str(title), fontsize=9)
    return artist


def image_grid(images, titles=None, ncols=8, cmap=None, axes=None):
    """Show a batch of images (N, H, W) or (N, H, W, C) in a grid and return the axes (a flat array).

    uint8 images are shown as they are; float images outside [0, 1] are rescaled per image to [0, 1]
    for display (so contrast is stretched, and the absolute level is lost). Grey images use `cmap`
    ("gray" unless given).

    Example:

    ```python
    viz.image_grid(mnist.x_train[:16], titles=mnist.y_train[:16], ncols=8)
    ```
    """
    array = image_batch("images", images)
    if np.iscomplexobj(array):
        raise fail("images", "real-valued", array, TypeError)
    ncols = positive_int("ncols", ncols)
    if titles is not None and (isinstance(titles, str) or len(titles) != len(array)):
        raise fail("titles", f"None or a sequence of {len(array)} titles (one per image)", titles)
    flat = _grid(axes, len(array), ncols)
    for i, ax in enumerate(flat):
        if i < len(array):
            _show(ax, array[i], cmap, None if titles is None else titles[i])
        else:
            ax.axis("off")
    return flat


def _runs(history) -> dict:
    """Return {run name: metrics dict} from a History, its `.history` dict, or a dict name -> either."""
    def as_dict(arg, h):
        h = h.history if isinstance(getattr(h, "history", None), Mapping) else h
        if not isinstance(h, Mapping) or not h:
            raise fail(arg, "a keras History or its non-empty `.history` dict", h, TypeError)
        return h
    if isinstance(history, Mapping) and history and all(
            isinstance(v, Mapping) or hasattr(v, "history") for v in history.values()):
        return {str(name): as_dict(f"history[{name!r}]", h) for name, h in history.items()}
    return {"": as_dict("history", history)}


def plot_history(history, metrics=("loss", "accuracy"), axes=None):
    """Plot train and validation curves, one panel per metric, from a History (or dict name -> History to compare).

    Epochs count from 1. With several runs, each run has one colour: solid for train, dashed for validation.

    Example:

    ```python
    history = model.fit(x_train, y_train, validation_split=0.1, epochs=EPOCHS)
    viz.plot_history(history)                               # loss and accuracy, train and validation
    viz.plot_history({"mlp": mlp_history, "cnn": history})  # two runs on the same axes
    ```
    """
    metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    if not metrics or not all(isinstance(m, str) for m in metrics):
        raise fail("metrics", "a metric name or a non-empty sequence of names", metrics, TypeError)
    runs = _runs(history)
    for name, h in runs.items():
        missing = [m for m in metrics if m not in h]
        if missing:
            where = f"history[{name!r}]" if name else "the history"
            raise ValueError(f"`metrics` asks for {', '.join(map(repr, missing))}, which {where} does not have; "
                             f"available: {', '.join(map(repr, h))}")
    if axes is None:
        _, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.2), squeeze=False,
                               layout="constrained")
    flat = _grid(axes, len(metrics), len(metrics))
    for ax, metric in zip(flat, metrics):
        for i, (name, h) in enumerate(runs.items()):
            prefix = f"{name} " if name else ""
            for key, style, label in ((metric, "-", "train"), (f"val_{metric}", "--", "validation")):
                if key in h:
                    values = np.asarray(h[key], dtype=float)
                    ax.plot(np.arange(1, len(values) + 1), values, style, color=f"C{i}", label=prefix + label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=8)
    return flat


MAX_CLASSES = 100  # a larger confusion matrix cannot be read (and a stray label of 10**6 would need terabytes)


def _names(class_names, n_classes: int) -> list:
    """Return `class_names` as a list of at least `n_classes` strings, or the indices when None."""
    if class_names is None:
        return [str(i) for i in range(n_classes)]
    if isinstance(class_names, str) or len(class_names) < n_classes:
        raise fail("class_names", f"a sequence of at least {n_classes} names (one per class seen)", class_names)
    return [str(c) for c in class_names]


def confusion_matrix(y_true, y_pred, class_names=None, normalize=None, ax=None):
    """Plot the confusion matrix (rows: true class, columns: predicted); labels or class scores (N, K) accepted.

    `normalize` is None (counts), "true" (rows sum to 1), "pred" (columns) or "all", as in scikit-learn.

    Example:

    ```python
    scores = model.predict(x_test)                          # (N, 10) class scores, or labels (N,)
    viz.confusion_matrix(y_test, scores, class_names=mnist.class_names, normalize="true")
    ```
    """
    true, pred = class_labels("y_true", y_true), class_labels("y_pred", y_pred)
    if len(true) != len(pred):
        raise ValueError(f"`y_true` and `y_pred` must have the same length; received {len(true)} and {len(pred)}")
    one_of("normalize", normalize, (None, "true", "pred", "all"))
    n_classes = max(true.max(), pred.max()) + 1
    if n_classes > max(MAX_CLASSES, 0 if class_names is None else len(class_names)):
        arg, labels = ("y_true", true) if true.max() >= pred.max() else ("y_pred", pred)
        raise fail(arg, f"class labels below {MAX_CLASSES} (or as many as `class_names` has)",
                   f"labels up to {labels.max()}")
    names = _names(class_names, n_classes)
    cm = skm.confusion_matrix(true, pred, labels=range(len(names)), normalize=normalize)
    if ax is None:
        size = 2.5 + 0.45 * len(names)
        _, ax = plt.subplots(figsize=(size, size), layout="constrained")
    display = skm.ConfusionMatrixDisplay(cm, display_labels=names)
    display.plot(ax=ax, cmap="Blues", colorbar=False, values_format=".2f" if normalize else "d",
                 xticks_rotation=45 if max(map(len, names)) > 3 else "horizontal")
    accuracy = np.mean(true == pred)
    ax.set_title(f"Confusion matrix (accuracy {accuracy:.1%})"
                 + (f", normalised over {normalize}" if normalize else ""))
    return ax


def misclassified(images, y_true, y_pred, class_names=None, n=16, axes=None):
    """Show up to `n` misclassified images titled "true → predicted"; return the axes.

    Order: most confident mistakes first when `y_pred` holds class scores (N, K), else by index.
    When nothing is misclassified the (first) axes says so instead.

    Example:

    ```python
    viz.misclassified(x_test, y_test, model.predict(x_test), class_names=mnist.class_names, n=8)
    ```
    """
    array = image_batch("images", images)
    true, pred = class_labels("y_true", y_true), class_labels("y_pred", y_pred)
    if not len(array) == len(true) == len(pred):
        raise ValueError(f"`images`, `y_true` and `y_pred` must have the same length; "
                         f"received {len(array)}, {len(true)} and {len(pred)}")
    n = positive_int("n", n)
    names = _names(class_names, max(true.max(), pred.max()) + 1)
    wrong = np.flatnonzero(true != pred)
    scores = np.asarray(y_pred)
    if scores.ndim == 2 and scores.shape[1] > 1:
        wrong = wrong[np.argsort(-scores[wrong].max(axis=1), kind="stable")]
    wrong = wrong[:n]
    if len(wrong) == 0:
        flat = _grid(axes, 1, 1, size=3)
        flat[0].text(0.5, 0.5, f"No misclassified images\n(all {len(true)} correct)", ha="center", va="center")
        flat[0].set_title("Misclassified: none")
        flat[0].axis("off")
        return flat
    titles = [f"{names[true[i]]} → {names[pred[i]]}" for i in wrong]
    flat = image_grid(array[wrong], titles=titles, ncols=min(8, len(wrong)), axes=axes)
    flat[0].figure.suptitle(f"{np.sum(true != pred)} of {len(true)} misclassified (true → predicted)")
    return flat


# --- what a convnet learned --------------------------------------------------------------------------

def filters(layer_or_weights, n=None, axes=None):
    """Show the kernels (k, k, in, out) of a Conv2D layer: in colour when in=3, else the mean over input channels.

    Each kernel is rescaled to [0, 1] on its own (white: most positive weight, black: most negative).
    """
    if isinstance(layer_or_weights, keras.layers.Layer):
        if not isinstance(layer_or_weights, keras.layers.Conv2D) or not layer_or_weights.built:
            raise TypeError("`layer_or_weights` must be a built Conv2D layer or a kernel array (k, k, in, out); "
                            f"received: the {type(layer_or_weights).__name__} layer {layer_or_weights.name!r}")
        kernel = layer_or_weights.kernel.numpy()
    else:
        kernel = np.asarray(layer_or_weights)
        if kernel.ndim != 4 or not np.issubdtype(kernel.dtype, np.floating):
            raise fail("layer_or_weights", "a Conv2D layer or a float kernel array (k, k, in, out)", layer_or_weights)
    n = positive_int("n", n, allow_none=True) or kernel.shape[3]
    kernels = np.moveaxis(kernel[..., :n], 3, 0)                 # (n, k, k, in)
    if kernels.shape[-1] != 3:
        kernels = kernels.mean(axis=-1, keepdims=True)
    lo = kernels.min(axis=(1, 2, 3), keepdims=True)
    span = np.ptp(kernels, axis=(1, 2, 3), keepdims=True)
    kernels = (kernels - lo) / np.where(span > 0, span, 1)
    flat = image_grid(kernels, titles=[f"filter {i}" for i in range(len(kernels))], axes=axes)
    if axes is None:
        flat[0].figure.suptitle(f"{len(kernels)} of {kernel.shape[3]} kernels, {kernel.shape[0]}×{kernel.shape[1]}"
                                f"×{kernel.shape[2]}" + ("" if kernel.shape[2] in (1, 3) else " (mean over inputs)"))
    return flat


def _input(model):
    """Return the single symbolic input of a Sequential/functional `model`, or raise."""
    inputs = getattr(model, "inputs", None) if isinstance(model, keras.Model) else None
    if not inputs or len(inputs) != 1:
        raise fail("model", "a Keras model with one input, built with keras.Input (Sequential or functional)",
                   model, TypeError)
    return inputs[0]


def _layer(model, layer_name):
    """Return the layer called `layer_name`, or raise listing the model's layer names."""
    _input(model)
    names = [layer.name for layer in model.layers]
    one_of("layer_name", layer_name, names)
    return model.get_layer(layer_name)


def _feature_layer(model, layer_name):
    """Return the layer called `layer_name` if it outputs feature maps (N, h, w, channels), else raise."""
    layer = _layer(model, layer_name)
    if len(layer.output.shape) != 4:
        raise ValueError("`layer_name` must name a layer with feature maps (h, w, channels); "
                         f"received: {layer_name!r}, whose output has shape {layer.output.shape}")
    return layer


def _batch_of_one(model, image) -> tf.Tensor:
    """Return `image` (H, W[, C]) or (1, H, W, C) as a float32 batch of one matching the model's input, or raise."""
    expected = tuple(_input(model).shape[1:])
    x = np.asarray(image.numpy() if hasattr(image, "numpy") else image)
    if x.ndim == len(expected) + 1 and x.shape[0] == 1:
        x = x[0]
    if x.ndim == len(expected) - 1 and expected[-1] == 1:
        x = x[..., None]
    if x.ndim != len(expected) or any(e is not None and e != s for e, s in zip(expected, x.shape)):
        raise fail("image", f"one image of shape {expected} (the model's input)", image)
    if not (np.issubdtype(x.dtype, np.number) and np.isrealobj(x)):
        raise fail("image", "a numeric image", image, TypeError)
    if not np.isfinite(x).all():
        raise fail("image", "an image of finite values (no NaN or infinity)", image)
    return tf.constant(x[None], dtype=tf.float32)


def feature_maps(model, layer_name, image, n=16, axes=None):
    """Show the first `n` channels of what layer `layer_name` outputs for one `image`; return the axes."""
    layer = _feature_layer(model, layer_name)
    x = _batch_of_one(model, image)
    maps = keras.ops.convert_to_numpy(keras.Model(_input(model), layer.output)(x, training=False))[0]
    n = min(positive_int("n", n), maps.shape[-1])
    channels = np.moveaxis(maps[..., :n], -1, 0)
    flat = image_grid(channels, titles=[f"channel {i}" for i in range(n)], cmap="viridis", axes=axes)
    if axes is None:
        flat[0].figure.suptitle(f"{layer_name}: {n} of {maps.shape[-1]} feature maps, {maps.shape[0]}×{maps.shape[1]}")
    return flat


def _squashes(layer) -> bool:
    """Return True for a Dense/Activation layer that ends in softmax or sigmoid."""
    return isinstance(layer, (keras.layers.Dense, keras.layers.Activation)) and layer.activation in _SQUASH


def _centred_logits(layer, h):
    """Return the logits of softmax/sigmoid `layer` from its input `h`, minus their mean (sigmoid z -> (0, z) first).

    A saturated softmax has vanishing gradients, and softmax ignores a shift shared by all logits, so the
    gradient-based maps differentiate centred logits (for two classes: half the log-odds).
    """
    z = h
    if isinstance(layer, keras.layers.Dense):
        z = tf.matmul(h, layer.kernel) + (layer.bias if layer.use_bias else 0.0)
    if z.shape[-1] == 1:
        z = tf.concat([tf.zeros_like(z), z], axis=-1)
    return z - tf.reduce_mean(z, axis=-1, keepdims=True)


def _ascend(model, layer_name, indices, steps, lr, seed, l2=0.1, value_range=(0.0, 1.0)) -> np.ndarray:
    """Return one input per filter index that maximises that filter's mean activation (gradient ascent)."""
    layer = _layer(model, layer_name)
    steps, lr = positive_int("steps", steps), positive_number("lr", lr)
    if (not isinstance(value_range, (tuple, list)) or len(value_range) != 2
            or number("value_range[0]", value_range[0]) >= number("value_range[1]", value_range[1])):
        raise fail("value_range", "a pair (low, high) of finite numbers with low < high", value_range)
    squash = _squashes(layer)
    channels = max(layer.output.shape[-1], 2) if squash else layer.output.shape[-1]
    for i in indices:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < channels:
            raise fail("filter_index", f"an integer in [0, {channels}) (layer {layer_name!r} has {channels})", i)
    shape = tuple(_input(model).shape[1:])
    if None in shape:
        raise fail("model", "a model with a fixed input shape", shape)
    lo, hi = value_range
    mid = (lo + hi) / 2
    start = mid + 0.1 * (hi - lo) * np.random.default_rng(seed).standard_normal((len(indices), *shape))
    x = tf.Variable(np.clip(start, lo, hi), dtype=tf.float32)
    feed = keras.Model(_input(model), layer.input if squash else layer.output)
    pick = tf.one_hot(list(indices), channels)                 # (k, channels)
    pixel_axes = list(range(1, len(shape) + 1))

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            act = feed(x, training=False)
            act = _centred_logits(layer, act) if squash else act
            mean_act = tf.reduce_mean(act, axis=list(range(1, len(act.shape) - 1)))
            pull = tf.reduce_sum(tf.reduce_mean(tf.square(x - mid), pixel_axes))
            objective = tf.reduce_sum(mean_act * pick) - l2 * pull
        grad = tape.gradient(objective, x)
        grad /= tf.sqrt(tf.reduce_mean(tf.square(grad), axis=pixel_axes, keepdims=True)) + 1e-8
        x.assign(tf.clip_by_value(x + lr * (hi - lo) * grad, lo, hi))

    for _ in range(steps):
        step()
    return x.numpy()


def max_activation(model, layer_name, filter_index, steps=60, lr=0.02, seed=0, value_range=(0.0, 1.0)):
    """Return the input (H, W, C) that maximally activates one filter (or unit), found by gradient ascent.

    The objective is the filter's mean activation (for a softmax/sigmoid output layer: the unit's centred
    logit, which does not saturate). It starts from grey plus noise drawn with `seed` (so the result is
    deterministic), takes `steps` steps of `lr` × the RMS-normalised gradient, with a small L2 pull towards
    grey, and keeps pixels in `value_range` (the range of the model's training inputs).
    """
    return _ascend(model, layer_name, [filter_index], steps, lr, seed, value_range=value_range)[0]


def max_activation_grid(model, layer_name, filter_indices=range(8), steps=60, lr=0.02, seed=0,
                        value_range=(0.0, 1.0), axes=None):
    """Compute `max_activation` for several filters at once and show them, each contrast-stretched; return the axes."""
    indices = list(filter_indices)
    if not indices:
        raise fail("filter_indices", "a non-empty sequence of filter indices", filter_indices)
    patterns = _ascend(model, layer_name, indices, steps, lr, seed, value_range=value_range)
    lo = patterns.min(axis=(1, 2, 3), keepdims=True)
    patterns = (patterns - lo) / np.maximum(patterns.max(axis=(1, 2, 3), keepdims=True) - lo, 1e-8)
    flat = image_grid(patterns, titles=[f"filter {i}" for i in indices], axes=axes)
    if axes is None:
        flat[0].figure.suptitle(f"{layer_name}: inputs that maximally activate each filter")
    return flat


def _forward(model, x, layer=None):
    """Return (output of `layer` or None, class scores): centred logits when the model ends in softmax/sigmoid."""
    last = model.layers[-1]
    if isinstance(model, keras.Sequential):     # layer.output may belong to an older graph once a model is reloaded
        features, scores = None, x
        for each in model.layers[:-1] if _squashes(last) else model.layers:
            scores = each(scores, training=False)
            features = scores if each is layer else features
    else:
        head = last.input if _squashes(last) else model.outputs[0]
        outputs = [layer.output, head] if layer is not None else [head]
        values = keras.Model(_input(model), outputs)(x, training=False)
        features, scores = (values[0], values[1]) if layer is not None else (None, values)
    if _squashes(last):
        scores = _centred_logits(last, scores)
    return features, scores


def _class(scores, class_index) -> int:
    """Return `class_index`, or the top-scoring class when None; raise when out of range."""
    n_classes = scores.shape[-1]
    if class_index is None:
        return int(tf.argmax(scores[0]))
    if isinstance(class_index, bool) or not isinstance(class_index, (int, np.integer)) \
            or not 0 <= class_index < n_classes:
        raise fail("class_index", f"None or an integer in [0, {n_classes})", class_index)
    return int(class_index)


def saliency(model, image, class_index=None) -> np.ndarray:
    """Return the saliency map (H, W): |∂ class score / ∂ input pixel|, max over channels.

    The class is the predicted one unless `class_index` is given; the score is the centred logit when the
    model ends in softmax/sigmoid.

    Example:

    ```python
    heat = viz.saliency(model, mnist.x_test[0])            # (28, 28), where the pixels matter most
    viz.overlay(mnist.x_test[0], heat, title="saliency")
    ```
    """
    x = _batch_of_one(model, image)
    with tf.GradientTape() as tape:
        tape.watch(x)
        _, scores = _forward(model, x)
        score = scores[0, _class(scores, class_index)]
    return tf.reduce_max(tf.abs(tape.gradient(score, x)), axis=-1)[0].numpy()


def gradcam(model, image, layer_name=None, class_index=None, method="gradcam") -> np.ndarray:
    """Return the Grad-CAM heatmap (H, W) in [0, 1] of a conv layer (default: the last Conv2D), resized to the input.

    Grad-CAM (Selvaraju et al. 2017) weights each channel of the layer's output by the *mean* gradient of
    the class score over the map; the ReLU of the weighted sum says where evidence for the class is.
    ``method="hirescam"`` (Draelos & Carin 2020) multiplies gradient and activation position by position
    instead, which stays faithful when a channel fires both on the evidence and elsewhere.

    Example:

    ```python
    heat = viz.gradcam(model, mnist.x_test[0])             # the last Conv2D, the predicted class
    viz.overlay(mnist.x_test[0], heat, title="Grad-CAM")
    ```
    """
    one_of("method", method, ("gradcam", "hirescam"))
    if layer_name is None:
        convs = [layer.name for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
        if not convs:
            raise ValueError("`model` must have a Conv2D layer for Grad-CAM (or pass `layer_name`); received a model "
                             f"with the layers {', '.join(layer.name for layer in model.layers)}")
        layer_name = convs[-1]
    layer = _feature_layer(model, layer_name)
    x = _batch_of_one(model, image)
    with tf.GradientTape() as tape:
        features, scores = _forward(model, x, layer)
        score = scores[0, _class(scores, class_index)]
    weights = tape.gradient(score, features)
    if method == "gradcam":
        weights = tf.reduce_mean(weights, axis=(1, 2), keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(weights * features, axis=-1, keepdims=True))
    cam = tf.image.resize(cam, x.shape[1:3], method="bilinear")[0, ..., 0].numpy()
    top = cam.max()
    return cam / top if top > 0 else np.zeros_like(cam)


def overlay(image, heatmap, ax=None, alpha=0.5, cmap="jet", title=None):
    """Draw `image` (H, W[, C]) with `heatmap` (H, W) on top, with a colour bar; return the axes."""
    array = np.asarray(image)
    if array.ndim not in (2, 3):
        raise fail("image", "one image of shape (H, W) or (H, W, C)", image)
    array = image_batch("image", array[None])[0]
    heat = np.asarray(heatmap)
    if heat.shape != array.shape[:2] or not np.issubdtype(heat.dtype, np.number) or not np.isfinite(heat).all():
        raise fail("heatmap", f"a finite numeric map of shape {array.shape[:2]} (the image's height and width)",
                   heatmap)
    alpha = number("alpha", alpha, 0, 1)
    if ax is None:
        _, ax = plt.subplots(figsize=(3.6, 3), layout="constrained")
    _show(ax, array)
    lo, hi = float(heat.min()), float(heat.max())
    if lo >= 0:                                  # a non-negative map: its zero is the bottom of the colour bar
        lo, hi = 0.0, hi if hi > 0 else 1.0
    artist = ax.imshow(heat, cmap=cmap, alpha=alpha, vmin=lo, vmax=hi)
    ax.figure.colorbar(artist, ax=ax, fraction=0.046, pad=0.04)
    ax.set_title(title or "heatmap over the image")
    return ax


# --- what udl.training measured ----------------------------------------------------------------------

def lr_finder(result, ax=None):
    """Draw a learning-rate finder's smoothed loss against the learning rate (log x), suggestion marked; return `ax`."""
    if not all(hasattr(result, a) for a in ("lrs", "losses", "raw_losses", "suggestion", "lr_at_min")):
        raise fail("result", "the result of training.find_learning_rate(...)", result, TypeError)
    ax = ax if ax is not None else plt.subplots(figsize=(6, 3.5))[1]
    ax.plot(result.lrs, result.raw_losses, color="0.75", lw=0.8, label="loss per batch")
    ax.plot(result.lrs, result.losses, color="C0", lw=2, label="smoothed loss")
    ax.set_xscale("log")
    ax.axvline(result.suggestion, color="C2", ls="--", label=f"suggestion {result.suggestion:.1e} (min / 10)")
    ax.axvline(result.lr_at_min, color="C3", ls=":", label=f"minimum {result.lr_at_min:.1e}")
    before_min = result.losses[: int(np.argmin(result.losses)) + 1]
    low, high = float(before_min.min()), float(before_min.max())
    pad = 0.1 * max(high - low, 1e-8)
    ax.set_ylim(low - pad, high + 4 * pad)
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("training loss")
    ax.set_title("Learning-rate finder" + (" (stopped at divergence)" if result.diverged else ""))
    ax.legend(fontsize="small")
    return ax


def update_ratios(ratio, ax=None, title: str = "Update/weight ratio per layer"):
    """Draw an `UpdateRatio` callback's ratios per layer against the step on log y, 1e-3 band marked; return `ax`."""
    if not (hasattr(ratio, "steps") and isinstance(getattr(ratio, "history", None), Mapping)):
        raise fail("ratio", "a training.UpdateRatio callback", ratio, TypeError)
    if not ratio.steps:
        raise ValueError("UpdateRatio has recorded nothing yet: pass it to model.fit(callbacks=[...]) first")
    ax = ax if ax is not None else plt.subplots(figsize=(6, 3.5))[1]
    ax.axhspan(*RULE_OF_THUMB_BAND, color="C2", alpha=0.12, label="rule of thumb 1e-4 ... 1e-2")
    ax.axhline(RULE_OF_THUMB, color="C2", ls="--", lw=1)
    for name, ratios in ratio.history.items():
        ax.plot(ratio.steps[-len(ratios):], ratios, lw=1, label=name)
    ax.set_yscale("log")
    ax.set_xlabel("training step (batch)")
    ax.set_ylabel("||dw|| / ||w||")
    ax.set_title(title)
    ax.legend(fontsize="small")
    return ax


def activation_histograms(stats, axes=None, bins: int = 40, title: str | None = None):
    """Draw one histogram of activations per layer, titled with its mean, std and dead fraction; return `axes`.

    `title` (e.g. the run's name) starts each panel's title, so that two runs can share one figure.
    """
    if not (hasattr(stats, "rows") and isinstance(getattr(stats, "values", None), Mapping)):
        raise fail("stats", "the result of training.activation_stats(model, x)", stats, TypeError)
    if axes is None:
        axes = plt.subplots(1, len(stats.rows), figsize=(3.2 * len(stats.rows), 2.8), squeeze=False)[1][0]
    axes = np.ravel(axes)
    if len(axes) < len(stats.rows):
        raise fail("axes", f"at least {len(stats.rows)} axes (one per layer)", f"{len(axes)} axes")
    for ax, row in zip(axes, stats.rows):
        ax.hist(stats.values[row.layer], bins=bins, color="C3" if row.dead_fraction > 0.5 else "C0")
        ax.set_yscale("log")
        ax.set_title(f"{title + ': ' if title else ''}{row.layer}\nmean {row.mean:.2f}, std {row.std:.2f}, "
                     f"dead {row.dead_fraction:.0%}", fontsize="small")
        ax.set_xlabel(f"activation ({row.activation})")
    axes[0].set_ylabel("count (log scale)")
    return axes
