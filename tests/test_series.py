"""Tests for udl.series: gap filling, forecasting windows, the generated short- and long-range tasks."""

import numpy as np
import pytest

from udl import series


def test_fill_gaps_carries_the_last_reading_forward():
    values = np.array([[np.nan, 1], [2, np.nan], [np.nan, np.nan], [5, 4]], dtype=np.float32)
    filled = series.fill_gaps(values)
    np.testing.assert_array_equal(filled, [[2, 1], [2, 1], [2, 1], [5, 4]])
    assert np.isnan(values[0, 0])  # a copy: the input is untouched
    np.testing.assert_array_equal(series.fill_gaps([1.0, np.nan, 3.0]), [1, 1, 3])


def test_windows_pair_each_window_with_the_target_horizon_steps_after_its_end():
    values = np.stack([np.arange(20.0), -np.arange(20.0)], axis=1)
    x, y = series.windows(values, np.arange(100.0, 120.0), length=4, horizon=3, stride=5)
    assert x.shape == (3, 4, 2) and x.dtype == y.dtype == np.float32  # starts 0, 5, 10 (10 + 4 - 1 + 3 = 16 < 20)
    np.testing.assert_array_equal(x[1, :, 0], [5, 6, 7, 8])
    np.testing.assert_array_equal(x[1, :, 1], [-5, -6, -7, -8])
    np.testing.assert_array_equal(y, [106, 111, 116])
    x, y = series.windows(np.arange(10.0), np.arange(10.0), length=3, horizon=2)
    assert x.shape == (6, 3, 1) and y[0] == 4 and y[-1] == 9  # the last target is the last step


def test_seasonal_naive_reads_exactly_lag_steps_before_the_target():
    t = np.arange(200.0)  # each value is its own time step, so the forecast must be the target minus the lag
    x, y = series.windows(np.stack([-t, t], axis=1), t, length=72, horizon=6)
    for lag in (6, 24, 48, 77):
        np.testing.assert_array_equal(series.seasonal_naive(x, lag=lag, horizon=6, column=1), y - lag)
    assert series.seasonal_index(72, horizon=6, lag=24) == 53  # not 72 + 6 - 24 = 54 (that is 23 steps before)
    np.testing.assert_array_equal(series.seasonal_naive(x[:, :, 1], lag=6, horizon=6), x[:, -1, 1])  # the last value


def test_seasonal_naive_is_exact_on_a_purely_daily_cycle():
    hours = np.arange(24 * 20)
    cycle = np.sin(2 * np.pi * hours / 24) + 0.1 * (hours % 24 == 5)  # period 24 h, nothing else
    x, y = series.windows(cycle, cycle, length=72, horizon=6)
    assert np.abs(series.seasonal_naive(x, lag=24, horizon=6) - y).max() < 1e-6
    assert np.abs(series.seasonal_naive(x, lag=23, horizon=6) - y).mean() > 0.1  # an hour off is visibly worse


def test_notebook_09_baselines_use_the_day_before_the_target():
    """Its naive forecast and both models' residual read 24 h before the target, through series.seasonal_*."""
    import nbformat
    from pathlib import Path

    notebook = nbformat.read(Path(__file__).parents[1] / "notebooks" / "09_time_series.ipynb", as_version=4)
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert "HORIZON - 24" not in code and "HORIZON-24" not in code  # 23 h before the target: the bug of issue 20
    assert "series.seasonal_naive(x_test, lag=24, horizon=HORIZON" in code
    assert "series.seasonal_index(WINDOW, HORIZON, lag=24)" in code


@pytest.mark.parametrize("kind", ["short", "long"])
def test_toy_tasks_are_balanced_and_deterministic(kind):
    x, y = series.toy_task(kind, n=400, length=60, seed=3)
    assert x.shape == (400, 60, 1) and x.dtype == np.float32 and y.mean() == 0.5
    np.testing.assert_array_equal(x, series.toy_task(kind, n=400, length=60, seed=3)[0])


def test_long_task_depends_on_order_only():
    x, y = series.toy_task("long", n=200, length=80)
    first_half = x[:, :40, 0]
    pulse = first_half[np.arange(200), np.abs(first_half).argmax(axis=1)]
    assert np.all((pulse > 0) == (y == 1))  # the positive pulse comes first exactly in class 1
    assert np.allclose(np.sort(x[:, :, 0], axis=1)[:, [0, -1]].mean(axis=0), [-2, 2], atol=0.6)  # both pulses always


def test_short_task_a_local_detector_solves_it():
    x, y = series.toy_task("short", n=300, length=50)
    steps = np.diff(x[:, :, 0], axis=1)
    assert np.mean((steps.min(axis=1) < -3) == (y == 1)) > 0.95  # the down step right after the spike


@pytest.mark.parametrize("call, message", [
    (lambda: series.fill_gaps([]), "`values` must be a non-empty numeric array"),
    (lambda: series.fill_gaps(["a", "b"]), "`values` must be a non-empty numeric array"),
    (lambda: series.fill_gaps([np.nan, np.nan]), "at least one reading"),
    (lambda: series.windows(np.zeros((10, 2)), np.zeros(9), 3, 1), "`targets` must be one value per row"),
    (lambda: series.windows(np.zeros(10), np.zeros(10), 9, 2), "`length` must be at most 8"),
    (lambda: series.windows(np.zeros(10), np.zeros(10), 3, 0), "`horizon` must be a positive integer"),
    (lambda: series.windows(np.zeros(10), np.zeros(10), 3, 1, stride=1.5), "`stride` must be a positive integer"),
    (lambda: series.windows([1.0, np.nan, 3.0, 4.0], np.zeros(4), 2, 1), "without NaN"),
    (lambda: series.windows(np.zeros((2, 2, 2)), np.zeros(2), 1, 1), "with 1 or 2 dimensions"),
    (lambda: series.seasonal_naive(np.zeros((4, 10)), lag=5, horizon=6), "`lag` must be between the horizon"),
    (lambda: series.seasonal_naive(np.zeros((4, 10)), lag=16, horizon=6), "`lag` must be between the horizon"),
    (lambda: series.seasonal_naive(np.zeros((4, 10, 2)), lag=6, horizon=6, column=2), "`column` must be an integer"),
    (lambda: series.seasonal_naive(np.zeros(10), lag=6, horizon=6), "`x` must be a non-empty numeric array"),
    (lambda: series.toy_task("medium", 10), "`kind` must be one of 'short', 'long'"),
    (lambda: series.toy_task("long", 10, length=10), "`length` must be at least 20"),
    (lambda: series.toy_task("long", 0), "`n` must be a positive integer"),
])
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
