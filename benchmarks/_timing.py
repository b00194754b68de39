"""Shared by the time-to-accuracy benchmarks: a clock that snapshots weights while it is stopped, the runs it records,
the check that a benchmark still times what its notebook teaches, and the race of two recipes over seeds.

The target of a time-to-accuracy benchmark is the accuracy its baseline recipe ends at (`baseline_target`: the median
over the seeds of the same run), so that the verdict holds on any fair split of the data; a fixed target may be
reported beside it (`report(..., fixed=)`).

A benchmark script defines its two recipes and a ``train(recipe, seed, epochs) -> Run`` function that fits with a
`TrainingClock` and scores the clock's snapshots after ``fit``; `race` runs both recipes for every seed (alternating
their order, so that drifting load hits both alike) and `report` prints the table of medians and the speed-up.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import keras


@dataclass
class Run:
    """One recipe trained once: test accuracy at each half epoch against training time so far."""

    recipe: str
    seed: int
    params: int
    points: list = field(default_factory=list)  # (epoch, wall s, CPU s, test accuracy)

    def steady_rate(self, n_train: int) -> float:
        """Return training samples per second after the first epoch (graph building and warm-up excluded)."""
        first = next(p for p in self.points if p[0] == 1.0)
        if self.points[-1][0] <= 1.0:
            return math.nan  # a budget of one epoch has no steady state to measure
        return n_train * (self.points[-1][0] - 1.0) / (self.points[-1][1] - first[1])

    def reached(self, target: float):
        """Return the first (epoch, wall s, CPU s, accuracy) at or above `target`, or None."""
        return next((p for p in self.points if p[3] >= target - 1e-9), None)

    def within(self, seconds: float) -> float:
        """Return the test accuracy of the last snapshot taken within `seconds` of training (NaN before any)."""
        return max((p for p in self.points if p[1] <= seconds), key=lambda p: p[1], default=(0, 0, 0, math.nan))[3]


class TrainingClock(keras.callbacks.Callback):
    """Snapshot the weights every half epoch and at each epoch's end, with the clock stopped meanwhile.

    The snapshots are scored on the test digits after `fit` returns. Scoring them during training (with `predict`,
    or with eager calls) left `fit` idle for about a second at the start of some later epochs, mostly with the
    BatchNorm model: time that belongs to the measurement, not to the recipe.
    """

    def __init__(self, steps_per_epoch: int):
        super().__init__()
        self.half, self.epoch, self.snapshots = steps_per_epoch // 2, 0, []
        self.paused_wall = self.paused_cpu = 0.0

    def start(self):
        """Call right before `fit`."""
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()

    def _snapshot(self, epoch: float):
        wall, cpu = time.perf_counter(), time.process_time()
        train_wall, train_cpu = wall - self.wall0 - self.paused_wall, cpu - self.cpu0 - self.paused_cpu
        self.snapshots.append((epoch, train_wall, train_cpu, self.model.get_weights()))
        self.paused_wall += time.perf_counter() - wall
        self.paused_cpu += time.process_time() - cpu

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if batch + 1 == self.half:
            self._snapshot(self.epoch + 0.5)

    def on_epoch_end(self, epoch, logs=None):
        self._snapshot(epoch + 1.0)


def score(run: Run, model, clock: TrainingClock, accuracy) -> Run:
    """Score each of the clock's snapshots with `accuracy(model)`, now that the clock has stopped; return `run`."""
    for epoch, wall, cpu, weights in clock.snapshots:
        model.set_weights(weights)
        run.points.append((epoch, wall, cpu, float(accuracy(model))))
    return run


def baseline_target(runs: list[Run]) -> float:
    """Return the target: the test accuracy the baseline recipe ends at, the median over its runs."""
    return statistics.median(r.points[-1][3] for r in runs)


def median(values):
    """Median that treats None (target never reached) as infinitely late."""
    finite = [math.inf if v is None else v for v in values]
    return statistics.median(finite)


def fmt(value, spec: str) -> str:
    """Format a median, or say that the target was not reached."""
    return "not reached" if value is None or math.isinf(value) else f"{value:{spec}}"


