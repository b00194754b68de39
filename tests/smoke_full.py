"""`make smoke-full`: every notebook in the full profile, its data downloaded from a loopback server, training capped.

    python tests/smoke_full.py [NOTEBOOK...] [--max-steps 3] [--mirror DIR] [--build build/smoke-full]

What a student gets by default (``UDL_PROFILE=full``: full-size models, the full branch of every ``runtime.pick``),
except that each ``fit`` trains a few steps (``UDL_MAX_STEPS``, `udl.stepcap`) and the data come from
`tests/loopback.py`, a server on 127.0.0.1 that serves each dataset in its canonical format and layout, built from
the mirror's real files, at the canonical sizes. Each notebook starts with an empty udl cache shared by the run (the
first notebook that needs a dataset downloads, verifies and extracts it, later ones read the cache, as on Colab),
no mirror (``UDL_DATA_DIR`` unset), and an empty Keras home (no ImageNet weights: there is no network here; notebook
05 takes its no-weights branch and says so).

Afterwards it checks every results file (profile ``full``, the step cap, every dataset downloaded from the loopback
server) and prints the per-notebook table of `udl notebooks estimate`. Executed notebooks are kept in
``BUILD/notebooks``, results in ``BUILD/results``. A few steps of training cannot reach a notebook's figures, so
a failed ``assert`` (or `results.require`) is reported and the notebook runs on; any other exception is a crash.
Exit status 1 when a notebook crashes or a check of its results file does not hold.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(REPO), str(HERE)]

import loopback  # noqa: E402  (tests/loopback.py)
from udl import estimate, notebooks  # noqa: E402


def _cpu_seconds(pid: int) -> float | None:
    """Return the CPU seconds (user + system, all threads) process `pid` has used so far (Linux), else None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _errors(nb) -> tuple[str | None, list[str]]:
    """Return (the first error that is not an AssertionError, or None; the AssertionErrors) of an executed notebook.

    Training is capped, so an `assert` on what training reached (a plain one, or an exercise's test) may fail: it
    is reported, and the notebook runs on. Any other exception is a crash, the thing this smoke looks for.
    """
    crash, asserts = None, []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") != "error":
                continue
            text = f"cell {i}: {out.get('ename')}: {notebooks.ANSI.sub('', str(out.get('evalue', '')))[:200]}"
            if out.get("ename") == "AssertionError":
                asserts.append(text)
            elif crash is None:
                crash = text
    return crash, asserts


