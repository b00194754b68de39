"""Argument checks shared by the public functions: each error names the argument, what was expected and what was received."""

from __future__ import annotations

import math

import numpy as np


def describe(value) -> str:
    """Describe a received value briefly: arrays by shape and dtype, the rest by repr and type."""
    if isinstance(value, np.ndarray) or (hasattr(value, "shape") and hasattr(value, "dtype")):
        return f"an array of shape {tuple(value.shape)} and dtype {value.dtype}"
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} (of type {type(value).__name__})"


def fail(arg: str, expected: str, received, error=ValueError) -> Exception:
    """Return (not raise) an error saying that `arg` was expected to be `expected` but was `received`."""
    return error(f"`{arg}` must be {expected}; received: {describe(received)}")


def one_of(arg: str, value, choices) -> object:
    """Return `value` if it is one of `choices`, else raise a ValueError listing them."""
    if value not in choices:
        raise fail(arg, "one of " + ", ".join(repr(c) for c in choices), value)
    return value


def positive_int(arg: str, value, allow_none: bool = False):
    """Return `value` as an int if it is a positive integer (or None when allowed), else raise."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise fail(arg, "a positive integer" + (" or None" if allow_none else ""), value)
    return int(value)


def seed(arg: str, value, allow_none: bool = False):
    """Return `value` as an int if it is a non-negative integer (or None when allowed), else raise."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise fail(arg, "a non-negative integer" + (" or None" if allow_none else ""), value)
    return int(value)


def number(arg: str, value, low=None, high=None) -> int | float:
    """Return `value` as a Python int or float if it is a finite number (in [low, high] when given), else raise.

    Scalar arrays and tensors are accepted; booleans, strings, NaN and infinities are not.
    """
    if hasattr(value, "numpy"):
        value = value.numpy()
    if hasattr(value, "item") and getattr(value, "size", 1) == 1:  # a scalar array; larger ones are refused below
        value = value.item()
    bounds = f" in [{low}, {high}]" if low is not None and high is not None else ""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise fail(arg, "a finite number" + bounds, value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise fail(arg, "a finite number" + bounds, value)
    return value


def positive_number(arg: str, value) -> float:
    """Return `value` as a float if it is a finite number greater than 0, else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise fail(arg, "a positive number", value, TypeError)
    if not (math.isfinite(value) and value > 0):
        raise fail(arg, "a finite positive number", value)
    return float(value)


def image_batch(arg: str, images, channels=(1, 3)) -> np.ndarray:
    """Return `images` as an array (N, H, W, C); accept (N, H, W) for grey images, raise on anything else."""
    array = np.asarray(images) if not hasattr(images, "numpy") else images.numpy()
    if array.ndim == 3:
        array = array[..., None]
    if array.ndim != 4 or array.shape[-1] not in channels or array.shape[0] == 0:
        raise fail(arg, f"a non-empty batch of images of shape (N, H, W) or (N, H, W, C) with C in {channels}", array)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise fail(arg, "numeric", array, TypeError)
    return array


def class_labels(arg: str, y) -> np.ndarray:
    """Return labels (N,) or (N, 1), one-hot or scores (N, K), or sigmoid outputs (N, 1) as 1-D int class labels."""
    array = np.asarray(y) if not hasattr(y, "numpy") else y.numpy()
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating) or array.dtype == bool):
        raise fail(arg, "integer labels (N,) or float class scores (N, K)", y, TypeError)
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        raise fail(arg, "finite labels or class scores (no NaN or infinity)", y)
    if array.ndim == 2 and array.shape[1] == 1 and np.issubdtype(array.dtype, np.floating):
        array = array[:, 0] > 0.5
    elif array.ndim == 2:
        array = array[:, 0] if array.shape[1] == 1 else array.argmax(axis=1)
    if array.ndim != 1 or array.size == 0:
        raise fail(arg, "non-empty labels (N,) or class scores (N, K)", y)
    if np.issubdtype(array.dtype, np.floating) and not np.all(array == np.round(array)):
        raise fail(arg, "whole-number labels (pass scores as (N, K) to take their argmax)", y)
    if array.min() < 0:
        raise fail(arg, "labels >= 0", y)
    return array.astype(int)
