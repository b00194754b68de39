"""Data augmentation: named presets of Keras preprocessing layers, a tf.data pipeline, and the by-hand versions.

Two halves, for two purposes:

- For training: ``preset(name)`` returns a ``keras.Sequential`` of random preprocessing layers (active only while
  training, so it can sit inside a model), and ``pipeline(x, y, preset=name)`` applies the same layers to whole
  batches in a parallel, prefetched ``tf.data`` pipeline. Both expect pixel values in [0, 255].
- For the lesson: ``flip``, ``rotate``, ``shift``, ``rescale`` and ``salt_and_pepper`` do one transformation of
  one image with numpy, scipy and scikit-image, deterministically, keeping its shape and dtype.
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage
import skimage.transform
import tensorflow as tf
import keras

from udl import _checks
from udl._checks import fail, image_batch, one_of, positive_int
from udl._checks import number as _number

_PRESETS = {
    "none": "no augmentation: images pass through unchanged",
    "digits": "rotation ±10°, shift ±10 %, zoom ±10 %, black fill; no flips (a flipped or rotated 6 is a 9)",
    "cifar": "horizontal flip, rotation ±10°, shift ±12.5 %, black fill (one combined resampling)",
    "seeds": "the 2017 lecture's ImageDataGenerator recipe: horizontal flip, rotation ±20°, shift ±20 %, nearest fill",
}


@keras.saving.register_keras_serializable(package="udl")
class RandomAffine(keras.layers.Layer):
    """Randomly flip, rotate, shift and zoom each image with ONE combined affine resampling per image.

    Equivalent to chaining ``RandomFlip("horizontal")``, ``RandomRotation(rotation)``,
    ``RandomTranslation(height_shift, width_shift)`` and ``RandomZoom(zoom)`` (in that order, same parameter
    ranges), but the four matrices are multiplied per image and the batch is resampled once
    (``tf.raw_ops.ImageProjectiveTransformV3``, the op behind Keras's own RandomRotation).
    Random only with ``training=True``; otherwise images pass through unchanged (as float32).

    Args:
        flip: mirror left to right with probability 1/2.
        rotation: fraction of a full turn; angles are uniform in ±``rotation * 360`` degrees.
        height_shift, width_shift: fractions of the height and width; shifts are uniform within ±those.
        zoom: zoom factors are uniform in ``1 ± zoom`` (the same for both axes); as in RandomZoom, a factor > 1
            shows more of the image (zooms out).
        fill_mode: "constant", "nearest", "reflect" or "wrap"; fill_value for "constant".
        interpolation: "bilinear" or "nearest".
        seed: an integer, or None to draw one from Python's RNG (``keras.utils.set_random_seed``).
    """

    def __init__(self, flip: bool = False, rotation: float = 0.0, height_shift: float = 0.0,
                 width_shift: float = 0.0, zoom: float = 0.0, fill_mode: str = "constant", fill_value: float = 0.0,
                 interpolation: str = "bilinear", seed: int | None = None, **kwargs):
        if not isinstance(flip, (bool, np.bool_)):
            raise fail("flip", "True or False", flip)
        rotation = _number("rotation", rotation, 0, 0.5)
        height_shift = _number("height_shift", height_shift, 0, 1)
        width_shift = _number("width_shift", width_shift, 0, 1)
        zoom = _number("zoom", zoom, 0, 0.99)
        one_of("fill_mode", fill_mode, ("constant", "nearest", "reflect", "wrap"))
        fill_value = _number("fill_value", fill_value)
        one_of("interpolation", interpolation, ("bilinear", "nearest"))
        seed = _checks.seed("seed", seed, allow_none=True)
        super().__init__(**kwargs)
        self.flip, self.rotation, self.zoom = bool(flip), rotation, zoom
        self.height_shift, self.width_shift = height_shift, width_shift
        self.fill_mode, self.fill_value, self.interpolation, self.seed = fill_mode, fill_value, interpolation, seed
        self.generator = keras.random.SeedGenerator(seed)

    def get_random_transformation(self, images, training=True, seed=None):
        """Return this batch's draws: a dict of per-image flip (0/1), angle (degrees), dx, dy (pixels), zoom."""
        if not training:
            return None
        shape = tf.shape(images)
        n, h, w = shape[0], tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32)
        seed = self.generator if seed is None else seed
        # One draw of shape (N, 5) (a single random op and seed update per batch): flip, angle, dy, dx, zoom.
        low = np.array([0, -self.rotation * 360.0, -self.height_shift, -self.width_shift, 1.0 - self.zoom], np.float32)
        high = np.array([1, self.rotation * 360.0, self.height_shift, self.width_shift, 1.0 + self.zoom], np.float32)
        u = keras.random.uniform((n, 5), seed=seed) * (high - low) + low
        flip = tf.cast(u[:, 0] < 0.5, tf.float32) if self.flip else tf.zeros((n,))
        return {"flip": flip, "angle": u[:, 1], "dy": u[:, 2] * h, "dx": u[:, 3] * w, "zoom": u[:, 4]}

    @staticmethod
    def matrices(draws, height, width):
        """Return the (N, 8) output-to-input matrices of ``draws`` for images of `height` x `width`."""
        flip, angle, dx, dy, zoom = (tf.cast(draws[k], tf.float32) for k in ("flip", "angle", "dx", "dy", "zoom"))
        cx, cy = (tf.cast(width, tf.float32) - 1) / 2, (tf.cast(height, tf.float32) - 1) / 2
        theta = angle * (np.pi / 180.0)
        cos, sin = tf.cos(theta), tf.sin(theta)
        # Output (x, y) reads input F(R(T(Z(x, y)))): zoom about the centre, shift, rotate about the centre, mirror.
        zx, zy = zoom, zoom
        u0, u1, u2 = zx, 0.0 * zx, cx * (1 - zx) - dx  # T(Z(.)) row for x
        v0, v1, v2 = 0.0 * zy, zy, cy * (1 - zy) - dy  # T(Z(.)) row for y
        # R: x' = cos (x - cx) - sin (y - cy) + cx, y' = sin (x - cx) + cos (y - cy) + cy
        r0, r1, r2 = cos * u0 - sin * v0, cos * u1 - sin * v1, cos * (u2 - cx) - sin * (v2 - cy) + cx
        s0, s1, s2 = sin * u0 + cos * v0, sin * u1 + cos * v1, sin * (u2 - cx) + cos * (v2 - cy) + cy
        # F: x'' = x' (no flip) or (W - 1) - x' (flip)
        sign = 1 - 2 * flip
        a0, a1, a2 = sign * r0, sign * r1, sign * r2 + flip * 2 * cx
        zeros = tf.zeros_like(a0)
        return tf.stack([a0, a1, a2, s0, s1, s2, zeros, zeros], axis=1)

    def transform_images(self, images, transformation, training=True):
        """Return `images` (N, H, W, C) resampled once with the matrices of `transformation`."""
        images = tf.cast(images, self.compute_dtype)
        if not training or transformation is None:
            return images
        shape = tf.shape(images)
        return tf.raw_ops.ImageProjectiveTransformV3(
            images=images, transforms=self.matrices(transformation, shape[1], shape[2]),
            output_shape=shape[1:3], fill_value=tf.constant(self.fill_value, images.dtype),
            interpolation=self.interpolation.upper(), fill_mode=self.fill_mode.upper())

    def call(self, inputs, training=None):
        images = tf.cast(inputs, self.compute_dtype)
        if not training:
            return images
        single = len(images.shape) == 3
        batch = images[None] if single else images
        out = self.transform_images(batch, self.get_random_transformation(batch), training=True)
        return out[0] if single else out

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "flip": self.flip, "rotation": self.rotation,
                "height_shift": self.height_shift, "width_shift": self.width_shift, "zoom": self.zoom,
                "fill_mode": self.fill_mode, "fill_value": self.fill_value,
                "interpolation": self.interpolation, "seed": self.seed}


