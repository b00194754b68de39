"""DCGAN time to quality on MNIST: notebook 14's recipe vs the TensorFlow DCGAN tutorial's recipe.

Run from the repository root, on real MNIST digits (the mirror holds 8,000 train / 2,000 test):

    UDL_DATA_DIR=../shared/data nice -n 10 .venv/bin/python benchmarks/dcgan_time_to_quality.py --budget 480

It refuses to run on the built-in sample. For each of ``--seeds`` it trains, for the same time budget (wall-clock
seconds, or CPU-seconds of this process with ``--clock cpu``):
  (a) the TensorFlow tutorial `generative/dcgan`: noise 100 -> Dense 7·7·256 -> Conv2DTranspose 128 (5×5) -> 64 ->
      1 (tanh), BatchNorm and LeakyReLU between; discriminator Conv 64 -> Conv 128 (5×5, stride 2, LeakyReLU,
      Dropout 0.3) -> Dense 1; both players updated on the same noise, Adam 1e-4, batch 256, pixels in [-1, 1];
  (b) notebook 14's full-profile recipe (`build_generator`, `build_discriminator` at WIDTH 64, `udl.generative.GAN`
      with an average of the generator's weights, ``ema=0.999``, compiled and fed as in the notebook: Adam 2e-3 for
      both players, beta_1 0.5, batch 128); it is scored on the average's samples, and the generator's own weights'
      score is printed beside it;
  (c) notebook 14's quick-profile recipe: the same code at WIDTH 16, batch 32, Adam 3e-3 for the discriminator
      and 6e-3 for the generator, no average.
``--recipes`` picks some of them (e.g. ``--recipes b c``).
Every ``--every`` seconds of training a callback stops the clock and copies the generator's weights. After
training, each copy generates 2,000 digits from fixed noise and is scored with the classifier score
exp(E[KL(p(y|x) || p(y))]) (`udl.generative.classifier_score`) by a digit classifier trained first, with
notebook 14's recipe (2 epochs, a one-cycle schedule peaking at 1e-2), on the same training digits; the real test
digits' score is printed for scale. Reported per recipe, as the median over the seeds: the training time (wall
and CPU-s of this process) to the first snapshot scoring 5 and 8, and the score at the end of the budget.
Goal: (b) reaches 8 at least 2× sooner than (a). Before anything, the script checks that (b) is still what the
notebook teaches, and stops if not. With the defaults (30 minutes per recipe and seed, 3 seeds) it runs for about
3 hours; ``--budget``, ``--seeds`` and ``--clock cpu`` make it shorter or fairer on a shared machine, ``--plot
FILE`` saves the score against time.
"""

from __future__ import annotations

import argparse
import inspect
import math
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers, ops  # noqa: E402

from _timing import missing_from_notebook  # noqa: E402
from udl import data, training  # noqa: E402
from udl.generative import GAN, classifier_score  # noqa: E402

GOAL = 2.0
TARGETS = (5.0, 8.0)
N_SCORED = 2_000
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "14_gans.ipynb"

# --- (a) the TensorFlow DCGAN tutorial -----------------------------------------------------------------------


def tutorial_generator():
    return keras.Sequential([
        keras.Input((100,)),
        layers.Dense(7 * 7 * 256, use_bias=False), layers.BatchNormalization(), layers.LeakyReLU(),
        layers.Reshape((7, 7, 256)),
        layers.Conv2DTranspose(128, 5, strides=1, padding="same", use_bias=False), layers.BatchNormalization(),
        layers.LeakyReLU(),
        layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False), layers.BatchNormalization(),
        layers.LeakyReLU(),
        layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False, activation="tanh"),
    ], name="tutorial_generator")


def tutorial_discriminator():
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(64, 5, strides=2, padding="same"), layers.LeakyReLU(), layers.Dropout(0.3),
        layers.Conv2D(128, 5, strides=2, padding="same"), layers.LeakyReLU(), layers.Dropout(0.3),
        layers.Flatten(), layers.Dense(1),
    ], name="tutorial_discriminator")


