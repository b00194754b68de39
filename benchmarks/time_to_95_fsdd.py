"""Time to 95 % validation accuracy on spoken digits: notebook 10's recipe vs TensorFlow's "Simple audio recognition".

Run from the repository root, on the real Free Spoken Digit Dataset (the mirror holds all 3,000 recordings):

    UDL_DATA_DIR=../shared/data .venv/bin/python benchmarks/time_to_95_fsdd.py

It refuses to run on the built-in sample (synthetic espeak-ng voices). Both recipes train on upstream's training
split less a validation split held out the way upstream holds out its test split, by take: takes 10-49 of every
speaker and digit train (2,400 recordings), takes 5-9 validate (300); the curves, the target and every choice use the
validation takes, and upstream's test split (takes 0-4, 300 recordings) is scored once, after each run's whole
budget. Every recording is padded with silence or cut to 1 s (8,000 samples), as the tutorial does with
``output_sequence_length``. In one run, for each of ``--seeds``, it trains
  (a) the recipe of tensorflow.org/tutorials/audio/simple_audio: ``tf.signal.stft`` (frame 255, step 128),
      magnitude; a tf.data pipeline shuffled once, batched by 64, mapped to spectrograms, cached, batches shuffled
      each epoch, prefetched; Resizing 32×32 → Normalization (adapted to the training spectrograms) → Conv32 →
      Conv64 → MaxPool → Dropout 0.25 → Flatten → Dense 128 → Dropout 0.5 → Dense 10 logits; Adam at 1e-3; 10
      epochs (the tutorial's budget, without its early stopping, which only stops);
  (b) notebook 10's CNN: peak-normalised waveforms into a model whose first layer is `keras.layers.MelSpectrogram`
      (40 bands, 32 ms frames every 16 ms, a fixed -60 dB floor), BatchNorm, three blocks of 3×3 Conv → MaxPool →
      BatchNorm → ReLU (8, 16, 32 filters), Dropout 0.3, Dense 10 softmax; Adam with a 2 % warm-up to 5e-3, then
      cosine decay to 0; batch 64; the epochs and filters of notebook 10's quick profile.
The clock measures training only, as in ``time_to_98_mnist.py`` (both use ``_timing.py``): it starts before
(a)'s ``Normalization.adapt`` (which also computes and caches its spectrograms) and before (b)'s ``fit``; every half
epoch a callback stops it, copies the weights and starts it again, and the copies are scored on the validation
recordings after ``fit``. A throwaway model trains first, and the order of the recipes alternates from seed to
seed. The target is the validation accuracy that (a), the baseline, ends at (the median over the seeds of this same run),
so that the verdict holds on any fair split; the seconds to the fixed ``--target`` (default 95 %) are reported
beside it. Reported per recipe, as medians over the seeds: wall-clock and CPU seconds until validation accuracy first
reaches the target, the epoch at which it did, the seconds to ``--target``, the validation accuracy after the whole
budget, and then, once, the test accuracy after the whole budget.
"""

from __future__ import annotations

import argparse
import inspect
import math
import os
import platform
import sys
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from _timing import (Run, TrainingClock, baseline_target, missing_from_notebook, race, report,  # noqa: E402
                     speedups)
from keras import layers  # noqa: E402

from udl import audio, data, training  # noqa: E402

GOAL = 2.0  # (b) should reach the target at least this many times sooner than (a)
SAMPLES = 8000  # 1 s at 8 kHz
BATCH_SIZE = 64  # both recipes
TUTORIAL_EPOCHS = 10  # as in the tutorial
VAL_TAKES = range(5, 10)  # the validation split: takes 5-9, as in notebook 10 (upstream's test split is takes 0-4)
NOTEBOOK10_EPOCHS, N_FILTERS = 6, 8  # MUST match notebook 10's quick profile: EPOCHS and N_FILTERS


# --- (a) TensorFlow's "Simple audio recognition" tutorial --------------------------------------------------

def get_spectrogram(waveform):
    """Return the tutorial's spectrogram: |STFT| with frame 255, step 128, and a channel axis."""
    spectrogram = tf.abs(tf.signal.stft(waveform, frame_length=255, frame_step=128))
    return spectrogram[..., tf.newaxis]


