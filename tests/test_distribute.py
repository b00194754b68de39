"""runtime.setup(distribute=...): MirroredStrategy over all devices, tested on two logical CPU devices.

Why the tolerances are tight: with the same initial weights, the same data in the same order and the same global
batch, a MirroredStrategy step computes the mean gradient over the global batch exactly as one device does (each
replica's half is summed by the all-reduce), so the two runs differ only by float32 summation order (~1e-6 per
step). After a few dozen steps that stays far below 1e-3 in the loss; any real mistake (a loss averaged per replica
and then summed, a batch not split, a replica left out) changes the update by a factor of 2 and the loss by far more.
"""

import pytest

from udl import runtime
import _replicas

MODEL = """
import keras, numpy as np
from udl import data, runtime

def train(distribute, batch=None):
    runtime.setup(seed=0, distribute=distribute, verbose=False)
    digits = data.load("mnist", verbose=False)                  # the built-in sample: no mirror, no network
    x, x_test = digits.x_train[..., None] / 255, digits.x_test[..., None] / 255
    with runtime.strategy().scope():                             # notebook 02's convnet, smaller
        model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(16, 3, activation="relu"),
                                  keras.layers.MaxPooling2D(2), keras.layers.Conv2D(32, 3, activation="relu"),
                                  keras.layers.MaxPooling2D(2), keras.layers.Flatten(),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile(keras.optimizers.Adam(2e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, digits.y_train, batch_size=batch or runtime.global_batch(32), epochs=3, shuffle=False,
                        verbose=0)
    return {"replicas": runtime.replicas(), "loss": history.history["loss"][-1],
            "test_accuracy": model.evaluate(x_test, digits.y_test, verbose=0)[1], "batch": runtime.global_batch(32)}
"""


@pytest.fixture(scope="module")
def keras_runs():
    return _replicas.run(MODEL + """
one = train(["/cpu:0"])              # MirroredStrategy over one device: the reference, batch 32
one_64 = train(["/cpu:0"], batch=64)  # the same global batch as two replicas take
two = train(True)                    # every device: the two logical CPUs, 32 each
print(json.dumps({"one": one, "one_64": one_64, "two": two}))
""")


def test_distribute_true_mirrors_over_every_device(keras_runs):
    assert keras_runs["one"]["replicas"] == 1 and keras_runs["two"]["replicas"] == 2
    assert keras_runs["two"]["batch"] == 2 * keras_runs["one"]["batch"] == 64


def test_two_replicas_learn_what_one_learns(keras_runs):
    """As a notebook does it (32 per replica: a global batch of 64 on two devices, half the steps).

    Tolerance 0.05: with the global batch doubled the two runs take different steps, so only the accuracy they
    reach is comparable; on 360 test digits after 3 epochs, reruns with other seeds differ by about 0.02.
    """
    one, two = keras_runs["one"], keras_runs["two"]
    assert one["test_accuracy"] > 0.85, f"the reference run did not learn the digits: {one}"
    assert abs(two["test_accuracy"] - one["test_accuracy"]) <= 0.05, (one, two)


def test_same_global_batch_gives_the_same_trajectory_on_two_replicas(keras_runs):
    one, two = keras_runs["one_64"], keras_runs["two"]
    assert two["replicas"] == 2
    assert abs(two["loss"] - one["loss"]) <= 1e-3 * max(1.0, one["loss"]), (one, two)
    assert abs(two["test_accuracy"] - one["test_accuracy"]) <= 2 / 360 + 1e-9, (one, two)


CUSTOM_STEP = """
import keras, numpy as np
from keras import ops
from udl import runtime

class Regressor(keras.Model):
    '''A custom train_step; `scaled` divides the summed loss by the GLOBAL batch, as MirroredStrategy needs.'''
    def __init__(self, scaled, global_batch):
        super().__init__()
        self.dense = keras.layers.Dense(1)
        self.scaled, self.global_batch = scaled, global_batch

    def call(self, x):
        return self.dense(x)

    def train_step(self, data):
        import tensorflow as tf
        x, y = data
        with tf.GradientTape() as tape:
            err = ops.sum(ops.square(self(x) - y))
            loss = err / self.global_batch if self.scaled else err / ops.cast(ops.shape(x)[0], "float32")
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        return {"loss": loss}

def step(distribute, scaled):
    runtime.setup(seed=0, distribute=distribute, verbose=False)
    x = np.linspace(-1, 1, 64, dtype="float32")[:, None]
    with runtime.strategy().scope():
        model = Regressor(scaled, 64)
        model.compile(keras.optimizers.SGD(0.1))
        model(x[:1])                                  # creates the weights, mirrored
    model.dense.set_weights([np.zeros((1, 1), "float32"), np.zeros(1, "float32")])
    model.fit(x, 3 * x + 1, batch_size=64, epochs=1, shuffle=False, verbose=0)
    return [float(v) for v in np.concatenate([w.ravel() for w in model.dense.get_weights()])]

print(json.dumps({"one": step(["/cpu:0"], True), "two": step(True, True),
                  "two_per_replica_mean": step(True, False)}))
"""


def test_custom_train_step_must_scale_by_the_global_batch():
    """The harness sees the classic mistake: a per-replica mean loss doubles the update on two replicas."""
    runs = _replicas.run(CUSTOM_STEP)
    assert runs["two"] == pytest.approx(runs["one"], rel=1e-5, abs=1e-7)
    assert runs["two_per_replica_mean"] == pytest.approx([2 * v for v in runs["one"]], rel=1e-4)


def test_one_device_distribute_true_changes_nothing(capsys):
    info = runtime.setup(distribute=True)
    assert runtime.replicas() == 1 and info.replicas == 1
    assert "replicas" not in capsys.readouterr().out
    assert runtime.global_batch(32) == 32


@pytest.mark.parametrize("value", ["yes", 2, [], ["/gpu:0", 3], None])
def test_bad_distribute_is_named_before_tensorflow_loads(value):
    with pytest.raises(ValueError, match=r"`distribute` must be True, False or a non-empty list of device names"):
        runtime.setup(distribute=value)


@pytest.mark.parametrize("value", [0, -1, 2.5, "64"])
def test_bad_per_replica_batch_is_named(value):
    with pytest.raises(ValueError, match="`per_replica` must be a positive integer"):
        runtime.global_batch(value)


def test_summary_says_how_many_replicas():
    info = runtime.Runtime(tensorflow="2.21.0", keras="3.15.0", gpus=("A", "B"), profile="full", seed=1,
                           mixed_precision=False, deterministic=False, data_policy="P", replicas=2)
    assert "| 2 replicas (MirroredStrategy) |" in info.summary()
