"""Shared by the time-to-accuracy benchmarks: a training clock, accuracy-against-time runs, and the summary table.

The target of every time-to-accuracy benchmark is the accuracy the baseline recipe ends at (the median over the
seeds of the same run), so that the verdict holds on any fair split of the data; a fixed target may be reported
beside it as an extra column.
"""

from __future__ import annotations

import inspect
import json
import math
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
        return n_train * (self.points[-1][0] - 1.0) / (self.points[-1][1] - first[1])

    def reached(self, target: float):
        """Return the first (epoch, wall s, CPU s, accuracy) at or above `target`, or None."""
        return next((p for p in self.points if p[3] >= target - 1e-9), None)

    def within(self, seconds: float) -> float:
        """Return the test accuracy of the last snapshot taken within `seconds` of training (NaN before any)."""
        return max((p for p in self.points if p[1] <= seconds), key=lambda p: p[1], default=(0, 0, 0, math.nan))[3]


class TrainingClock(keras.callbacks.Callback):
    """Snapshot the weights every half epoch and at each epoch's end, with the clock stopped meanwhile.

    The snapshots are scored on the test set after `fit` returns. Scoring them during training (with `predict`,
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
    """Score each snapshot with `accuracy(model)`, now that the clock has stopped; return `run`."""
    for epoch, wall, cpu, weights in clock.snapshots:
        model.set_weights(weights)
        run.points.append((epoch, wall, cpu, float(accuracy(model))))
    return run


def median(values):
    """Median that treats None (target never reached) as infinitely late."""
    return statistics.median([math.inf if v is None else v for v in values])


def fmt(value, spec: str) -> str:
    """Format a median, or say that the target was not reached."""
    return "not reached" if value is None or math.isinf(value) else f"{value:{spec}}"


def time_to(runs: list[Run], target: float) -> dict:
    """Return the medians of wall s, CPU s and epochs to reach `target`, and in how many runs it was reached."""
    hits = [r.reached(target) for r in runs]
    return {"wall": median([h[1] if h else None for h in hits]), "cpu": median([h[2] if h else None for h in hits]),
            "epoch": median([h[0] if h else None for h in hits]), "reached": sum(h is not None for h in hits)}


def baseline_target(runs: list[Run]) -> float:
    """Return the target: the accuracy the baseline recipe ends at, the median over its runs."""
    return statistics.median(r.points[-1][3] for r in runs)


def speedup(baseline: dict, other: dict, key: str) -> float:
    """Return how many times sooner `other` reached the target than `baseline` (0 when it never did)."""
    return 0.0 if math.isinf(other[key]) else baseline[key] / other[key]


def drift(notebook: Path, functions, lines) -> list[str]:
    """Return the first line of each function's source and each line not found in `notebook`'s code cells."""
    if not notebook.is_file():
        return [f"{notebook} not found"]
    cells = ["".join(c["source"]) for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code"]
    code = "\n".join(line.rstrip() for line in "\n".join(cells).splitlines())
    expected = [inspect.getsource(f).strip() for f in functions] + list(lines)
    return [text.splitlines()[0] for text in expected if text not in code]
