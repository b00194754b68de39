"""generative.VAE: notebook 12's variational autoencoder, on one device and under MirroredStrategy on two.

Why the tolerances are tight: with the same initial weights, the same digits in the same order, the same global batch
and the same noise (one draw for the global batch, each replica taking its slice), two replicas must make exactly the
update one device makes, up to float32 summation order. Plain SGD is used because its update is proportional to the
gradient: a loss averaged per replica (the classic mistake, and what notebook 12's own class did before it moved
here) doubles the update on two replicas, which Adam would hide by normalising the step. The reported loss is
checked too: Keras un-scales it by the number of replicas, so an unscaled loss is reported twice too large.
"""

import keras
import numpy as np
import pytest

from udl import generative
import _replicas

TRAIN = """
import keras, numpy as np
from keras import layers, ops
from udl import data, generative, runtime

class PerReplicaMean(generative.VAE):
    '''The mistake: the mean over this replica's digits, as if it were alone.'''
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        reconstruction, z_mean, z_log_var = y_pred
        per_pixel = keras.losses.binary_crossentropy(x, reconstruction)
        kl = -0.5 * ops.sum(1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=1)
        return ops.mean(ops.sum(per_pixel, axis=(1, 2)) + kl)

def train(distribute, model_class=generative.VAE):
    runtime.setup(seed=0, distribute=distribute, verbose=False)
    digits = data.load("mnist", verbose=False)                    # the built-in sample: no mirror, no network
    x = (digits.x_train[:256, ..., None] / 255).astype("float32")
    with runtime.strategy().scope():
        inputs = keras.Input((28, 28, 1))
        h = layers.Dense(64, activation="relu")(layers.Flatten()(inputs))
        encoder = keras.Model(inputs, [layers.Dense(2)(h), layers.Dense(2)(h)])
        code = keras.Input((2,))
        decoder = keras.Model(code, layers.Reshape((28, 28, 1))(layers.Dense(784, activation="sigmoid")(
            layers.Dense(64, activation="relu")(code))))
        vae = model_class(encoder, decoder, seed=3)
        vae.compile(optimizer=keras.optimizers.SGD(1e-3))
    flat = lambda: np.concatenate([w.ravel() for m in (encoder, decoder) for w in m.get_weights()]).tolist()
    initial = flat()
    history = vae.fit(x, batch_size=64, epochs=2, shuffle=False, verbose=0)
    return {"replicas": runtime.replicas(), "loss": history.history["loss"], "initial": initial, "weights": flat()}

print(json.dumps({"one": train(["/cpu:0"]), "two": train(True), "two_mistake": train(True, PerReplicaMean)}))
"""


@pytest.fixture(scope="module")
def runs():
    return _replicas.run(TRAIN)


def _moved(run) -> np.ndarray:
    return np.array(run["weights"]) - np.array(run["initial"])


def test_two_replicas_make_the_update_one_device_makes(runs):
    one, two = runs["one"], runs["two"]
    assert (one["replicas"], two["replicas"]) == (1, 2)
    assert one["initial"] == two["initial"]
    moved = np.abs(_moved(one)).max()
    assert moved > 0, "training did not move the weights"
    assert np.abs(_moved(two) - _moved(one)).max() <= 1e-3 * moved, "two replicas made another update"
    assert two["loss"] == pytest.approx(one["loss"], rel=1e-4)


def test_the_harness_sees_a_loss_averaged_per_replica(runs):
    """The same comparison fails for a compute_loss that takes the mean over each replica's own digits."""
    one, mistake = runs["one"], runs["two_mistake"]
    assert mistake["loss"][0] == pytest.approx(2 * one["loss"][0], rel=1e-2)  # reported twice too large
    ratio = np.linalg.norm(_moved(mistake)) / np.linalg.norm(_moved(one))
    assert 1.8 < ratio < 2.2, ratio                                           # and the steps twice too long


def _small_vae(latent=2):
    inputs = keras.Input((4, 4, 1))
    h = keras.layers.Flatten()(inputs)
    encoder = keras.Model(inputs, [keras.layers.Dense(latent)(h), keras.layers.Dense(latent)(h)])
    code = keras.Input((latent,))
    decoder = keras.Model(code, keras.layers.Reshape((4, 4, 1))(keras.layers.Dense(16, activation="sigmoid")(code)))
    return generative.VAE(encoder, decoder, seed=0)


def test_loss_is_reconstruction_summed_over_pixels_plus_kl():
    vae = _small_vae()
    x = np.full((2, 4, 4, 1), 0.5, "float32")
    reconstruction = np.full((2, 4, 4, 1), 0.5, "float32")
    z_mean, z_log_var = np.array([[0.0, 0.0], [1.0, 0.0]], "float32"), np.zeros((2, 2), "float32")
    loss = float(vae.compute_loss(x=x, y_pred=(reconstruction, z_mean, z_log_var)))
    # each of 16 pixels: -(0.5 ln 0.5 + 0.5 ln 0.5) = ln 2; KL: 0 for the first digit, 0.5 for the second
    assert loss == pytest.approx(16 * np.log(2) + 0.25, rel=1e-4)


def test_call_returns_reconstruction_mean_and_log_variance():
    vae = _small_vae(latent=3)
    reconstruction, z_mean, z_log_var = vae(np.zeros((5, 4, 4, 1), "float32"))
    assert reconstruction.shape == (5, 4, 4, 1) and z_mean.shape == z_log_var.shape == (5, 3)


def test_bad_encoder_or_decoder_is_named():
    vae = _small_vae()
    with pytest.raises(TypeError, match="`encoder` must be a keras.Model"):
        generative.VAE("encoder", vae.decoder)
    with pytest.raises(ValueError, match=r"`encoder` must be a model with two outputs"):
        generative.VAE(vae.decoder, vae.decoder)


def test_fit_traces_the_training_step_once():
    """`compile` builds the optimiser, so fit's first trace creates no variables and is not traced again."""
    traces = []

    class CountingVAE(generative.VAE):
        def train_step(self, data):
            traces.append(1)   # runs once per trace, not per step
            return super().train_step(data)

    small = _small_vae()
    vae = CountingVAE(small.encoder, small.decoder, seed=0)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    assert vae.optimizer.built
    vae.fit(np.random.default_rng(0).random((32, 4, 4, 1)).astype("float32"), batch_size=8, epochs=2, verbose=0)
    assert len(traces) == 1 and int(vae.optimizer.iterations) == 8
