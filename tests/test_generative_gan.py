"""Tests for notebook 14's parts of udl.generative: nearest-neighbour distances (memorisation), the GAN's train_step."""

import _replicas
import numpy as np
import pytest

from udl import generative


def test_nearest_neighbours_finds_the_closest_image_and_its_distance():
    rng = np.random.default_rng(0)
    reference = rng.random((50, 6, 6, 1))
    copies = reference[[7, 3, 41]] + 0.01                       # near-copies of three training images
    distances, indices = generative.nearest_neighbours(copies, reference)
    np.testing.assert_array_equal(indices, [7, 3, 41])
    np.testing.assert_allclose(distances, np.sqrt(36 * 0.01**2))  # 36 pixels, each off by 0.01
    new = rng.random((20, 6, 6, 1))                             # new images from the same distribution
    new_distances, _ = generative.nearest_neighbours(new, reference)
    assert new_distances.min() > 10 * distances.max()            # copies stand out against new images
    brute = np.sqrt(((new.reshape(20, 1, -1) - reference.reshape(1, 50, -1)) ** 2).sum(-1)).min(1)
    np.testing.assert_allclose(new_distances, brute)


def test_nearest_neighbours_of_an_image_in_the_reference_is_itself():
    reference = np.arange(24, dtype=np.uint8).reshape(6, 2, 2)
    distances, indices = generative.nearest_neighbours(reference[[5, 0]], reference)
    np.testing.assert_array_equal(indices, [5, 0])
    np.testing.assert_array_equal(distances, [0, 0])


@pytest.mark.parametrize("images,reference,name", [
    (np.zeros((3, 4, 4)), np.zeros((5, 4, 5)), "reference"),
    (np.zeros(4), np.zeros((5, 4)), "images"),
    (np.zeros((3, 4)), np.full((5, 4), np.nan), "reference"),
    (np.array([["a"]]), np.zeros((5, 1)), "images"),
])
def test_nearest_neighbours_bad_input(images, reference, name):
    with pytest.raises((ValueError, TypeError), match=f"`{name}` must be"):
        generative.nearest_neighbours(images, reference)


GAN_STEPS = """
import keras, numpy as np
from udl import generative, runtime

def train(distribute, real_label=0.9):
    runtime.setup(seed=0, distribute=distribute, verbose=False)
    real = np.random.default_rng(0).uniform(-1, 1, (64, 4, 4, 1)).astype("float32")
    with runtime.strategy().scope():
        generator = keras.Sequential([keras.Input((3,)), keras.layers.Dense(16, activation="tanh"),
                                      keras.layers.Reshape((4, 4, 1))])
        discriminator = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
                                          keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
        gan = generative.GAN(generator, discriminator, real_label=real_label, seed=3, ema=0.9)
        gan.compile(d_optimizer=keras.optimizers.SGD(0.5), g_optimizer=keras.optimizers.SGD(0.5))
    start = np.random.default_rng(1)
    for model in (generator, discriminator):   # the same starting point for every run
        model.set_weights([start.normal(0, 0.5, w.shape).astype("float32") for w in model.get_weights()])
    gan.ema_generator.set_weights(generator.get_weights())
    history = gan.fit(real, batch_size=32, epochs=2, shuffle=False, verbose=0)   # 4 steps of 32 (global)
    players = (generator, discriminator, gan.ema_generator)
    weights = np.concatenate([w.ravel() for m in players for w in m.get_weights()])
    return {"replicas": runtime.replicas(), "weights": weights.tolist(),
            "d_loss": history.history["d_loss"][-1], "g_loss": history.history["g_loss"][-1]}

print(json.dumps({"one": train(["/cpu:0"]), "two": train(True), "one_no_smoothing": train(["/cpu:0"], 1.0)}))
"""


def test_gan_train_step_on_two_replicas_makes_the_update_of_one_device():
    """Same weights, data, noise and global batch: two replicas must end where one device does.

    A loss averaged per replica (the classic mistake) doubles every update, and noise drawn per replica repeats
    the same fakes on both: either moves the weights by far more than the float32 summation order (~1e-6) does.
    The moving average of the generator's weights (``ema``) is compared too.
    """
    runs = _replicas.run(GAN_STEPS)
    one, two = runs["one"], runs["two"]
    assert one["replicas"] == 1 and two["replicas"] == 2
    moved = np.abs(np.array(runs["one_no_smoothing"]["weights"]) - one["weights"]).max()
    assert moved > 1e-3  # the steps really change the weights (the label smoothing matters): a test that can fail
    np.testing.assert_allclose(two["weights"], one["weights"], rtol=1e-4, atol=1e-5)
    assert two["d_loss"] == pytest.approx(one["d_loss"], rel=1e-4) and two["g_loss"] == pytest.approx(one["g_loss"],
                                                                                                       rel=1e-4)


