"""Tests for udl.training: tiny models and data built here, a few seconds in all."""

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from udl import training, viz  # noqa: E402


def _regression(n=512, d=8, noise=0.3, seed=0):
    """Standardised inputs, linear targets: with SGD on MSE the Hessian is about 2*I, so lr > ~1 diverges."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype("float32")
    y = x @ rng.normal(size=(d, 1)).astype("float32") + noise * rng.normal(size=(n, 1)).astype("float32")
    return x, y


def _linear_model(d=8, lr=0.01, compile=True):
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((d,)), keras.layers.Dense(1, name="linear")])
    if compile:
        model.compile(optimizer=keras.optimizers.SGD(lr), loss="mse")
    return model


def _mlp(lr, seed=2):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((8,)),
        keras.layers.Dense(16, activation="relu", name="hidden1"),
        keras.layers.Dropout(0.0, name="drop"),
        keras.layers.Dense(16, activation="relu", name="hidden2"),
        keras.layers.Dense(1, name="out"),
    ])
    model.compile(optimizer=keras.optimizers.SGD(lr), loss="mse")
    return model


# ----------------------------------------------------------------------------- learning-rate finder


def test_lr_finder_leaves_model_and_optimizer_untouched():
    x, y = _regression()
    model = _linear_model(lr=0.01)
    model.fit(x, y, epochs=1, batch_size=128, verbose=0)  # the optimizer has state now
    weights = [w.copy() for w in model.get_weights()]
    iterations = int(model.optimizer.iterations)
    training.find_learning_rate(model, x, y, min_lr=1e-3, max_lr=100.0, steps=30, batch_size=64)
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)
    assert int(model.optimizer.iterations) == iterations
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01)


def test_lr_finder_suggestion_is_in_range_and_below_divergence():
    x, y = _regression()
    model = _linear_model()
    result = training.find_learning_rate(model, x, y, min_lr=1e-4, max_lr=100.0, steps=80, batch_size=64)
    assert result.diverged, "SGD on this problem diverges above lr ~ 1, well before 100"
    assert result.lrs[-1] < 100.0  # stopped early
    assert len(result.lrs) == len(result.losses) == len(result.raw_losses)
    assert np.all(np.diff(result.lrs) > 0)
    assert 1e-3 < result.suggestion < 1.0
    assert result.suggestion < result.lr_at_min < result.lrs[-1]
    assert result.losses.min() < 0.1 * result.losses[0]  # it did learn on the way
    assert "suggestion" in repr(result)


def test_lr_finder_runs_all_steps_on_a_dataset_when_nothing_diverges():
    x, y = _regression()
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(64)
    result = training.find_learning_rate(_linear_model(), dataset, min_lr=1e-4, max_lr=0.1, steps=20)
    assert not result.diverged
    assert len(result.lrs) == 20
    assert result.lrs[0] == pytest.approx(1e-4) and result.lrs[-1] == pytest.approx(0.1)


def test_lr_finder_plot_is_log_x_with_labels():
    x, y = _regression()
    result = training.find_learning_rate(_linear_model(), x, y, min_lr=1e-4, max_lr=10.0, steps=30)
    ax = result.plot()
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    assert any("suggestion" in text.get_text() for text in ax.get_legend().get_texts())


@pytest.mark.parametrize("kwargs, arg", [
    (dict(min_lr=1.0, max_lr=0.1), "min_lr"),
    (dict(min_lr=0.0), "min_lr"),
    (dict(max_lr=float("inf")), "max_lr"),
    (dict(steps=0), "steps"),
    (dict(batch_size=-1), "batch_size"),
    (dict(window=4), "window"),
    (dict(diverge_factor=1.0), "diverge_factor"),
])
def test_lr_finder_rejects_bad_arguments(kwargs, arg):
    x, y = _regression(n=64)
    with pytest.raises((ValueError, TypeError), match=f"`{arg}`"):
        training.find_learning_rate(_linear_model(), x, y, **kwargs)


def test_lr_finder_rejects_bad_model_and_data():
    x, y = _regression(n=64)
    with pytest.raises(ValueError, match="`model`.*compile"):
        training.find_learning_rate(_linear_model(compile=False), x, y)
    with pytest.raises(ValueError, match=r"`x`.*\(N, 8\)"):
        training.find_learning_rate(_linear_model(), x[:, :5], y)
    with pytest.raises(ValueError, match="`y`"):
        training.find_learning_rate(_linear_model(), x, y[:10])
    with pytest.raises(ValueError, match="`y`"):
        training.find_learning_rate(_linear_model(), x)
    with pytest.raises(TypeError, match="`model`"):
        training.find_learning_rate("not a model", x, y)


# ----------------------------------------------------------------------------- update / weight ratio


def _ratios(lr, every=1):
    x, y = _regression(n=256)
    callback = training.UpdateRatio(every=every)
    _mlp(lr).fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0, callbacks=[callback])
    return callback


def test_update_ratio_has_one_positive_series_per_kernel_layer():
    callback = _ratios(0.01)
    assert list(callback.history) == ["hidden1", "hidden2", "out"]  # the Dropout layer has no kernel
    assert callback.steps == list(range(8))
    for ratios in callback.history.values():
        assert len(ratios) == 8
        assert all(r > 0 for r in ratios)


def test_update_ratio_scales_with_the_learning_rate():
    small, large = _ratios(1e-3), _ratios(1e-1)
    for name in small.history:
        # Same weights, same first batch, plain SGD: the first update is exactly 100 times larger.
        assert large.history[name][0] / small.history[name][0] == pytest.approx(100, rel=1e-2)
        assert small.medians()[name] < large.medians()[name]


def test_update_ratio_every_n_batches_and_plot():
    callback = _ratios(0.01, every=3)
    assert callback.steps == [0, 3, 6]
    assert all(len(r) == 3 for r in callback.history.values())
    ax = callback.plot()
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() and ax.get_ylabel()
    assert len(ax.get_lines()) == 1 + 3  # the 1e-3 line and one line per layer


def test_update_ratio_rejects_bad_arguments():
    with pytest.raises(ValueError, match="`every`"):
        training.UpdateRatio(every=0)
    with pytest.raises(TypeError, match="`layers`"):
        training.UpdateRatio(layers="hidden1")
    callback = training.UpdateRatio(layers=["hidden1", "nope"])
    x, y = _regression(n=32)
    with pytest.raises(ValueError, match="`layers`.*hidden1, hidden2, out"):
        _mlp(0.01).fit(x, y, epochs=1, verbose=0, callbacks=[callback])
    with pytest.raises(ValueError, match="fit"):
        training.UpdateRatio().plot()


# ----------------------------------------------------------------------------- activation statistics


def test_activation_stats_finds_dead_units_behind_a_negative_bias():
    x, _ = _regression(n=200)
    model = _mlp(0.01)
    bias = np.zeros(16, dtype="float32")
    bias[:4] = -100.0  # inputs are N(0, 1): these four ReLUs can never switch on
    model.get_layer("hidden1").bias.assign(bias)
    stats = training.activation_stats(model, x)
    assert [row.layer for row in stats] == ["hidden1", "hidden2"]  # hidden layers only, not the output
    assert stats["hidden1"].dead_fraction == pytest.approx(4 / 16)
    assert stats["hidden1"].units == 16 and stats["hidden1"].activation == "relu"
    healthy = training.activation_stats(_mlp(0.01), x)
    assert healthy["hidden1"].dead_fraction < 4 / 16
    text = str(stats)
    assert "hidden1" in text and "25.0%" in text


def test_activation_stats_match_numpy_and_count_conv_channels():
    keras.utils.set_random_seed(3)
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
        keras.layers.Flatten(name="flat"),
        keras.layers.Dense(2, activation="softmax", name="out"),
    ])
    model.get_layer("conv").bias.assign(np.array([-50.0, 0, 0, 0], dtype="float32"))
    x = np.random.default_rng(0).uniform(size=(50, 8, 8, 1)).astype("float32")
    stats = training.activation_stats(model, x, layers=["conv", "out"])
    acts = keras.Model(model.inputs[0], model.get_layer("conv").output)(x).numpy()
    assert stats["conv"].mean == pytest.approx(acts.mean(), rel=1e-5)
    assert stats["conv"].std == pytest.approx(acts.std(), rel=1e-5)
    assert stats["conv"].dead_fraction == pytest.approx(1 / 4)  # one dead channel out of four
    assert stats["out"].dead_fraction == 0.0
    axes = stats.plot()
    assert len(axes) == 2 and "dead" in axes[0].get_title()


def test_activation_stats_rejects_bad_arguments():
    x, _ = _regression(n=20)
    model = _mlp(0.01)
    with pytest.raises(ValueError, match="`layers`.*hidden1, drop, hidden2, out"):
        training.activation_stats(model, x, layers=["hiden1"])
    with pytest.raises(ValueError, match=r"`x`.*\(N, 8\)"):
        training.activation_stats(model, x[:, :3])
    with pytest.raises(TypeError, match="`stats`"):
        viz.activation_histograms({"hidden1": 0.5})
    with pytest.raises(TypeError, match="`result`"):
        viz.lr_finder({"lrs": [1e-3]})
    with pytest.raises(TypeError, match="`ratio`"):
        viz.update_ratios([0.001])
    with pytest.raises(KeyError, match="hidden1, hidden2"):
        training.activation_stats(model, x)["nope"]


def test_one_cycle_warms_up_over_two_percent_then_decays_to_zero():
    schedule = training.one_cycle(epochs=5, steps_per_epoch=100, peak_lr=1e-2)  # 500 steps, 10 of warm-up
    lrs = np.array([float(schedule(s)) for s in range(501)])
    assert lrs[0] == 0.0 and lrs[10] == pytest.approx(1e-2) and int(np.argmax(lrs)) == 10
    assert np.all(np.diff(lrs[:11]) > 0) and np.all(np.diff(lrs[10:]) <= 1e-12)
    assert lrs[255] == pytest.approx(5e-3, rel=1e-3) and lrs[500] == pytest.approx(0.0, abs=1e-9)


def test_one_cycle_rejects_bad_arguments():
    with pytest.raises(ValueError, match="`epochs`"):
        training.one_cycle(0, 100)
    with pytest.raises(ValueError, match="`peak_lr`"):
        training.one_cycle(3, 100, peak_lr=float("nan"))


def test_accuracy_matches_a_hand_count_in_any_chunking():
    # A fixed linear classifier whose predictions are known: class = argmax of x @ W.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(37, 4)).astype("float32")
    w = rng.normal(size=(4, 3)).astype("float32")
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(3, use_bias=False)(inputs))
    model.layers[-1].set_weights([w])
    predicted = (x @ w).argmax(axis=1)
    y = predicted.copy()
    y[:10] = (y[:10] + 1) % 3                       # 10 of 37 wrong
    for batch_size in (1, 5, 37, 1000):
        assert training.accuracy(model, x, y, batch_size=batch_size) == pytest.approx(27 / 37)


def test_accuracy_rejects_bad_arguments():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(3)(inputs))
    x = np.zeros((5, 4), "float32")
    with pytest.raises(ValueError, match="y"):
        training.accuracy(model, x, np.zeros(4, "int64"))          # one label short
    with pytest.raises(ValueError, match="y"):
        training.accuracy(model, x, np.zeros(5, "float32"))        # not integer labels
    with pytest.raises(ValueError, match="x"):
        training.accuracy(model, np.zeros((5, 3), "float32"), np.zeros(5, "int64"))
    with pytest.raises(ValueError, match="batch_size"):
        training.accuracy(model, x, np.zeros(5, "int64"), batch_size=0)
    with pytest.raises(TypeError, match="model"):
        training.accuracy("model", x, np.zeros(5, "int64"))
