"""Time to accuracy on movie reviews: notebook 08's best recurrent recipe vs the keras.io `bidirectional_lstm_imdb` one.

Run from the repository root, on real reviews (the mirror holds 1,600 train / 400 test):

    UDL_DATA_DIR=../shared/data .venv/bin/python benchmarks/time_to_accuracy_imdb.py

It refuses to run on the built-in sample (generated reviews): times there would say nothing about IMDB. Both
recipes read the same reviews, vectorised with Keras's `TextVectorization`. In one run, for each of ``--seeds``:
  (a) keras.io's `bidirectional_lstm_imdb`: the 20,000 most frequent words, the last 200 tokens of each review
      (`pad_sequences` defaults: zeros before, the start cut), Embedding 128, two stacked 64-unit bidirectional
      LSTMs, a sigmoid output, Adam at its default learning rate, batch 32, 2 epochs, no masking;
  (b) notebook 08's GRU: 10,000 words, the last 100 tokens with zeros after and `mask_zero=True`, Embedding 32,
      a 32-unit GRU with cuDNN-compatible defaults returning every state, their masked mean
      (GlobalAveragePooling1D), a sigmoid output (notebook 08's `gru_mean`); Adam with a one-cycle schedule
      peaking at 1.5e-2, batch 80, the 3 epochs of the quick profile.
Both train on the first 90 % of the training reviews (notebook 08 holds out the last 10 % for validation, on
which its recipe was chosen), XLA at Keras's default. The clock measures training only, as in `time_to_98_mnist.py`: every half
epoch a callback stops it and copies the weights, and the copies are scored on the test reviews after `fit`.
The target is the test accuracy (a) ends at, the median over the seeds of this run. Reported per recipe, as
medians: seconds (wall and CPU) to reach the target, seconds to 80 %, the test accuracy after the same wall-clock
budget (the shorter recipe's median training time; "< 0.5 epoch" where a recipe had not finished half an epoch
by then), and the final test accuracy. Before anything, the script
checks that (b) is still what notebook 08 teaches, and stops if not.
"""

from __future__ import annotations

import argparse
import inspect
import math
import os
import platform
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402

from _timing import (Run, TrainingClock, baseline_target, missing_from_notebook, race, report, score,  # noqa: E402
                     speedups)
from udl import data, text, training  # noqa: E402

GOAL = 2.0  # (b) should reach (a)'s final accuracy at least this many times sooner than (a)
FIXED = 0.80
KERASIO = dict(max_tokens=20_000, length=200, batch=32, epochs=2)
# MUST match notebook 08's quick profile: MAX_TOKENS, SEQUENCE_LENGTH, UNITS, EPOCHS, BATCH_SIZE, LEARNING_RATE
MAX_TOKENS, SEQUENCE_LENGTH, UNITS, EPOCHS, BATCH_SIZE, LEARNING_RATE = 10_000, 100, 32, 3, 80, 1.5e-2
n_fit = 1_440  # the training reviews fitted on (set from the data in main); compile_model reads it, as in notebook 08
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "08_recurrent_networks.ipynb"
NAME_A, NAME_B = "(a) keras.io bidirectional_lstm_imdb", "(b) notebook 08 gru_mean"