class TutorialGAN(keras.Model):
    """The tutorial's `train_step` (one noise batch, both players' gradients from the same forward pass)."""

    def __init__(self, seed=0):
        super().__init__()
        self.generator, self.discriminator = tutorial_generator(), tutorial_discriminator()
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.bce = keras.losses.BinaryCrossentropy(from_logits=True)
        self.g_optimizer, self.d_optimizer = keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-4)

    def train_step(self, images):
        noise = keras.random.normal((ops.shape(images)[0], 100), seed=self.seed_generator)
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            generated = self.generator(noise, training=True)
            real_output = self.discriminator(images, training=True)
            fake_output = self.discriminator(generated, training=True)
            gen_loss = self.bce(ops.ones_like(fake_output), fake_output)
            disc_loss = (self.bce(ops.ones_like(real_output), real_output)
                         + self.bce(ops.zeros_like(fake_output), fake_output))
        g = gen_tape.gradient(gen_loss, self.generator.trainable_variables)
        d = disc_tape.gradient(disc_loss, self.discriminator.trainable_variables)
        self.g_optimizer.apply_gradients(zip(g, self.generator.trainable_variables))
        self.d_optimizer.apply_gradients(zip(d, self.discriminator.trainable_variables))
        return {"d_loss": disc_loss, "g_loss": gen_loss}


# --- (b) notebook 14 ------------------------------------------------------------------------------------------
# MUST match the cells of notebooks/14_gans.ipynb (checked by `drift_from_notebook`).

LATENT_DIM = 64
WIDTH, BATCH_SIZE, EMA = 64, 128, 0.999  # the notebook's full profile, on one device
D_LEARNING_RATE, G_LEARNING_RATE = 2e-3, 2e-3
QUICK_WIDTH, QUICK_BATCH_SIZE, QUICK_EMA = 16, 32, None  # (c): its quick profile
QUICK_D_LEARNING_RATE, QUICK_G_LEARNING_RATE = 3e-3, 6e-3
CLASSIFIER_EPOCHS, CLASSIFIER_PEAK_LR = 2, 1e-2  # the judge: notebook 02's convnet, one-cycle schedule


def _spelled(rate: float) -> str:
    """A learning rate as the notebook writes it: 0.004 -> "4e-3"."""
    return f"{rate:.0e}".replace("e-0", "e-")


def build_generator():
    noise = keras.Input(shape=(LATENT_DIM,))
    x = layers.Dense(7 * 7 * 2 * WIDTH, use_bias=False)(noise)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Reshape((7, 7, 2 * WIDTH))(x)
    x = layers.Conv2DTranspose(WIDTH, 4, strides=2, padding="same", use_bias=False)(x)  # 7×7 -> 14×14
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(0.2)(x)
    images = layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh")(x)  # -> 28×28
    return keras.Model(noise, images, name="generator")


def build_discriminator():
    images = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(WIDTH, 4, strides=2, padding="same", use_bias=False)(images)  # 28×28 -> 14×14
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Conv2D(2 * WIDTH, 4, strides=2, padding="same", use_bias=False)(x)  # -> 7×7
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(0.2)(x)
    logits = layers.Dense(1)(layers.Flatten()(x))
    return keras.Model(images, logits, name="discriminator")


def compile_model(gan, d_lr=D_LEARNING_RATE, g_lr=G_LEARNING_RATE):
    gan.compile(d_optimizer=keras.optimizers.Adam(d_lr, beta_1=0.5),
                g_optimizer=keras.optimizers.Adam(g_lr, beta_1=0.5))
    return gan


def build_classifier():
    inputs = keras.Input(shape=(28, 28, 1))
    x = inputs
    for filters in (32, 64):
        x = layers.Conv2D(filters, 3, use_bias=False)(x)
        x = layers.MaxPooling2D(2)(x)
        x = layers.BatchNormalization(momentum=0.9)(x)
        x = layers.ReLU()(x)
    x = layers.Dropout(0.5)(layers.Flatten()(x))
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="classifier")


