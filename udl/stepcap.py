"""``UDL_MAX_STEPS``: run every notebook's training for a few steps only, and time those steps.

A smoke test of the full profile (``make smoke-full``) must run every notebook's full-size models on full-size
data in minutes, without editing a notebook. With ``UDL_MAX_STEPS=N`` set, `runtime.setup()` calls `install()`,
which wraps ``keras.Model.fit`` and ``keras.Model.evaluate`` (and `training.find_learning_rate` asks `cap`):

- ``fit`` trains at most N batches per epoch for at most `EPOCHS` epochs (after ``initial_epoch``), and
  validates on at most N batches; ``evaluate`` evaluates at most N batches. ``predict`` is left whole (its
  output has one row per example, which the notebooks use).
- every capped call is timed: the median seconds per training (and validation) step, the first step left out
  (it traces the graph), beside the steps the call would have run without the cap. `records()` returns them;
  `results.record` writes them into the notebook's results file, and `udl notebooks estimate` multiplies
  the two to estimate how long the uncapped training takes on this machine.
- `results.require` reports a threshold it cannot meet after a few steps instead of failing (`unmet()`).

Without ``UDL_MAX_STEPS`` nothing is wrapped and nothing changes.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import statistics
import time
from pathlib import Path

from udl import settings

EPOCHS = 2  # epochs a capped fit runs: per-epoch code (callbacks, curves, history[-1]) still runs, twice

_originals: dict[str, object] = {}
_records: list[dict] = []
_unmet: list[str] = []
_attached: list[Path] = []  # the results file that later records are appended to (set by `results.record`)


def limit() -> int | None:
    """Return the step cap in force (``UDL_MAX_STEPS``), or None."""
    return settings.max_steps()


def cap(steps: int, at_least: int = 1) -> int:
    """Return `steps` cut to the step cap (but not below `at_least`), or `steps` when there is no cap."""
    n = limit()
    return steps if n is None else min(steps, max(n, at_least))


def records() -> list[dict]:
    """Return the timing record of every capped call in this process so far."""
    return [dict(r) for r in _records]


def unmet() -> list[str]:
    """Return the `results.require` checks that failed under the step cap (reported, not raised)."""
    return list(_unmet)


def note_unmet(message: str) -> None:
    """Remember a threshold missed under the step cap, and write it to the attached results file."""
    _unmet.append(message)
    _update_attached()


def attach(path: Path) -> None:
    """Make records made after this call update the results file `path` too (calls after `results.record`)."""
    _attached[:] = [Path(path)]


def summary() -> dict:
    """Return what a results file says about the cap: the cap, the timed calls, the unmet thresholds."""
    return {"max_steps": limit(), "epochs_at_most": EPOCHS, "calls": records(), "unmet": unmet()}


def _update_attached() -> None:
    for path in _attached:
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        entry["step_cap"] = summary()
        from udl.download import write_atomically

        write_atomically(path, json.dumps(entry, indent=1))


def _add(record: dict) -> None:
    _records.append(record)
    _update_attached()


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 6) if values else None


# ---------------------------------------------------------------- counting steps without running them
def _length(value) -> int | None:
    """Return the number of examples in an array-like input (the first leaf's length), else None."""
    import keras
    import tensorflow as tf

    if value is None or isinstance(value, tf.data.Dataset) or inspect.isgenerator(value):
        return None
    if isinstance(value, keras.utils.PyDataset):
        return None
    leaves = keras.tree.flatten(value)
    if not leaves:
        return None
    shape = getattr(leaves[0], "shape", None)
    if shape is not None and len(shape) and shape[0] is not None:
        return int(shape[0])
    try:
        return len(leaves[0])
    except TypeError:
        return None


def _batches(value, batch_size: int | None) -> int | None:
    """Return the batches one pass over `value` takes: arrays, a finite tf.data.Dataset, a PyDataset; else None."""
    import keras
    import tensorflow as tf

    if isinstance(value, tf.data.Dataset):
        n = int(value.cardinality())
        return n if n >= 0 else None
    if isinstance(value, keras.utils.PyDataset):
        try:
            return len(value)
        except (TypeError, NotImplementedError):
            return None
    n = _length(value)
    return None if n is None else math.ceil(n / (batch_size or 32))


# ---------------------------------------------------------------- the timer
def _timer():
    """Return a Keras callback that times each training and validation step of one capped call.

    Each step is timed twice: wall seconds, and CPU seconds of this process (all its threads), which a busy
    machine inflates far less than wall time.
    """
    import keras

    class StepTimer(keras.callbacks.Callback):
        # With steps_per_execution > 1, Keras calls these hooks once per execution of several steps (batch is
        # the first step's index at the start and the last one's at the end): each step is then timed as
        # the execution's time divided by its steps.
        def __init__(self):
            super().__init__()
            self.train, self.test, self.train_cpu, self.test_cpu = [], [], [], []
            self.steps = {"train": 0, "test": 0}
            self._start, self._first = (0.0, 0.0), 0

        def _begin(self, batch, logs=None):
            self._start, self._first = (time.perf_counter(), time.process_time()), batch

        def _end(self, kind: str, batch: int, wall: list, cpu: list):
            n = max(batch - self._first + 1, 1)
            self.steps[kind] += n
            wall.append((time.perf_counter() - self._start[0]) / n)
            cpu.append((time.process_time() - self._start[1]) / n)

        on_train_batch_begin = on_test_batch_begin = _begin

        def on_train_batch_end(self, batch, logs=None):
            self._end("train", batch, self.train, self.train_cpu)

        def on_test_batch_end(self, batch, logs=None):
            self._end("test", batch, self.test, self.test_cpu)

    return StepTimer()


def _per_call(model, n: int) -> int:
    """Return the steps a capped call runs: `n`, but at least two executions when Keras runs several steps in one
    (``steps_per_execution``), so that one of them is timed after the first, which traces the graph."""
    per_execution = getattr(model, "steps_per_execution", 1)
    per_execution = per_execution if isinstance(per_execution, int) and per_execution > 1 else 1
    return max(n, 2 * per_execution) if per_execution > 1 else n


def _seconds(durations: list[float]) -> float | None:
    return _median(durations[1:] if len(durations) > 1 else durations)


# ---------------------------------------------------------------- the wrappers
class _Arguments(dict):
    """The arguments a call was given (a view of `BoundArguments.arguments`); `get` falls back to the defaults."""

    def __init__(self, bound, signature):
        super().__init__()
        self._given, self._signature = bound.arguments, signature

    def get(self, name, default=None):
        if name in self._given:
            return self._given[name]
        parameter = self._signature.parameters.get(name)
        return default if parameter is None or parameter.default is inspect.Parameter.empty else parameter.default

    def __setitem__(self, name, value):
        self._given[name] = value


def _capped_fit(original):
    signature = inspect.signature(original)

    @functools.wraps(original)
    def fit(self, *args, **kwargs):
        n = limit()
        if n is None:
            return original(self, *args, **kwargs)
        bound = signature.bind(self, *args, **kwargs)
        a = _Arguments(bound, signature)  # only what the caller gave is passed on, and what the cap sets
        batch_size = a.get("batch_size")
        x, split = a.get("x"), float(a.get("validation_split") or 0.0)
        steps = a.get("steps_per_epoch")
        if steps is None:
            length = _length(x)
            if length is not None:
                steps = math.ceil(math.floor(length * (1.0 - split)) / (batch_size or 32))
            else:
                steps = _batches(x, batch_size)
        validation, val_steps = a.get("validation_data"), a.get("validation_steps")
        if val_steps is None:
            val_batch = a.get("validation_batch_size") or batch_size
            if validation is not None:
                val_steps = _batches(validation[0] if isinstance(validation, (tuple, list)) else validation,
                                     val_batch)
            elif split and _length(x) is not None:
                length = _length(x)
                val_steps = math.ceil((length - math.floor(length * (1.0 - split))) / (val_batch or 32))
        has_validation = validation is not None or split > 0
        epochs, initial = int(a.get("epochs") or 1), int(a.get("initial_epoch") or 0)
        n = _per_call(self, n)
        a["steps_per_epoch"] = min(steps, n) if steps else n
        if has_validation:
            a["validation_steps"] = min(val_steps, n) if val_steps else n
        a["epochs"] = min(epochs, initial + EPOCHS)
        timer = _timer()
        a["callbacks"] = list(a.get("callbacks") or []) + [timer]
        start, cpu = time.perf_counter(), time.process_time()
        history = original(*bound.args, **bound.kwargs)
        _add({"call": "fit", "model": getattr(self, "name", type(self).__name__),
              "epochs": max(epochs - initial, 0), "steps_per_epoch": steps,
              "validation_steps": val_steps if has_validation else 0,
              "validation_freq": a.get("validation_freq", 1) if has_validation else None,
              "batch_size": batch_size, "steps_run": timer.steps["train"],
              "seconds_per_step": _seconds(timer.train), "seconds_per_validation_step": _seconds(timer.test),
              "cpu_seconds_per_step": _seconds(timer.train_cpu),
              "cpu_seconds_per_validation_step": _seconds(timer.test_cpu),
              "seconds": round(time.perf_counter() - start, 3), "cpu_seconds": round(time.process_time() - cpu, 3)})
        return history

    fit._udl_capped = True
    return fit


def _capped_evaluate(original):
    signature = inspect.signature(original)

    @functools.wraps(original)
    def evaluate(self, *args, **kwargs):
        n = limit()
        if n is None or kwargs.get("_use_cached_eval_dataset"):  # fit's own validation: capped by fit
            return original(self, *args, **kwargs)
        bound = signature.bind(self, *args, **kwargs)
        a = _Arguments(bound, signature)
        steps = a.get("steps") or _batches(a.get("x"), a.get("batch_size"))
        n = _per_call(self, n)
        a["steps"] = min(steps, n) if steps else n
        timer = _timer()
        a["callbacks"] = list(a.get("callbacks") or []) + [timer]
        start, cpu = time.perf_counter(), time.process_time()
        result = original(*bound.args, **bound.kwargs)
        _add({"call": "evaluate", "model": getattr(self, "name", type(self).__name__), "epochs": 1,
              "steps_per_epoch": steps, "batch_size": a.get("batch_size"), "steps_run": timer.steps["test"],
              "seconds_per_step": _seconds(timer.test), "cpu_seconds_per_step": _seconds(timer.test_cpu),
              "seconds": round(time.perf_counter() - start, 3), "cpu_seconds": round(time.process_time() - cpu, 3)})
        return result

    evaluate._udl_capped = True
    return evaluate


def record_loop(name: str, steps: int, durations: list[float], cpu: list[float]) -> None:
    """Record a hand-written training loop (e.g. `training.find_learning_rate`): `steps` asked for, and each
    step's wall and CPU seconds."""
    if limit() is not None:
        _add({"call": name, "model": name, "epochs": 1, "steps_per_epoch": steps, "steps_run": len(durations),
              "seconds_per_step": _seconds(durations), "cpu_seconds_per_step": _seconds(cpu),
              "seconds": round(sum(durations), 3), "cpu_seconds": round(sum(cpu), 3)})


def install() -> bool:
    """Wrap ``keras.Model.fit`` and ``evaluate`` (once) when ``UDL_MAX_STEPS`` is set; return whether it is."""
    if limit() is None:
        return False
    import keras

    for name, wrapper in (("fit", _capped_fit), ("evaluate", _capped_evaluate)):
        current = getattr(keras.Model, name)
        if not getattr(current, "_udl_capped", False):
            _originals[name] = current
            setattr(keras.Model, name, wrapper(current))
    return True


def uninstall() -> None:
    """Put back the unwrapped ``fit`` and ``evaluate`` (for tests)."""
    import keras

    for name, original in _originals.items():
        setattr(keras.Model, name, original)
    _originals.clear()
    _records.clear()
    _unmet.clear()
    _attached.clear()