def _tiny_gan(ema, seed=0):
    import keras

    keras.utils.set_random_seed(seed)
    generator = keras.Sequential([keras.Input((3,)), keras.layers.Dense(16, activation="tanh"),
                                  keras.layers.BatchNormalization(), keras.layers.Reshape((4, 4, 1))])
    discriminator = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
    gan = generative.GAN(generator, discriminator, seed=3, ema=ema)
    gan.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1))
    return gan


def test_gan_ema_generator_averages_the_generators_weights_step_by_step():
    real = np.random.default_rng(0).uniform(-1, 1, (16, 4, 4, 1)).astype("float32")
    gan = _tiny_gan(ema=0.6)
    assert gan.ema_generator is not gan.generator and not gan.ema_generator.trainable_weights
    expected = gan.generator.get_weights()
    np.testing.assert_array_equal(gan.ema_generator.get_weights()[0], expected[0])   # starts as a copy
    for step in range(1, 5):
        gan.fit(real, batch_size=16, epochs=1, shuffle=False, verbose=0)            # one step
        decay = min(0.6, (1 + step) / (10 + step))                                   # warm-up: 0.18, 0.25, ...
        expected = [decay * e + (1 - decay) * w for e, w in zip(expected, gan.generator.get_weights())]
        for got, want in zip(gan.ema_generator.get_weights(), expected):             # BatchNorm statistics too
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert not np.allclose(gan.ema_generator.get_weights()[0], gan.generator.get_weights()[0])  # it lags


def test_gan_ema_leaves_the_players_updates_alone():
    real = np.random.default_rng(0).uniform(-1, 1, (64, 4, 4, 1)).astype("float32")
    plain, averaged = _tiny_gan(ema=None), _tiny_gan(ema=0.99)
    assert plain.ema_generator is None
    for gan in (plain, averaged):
        gan.fit(real, batch_size=16, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(plain.generator.get_weights() + plain.discriminator.get_weights(),
                    averaged.generator.get_weights() + averaged.discriminator.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


@pytest.mark.parametrize("ema", [0, 1, 1.5, -0.1, True, "0.999"])
def test_gan_bad_ema(ema):
    with pytest.raises(ValueError, match="`ema` must be"):
        _tiny_gan(ema=ema)


def test_gan_traces_its_train_step_once():
    """`compile` builds both optimisers, so the first traced step creates no variables and is not traced again.

    Left to `apply_gradients`, Adam's moments were created inside the first trace, and TensorFlow traced the whole
    two-player step twice (about a CPU-second for notebook 14's players).
    """
    import keras

    traces = []

    class CountingGAN(generative.GAN):
        def train_step(self, real):
            traces.append(1)   # runs once per trace, not per step
            return super().train_step(real)

    keras.utils.set_random_seed(0)
    generator = keras.Sequential([keras.Input((3,)), keras.layers.Dense(16, activation="tanh"),
                                  keras.layers.Reshape((4, 4, 1))])
    discriminator = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
    gan = CountingGAN(generator, discriminator, seed=3)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
    assert gan.d_optimizer.built and gan.g_optimizer.built
    real = np.random.default_rng(0).uniform(-1, 1, (48, 4, 4, 1)).astype("float32")
    gan.fit(real, batch_size=16, epochs=2, shuffle=False, verbose=0)   # 6 steps of one shape
    assert len(traces) == 1
    assert int(gan.d_optimizer.iterations) == int(gan.g_optimizer.iterations) == 6


def test_gan_refuses_one_optimizer_for_both_players():
    import keras

    adam = keras.optimizers.Adam(1e-3)
    with pytest.raises(ValueError, match="`g_optimizer` must be a different optimizer object"):
        _tiny_gan(ema=None).compile(d_optimizer=adam, g_optimizer=adam)
