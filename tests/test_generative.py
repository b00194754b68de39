"""Tests for udl.generative: scores on known distributions, temperature, text sampling, the sample grid, bad input."""

import math

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from udl import generative  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# --- bits_per_char ----------------------------------------------------------------------------------------

def test_bits_per_char_known_values():
    assert generative.bits_per_char([[0.5, 0.5], [0.25, 0.75]], [0, 1]) == pytest.approx((1 + math.log2(4 / 3)) / 2)
    uniform = np.full((3, 5, 8), 1 / 8)  # (B, T, V): a uniform guess over 8 characters costs 3 bits each
    assert generative.bits_per_char(uniform, np.zeros((3, 5), int)) == pytest.approx(3.0)
    assert generative.bits_per_char([[1.0, 0.0]], [0]) == 0.0
    assert generative.bits_per_char([[1.0, 0.0]], [1]) == math.inf  # a character the model ruled out


def test_bits_per_char_from_logits_matches_probabilities():
    logits = np.random.default_rng(0).normal(size=(20, 6)) * 3
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    targets = np.arange(20) % 6
    assert generative.bits_per_char(logits, targets, logits=True) == pytest.approx(
        generative.bits_per_char(p, targets))
    assert generative.bits_per_char(logits + 1000, targets, logits=True) == pytest.approx(
        generative.bits_per_char(p, targets))  # no overflow for large logits


@pytest.mark.parametrize("probabilities, targets, message", [
    ([[0.5, 0.6]], [0], "summing to 1"),
    ([[-0.5, 1.5]], [0], "non-negative"),
    ([[np.nan, 1.0]], [0], "finite"),
    ([0.5, 0.5], [0], "2-D or 3-D"),
    ([["a", "b"]], [0], "array of numbers"),
    ([[0.5, 0.5]], [0.0], "integer character ids"),
    ([[0.5, 0.5]], [0, 1], r"shape \(1,\)"),
    ([[0.5, 0.5]], [2], r"ids in \[0, 2\)"),
    ([[0.5, 0.5]], [-1], r"ids in \[0, 2\)"),
])
def test_bits_per_char_bad_input(probabilities, targets, message):
    with pytest.raises((ValueError, TypeError), match=message):
        generative.bits_per_char(probabilities, targets)


# --- classifier_score -------------------------------------------------------------------------------------

def test_classifier_score_known_values():
    assert generative.classifier_score(np.eye(10)) == pytest.approx(10.0)
    assert generative.classifier_score(np.eye(10)[[3] * 7]) == pytest.approx(1.0)  # one confident class
    assert generative.classifier_score(np.full((5, 10), 0.1)) == pytest.approx(1.0)  # unsure about everything
    two_classes = np.eye(10)[[0, 1] * 4]
    assert generative.classifier_score(two_classes) == pytest.approx(2.0)


def test_classifier_score_drops_when_less_confident():
    rng = np.random.default_rng(0)
    sharp = np.eye(10)[rng.integers(0, 10, 500)] * 0.9 + 0.01
    blurred = np.eye(10)[rng.integers(0, 10, 500)] * 0.5 + 0.05
    assert 1.0 < generative.classifier_score(blurred) < generative.classifier_score(sharp) < 10.0


@pytest.mark.parametrize("probabilities, message", [
    ([0.1] * 10, "2-D"),
    (np.zeros((0, 10)), "non-empty"),
    ([[0.2, 0.2]], "summing to 1"),
    ([[1.5, -0.5]], "non-negative"),
    ([[np.inf, 0.0]], "finite"),
    ("digits", "array of numbers"),
])
def test_classifier_score_bad_input(probabilities, message):
    with pytest.raises((ValueError, TypeError), match=message):
        generative.classifier_score(probabilities)


# --- temperature ------------------------------------------------------------------------------------------

def entropy(p):
    p = np.asarray(p)
    return float(-(p[p > 0] * np.log(p[p > 0])).sum())


def test_reweight_sharpens_and_flattens():
    p = np.array([0.1, 0.2, 0.7])
    np.testing.assert_allclose(generative.reweight(p, 1.0), p)
    np.testing.assert_allclose(generative.reweight([0.2, 0.8], 0.5), [0.04 / 0.68, 0.64 / 0.68])
    assert entropy(generative.reweight(p, 0.2)) < entropy(p) < entropy(generative.reweight(p, 2.0))
    assert generative.reweight(p, 1e-3).argmax() == 2 and generative.reweight(p, 1e-3).max() == pytest.approx(1.0)
    np.testing.assert_allclose(generative.reweight([p, p[::-1]], 0.5).sum(axis=1), [1.0, 1.0])  # rows
    assert generative.reweight([0.0, 1.0], 2.0)[0] == 0.0  # impossible stays impossible


