"""How long each notebook's uncapped training would take here, from a capped run's measured step times.

A run with ``UDL_MAX_STEPS`` (``make smoke-full``) times every ``fit``, ``evaluate`` and learning-rate finder it
cuts short (`udl.stepcap`): the median CPU seconds per step and the steps the call would have run. This module
multiplies the two, adds the rest of the notebook as measured (the kernel's CPU time minus that of the capped
calls), and prints one row per notebook: ``udl notebooks estimate``. CPU time (all threads of the kernel), not
wall time: a busy machine inflates it far less; on an idle machine with several cores the wall time is shorter.

An estimate, not a measurement: the step times are medians of a few steps after the first (graph tracing left
out), on this machine; steps the capped run could not count (a generator of unknown length) are left out and
flagged.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from udl.download import write_atomically


def note_run(folder: Path, notebook: str, seconds: float, cpu_seconds: float | None, asserts=()) -> None:
    """Write the wall and kernel CPU seconds of the capped run of `notebook` into its results file in `folder`,
    and the notebook's asserts that failed after capped training (the smoke runs on after them)."""
    path = Path(folder) / f"{notebook}.json"
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    cap = entry.setdefault("step_cap", {})
    cap["wall_seconds"] = round(seconds, 1)
    cap["kernel_cpu_seconds"] = None if cpu_seconds is None else round(cpu_seconds, 1)
    cap["unmet"] = list(cap.get("unmet", [])) + list(asserts)
    write_atomically(path, json.dumps(entry, indent=1))


def read(folder: Path) -> list[dict]:
    """Return the results entries in `folder` that a capped run wrote (they have a ``step_cap``), by notebook."""
    entries = []
    for path in sorted(Path(folder).glob("*.json")):
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path} is not a results file ({type(exc).__name__}: {exc})") from None
        if isinstance(entry, dict) and isinstance(entry.get("step_cap"), dict) and entry.get("notebook"):
            entries.append(entry)
    return entries


def call_seconds(call: dict) -> float | None:
    """Return the CPU seconds one capped call would take uncapped (steps x CPU seconds per step), or None if unknown."""
    per_step, steps = call.get("cpu_seconds_per_step"), call.get("steps_per_epoch")
    if per_step is None or not steps:
        return None
    epochs = call.get("epochs") or 0
    total = epochs * steps * per_step
    if call.get("validation_steps") and call.get("cpu_seconds_per_validation_step") is not None:
        freq = call.get("validation_freq") or 1
        runs = epochs // freq if isinstance(freq, int) and freq > 0 else epochs
        total += runs * call["validation_steps"] * call["cpu_seconds_per_validation_step"]
    return total


def project(entry: dict) -> dict:
    """Return {notebook, wall, capped, training, rest, total, calls, unknown} for one capped run's results entry."""
    cap = entry["step_cap"]
    calls = cap.get("calls", [])
    projected = [call_seconds(c) for c in calls]
    capped = sum(c.get("cpu_seconds") or 0.0 for c in calls)
    wall, kernel = cap.get("wall_seconds"), cap.get("kernel_cpu_seconds")
    training = sum(p for p in projected if p is not None)
    rest = None if kernel is None else max(kernel - capped, 0.0)
    return {"notebook": entry["notebook"], "wall": wall, "capped": capped, "training": training, "rest": rest,
            "total": None if rest is None else rest + training, "calls": len(calls),
            "unknown": sum(p is None for p in projected)}


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def table(entries: list[dict]) -> str:
    """Format the estimates of `entries` (from `read`) as a plain-text table with a total row."""
    rows = [("notebook", "capped run (wall)", "timed calls", "uncapped training (CPU)", "rest of notebook (CPU)",
             "estimate (CPU)")]
    totals = []
    for entry in entries:
        p = project(entry)
        totals.append(p)
        note = f" ({p['unknown']} not counted)" if p["unknown"] else ""
        rows.append((p["notebook"], _minutes(p["wall"]), str(p["calls"]), _minutes(p["training"]) + note,
                     _minutes(p["rest"]), _minutes(p["total"])))
    if totals:
        known = [p["total"] for p in totals if p["total"] is not None]
        rows.append(("all", _minutes(sum(p["wall"] or 0 for p in totals)), str(sum(p["calls"] for p in totals)),
                     _minutes(sum(p["training"] for p in totals)), _minutes(sum(p["rest"] or 0 for p in totals)),
                     _minutes(sum(known)) if known else "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(r[i].ljust(widths[i]) if i == 0 else r[i].rjust(widths[i]) for i in range(len(r))) for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    if totals:
        lines.insert(len(lines) - 1, "-" * len(lines[0]))
    cpus = os.cpu_count()
    return "\n".join(lines) + (f"\n(CPU time on this machine, {cpus} CPUs: uncapped training = the steps each call runs "
                               f"uncapped x its median CPU seconds per step in the capped run; rest = the kernel's "
                               f"CPU time minus the capped calls')")