TUTORIAL, OURS, QUICK = "(a) TF tutorial", "(b) notebook 14 full", "(c) notebook 14 quick"


def drift_from_notebook(path: Path = NOTEBOOK) -> list[str]:
    """Return what differs between (b) here and the recipe notebook 14 teaches (empty when they match)."""
    expected = [inspect.getsource(f).strip() for f in (build_generator, build_discriminator, compile_model,
                                                         build_classifier)]
    expected += [f"LATENT_DIM = {LATENT_DIM}",
                 f"BATCH_SIZE = runtime.global_batch(runtime.pick(quick={QUICK_BATCH_SIZE}, full={BATCH_SIZE}))",
                 f"WIDTH = runtime.pick(quick={QUICK_WIDTH}, full={WIDTH})",
                 f"EMA = runtime.pick(quick={QUICK_EMA}, full={EMA})",
                 f"D_LEARNING_RATE = runtime.pick(quick={_spelled(QUICK_D_LEARNING_RATE)}, "
                 f"full={_spelled(D_LEARNING_RATE)})",
                 f"G_LEARNING_RATE = runtime.pick(quick={_spelled(QUICK_G_LEARNING_RATE)}, "
                 f"full={_spelled(G_LEARNING_RATE)})",
                 f"CLASSIFIER_EPOCHS = {CLASSIFIER_EPOCHS}",
                 f"training.one_cycle(epochs, math.ceil(len(x_train) / 128), peak_lr={_spelled(CLASSIFIER_PEAK_LR)})",
                 "x_train * 2 - 1",
                 "generative.GAN(generator, discriminator, ema=EMA)",
                 "gan.generator if gan.ema_generator is None else gan.ema_generator"]
    return missing_from_notebook(path, expected)


# --- timing --------------------------------------------------------------------------------------------------

@dataclass
class Run:
    """One recipe trained once: (steps, wall s, CPU s, classifier score, raw score) at each snapshot.

    The score is of the samples the recipe draws (from the average of the generator's weights when it keeps one);
    the raw score is of the generator's own weights (the same number without an average).
    """

    recipe: str
    seed: int
    points: list = field(default_factory=list)

    def reached(self, target: float):
        return next((p for p in self.points if p[3] >= target), None)


class Clock(keras.callbacks.Callback):
    """Copy the generator's weights every `every` s of training (clock stopped meanwhile); stop after `budget` s.

    The seconds are wall-clock seconds, or with ``clock="cpu"`` CPU-seconds of this process (all its threads):
    on a machine shared with other jobs, CPU time is the fairer budget.
    """

    def __init__(self, budget: float, every: float, clock: str = "wall"):
        super().__init__()
        self.budget, self.every, self.clock, self.snapshots, self.steps = budget, every, clock, [], 0
        self.paused_wall = self.paused_cpu = 0.0

    def start(self):
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        wall, cpu = time.perf_counter(), time.process_time()
        train_wall, train_cpu = wall - self.wall0 - self.paused_wall, cpu - self.cpu0 - self.paused_cpu
        spent = train_wall if self.clock == "wall" else train_cpu
        if spent >= self.every * (len(self.snapshots) + 1) or spent >= self.budget:
            average = getattr(self.model, "ema_generator", None)
            self.snapshots.append((self.steps, train_wall, train_cpu, self.model.generator.get_weights(),
                                   None if average is None else average.get_weights()))
            if spent >= self.budget:
                self.model.stop_training = True
            self.paused_wall += time.perf_counter() - wall
            self.paused_cpu += time.process_time() - cpu


def dataset(x, batch_size: int, seed: int):
    """Shuffled batches of images in [-1, 1], repeated without end (the clock decides when to stop)."""
    return (tf.data.Dataset.from_tensor_slices(x * 2 - 1).shuffle(len(x), seed=seed)
            .batch(batch_size, drop_remainder=True).repeat().prefetch(tf.data.AUTOTUNE))