@pytest.mark.parametrize("temperature", [0, -1.0, math.nan, math.inf, True, "0.5", None])
def test_reweight_bad_temperature(temperature):
    with pytest.raises(ValueError, match="`temperature` must be a positive number"):
        generative.reweight([0.5, 0.5], temperature)


def test_sample_with_temperature_frequencies_and_seed():
    rng = np.random.default_rng(0)
    draws = [generative.sample_with_temperature([0.2, 0.8], 1.0, rng) for _ in range(4000)]
    assert np.mean(draws) == pytest.approx(0.8, abs=0.03)
    cold = [generative.sample_with_temperature([0.2, 0.8], 0.05, rng) for _ in range(200)]
    assert set(cold) == {1}
    rows = generative.sample_with_temperature([[1.0, 0.0], [0.0, 1.0]], 1.0, rng=1)
    assert rows.tolist() == [0, 1]
    assert [generative.sample_with_temperature([0.3, 0.3, 0.4], rng=5) for _ in range(3)] == \
           [generative.sample_with_temperature([0.3, 0.3, 0.4], rng=5) for _ in range(3)]


def test_sample_with_temperature_bad_rng():
    with pytest.raises(TypeError, match="`rng` must be None, an integer seed"):
        generative.sample_with_temperature([0.5, 0.5], rng="seed")


# --- sample_text ------------------------------------------------------------------------------------------

VOCAB = "abc"