def missing_from_notebook(path: Path, expected: list[str]) -> list[str]:
    """Return the first line of each `expected` snippet that the notebook's code cells do not contain."""
    if not path.is_file():
        return [f"{path} not found"]
    cells = ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    code = "\n".join(line.rstrip() for line in "\n".join(cells).splitlines())
    return [text.strip().splitlines()[0] for text in expected if text not in code]


def race(train, budgets: dict[str, int], seeds: list[int], target: float) -> dict[str, list[Run]]:
    """Train every recipe in `budgets` (name: epochs) once per seed with `train(name, seed, epochs)`; print each run."""
    runs: dict[str, list[Run]] = {name: [] for name in budgets}
    names = list(budgets)
    for i, seed in enumerate(seeds):
        for name in names if i % 2 == 0 else names[::-1]:  # alternate the order, so drifting load hits both alike
            run = train(name, seed, budgets[name])
            runs[name].append(run)
            hit = run.reached(target)
            reached = (f"{target:.0%} at epoch {hit[0]:g} after {hit[1]:.1f} s ({hit[2]:.1f} CPU-s)" if hit
                       else f"{target:.0%} not reached")
            print(f"  {name}, seed {seed}: {reached}; after {budgets[name]} epochs {run.points[-1][3]:.2%} "
                  f"in {run.points[-1][1]:.1f} s", flush=True)
    return runs


def report(runs: dict[str, list[Run]], budgets: dict[str, int], target: float, n_train: int,
           fixed: float | None = None) -> dict:
    """Print the medians over seeds as a table (with the seconds to a `fixed` target too, when given); return them."""
    summary = {}
    for name, rs in runs.items():
        hits = [r.reached(target) for r in rs]
        fixed_hits = [r.reached(fixed) if fixed is not None else None for r in rs]
        summary[name] = {
            "fixed": median([h[1] if h else None for h in fixed_hits]),
            "params": rs[0].params,
            "budget": budgets[name],
            "wall": median([h[1] if h else None for h in hits]),
            "cpu": median([h[2] if h else None for h in hits]),
            "epoch": median([h[0] if h else None for h in hits]),
            "final": statistics.median(r.points[-1][3] for r in rs),
            "train": statistics.median(r.points[-1][1] for r in rs),
            "rate": statistics.median(r.steady_rate(n_train) for r in rs),
            "reached": sum(h is not None for h in hits),
        }
    n_seeds = len(next(iter(runs.values())))
    width = max(map(len, summary))
    extra = f"{'to ' + format(fixed, '.0%') + ': s':>11}  " if fixed is not None else ""
    print(f"\nmedian of {n_seeds} seeds; times are training only (evaluation excluded); target {target:.2%}")
    print(f"{'recipe':<{width}}  {'params':>9}  {'to target: s':>12}  {'CPU-s':>6}  {'epochs':>6}  {extra}"
          f"{'budget':>6}  {'final acc':>9}  {'train s':>7}  {'samples/s':>9}")
    print(f"{'':<{width}}  {'':>9}  {'':>12}  {'':>6}  {'':>6}  {' ' * len(extra)}{'':>6}  {'':>9}  {'':>7}  "
          f"{'(epoch 2+)':>9}")
    for name, row in summary.items():
        note = "" if row["reached"] == n_seeds else f"  (target reached in {row['reached']} of {n_seeds} runs)"
        column = f"{fmt(row['fixed'], '.1f'):>11}  " if fixed is not None else ""
        print(f"{name:<{width}}  {row['params']:>9,}  {fmt(row['wall'], '.1f'):>12}  {fmt(row['cpu'], '.1f'):>6}  "
              f"{fmt(row['epoch'], 'g'):>6}  {column}{row['budget']:>6}  {row['final']:>9.2%}  {row['train']:>7.1f}  "
              f"{row['rate']:>9,.0f}{note}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return summary


def speedups(summary: dict) -> tuple[float, float]:
    """Return how many times sooner the second recipe reached the target than the first: (wall clock, CPU time)."""
    a, b = summary.values()
    return tuple(a[key] / b[key] if not math.isinf(b[key]) else 0.0 for key in ("wall", "cpu"))
