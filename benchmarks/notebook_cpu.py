"""CPU-seconds of each notebook in the quick profile, run as CI runs it (pytest --nbval-lax), against the 30 s aim.

Run from the repository root:

    UDL_DATA_DIR=../shared/data .venv/bin/python benchmarks/notebook_cpu.py            # every notebook, both modes
    .venv/bin/python benchmarks/notebook_cpu.py notebooks/08_*.ipynb --modes sample     # one notebook, built-in sample

For each notebook and data mode ("mirror": ``UDL_DATA_DIR`` as set; "sample": no mirror and ``UDL_OFFLINE=1``, the
built-in samples) it runs ``python -m pytest -q -p no:cacheprovider --nbval-lax --nbval-current-env`` in a child
process and reports its wall-clock seconds and CPU-seconds (user + system of pytest and the kernel it starts, from
the operating system's accounting of finished children), the load average before and after, and whether nbval
passed. Kernel start and the TensorFlow import are included: they are part of what a student's run costs.
CPU-seconds grow with the load of a shared machine (contention), so compare figures taken at like loads. Results
and caches go to a temporary folder, so nothing a student recorded is overwritten. Exit status 1 if any notebook
failed under nbval; being over the aim is reported, not an error (machines differ up to 2.5×).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AIM = 30.0
MODES = ("mirror", "sample")


def cpu_model() -> str:
    """Return the CPU's model name as `lscpu` prints it ("Model name"), or the platform's guess."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def environment(mode: str, scratch: Path) -> dict:
    """Return the child's environment for data `mode`: quick profile, private results and cache."""
    env = dict(os.environ, UDL_PROFILE="quick", UDL_RESULTS_DIR=str(scratch / "results"),
               TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "1"))
    env["UDL_CACHE_DIR"] = str(scratch / f"cache-{mode}")
    if mode == "sample":
        env.pop("UDL_DATA_DIR", None)
        env["UDL_OFFLINE"] = "1"
    return env


def measure(notebook: Path, mode: str, scratch: Path, timeout: float) -> dict:
    """Run `notebook` under nbval in `mode`; return wall s, CPU-s, loads and whether it passed."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env",
               f"--nbval-cell-timeout={int(timeout)}", str(notebook)]
    load_before = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=environment(mode, scratch), capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    summary = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    return {"notebook": notebook.stem, "mode": mode, "wall": wall, "cpu": cpu, "passed": done.returncode == 0,
            "load": (load_before, os.getloadavg()[0]), "summary": summary}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: all of notebooks/)")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES), help="data modes to run")
    parser.add_argument("--aim", type=float, default=AIM, help="CPU-seconds a notebook should stay within")
    parser.add_argument("--cell-timeout", type=float, default=600, help="nbval's limit per cell, in seconds")
    args = parser.parse_args(argv)

    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    missing = [str(nb) for nb in notebooks if not nb.is_file()]
    if missing:
        parser.error(f"notebooks: expected existing .ipynb files, got {', '.join(missing)}")
    if "mirror" in args.modes and not os.environ.get("UDL_DATA_DIR"):
        parser.error("--modes mirror: expected UDL_DATA_DIR to name the data mirror, got it unset "
                     "(set it, or pass --modes sample)")

    print(f"{cpu_model()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}; "
          f"quick profile under nbval; aim {args.aim:g} CPU-s per notebook", flush=True)
    print(f"{'notebook':34} {'mode':6} {'wall s':>7} {'CPU-s':>6} {'load before/after':>18}  result", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="udl-notebook-cpu-") as scratch:
        for notebook in notebooks:
            for mode in args.modes:
                row = measure(notebook, mode, Path(scratch), args.cell_timeout)
                rows.append(row)
                flag = "" if row["cpu"] <= args.aim else f"  OVER the aim by {row['cpu'] - args.aim:.1f}"
                print(f"{row['notebook']:34} {mode:6} {row['wall']:7.1f} {row['cpu']:6.1f} "
                      f"{row['load'][0]:8.1f} / {row['load'][1]:<7.1f}  "
                      f"{'passed' if row['passed'] else 'FAILED: ' + row['summary']}{flag}", flush=True)
    over = [r for r in rows if r["cpu"] > args.aim]
    failed = [r for r in rows if not r["passed"]]
    print(f"\n{len(rows)} runs: {len(rows) - len(over)} within {args.aim:g} CPU-s, {len(over)} over"
          + (f" ({', '.join(r['notebook'][:2] + ' ' + r['mode'] for r in over)})" if over else "")
          + f"; {len(failed)} failed under nbval")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