def build_kerasio():
    """Return keras.io's model, compiled as in the example."""
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(KERASIO["max_tokens"], 128)(inputs)
    x = layers.Bidirectional(layers.LSTM(64, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(64))(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


# (b): these lines MUST match notebook 08, where the recipe is taught; here it is timed.
RECURRENT = {"gru": lambda **options: layers.GRU(UNITS, **options)}


def build_rnn(kind, mask=True, mean=False):
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(MAX_TOKENS, 32, mask_zero=mask)(inputs)
    x = RECURRENT[kind](return_sequences=mean)(x)      # the last state, or the state after every step
    if mean:
        x = layers.GlobalAveragePooling1D()(x)         # their mean over the words (the mask skips padding)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name=kind + "_mean" * mean)


def compile_model(model, epochs=EPOCHS, peak_lr=LEARNING_RATE):
    schedule = training.one_cycle(epochs, math.ceil(n_fit / BATCH_SIZE), peak_lr)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="binary_crossentropy", metrics=["accuracy"])
    model.optimizer.build(model.trainable_variables)   # Adam's moments now: fit then traces its step once, not twice
    return model


def drift_from_notebook(path: Path = NOTEBOOK) -> list[str]:
    """Return what differs between (b) here and the recipe notebook 08 teaches (empty when they match)."""
    return missing_from_notebook(path, [inspect.getsource(build_rnn).strip(), inspect.getsource(compile_model).strip(),
                 f"MAX_TOKENS = {MAX_TOKENS:_}", f"SEQUENCE_LENGTH = runtime.pick(quick={SEQUENCE_LENGTH},",
                  f"UNITS = {UNITS}", f"EPOCHS = runtime.pick(quick={EPOCHS},",
                  f"BATCH_SIZE = runtime.global_batch(runtime.pick(quick={BATCH_SIZE},",
                  "LEARNING_RATE = runtime.pick(quick=1.5e-2,",
                  '"gru": lambda **options: layers.GRU(UNITS, **options),',
                  'models["gru_mean"] = compile_model(build_rnn("gru", mean=True))', '(x_train, x_val), x_test = cuts["end"]',
                  "n_fit = len(imdb.x_train) - len(imdb.x_train) // 10", "validation_data=(x_val, y_val)"])


def inputs(imdb, recipe):
    """Return (x_train, x_test) as recipe `recipe` vectorises the reviews."""
    if recipe == NAME_A:
        vectorizer = text.vectorizer(imdb.x_train, max_tokens=KERASIO["max_tokens"])
        tokens = [[row[row > 0] for row in text.sequences(vectorizer, x, 3_000, keep="start")]
                  for x in (imdb.x_train, imdb.x_test)]
        return [keras.utils.pad_sequences(t, maxlen=KERASIO["length"]) for t in tokens]  # the example's defaults
    vectorizer = text.vectorizer(imdb.x_train, max_tokens=MAX_TOKENS)
    return [text.sequences(vectorizer, x, SEQUENCE_LENGTH, keep="end") for x in (imdb.x_train, imdb.x_test)]


def train(recipe, seed, epochs, x, y, x_test, y_test) -> Run:
    """Train `recipe` from `seed` on (x, y) for `epochs`; return its accuracy-against-time points."""
    keras.utils.set_random_seed(seed)
    batch = KERASIO["batch"] if recipe == NAME_A else BATCH_SIZE
    model = build_kerasio() if recipe == NAME_A else compile_model(build_rnn("gru", mean=True))
    clock = TrainingClock(math.ceil(len(x) / batch))
    clock.start()
    model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0, callbacks=[clock])
    return score(Run(recipe, seed, model.count_params()), model, clock,
                 lambda m: np.mean((m.predict(x_test, batch_size=400, verbose=0)[:, 0] > 0.5) == y_test))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    drift = drift_from_notebook()
    if drift:
        print("time_to_accuracy_imdb: recipe (b) no longer matches notebooks/08_recurrent_networks.ipynb; update this "
              "script. Not found in the notebook: " + "; ".join(drift), file=sys.stderr)
        return 2
    imdb = data.load("imdb")
    if imdb.is_sample:
        print("time_to_accuracy_imdb: refusing to run on the built-in sample (generated reviews, not IMDB). Point "
              "UDL_DATA_DIR at the real-data mirror, e.g. UDL_DATA_DIR=../shared/data.", file=sys.stderr)
        return 2
    global n_fit
    n_fit = len(imdb.x_train) - len(imdb.x_train) // 10
    y, y_test = imdb.y_train[:n_fit].astype("float32"), imdb.y_test
    data_for = {}
    for recipe in (NAME_A, NAME_B):
        x_all, x_test = inputs(imdb, recipe)
        data_for[recipe] = (x_all[:n_fit], y, x_test, y_test)
    print(f"training on {n_fit:,} reviews (the last 10 % held out for validation, as in notebook 08), testing on "
          f"{len(y_test):,} | seeds {args.seeds}")
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPU cores, GPUs: {len(tf.config.list_physical_devices('GPU'))}, "
          f"load average at the start: {os.getloadavg()[0]:.1f}")
    train(NAME_B, 99, 1, *[v[:256] for v in data_for[NAME_B][:2]], *data_for[NAME_B][2:])  # warm-up, thrown away
    budgets = {NAME_A: KERASIO["epochs"], NAME_B: EPOCHS}
    runs = race(lambda name, seed, epochs: train(name, seed, epochs, *data_for[name]), budgets, args.seeds, FIXED)
    for name, rs in runs.items():
        for run in rs:
            print(f"  {name}, seed {run.seed}: " + ", ".join(f"{p[0]:g}: {p[3]:.1%} at {p[1]:.1f} s" for p in run.points))
    target = baseline_target(runs[NAME_A])
    summary = report(runs, budgets, target, n_fit, fixed=FIXED)
    budget = min(row["train"] for row in summary.values())
    for name, rs in runs.items():
        at_budget = np.median([r.within(budget) for r in rs])
        print(f"{name}: test accuracy after {budget:.1f} s of training: "
              + ("not half an epoch yet" if math.isnan(at_budget) else f"{at_budget:.2%}"))
    speedup, speedup_cpu = speedups(summary)
    print(f"\nSpeed-up of notebook 08's GRU to {target:.2%} ((a)'s final accuracy): {speedup:.2f}x wall-clock "
          f"({speedup_cpu:.2f}x in CPU-s) (goal: >= {GOAL:.0f}x sooner: {'met' if speedup >= GOAL else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
