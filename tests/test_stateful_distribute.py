"""Notebook 13's stateful recurrent model under MirroredStrategy: two replicas learn what one device learns.

Notebook 13 reads the text as BATCH_SIZE parallel streams and builds its stateful GRU for the rows one device gets
(``BATCH_SIZE // runtime.replicas()``): MirroredStrategy hands each replica the same rows of every global batch, so
each replica carries the memory of its own streams. With the same initial weights, the same streams and plain SGD,
two replicas must make the updates one device makes on the whole batch (up to float32 summation order). Built for
the global batch instead, the layer refuses the replica's half batch.
"""

import numpy as np
import pytest

import _replicas

TRAIN = """
import keras, numpy as np
from keras import layers
from udl import runtime

rng = np.random.default_rng(0)
text = rng.integers(0, 10, 64 * 6 * 8 + 1).astype("int32")          # 64 streams, 6 windows of 8 each
windows = lambda a: a.reshape(64, 6, 8).transpose(1, 0, 2).reshape(-1, 8)
x, y = windows(text[:-1]), windows(text[1:])

def train(distribute, rows=None):
    runtime.setup(seed=0, distribute=distribute, verbose=False)
    with runtime.strategy().scope():
        inputs = keras.Input(batch_shape=(rows or 64 // runtime.replicas(), None), dtype="int32")
        h = layers.GRU(16, return_sequences=True, stateful=True)(layers.Embedding(10, 8)(inputs))
        model = keras.Model(inputs, layers.Dense(10)(h))
        model.compile(keras.optimizers.SGD(0.5), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    initial = np.concatenate([w.ravel() for w in model.get_weights()])
    try:
        history = model.fit(x, y, batch_size=64, epochs=2, shuffle=False, verbose=0)
    except ValueError as error:
        return {"error": str(error)[:400]}
    final = np.concatenate([w.ravel() for w in model.get_weights()])
    return {"replicas": runtime.replicas(), "loss": history.history["loss"], "moved": (final - initial).tolist()}

print(json.dumps({"one": train(["/cpu:0"]), "two": train(True), "two_global_rows": train(True, rows=64)}))
"""


@pytest.fixture(scope="module")
def runs():
    return _replicas.run(TRAIN)


def test_two_replicas_learn_what_one_device_learns(runs):
    one, two = runs["one"], runs["two"]
    assert (one["replicas"], two["replicas"]) == (1, 2)
    moved = np.abs(np.array(one["moved"])).max()
    assert moved > 1e-3, "training did not move the weights"
    assert np.abs(np.array(two["moved"]) - np.array(one["moved"])).max() <= 1e-3 * moved
    assert two["loss"] == pytest.approx(one["loss"], rel=1e-5)


def test_built_for_the_global_batch_the_stateful_layer_refuses_a_replica_share(runs):
    assert "batch size" in runs["two_global_rows"].get("error", ""), runs["two_global_rows"]
