"""Record a notebook's key metrics in one JSON file per notebook, and read them back as a table.

```python
results.record("02_mnist_mlp_to_cnn", test_accuracy=acc)      # -> build/results/02_mnist_mlp_to_cnn.json
results.require(acc, at_least=0.97, what="CNN test accuracy")  # an honest threshold, checked in the notebook
```

The folder is ``UDL_RESULTS_DIR``, else ``build/results`` in the repository (or the working directory when
udl is installed elsewhere). `make run` prints `table()` after executing the notebooks.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from udl import data, runtime, settings, stepcap
from udl._checks import fail
from udl._checks import number as _number
from udl.download import write_atomically

NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
results_dir = settings.results_dir  # the folder results are written to (UDL_RESULTS_DIR)


def record(notebook: str, **metrics) -> Path:
    """Write `metrics` (name=number) for `notebook`, with the profile and data sources in use; return the file.

    Example:

    ```python
    results.record("02_mnist_mlp_to_cnn", mlp_test_accuracy=mlp_acc, test_accuracy=cnn_acc)
    ```
    """
    if not isinstance(notebook, str) or not NAME.match(notebook):
        raise fail("notebook", "a name of letters, digits, '_', '.' or '-' (e.g. '02_mnist_mlp_to_cnn')", notebook)
    if not metrics:
        raise ValueError("`record` needs at least one metric, e.g. record('02_mnist', test_accuracy=0.98); received none")
    entry = {
        "notebook": notebook,
        "profile": runtime.profile(),
        "data": data.loaded(),
        "data_origins": data.origins(),
        "metrics": {key: _number(key, value) for key, value in metrics.items()},
        "seconds_since_setup": None if runtime.elapsed() is None else round(runtime.elapsed(), 1),
        "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    if stepcap.limit() is not None:  # a smoke run (UDL_MAX_STEPS): the metrics are of a few steps' training
        entry["step_cap"] = stepcap.summary()
    folder = results_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{notebook}.json"
    write_atomically(path, json.dumps(entry, indent=1))  # safe when notebooks record at once
    if stepcap.limit() is not None:
        stepcap.attach(path)  # the notebook's later capped fits are timed into this file too
    print("recorded " + ", ".join(f"{k} = {_fmt(v)}" for k, v in entry["metrics"].items()))
    return path


def require(value, *, at_least: float | None = None, at_most: float | None = None, what: str) -> None:
    """Raise AssertionError with a clear message when `value` is below `at_least` or above `at_most`.

    In a smoke run (``UDL_MAX_STEPS`` set: a few steps of training) a missed threshold is printed and written to
    the results file (``step_cap.unmet``) instead: such a run checks that the notebook runs, not its figures.

    Example:

    ```python
    results.require(cnn_acc, at_least=0.90 if mnist.is_sample else 0.97, what="CNN test accuracy")
    ```
    """
    value = _number("value", value)
    if at_least is None and at_most is None:
        raise ValueError(f"`require` needs `at_least` or `at_most` for {what}; received neither")
    for bound, name, broken in ((at_least, "at_least", lambda b: value < b), (at_most, "at_most", lambda b: value > b)):
        if bound is not None:
            bound = _number(name, bound)
            if broken(bound):
                side = "below the expected" if name == "at_least" else "above the allowed"
                message = f"{what} is {_fmt(value)}, {side} {_fmt(bound)}"
                if stepcap.limit() is not None:  # a smoke run: a few steps of training cannot reach the figure
                    print(f"not enforced: {message} (training capped by UDL_MAX_STEPS={stepcap.limit()})")
                    stepcap.note_unmet(message)
                    return
                raise AssertionError(f"{message}: something in this notebook or its environment is off.")
    limits = " and ".join(f"{sign} {_fmt(b)}" for sign, b in ((">=", at_least), ("<=", at_most)) if b is not None)
    print(f"ok: {what} {_fmt(value)} {limits}")


def _fmt(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def read_all(folder: Path | None = None) -> list[dict]:
    """Return every recorded entry in `folder`, sorted by notebook name."""
    folder = Path(folder) if folder else results_dir()
    entries = []
    for path in sorted(folder.glob("*.json")):
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(entry, dict) or not isinstance(entry.get("notebook"), str):
                raise ValueError("no 'notebook' name in it")
        except (OSError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise ValueError(f"{path} is not a results file written by `record` ({exc}); "
                             f"delete it or record again") from None
        entries.append(entry)
    return entries


def table(entries: list[dict], seconds: dict[str, float] | None = None, errors: dict[str, str] | None = None) -> str:
    """Format entries as a plain-text table: notebook, data source, wall time, key metrics."""
    seconds, errors = seconds or {}, errors or {}
    names = sorted({e["notebook"] for e in entries} | set(seconds) | set(errors))
    by_name = {e["notebook"]: e for e in entries}
    rows = [("notebook", "data", "time", "metrics")]
    for name in names:
        entry = by_name.get(name, {})
        sources = ", ".join(f"{d}: {s}" for d, s in entry.get("data", {}).items()) or "-"
        wall = f"{seconds[name]:.0f} s" if name in seconds else "-"
        metrics = ", ".join(f"{k} {_fmt(v)}" for k, v in entry.get("metrics", {}).items())
        rows.append((name, sources, wall, errors.get(name, metrics) or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3] for r in rows]
    lines.insert(1, "-" * min(120, max(len(line) for line in lines)))
    return "\n".join(lines)
