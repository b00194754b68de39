"""Augmentation throughput on CIFAR-10: the 2017 lecture's ImageDataGenerator recipe vs the `cifar` preset pipeline.

Run from the repository root (the mirror is the real 5,000-image CIFAR-10 subset):

    UDL_DATA_DIR=../shared/data .venv/bin/python benchmarks/augmentation_throughput.py

Measures images per second delivered, augmented and normalised, by
  (a) ``tf.keras.preprocessing.image.ImageDataGenerator`` with the seeds' settings (rotation 20°, shifts 20 %,
      horizontal flip, featurewise centring and std normalisation): ``.fit(x)`` then ``.flow(x, y)``;
  (b) ``udl.augment.pipeline(x, y, preset="cifar", normalize="standardize")``: the preset's ``RandomAffine`` layer
      on whole batches in a parallel, prefetched tf.data pipeline, with the same per-channel standardisation. Like
      (a), it composes flip, rotation and shift into one affine matrix per image and resamples once (bilinear);
  (c) the same pipeline with the `seeds` preset: exactly (a)'s transformations (flip, rotation 20°, shift 20 %,
      nearest fill, one bilinear resampling), so (a) and (c) do the same work.
Each method is warmed up for one epoch, then timed over ``--epochs`` epochs of batches, ``--repeats`` times
(methods interleaved, so background load hits them alike); the table gives the median wall-clock rate, its range,
and the rate per CPU-second (all threads of this process), which other programs on the machine disturb less.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from udl import augment, data  # noqa: E402

GOAL = 5.0


def seeds_generator(x, y, batch_size: int):
    """Return the seeds' ImageDataGenerator (fitted on `x`) and its ``.flow`` iterator over (x, y)."""
    # Keras 3 dropped ImageDataGenerator from `keras.preprocessing`; TensorFlow's `tf.keras` still exposes the
    # legacy class (it is keras.src.legacy.preprocessing.image.ImageDataGenerator).
    generator = tf.keras.preprocessing.image.ImageDataGenerator(
        featurewise_center=True,
        featurewise_std_normalization=True,
        rotation_range=20,
        width_shift_range=0.2,
        height_shift_range=0.2,
        horizontal_flip=True,
    )
    generator.fit(x)
    return generator, generator.flow(x, y, batch_size=batch_size, seed=0)


def time_generator(flow, n_images: int, epochs: int) -> tuple[float, float]:
    """Return (images per second, images per CPU-second) for `epochs` passes over the ImageDataGenerator."""
    batches = len(flow) * epochs
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(batches):
        xb, _yb = next(flow)
    return n_images * epochs / (time.perf_counter() - start), n_images * epochs / (time.process_time() - cpu)


def time_dataset(ds, n_images: int, epochs: int) -> tuple[float, float]:
    """Return (images per second, images per CPU-second) for `epochs` passes over the tf.data pipeline.

    Batches are converted to NumPy arrays, as (a) hands them out.
    """
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(epochs):
        for xb, _yb in ds:
            xb.numpy()
    return n_images * epochs / (time.perf_counter() - start), n_images * epochs / (time.process_time() - cpu)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per timed repeat")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    ds = data.load("cifar10")  # prints where the images come from
    x, y = ds.x_train, ds.y_train
    n = len(x)
    print(f"{n:,} images {x.shape[1:]} {x.dtype} | batch size {args.batch_size} | {args.epochs} epochs x "
          f"{args.repeats} repeats per method, after a 1-epoch warm-up")
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, NumPy {np.__version__}, Python "
          f"{platform.python_version()}, {os.cpu_count()} CPU cores, GPUs: {len(tf.config.list_physical_devices('GPU'))}")

    keras.utils.set_random_seed(0)
    _, flow = seeds_generator(x, y, args.batch_size)
    methods = {
        "(a) ImageDataGenerator, seeds' recipe": (time_generator, flow),
        "(b) augment.pipeline, preset 'cifar'": (time_dataset, augment.pipeline(
            x, y, preset="cifar", batch_size=args.batch_size, seed=0, normalize="standardize")),
        "(c) augment.pipeline, preset 'seeds'": (time_dataset, augment.pipeline(
            x, y, preset="seeds", batch_size=args.batch_size, seed=0, normalize="standardize")),
    }
    for timer, source in methods.values():
        timer(source, n, 1)  # warm-up: tracing, thread pools, caches
    rates = {name: [] for name in methods}
    for _ in range(args.repeats):
        for name, (timer, source) in methods.items():
            rates[name].append(timer(source, n, args.epochs))

    def median(name, column):
        return statistics.median(r[column] for r in rates[name])

    base = "(a) ImageDataGenerator, seeds' recipe"
    width = max(len(name) for name in rates)
    print(f"\n{'method':<{width}}  {'images/s (median)':>17}  {'range':>15}  {'speed-up':>8}  {'images/CPU-s':>12}")
    for name, values in rates.items():
        walls = [wall for wall, _ in values]
        print(f"{name:<{width}}  {median(name, 0):>17,.0f}  {min(walls):>7,.0f}-{max(walls):<7,.0f}  "
              f"{median(name, 0) / median(base, 0):>7.1f}x  {median(name, 1):>12,.0f}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"(images/CPU-s: images per second of CPU time used by this process, all its threads; "
          f"load average at the end: {load:.1f} on {os.cpu_count()} cores)")
    speedup = median("(b) augment.pipeline, preset 'cifar'", 0) / median(base, 0)
    verdict = "met" if speedup >= GOAL else "NOT met"
    print(f"\nSpeed-up of the 'cifar' pipeline over ImageDataGenerator: {speedup:.1f}x (goal >= {GOAL:.0f}x: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