def presets() -> dict[str, str]:
    """Return the preset names, each with a one-line description."""
    return dict(_PRESETS)


def _layers(name: str, seed):
    """Return the random layers of preset `name`: one fused ``RandomAffine`` (seeded by `seed`, or Python's RNG)."""
    if name == "digits":
        return [RandomAffine(rotation=10 / 360, height_shift=0.1, width_shift=0.1, zoom=0.1, seed=seed)]
    if name == "cifar":
        # One bilinear resampling with a black border (the classic CIFAR zero-pad-and-crop look); nearest and
        # constant fills are the cheapest modes of TensorFlow's resampling kernel.
        return [RandomAffine(flip=True, rotation=10 / 360, height_shift=0.125, width_shift=0.125, seed=seed)]
    if name == "seeds":
        return [RandomAffine(flip=True, rotation=20 / 360, height_shift=0.2, width_shift=0.2, fill_mode="nearest",
                             seed=seed)]
    return []


def preset(name: str, seed: int | None = None) -> keras.Sequential:
    """Return the augmentation preset `name` (see ``presets()``) as a Sequential of Keras preprocessing layers.

    The layers are random only in training (``model.fit``); in ``predict``/``evaluate`` they pass images through.
    Inputs are pixel values in [0, 255]. With ``seed=None`` the layer draws its seed from Python's RNG, so
    ``keras.utils.set_random_seed`` before building makes the output reproducible; an integer seeds it directly.

    Example:

    ```python
    model = keras.Sequential([keras.Input((32, 32, 3)), augment.preset("cifar"), layers.Rescaling(1 / 255), ...])
    ```
    """
    one_of("name", name, tuple(_PRESETS))
    seed = _checks.seed("seed", seed, allow_none=True)
    return keras.Sequential(_layers(name, seed) or [keras.layers.Identity()], name=f"augment_{name}")