def tutorial_dataset(x, y, seed: int):
    """Return the tutorial's training pipeline: shuffled once, batched, mapped, cached, batches shuffled, prefetched."""
    order = np.random.default_rng(seed).permutation(len(x))  # audio_dataset_from_directory(shuffle=True, seed=...)
    ds = tf.data.Dataset.from_tensor_slices((x[order], y[order])).batch(BATCH_SIZE)
    ds = ds.map(lambda w, label: (get_spectrogram(w), label), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.cache().shuffle(10000).prefetch(tf.data.AUTOTUNE)


def build_tutorial(train_ds):
    """Return the tutorial's model, its Normalization adapted to `train_ds`, compiled as in the tutorial."""
    input_shape = train_ds.element_spec[0].shape[1:]
    norm_layer = layers.Normalization()
    norm_layer.adapt(data=train_ds.map(map_func=lambda spec, label: spec))
    model = keras.Sequential([
        layers.Input(shape=input_shape),
        layers.Resizing(32, 32),
        norm_layer,
        layers.Conv2D(32, 3, activation="relu"),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(10),
    ])
    model.compile(optimizer=keras.optimizers.Adam(),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


# --- (b) notebook 10 -----------------------------------------------------------------------------------------
# `make_mel`'s arguments, `peak_normalize`, `build_cnn` and `compile_model` MUST match
# notebooks/10_sound_spectrograms.ipynb: the notebook is where the recipe is taught, this is where it is timed.
# `drift_from_notebook` checks.
N_MELS, HOP = 40, 128
mel = None  # the notebook's `mel` layer, made in `main` by `make_mel`


def make_mel(fsdd):
    return layers.MelSpectrogram(
    fft_length=256, sequence_stride=HOP,   # 32 ms frames, overlapping by half
    sampling_rate=fsdd.sample_rate, num_mel_bins=N_MELS, min_freq=20, max_freq=fsdd.sample_rate // 2,
    min_power=1e-6, top_db=np.inf)         # a fixed floor at -60 dB, the same for every clip and batch


def peak_normalize(waves):
    return waves / np.abs(waves).max(axis=1, keepdims=True)


def build_cnn(n_filters=N_FILTERS):
    inputs = keras.Input(shape=(SAMPLES,))
    x = mel(inputs)                                                    # (40 bands, 63 frames)
    x = layers.Reshape((*x.shape[1:], 1))(x)                           # one channel, as for grey images
    x = layers.BatchNormalization(momentum=0.9)(x)
    for filters in (n_filters, 2 * n_filters, 4 * n_filters):          # 40×63 -> 20×31 -> 10×15 -> 5×7
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.MaxPooling2D(2)(x)
        x = layers.BatchNormalization(momentum=0.9)(x)
        x = layers.ReLU()(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="cnn")


def compile_model(model, epochs, n_train, peak_lr=5e-3):
    schedule = training.one_cycle(epochs, int(np.ceil(n_train / BATCH_SIZE)), peak_lr)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


TUTORIAL, NOTEBOOK10 = "(a) TF simple_audio", "(b) notebook 10 CNN"
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "10_sound_spectrograms.ipynb"


def drift_from_notebook(path: Path = NOTEBOOK) -> list[str]:
    """Return what differs between (b) here and the recipe notebook 10 teaches (empty when they match)."""
    mel_arguments = "\n".join(inspect.getsource(make_mel).splitlines()[2:])
    return missing_from_notebook(path, [
        mel_arguments, inspect.getsource(peak_normalize).strip(), inspect.getsource(build_cnn).strip(),
        inspect.getsource(compile_model).strip(), f"EPOCHS = runtime.pick(quick={NOTEBOOK10_EPOCHS},",
        f"N_FILTERS = runtime.pick(quick={N_FILTERS},", f"BATCH_SIZE = {BATCH_SIZE}", f"SAMPLES = {SAMPLES}",
        f"N_MELS, HOP = {N_MELS}, {HOP}"])


# --- timing --------------------------------------------------------------------------------------------------

def train(recipe: str, seed: int, waves, y, waves_val, y_val, waves_test, y_test, epochs: int) -> Run:
    """Train `recipe` from `seed` for `epochs` epochs; return its validation accuracy against training time.

    The run's ``test`` is its test accuracy after the whole budget: the only time a recipe meets the test split.
    """
    keras.utils.set_random_seed(seed)
    steps_per_epoch = math.ceil(len(waves) / BATCH_SIZE)
    clock = TrainingClock(steps_per_epoch)
    if recipe == TUTORIAL:
        x_val, x_test = get_spectrogram(waves_val), get_spectrogram(waves_test)  # outside the clock, like scoring
        clock.start()
        train_ds = tutorial_dataset(waves, y, seed)
        model = build_tutorial(train_ds)  # adapts Normalization: on the clock
        with warnings.catch_warnings():  # Keras notes that a tf.data pipeline shuffles itself, as this one does
            warnings.filterwarnings("ignore", message="`shuffle=True` was passed")
            model.fit(train_ds, epochs=epochs, verbose=0, callbacks=[clock])
    else:
        x, x_val, x_test = peak_normalize(waves), peak_normalize(waves_val), peak_normalize(waves_test)
        model = compile_model(build_cnn(), epochs, len(x))
        clock.start()
        model.fit(x, y, batch_size=BATCH_SIZE, epochs=epochs, verbose=0, callbacks=[clock])
    run = Run(recipe, seed, model.count_params())
    for epoch, wall, cpu, weights in clock.snapshots:  # score each snapshot, now that the clock has stopped
        model.set_weights(weights)
        predicted = model.predict(x_val, batch_size=300, verbose=0).argmax(axis=1)
        run.points.append((epoch, wall, cpu, float(np.mean(predicted == y_val))))
    run.test = float(np.mean(model.predict(x_test, batch_size=300, verbose=0).argmax(axis=1) == y_test))  # the last
    return run


def warm_up(waves, y) -> None:
    """Start TensorFlow's thread pools and kernels on a throwaway model, so neither recipe pays for it."""
    model = keras.Sequential([keras.Input((SAMPLES,)), layers.Reshape((80, 100, 1)), layers.Conv2D(4, 3),
                              layers.Flatten(), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(waves[:512], y[:512], batch_size=BATCH_SIZE, epochs=1, verbose=0)
    get_spectrogram(waves[:64])


def main(argv=None) -> int:
    global mel
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs-a", type=int, default=TUTORIAL_EPOCHS)
    parser.add_argument("--epochs-b", type=int, default=NOTEBOOK10_EPOCHS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--target", type=float, default=0.95, help="validation accuracy to reach (default: 0.95)")
    args = parser.parse_args(argv)
    if min(args.epochs_a, args.epochs_b) < 1 or not 0 < args.target < 1:
        parser.error("--epochs-a/--epochs-b must be >= 1 and --target between 0 and 1")
    drift = drift_from_notebook()
    if drift:
        print("time_to_95_fsdd: recipe (b) no longer matches notebooks/10_sound_spectrograms.ipynb; update this "
              "script. Not found in the notebook: " + "; ".join(drift), file=sys.stderr)
        return 2
    os.environ["UDL_PROFILE"] = "full"  # all 2,700 / 300 recordings, not the quick profile's subset
    fsdd = data.load("fsdd")
    if fsdd.is_sample:
        print("time_to_95_fsdd: refusing to run on the built-in sample (synthetic voices): point UDL_DATA_DIR at "
              "the real-data mirror, e.g. UDL_DATA_DIR=../shared/data, or let udl download FSDD.", file=sys.stderr)
        return 2
    mel = make_mel(fsdd)
    waves, waves_test = audio.pad_or_trim(fsdd.x_train, SAMPLES), audio.pad_or_trim(fsdd.x_test, SAMPLES)
    y, y_test = fsdd.y_train.astype("int32"), fsdd.y_test.astype("int32")
    is_val = np.isin(fsdd.takes_train, VAL_TAKES)
    waves, waves_val, y, y_val = waves[~is_val], waves[is_val], y[~is_val], y[is_val]
    print(f"training on {len(waves):,} recordings, validating on {len(waves_val):,} (takes {VAL_TAKES.start}-"
          f"{VAL_TAKES.stop - 1}), testing once on {len(waves_test):,} | batch {BATCH_SIZE} | seeds {args.seeds} | "
          f"target: (a)'s final validation accuracy, and {args.target:.0%}")
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, NumPy {np.__version__}, Python "
          f"{platform.python_version()}, {os.cpu_count()} CPU cores, GPUs: "
          f"{len(tf.config.list_physical_devices('GPU'))}, load average at the start: {os.getloadavg()[0]:.1f}")

    warm_up(waves, y)
    budgets = {TUTORIAL: args.epochs_a, NOTEBOOK10: args.epochs_b}
    runs = race(lambda name, seed, epochs: train(name, seed, waves, y, waves_val, y_val, waves_test, y_test, epochs),
                budgets, args.seeds, args.target)
    target = baseline_target(runs[TUTORIAL])
    summary = report(runs, budgets, target, len(waves), fixed=args.target)
    a, b = summary[TUTORIAL], summary[NOTEBOOK10]
    speedup, speedup_cpu = speedups(summary)
    fixed = a["fixed"] / b["fixed"] if not math.isinf(b["fixed"]) else 0.0
    met = speedup >= GOAL
    print("\nvalidation accuracy above; test accuracy after the whole budget, once per run (seeds "
          f"{args.seeds}): " + "; ".join(f"{name} {np.median([r.test for r in rs]):.2%} (median of "
                                        f"{', '.join(f'{r.test:.2%}' for r in rs)})" for name, rs in runs.items()))
    print(f"\nSpeed-up of notebook 10's recipe to {target:.2%} ((a)'s final validation accuracy): {speedup:.2f}x "
          f"wall-clock ({speedup_cpu:.2f}x in CPU-s); to {args.target:.0%}: {fixed:.2f}x wall-clock; final validation "
          f"accuracy "
          f"{b['final']:.2%} vs {a['final']:.2%} (goal: >= {GOAL:.0f}x sooner: {'met' if met else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