def train(recipe: str, seed: int, x, classifier, budget: float, every: float, clock: str) -> Run:
    global WIDTH  # the notebook's functions read WIDTH, as they do there
    keras.utils.set_random_seed(seed)
    if recipe == TUTORIAL:
        gan, batch_size, latent = TutorialGAN(seed), 256, 100
        gan.compile()
    else:
        width, batch_size, ema, d_lr, g_lr = (
            (WIDTH, BATCH_SIZE, EMA, D_LEARNING_RATE, G_LEARNING_RATE) if recipe == OURS
            else (QUICK_WIDTH, QUICK_BATCH_SIZE, QUICK_EMA, QUICK_D_LEARNING_RATE, QUICK_G_LEARNING_RATE))
        saved, WIDTH = WIDTH, width
        try:
            gan = compile_model(GAN(build_generator(), build_discriminator(), seed=seed, ema=ema), d_lr, g_lr)
        finally:
            WIDTH = saved
        latent = LATENT_DIM
    timer = Clock(budget, every, clock)
    timer.start()
    gan.fit(dataset(x, batch_size, seed), epochs=1, steps_per_epoch=10**7, shuffle=False, verbose=0, callbacks=[timer])
    noise = np.random.default_rng(1000 + seed).normal(size=(N_SCORED, latent)).astype("float32")
    run = Run(recipe, seed)
    def score(weights):
        gan.generator.set_weights(weights)
        images = (gan.generator.predict(noise, batch_size=500, verbose=0) + 1) / 2
        return classifier_score(classifier.predict(images, batch_size=500, verbose=0))

    for steps, wall, cpu, weights, average in timer.snapshots:  # scored now that the clock has stopped
        raw = score(weights)
        run.points.append((steps, wall, cpu, raw if average is None else score(average), raw))
    return run