def channel_stats(x) -> tuple[np.ndarray, np.ndarray]:
    """Return the per-channel mean and standard deviation of the images `x` (the ImageDataGenerator featurewise ones)."""
    array = image_batch("x", _numeric_pixels("x", x))
    flat = array.reshape(-1, array.shape[-1]).astype(np.float64)
    return flat.mean(axis=0).astype(np.float32), flat.std(axis=0).astype(np.float32)


def _numeric_pixels(arg: str, x) -> np.ndarray:
    array = np.asarray(x) if not hasattr(x, "numpy") else x.numpy()
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise fail(arg, "images with an integer or floating-point dtype (pixel values 0-255)", array)
    return array


def _normalizer(normalize, x: np.ndarray):
    """Return (mean, std) arrays for `normalize` in None, "unit", "standardize" or a (mean, std) pair."""
    if normalize is None:
        return None
    if isinstance(normalize, str):
        one_of("normalize", normalize, ("unit", "standardize"))
        if normalize == "unit":
            return np.zeros(x.shape[-1], np.float32), np.full(x.shape[-1], 255.0, np.float32)
        return channel_stats(x)
    try:
        mean, std = (np.broadcast_to(np.asarray(v, np.float32), (x.shape[-1],)) for v in normalize)
    except (TypeError, ValueError):
        raise fail("normalize", f'None, "unit", "standardize" or a (mean, std) pair for {x.shape[-1]} channel(s)',
                   normalize) from None
    return mean, std


def pipeline(x, y=None, preset: str = "none", batch_size: int = 32, shuffle: bool = True, seed: int | None = None,
             normalize=None) -> tf.data.Dataset:
    """Return a batched, shuffled, augmented and prefetched ``tf.data.Dataset`` of (images, labels), or images.

    Args:
        x: images (N, H, W) or (N, H, W, C), pixel values 0-255 (uint8 or float).
        y: labels with N rows, or None for a dataset of images only.
        preset: the name of an augmentation preset (see ``presets()``), applied to whole batches.
        batch_size, shuffle: as in ``model.fit``; the order is reshuffled each epoch.
        seed: seeds the shuffle and the preset; None uses the seeds set by ``keras.utils.set_random_seed``.
        normalize: None (float pixels 0-255), "unit" (divide by 255), "standardize" (per-channel mean and std of
            `x`, as ImageDataGenerator's featurewise options), or a (mean, std) pair, e.g. from ``channel_stats``.
            Applied after augmentation.

    The random draws run in order (cheap) and the pixel work runs on whole batches in parallel
    (``num_parallel_calls=AUTOTUNE``), so the same seed gives the same batches however many cores run them.

    Example:

    ```python
    train = augment.pipeline(cifar10.x_train, cifar10.y_train, preset="cifar", batch_size=128, normalize="unit")
    images, labels = next(iter(train))     # one augmented batch: (128, 32, 32, 3) float32, (128,)
    model.fit(train, epochs=EPOCHS)
    ```
    """
    images = image_batch("x", _numeric_pixels("x", x))
    if y is not None:
        labels = np.asarray(y)
        if labels.ndim == 0 or labels.shape[0] != images.shape[0]:
            raise fail("y", f"labels with one row per image ({images.shape[0]} rows)", labels)
    one_of("preset", preset, tuple(_PRESETS))
    batch_size = positive_int("batch_size", batch_size)
    if not isinstance(shuffle, (bool, np.bool_)):
        raise fail("shuffle", "True or False", shuffle)
    seed = _checks.seed("seed", seed, allow_none=True)
    stats = _normalizer(normalize, images)
    layers = _layers(preset, seed)

    if stats is not None:  # as full-image arrays: a per-channel (C,) broadcast is several times slower in TF on CPU
        scale = np.broadcast_to(1.0 / (stats[1] + 1e-6), images.shape[1:]).astype(np.float32)
        offset = -stats[0] * scale
    x_all = tf.constant(images)
    y_all = None if y is None else tf.constant(labels)
    ds = tf.data.Dataset.range(images.shape[0])
    if shuffle:
        ds = ds.shuffle(images.shape[0], seed=seed, reshuffle_each_iteration=True)

    def gather(index):
        batch = tf.cast(tf.gather(x_all, index), tf.float32)
        draws = tuple(layer.get_random_transformation(batch, training=True) for layer in layers)
        return (batch, draws) if y_all is None else (batch, draws, tf.gather(y_all, index))

    def transform(batch, draws, *label):
        for layer, draw in zip(layers, draws):
            batch = layer.transform_images(batch, draw, training=True)
        if stats is not None:
            batch = batch * scale + offset  # (batch - mean) / (std + 1e-6)
        return (batch, *label) if label else batch

    # The draws advance the layers' seed state, so that step stays sequential; the pixel work is parallel.
    ds = ds.batch(batch_size).map(gather).map(transform, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)