def execute(path: Path, cell_timeout: int) -> tuple[object, float, float | None, str | None, list[str]]:
    """Execute a notebook as `udl.notebooks.execute` does, running on after a cell fails; return (notebook, wall s,
    kernel CPU s, the first crash or None, the failed asserts)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    nb = notebooks._read(path)
    km = notebooks._kernel_manager()
    client = NotebookClient(nb, km=km, timeout=cell_timeout, startup_timeout=180, allow_errors=True,
                            resources={"metadata": {"path": str(path.resolve().parent)}})
    start, cpu, error, asserts = time.perf_counter(), None, None, []
    try:
        client.execute(cleanup_kc=False)
        error, asserts = _errors(nb)
    except (CellTimeoutError, DeadKernelError) as exc:
        lines = [line for line in notebooks.ANSI.sub("", str(exc)).splitlines() if line.strip()]
        error = lines[-1][:300] if lines else type(exc).__name__
    finally:
        process = getattr(getattr(km, "provisioner", None), "process", None)
        cpu = _cpu_seconds(process.pid) if process is not None else None
        if km.has_kernel:
            km.shutdown_kernel(now=True)
        if km.transport == "ipc":
            shutil.rmtree(Path(km.ip).parent, ignore_errors=True)
    return nb, time.perf_counter() - start, cpu, error, asserts


def _check(result: Path, base: str, max_steps: int) -> list[str]:
    """Return what is wrong with a notebook's results file from this run (nothing: an empty list)."""
    entry = json.loads(result.read_text())
    problems = []
    if entry.get("profile") != "full":
        problems.append(f"profile {entry.get('profile')!r}, not 'full'")
    if (entry.get("step_cap") or {}).get("max_steps") != max_steps:
        problems.append("no step cap recorded")
    for name, origin in (entry.get("data_origins") or {}).items():
        if base not in origin or not origin.startswith(("download:", "cache:")):
            problems.append(f"{name} did not come from the loopback server ({origin})")
    if not entry.get("data_origins") and entry.get("data"):
        problems.append("no data origins recorded")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="default: notebooks/[0-9][0-9]_*.ipynb")
    parser.add_argument("--max-steps", type=int, default=3)
    parser.add_argument("--mirror", default=os.environ.get("UDL_DATA_DIR") or str(REPO.parent / "shared" / "data"),
                        help="the mirror the loopback archives are built from (default: $UDL_DATA_DIR, else "
                             "../shared/data); the notebooks themselves never see it")
    parser.add_argument("--build", default=str(REPO / "build" / "smoke-full"))
    parser.add_argument("--cell-timeout", type=int, default=600)
    parser.add_argument("--jobs", type=int, default=2, help="notebooks run at once (default 2; they share the cache)")
    args = parser.parse_args(argv)

    mirror, build = Path(args.mirror), Path(args.build)
    if not (mirror / "README.md").is_file():
        print(f"smoke-full: no mirror at {mirror} (the loopback archives are built from it; --mirror or "
              f"UDL_DATA_DIR names another)", file=sys.stderr)
        return 1
    paths = [Path(p) for p in args.notebooks] or sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    started = time.perf_counter()
    print(f"== loopback archives from {mirror} (canonical formats and sizes) ...", flush=True)
    files = loopback.build(mirror, build / "loopback")
    print(f"   ready in {time.perf_counter() - started:.0f} s: "
          + ", ".join(f"{n} {p.stat().st_size / 1e6:.0f} MB" for n, p in files.items()), flush=True)

    results_dir = build / "results"
    shutil.rmtree(results_dir, ignore_errors=True)
    shutil.rmtree(build / "notebooks", ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix="udl-smoke-"))
    failures: dict[str, str] = {}
    unmet: dict[str, list[str]] = {}  # asserts that failed after capped training: reported, not failures
    try:
        with loopback.serve(build / "loopback") as base:
            env = {"UDL_PROFILE": "full", "UDL_MAX_STEPS": str(args.max_steps),
                   "UDL_ORIGINS": str(loopback.origins(base, files, build / "loopback", work / "origins.json")),
                   "UDL_CACHE_DIR": str(work / "cache"), "UDL_RESULTS_DIR": str(results_dir),
                   "KERAS_HOME": str(work / "keras"),
                   # the kernels import this checkout's udl, whatever the venv has installed
                   "PYTHONPATH": os.pathsep.join([str(REPO)] + [p for p in [os.environ.get("PYTHONPATH")] if p]),
                   "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "1")}
            print(f"== {len(paths)} notebooks, profile full, UDL_MAX_STEPS={args.max_steps}, data from {base}, "
                  f"empty cache {work / 'cache'}, no mirror", flush=True)
            saved = {k: os.environ.get(k) for k in ("UDL_DATA_DIR", "UDL_OFFLINE")}
            for key in saved:
                os.environ.pop(key, None)
            (build / "notebooks").mkdir(parents=True, exist_ok=True)

            def one(path: Path) -> None:
                print(f"running {path.name} ...", flush=True)
                nb, wall, cpu, error, asserts = execute(path, args.cell_timeout)
                nbformat.write(nb, build / "notebooks" / path.name)
                if error:
                    failures[path.stem] = error
                if asserts:
                    unmet[path.stem] = asserts
                estimate.note_run(results_dir, path.stem, wall, cpu, asserts)
                cpu_text = f"{cpu:.0f} CPU-s" if cpu is not None else "CPU time unknown"
                print(f"  {path.name}: {'FAILED' if error else 'done'} in {wall:.0f} s ({cpu_text})"
                      + (f": {error}" if error else ""), flush=True)

            try:
                with notebooks._environ(**env), ThreadPoolExecutor(args.jobs) as pool:
                    list(pool.map(one, paths))
            finally:
                os.environ.update({k: v for k, v in saved.items() if v is not None})
            for path in paths:
                result = results_dir / f"{path.stem}.json"
                if path.stem in failures:
                    continue
                if not result.is_file():
                    failures[path.stem] = "wrote no results file"
                elif problems := _check(result, base, args.max_steps):
                    failures[path.stem] = "; ".join(problems)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print()
    print(estimate.table(estimate.read(results_dir)))
    total = time.perf_counter() - started
    print(f"\nsmoke-full: {len(paths) - len(failures)} of {len(paths)} notebooks passed in {total / 60:.1f} min "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    for name, why in sorted(failures.items()):
        print(f"  FAILED {name}: {why}")
    for name, asserts in sorted(unmet.items()):
        for text in asserts:
            print(f"  not enforced under the step cap, {name} {text}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
