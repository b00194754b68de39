"""Sequence helpers for notebook 09: fill gaps, cut a series into forecasting windows, and generate toy tasks.

```python
from udl import series
values = series.fill_gaps(pm25.x_train)                       # carry the last reading over a missing one
x, y = series.windows(values, values[:, 2], length=48, horizon=6, stride=4)
yesterday = series.seasonal_naive(x, lag=24, horizon=6, column=2)  # the same hour one day before each target
x, y = series.toy_task("long", n=2_000, length=100)           # an order-of-events task a Conv1D cannot see
```
"""

from __future__ import annotations

import numpy as np

from udl._checks import fail, one_of, positive_int

TASKS = ("short", "long")


def _float_array(arg: str, values, ndim: tuple[int, ...]) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim not in ndim or array.shape[0] == 0 or not np.issubdtype(array.dtype, np.number):
        raise fail(arg, f"a non-empty numeric array with {' or '.join(map(str, ndim))} dimensions", values)
    return array.astype(np.float32, copy=False)


def fill_gaps(values) -> np.ndarray:
    """Return a copy of `values` (time along axis 0) with each NaN replaced by the last reading before it.

    NaNs at the very start take the first reading after them.

    Example:
        >>> series.fill_gaps([1.0, np.nan, 3.0])
        array([1., 1., 3.], dtype=float32)
    """
    array = _float_array("values", values, (1, 2)).copy()
    flat = array.reshape(len(array), -1)
    for column in flat.T:  # views: writes go to `array`
        missing = np.isnan(column)
        if missing.all():
            raise fail("values", "at least one reading (not NaN) in every column", values)
        last = np.where(~missing, np.arange(len(column)), 0)
        np.maximum.accumulate(last, out=last)
        first = np.flatnonzero(~missing)[0]
        column[:] = np.where(np.arange(len(column)) < first, column[first], column[last])
    return array


def windows(values, targets, length: int, horizon: int, stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Cut a series into (window, target) pairs: `length` steps of `values`, and `targets` `horizon` steps later.

    Window i holds rows ``[s, s + length)`` with ``s = i * stride``, and its target is
    ``targets[s + length - 1 + horizon]``: the value `horizon` steps after the window's last step.

    Returns:
        x of shape (N, length, features) float32 and y of shape (N,) float32.

    Example:
        >>> x, y = series.windows(np.arange(10.0), np.arange(10.0), length=3, horizon=2)
        >>> x[0, :, 0], y[0]
        (array([0., 1., 2.], dtype=float32), 4.0)
    """
    array = _float_array("values", values, (1, 2))
    array = array[:, None] if array.ndim == 1 else array
    target = _float_array("targets", targets, (1,))
    if len(target) != len(array):
        raise fail("targets", f"one value per row of `values` ({len(array):,})", targets)
    length, horizon, stride = (positive_int(n, v) for n, v in (("length", length), ("horizon", horizon),
                                                                 ("stride", stride)))
    if length + horizon > len(array):
        raise fail("length", f"at most {len(array) - horizon} (the series has {len(array):,} steps and the "
                             f"horizon is {horizon})", length)
    if np.isnan(array).any() or np.isnan(target).any():
        raise fail("values", "a series without NaN (fill the gaps first, e.g. with series.fill_gaps)", values)
    starts = np.arange(0, len(array) - length - horizon + 1, stride)
    x = np.lib.stride_tricks.sliding_window_view(array, length, axis=0)[starts].transpose(0, 2, 1)
    return np.ascontiguousarray(x), target[starts + length - 1 + horizon]


def seasonal_index(length: int, horizon: int, lag: int) -> int:
    """Return the step of a `length`-step window that lies `lag` steps before its target.

    The target is `horizon` steps after the window's last step (as in `windows`), so that step is
    ``length - 1 + horizon - lag``. With hourly data and a daily cycle, `lag=24` is the same hour one day before.

    Example:
        >>> series.seasonal_index(72, horizon=6, lag=24)   # target at step 77, 24 h before it is step 53
        53
    """
    length, horizon, lag = (positive_int(n, v) for n, v in (("length", length), ("horizon", horizon), ("lag", lag)))
    if not horizon <= lag <= length - 1 + horizon:
        raise fail("lag", f"between the horizon ({horizon}) and length - 1 + horizon ({length - 1 + horizon}), "
                          "so that the step it names lies inside the window", lag)
    return length - 1 + horizon - lag


def seasonal_naive(x, lag: int, horizon: int, column: int = 0) -> np.ndarray:
    """Return the seasonal-naive forecast for windows `x`: the value `lag` steps before each target.

    `x` holds windows as `windows` cuts them, (N, length) or (N, length, features), with each target `horizon`
    steps after the window's last step; `column` picks the feature to read. `lag=horizon` is "the last value".

    Example:
        >>> t = np.arange(100.0)
        >>> x, y = series.windows(t, t, length=48, horizon=6)
        >>> series.seasonal_naive(x, lag=24, horizon=6)[:3], y[:3]     # each target minus 24
        (array([29., 30., 31.], dtype=float32), array([53., 54., 55.], dtype=float32))
    """
    array = _float_array("x", x, (2, 3))
    array = array[..., None] if array.ndim == 2 else array
    column = int(column) if isinstance(column, (int, np.integer)) else column
    if not isinstance(column, int) or not -array.shape[2] <= column < array.shape[2]:
        raise fail("column", f"an integer index of one of the {array.shape[2]} features", column)
    return array[:, seasonal_index(array.shape[1], horizon, lag), column]


def toy_task(kind: str, n: int, length: int = 100, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Generate `n` noisy sequences (n, `length`, 1) and 0/1 labels whose evidence is close together or far apart.

    - "short": the label says whether a sharp up-down spike (three steps) occurs anywhere; it is local.
    - "long": two pulses, one positive and one negative, sit far apart at random places; the label says
      whether the positive one comes first. Each pulse alone says nothing: only their order does.

    Example:
        >>> x, y = series.toy_task("long", n=1_000, length=100)
        >>> x.shape, y.mean()
        ((1000, 100, 1), 0.5)
    """
    one_of("kind", kind, TASKS)
    n, length = positive_int("n", n), positive_int("length", length)
    if length < 20:
        raise fail("length", "at least 20 steps", length)
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.3, (n, length)).astype(np.float32)
    y = (np.arange(n) % 2).astype(np.float32)
    rng.shuffle(y)
    rows = np.arange(n)
    if kind == "short":
        spikes = rng.integers(0, length - 3, n)
        hit = y == 1
        x[rows[hit], spikes[hit] + 1] += 2.0  # up, then down: a spike of three steps
        x[rows[hit], spikes[hit] + 2] -= 2.0
        x[rows[~hit], spikes[~hit] + 1] += 2.0  # the other class gets the up step alone, so height is no clue
    else:
        first = rng.integers(0, length // 4, n)                   # one pulse in the first quarter,
        second = rng.integers(3 * length // 4, length, n)         # the other in the last
        sign = np.where(y == 1, 1.0, -1.0)
        x[rows, first] += 2.0 * sign
        x[rows, second] -= 2.0 * sign
    return x[..., None], y