def char_model(batch=2, stateful=True, favour=None):
    """A tiny stateful character model (B, T) -> logits (B, T, 3); with `favour`, it always prefers that id."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input(batch_shape=(batch, None), dtype="int32")
    x = keras.layers.Embedding(len(VOCAB), 4)(inputs)
    x = keras.layers.LSTM(8, stateful=stateful, return_sequences=True, name="lstm")(x)
    if favour is None:
        outputs = keras.layers.Dense(len(VOCAB))(x)
    else:
        bias = [10.0 if i == favour else -10.0 for i in range(len(VOCAB))]
        outputs = keras.layers.Dense(len(VOCAB), kernel_initializer="zeros",
                                     bias_initializer=keras.initializers.Constant(bias))(x)
    return keras.Model(inputs, outputs)


def test_sample_text_shapes_vocabulary_and_rows():
    texts = generative.sample_text(char_model(), VOCAB, "ab", length=12, temperature=[0.5, 1.2], seed=3)
    assert len(texts) == 2 and all(t.startswith("ab") and len(t) == 14 and set(t) <= set(VOCAB) for t in texts)
    single = generative.sample_text(char_model(batch=1), list(VOCAB), "c", length=5, temperature=0.8)
    assert len(single) == 1 and len(single[0]) == 6


def test_sample_text_follows_the_model():
    texts = generative.sample_text(char_model(batch=1, favour=2), VOCAB, "a", length=10, temperature=1.0)
    assert texts == ["a" + "c" * 10]


def test_sample_text_resets_the_state_so_runs_repeat():
    model = char_model()
    first = generative.sample_text(model, VOCAB, "abcab", length=30, seed=1)
    assert np.abs(model.get_layer("lstm").states[0].numpy()).sum() > 0   # the state carried the context
    assert generative.sample_text(model, VOCAB, "abcab", length=30, seed=1) == first


def test_sample_text_resets_nested_stateful_layers():
    model = char_model(batch=1)
    inputs = keras.Input(batch_shape=(1, None), dtype="int32")
    wrapper = keras.Model(inputs, model(inputs))
    generative.sample_text(wrapper, VOCAB, "abc", length=3)
    model.get_layer("lstm").states[0].assign(np.ones((1, 8), "float32"))
    generative._reset_states(wrapper)
    assert np.abs(model.get_layer("lstm").states[0].numpy()).sum() == 0


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(prompt="abz"), ValueError, "characters from `vocabulary` only \\(not 'z'\\)"),
    (dict(prompt=""), TypeError, "`prompt` must be a non-empty string"),
    (dict(temperature=[1.0, 1.0, 1.0]), ValueError, "2 numbers \\(the model's batch size\\)"),
    (dict(temperature=[1.0, 0.0]), ValueError, "`temperature` must be a positive number"),
    (dict(vocabulary=["ab", "c"]), TypeError, "`vocabulary` must be a string or a list of single characters"),
    (dict(length=0), ValueError, "`length` must be a positive integer"),
])
def test_sample_text_bad_input(kwargs, error, message):
    args = dict(vocabulary=VOCAB, prompt="ab", length=3, temperature=1.0) | kwargs
    with pytest.raises(error, match=message):
        generative.sample_text(char_model(), **args)


def test_sample_text_needs_a_fixed_batch_model():
    inputs = keras.Input(shape=(None,), dtype="int32")
    free = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Embedding(3, 2)(inputs)))
    with pytest.raises(ValueError, match="fixed batch size"):
        generative.sample_text(free, VOCAB, "a")
    with pytest.raises(TypeError, match="`model` must be a keras.Model"):
        generative.sample_text(lambda x: x, VOCAB, "a")


# --- SampleGrid -------------------------------------------------------------------------------------------

def tiny_generator(latent=3):
    keras.utils.set_random_seed(0)
    noise = keras.Input((latent,))
    x = keras.layers.Dense(16, activation="tanh")(noise)
    return keras.Model(noise, keras.layers.Reshape((4, 4, 1))(x))


def test_sample_grid_keeps_fixed_noise_samples_per_epoch():
    generator = tiny_generator()
    noise = np.random.default_rng(0).normal(size=(5, 3))
    grid = generative.SampleGrid(generator, noise, value_range=(-1, 1))
    generator.compile(optimizer="sgd", loss="mse")
    generator.fit(noise, np.zeros((5, 4, 4, 1)), epochs=3, verbose=0, callbacks=[grid])
    assert grid.epochs == [0, 1, 2, 3]
    assert all(images.shape == (5, 4, 4, 1) and 0 <= images.min() and images.max() <= 1 for images in grid.images)
    expected = (generator.predict(noise, verbose=0) + 1) / 2
    np.testing.assert_allclose(grid.images[-1], expected, atol=1e-6)  # the same noise every time
    assert not np.allclose(grid.images[0], grid.images[-1])  # training changed the samples
    axes = grid.plot(n=4)
    assert axes.shape == (4, 4) and axes[2, 0].get_ylabel() == "epoch 2"


def test_sample_grid_every_and_continued_training():
    generator = tiny_generator()
    grid = generative.SampleGrid(generator, np.ones((2, 3)), every=2)
    generator.compile(optimizer="sgd", loss="mse")
    for _ in range(2):  # two calls to fit continue the count
        generator.fit(np.ones((2, 3)), np.zeros((2, 4, 4, 1)), epochs=2, verbose=0, callbacks=[grid])
    assert grid.epochs == [0, 2, 4]


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(generator="g"), TypeError, "`generator` must be a keras.Model"),
    (dict(noise=np.full((2, 3), np.nan)), ValueError, "finite"),
    (dict(noise=np.ones(3)), ValueError, "2-D or 3-D or 4-D"),
    (dict(value_range=(1, -1)), ValueError, "low < high"),
    (dict(value_range="tanh"), ValueError, "`value_range` must be a pair"),
    (dict(every=0), ValueError, "`every` must be a positive integer"),
])
def test_sample_grid_bad_input(kwargs, error, message):
    args = dict(generator=tiny_generator(), noise=np.ones((2, 3))) | kwargs
    with pytest.raises(error, match=message):
        generative.SampleGrid(**args)


def test_sample_grid_refuses_a_generator_of_flat_vectors():
    noise = keras.Input((3,))
    flat = keras.Model(noise, keras.layers.Dense(16)(noise))
    with pytest.raises(ValueError, match="outputs images"):
        generative.SampleGrid(flat, np.ones((2, 3))).on_train_begin()


def test_sample_grid_plot_before_training_and_wrong_axes():
    grid = generative.SampleGrid(tiny_generator(), np.ones((2, 3)))
    with pytest.raises(ValueError, match="no samples yet"):
        grid.plot()
    grid.on_train_begin()
    _, axes = plt.subplots(1, 3)
    with pytest.raises(TypeError, match="1 × 2 matplotlib Axes"):
        grid.plot(n=2, axes=axes)