# By-hand augmentations (the seed notebook's numpy/scipy/scikit-image versions): one image, deterministic.

def _image(image) -> np.ndarray:
    array = _numeric_pixels("image", image)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (1, 3, 4)) or 0 in array.shape:
        raise fail("image", "one image of shape (H, W) or (H, W, C) with C in (1, 3, 4)", array)
    return array


def _like(result: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Return `result` in the dtype of `image`: integers rounded and clipped to the dtype's range."""
    if np.issubdtype(image.dtype, np.integer):
        info = np.iinfo(image.dtype)
        result = np.clip(np.rint(result), info.min, info.max)
    return result.astype(image.dtype)


def flip(image, axis: int):
    """Return `image` mirrored: axis 0 flips it upside down, axis 1 left to right."""
    image = _image(image)
    one_of("axis", axis, (0, 1))
    return np.flip(image, axis=axis).copy()


def rotate(image, degrees: float):
    """Return `image` rotated by `degrees` counter-clockwise about its centre; corners left empty are filled with 0."""
    image = _image(image)
    degrees = _number("degrees", degrees)
    rotated = scipy.ndimage.rotate(image.astype(np.float64), degrees, axes=(1, 0), reshape=False, order=1,
                                   mode="constant", cval=0.0)
    return _like(rotated, image)


def shift(image, dx: float, dy: float):
    """Return `image` moved `dx` pixels right and `dy` pixels down; the uncovered border is filled with 0."""
    image = _image(image)
    offsets = (_number("dy", dy), _number("dx", dx)) + (0.0,) * (image.ndim - 2)
    order = 0 if all(float(v).is_integer() for v in offsets) else 1
    moved = scipy.ndimage.shift(image.astype(np.float64), offsets, order=order, mode="constant", cval=0.0)
    return _like(moved, image)


def rescale(image, factor: float):
    """Return `image` zoomed by `factor` about its centre at the same size: cropped when > 1, padded with 0 when < 1."""
    image = _image(image)
    factor = _number("factor", factor)
    if factor <= 0:
        raise fail("factor", "a positive number", factor)
    scaled = skimage.transform.rescale(image.astype(np.float64), factor, order=1, preserve_range=True,
                                       anti_aliasing=factor < 1, channel_axis=2 if image.ndim == 3 else None)
    out = np.zeros(image.shape, np.float64)
    h, w = image.shape[:2]
    sh, sw = scaled.shape[:2]
    # Centre the scaled image on the canvas: crop what sticks out, leave 0 where it does not reach.
    top, left = (h - sh) // 2, (w - sw) // 2
    src = scaled[max(0, -top):max(0, -top) + min(h, sh), max(0, -left):max(0, -left) + min(w, sw)]
    out[max(0, top):max(0, top) + src.shape[0], max(0, left):max(0, left) + src.shape[1]] = src
    return _like(out, image)


def salt_and_pepper(image, amount: float, seed: int = 0):
    """Return `image` with a fraction `amount` of its pixels set to black (pepper) or white (salt), half each.

    White is the dtype's maximum for integer images, and 1.0 (or 255.0 if the image has values above 1) for float
    images. The seed notebook's ``prob`` per colour is ``amount / 2`` here.
    """
    image = _image(image)
    amount = _number("amount", amount, 0, 1)
    seed = _checks.seed("seed", seed, allow_none=True)
    if np.issubdtype(image.dtype, np.integer):
        low, high = np.iinfo(image.dtype).min, np.iinfo(image.dtype).max
    else:
        low, high = 0.0, 1.0 if image.max() <= 1.0 else 255.0
    h, w = image.shape[:2]
    rng = np.random.default_rng(seed)
    chosen = rng.choice(h * w, size=int(round(amount * h * w)), replace=False)
    salt = rng.random(chosen.size) < 0.5
    noisy = image.copy()
    rows, cols = np.unravel_index(chosen, (h, w))
    noisy[rows[salt], cols[salt]] = high
    noisy[rows[~salt], cols[~salt]] = low
    return noisy