def plot(runs: dict, path: Path) -> None:
    """Save the classifier score against training seconds (wall and CPU), one line per recipe and seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), layout="constrained")
    for i, (name, rs) in enumerate(runs.items()):
        for k, run in enumerate(rs):
            for ax, column in zip(axes, (1, 2)):
                ax.plot([p[column] for p in run.points], [p[3] for p in run.points], color=f"C{i}",
                        label=name if k == 0 else None)
    for ax, clock in zip(axes, ("wall-clock", "CPU")):
        ax.set_xlabel(f"training time ({clock} s)")
        ax.set_ylabel("classifier score")
        ax.set_title(f"Classifier score against {clock} time")
        for target in TARGETS:
            ax.axhline(target, color="grey", linestyle=":")
        ax.legend()
    fig.savefig(path, dpi=100)
    print(f"plot saved to {path}")


def median(values):
    return statistics.median([math.inf if v is None else v for v in values])


def fmt(value, spec=".0f") -> str:
    return "not reached" if value is None or math.isinf(value) else f"{value:{spec}}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=1800.0, help="training seconds per recipe and seed")
    parser.add_argument("--every", type=float, default=20.0, help="seconds of training between snapshots")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--recipes", nargs="+", choices=("a", "b", "c"), default=["a", "b", "c"],
                        help="which recipes to train: a (the tutorial), b (notebook 14's full profile), c (its quick "
                             "profile)")
    parser.add_argument("--plot", type=Path, help="also save the score against training time to this image file")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="what --budget and --every count: wall-clock seconds (default) or CPU-seconds of this "
                             "process, fairer on a machine shared with other jobs")
    args = parser.parse_args(argv)
    if args.budget <= 0 or args.every <= 0:
        parser.error(f"--budget and --every must be positive; received {args.budget} and {args.every}")
    drift = drift_from_notebook()
    if drift:
        print("dcgan_time_to_quality: recipe (b) no longer matches notebooks/14_gans.ipynb; update this script. "
              "Not found in the notebook: " + "; ".join(drift), file=sys.stderr)
        return 2
    mnist = data.load("mnist")
    if mnist.is_sample:
        print("dcgan_time_to_quality: refusing to run on the built-in sample (upscaled 8×8 digits, not MNIST). "
              "Point UDL_DATA_DIR at the real-data mirror.", file=sys.stderr)
        return 2
    x = (mnist.x_train.astype("float32") / 255.0)[..., None]
    x_test = (mnist.x_test.astype("float32") / 255.0)[..., None]
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPU cores, GPUs: {len(tf.config.list_physical_devices('GPU'))}, "
          f"load average at the start: {os.getloadavg()[0]:.1f}; {len(x):,} training digits, budget "
          f"{args.budget:.0f} {args.clock} s per recipe and seed, snapshots every {args.every:.0f} s, seeds {args.seeds}", flush=True)

    keras.utils.set_random_seed(0)
    classifier = build_classifier()
    schedule = training.one_cycle(CLASSIFIER_EPOCHS, math.ceil(len(x) / 128), peak_lr=CLASSIFIER_PEAK_LR)
    classifier.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy",
                       metrics=["accuracy"])
    classifier.fit(x, mnist.y_train, batch_size=128, epochs=CLASSIFIER_EPOCHS, verbose=0)
    _, accuracy = classifier.evaluate(x_test, mnist.y_test, verbose=0)
    real = classifier_score(classifier.predict(x_test, verbose=0))
    print(f"classifier: test accuracy {accuracy:.2%}; classifier score of the {len(x_test):,} real test digits "
          f"{real:.2f}", flush=True)

    names = {"a": TUTORIAL, "b": OURS, "c": QUICK}
    runs: dict[str, list[Run]] = {names[key]: [] for key in sorted(set(args.recipes))}
    for i, seed in enumerate(args.seeds):
        for name in (list(runs) if i % 2 == 0 else list(runs)[::-1]):
            run = train(name, seed, x, classifier, args.budget, args.every, args.clock)
            runs[name].append(run)
            trace = ", ".join(f"{p[2]:.0f}:{p[3]:.2f}" + (f" ({p[4]:.2f})" if p[4] != p[3] else "")
                              for p in run.points)
            print(f"  {name}, seed {seed}: {run.points[-1][0]} steps, score {run.points[-1][3]:.2f} after "
                  f"{run.points[-1][1]:.0f} s ({run.points[-1][2]:.0f} CPU-s); load {os.getloadavg()[0]:.1f}; "
                  f"score at CPU-s (raw weights' score in brackets): {trace}", flush=True)

    print(f"\nmedian of {len(args.seeds)} seeds; training time only (scoring excluded); budget {args.budget:.0f} "
          f"{args.clock} s")
    header = "recipe            " + "".join(f"{'to ' + format(t, 'g') + ': s / CPU-s':>26}" for t in TARGETS) + "  final score  steps"
    print(header)
    summary = {}
    for name, rs in runs.items():
        row = {t: (median([r.reached(t)[1] if r.reached(t) else None for r in rs]),
                   median([r.reached(t)[2] if r.reached(t) else None for r in rs])) for t in TARGETS}
        row["final"] = statistics.median(r.points[-1][3] for r in rs)
        row["steps"] = statistics.median(r.points[-1][0] for r in rs)
        summary[name] = row
        cells = "".join(f"{fmt(row[t][0]) + ' / ' + fmt(row[t][1]):>26}" for t in TARGETS)
        print(f"{name:<18}{cells}  {row['final']:>11.2f}  {row['steps']:>5.0f}")
    if args.plot:
        plot(runs, args.plot)
    if TUTORIAL not in summary or OURS not in summary:
        print(f"load average at the end: {os.getloadavg()[0]:.1f}\nGoal: not judged (it compares (a) with (b))")
        return 0
    a, b = summary[TUTORIAL][8.0][0], summary[OURS][8.0][0]
    if math.isinf(b):
        verdict = "NOT met: notebook 14's recipe did not reach 8 within the budget"
    elif math.isinf(a):
        verdict = (f"met at least {args.budget / b:.1f}× (notebook 14 reached 8 after {b:.0f} s; the tutorial's "
                   f"recipe did not within {args.budget:.0f} s)")
    else:
        verdict = f"{'met' if a / b >= GOAL else 'NOT met'}: {a / b:.1f}× sooner"
    print(f"load average at the end: {os.getloadavg()[0]:.1f}\nGoal (score 8 at least {GOAL:g}× sooner): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
