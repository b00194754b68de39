"""Execute the course notebooks into build/, render HTML and slides, and make the student edition.

- `run` executes notebooks (nbclient) into ``build/notebooks`` and ``build/html`` and times them.
- `refresh` re-executes a committed notebook in the quick profile and keeps only the outputs nbval
  compares (cells whose first line is ``# NBVAL_CHECK_OUTPUT``), so committed notebooks stay small.
- `student_edition` drops the cells tagged ``solution``; `slides` renders an executed notebook as reveal.js
  slides, figures included.
"""

from __future__ import annotations

import os
import re
import sys
import time
from contextlib import contextmanager
from pathlib import Path

CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
SOLUTION_TAG = "solution"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # the colours IPython puts in tracebacks


def _read(path: Path):
    import nbformat

    path = Path(path)
    if path.suffix != ".ipynb" or not path.is_file():
        raise FileNotFoundError(f"`path` must be an existing .ipynb file; received: {str(path)!r}")
    return nbformat.read(path, as_version=4)


@contextmanager
def _environ(**values):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update({k: v for k, v in values.items() if v is not None})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _kernel_manager():
    """Return a kernel manager that runs this very Python (the venv), whatever kernels are installed."""
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import KernelManager

    class CurrentEnvironment(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return KernelSpec(argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                              display_name="Python 3 (udl)", language="python", resource_dir="")

    # Over IPC (a Unix socket beside the connection file) rather than TCP: no port is opened, and ipykernel has no
    # cause to print its four-line "running over TCP without encryption" warning for every notebook.
    transport = "ipc" if os.name == "posix" else "tcp"
    return KernelManager(kernel_name="python3", kernel_spec_manager=CurrentEnvironment(), transport=transport)


def execute(path: Path, cell_timeout: int | None = None):
    """Execute a notebook in its own folder and return (executed notebook, seconds, error or None)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = _read(path)
    km = _kernel_manager()
    client = NotebookClient(nb, km=km, timeout=cell_timeout,
                            resources={"metadata": {"path": str(Path(path).resolve().parent)}})
    start = time.perf_counter()
    try:
        client.execute()
        error = None
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        lines = [line for line in ANSI.sub("", str(exc)).splitlines() if line.strip()]
        error = lines[-1][:200] if lines else type(exc).__name__
    finally:
        # nbclient leaves a kernel it did not create running; each one holds a notebook's models and data.
        if km.has_kernel:
            km.shutdown_kernel(now=True)
    return nb, time.perf_counter() - start, error


def to_html(nb, dest: Path) -> Path:
    """Write a notebook as a standalone HTML page."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nb)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(body, encoding="utf-8")
    return dest


def run(paths: list[Path], build: Path = Path("build"), cell_timeout: int | None = None) -> tuple[dict, dict]:
    """Execute `paths` into `build`; return ({name: seconds}, {name: error}) and print progress."""
    import nbformat

    seconds, errors = {}, {}
    for path in sorted(Path(p) for p in paths):
        name = path.stem
        print(f"running {path} ...", flush=True)
        nb, seconds[name], error = execute(path, cell_timeout)
        if error:
            errors[name] = f"FAILED: {error}"
        (build / "notebooks").mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, build / "notebooks" / path.name)
        to_html(nb, build / "html" / f"{name}.html")
        print(f"  {'FAILED' if error else 'done'} in {seconds[name]:.0f} s", flush=True)
    return seconds, errors


def strip(nb):
    """Keep outputs only in the cells nbval checks; clear the rest and drop volatile metadata."""
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        if not cell.source.lstrip().startswith(CHECK_MARK):
            cell.outputs, cell.execution_count = [], None
        else:
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
    return nb


def refresh(path: Path, data_dir: str | None = None) -> float:
    """Re-execute a committed notebook in the quick profile, strip it and write it back; return seconds."""
    import nbformat

    env = {"UDL_PROFILE": "quick", "UDL_DATA_DIR": data_dir}
    with _environ(**env):
        nb, seconds, error = execute(path)
    if error:
        raise RuntimeError(f"{path} failed, so it was not rewritten: {error}")
    nbformat.write(strip(nb), path)
    return seconds


def student_edition(nb):
    """Return a copy of a notebook without the cells tagged `solution` and without outputs."""
    import copy

    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if SOLUTION_TAG not in c.metadata.get("tags", [])]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


# What the reveal.js page loads, inside an `assets` folder laid out as `npm install` leaves node_modules/.
SLIDE_ASSETS = {"reveal_url_prefix": "reveal.js", "jquery_url": "jquery/dist/jquery.min.js",
                "require_js_url": "requirejs/require.js"}
SLIDE_ASSETS_NPM = "npm install --prefix build/slides reveal.js@4.0.2 jquery@2 requirejs@2"
_SLIDE_FILES = ("reveal.js/dist/reveal.js", "reveal.js/dist/reveal.css", "reveal.js/plugin/notes/notes.js",
                "jquery/dist/jquery.min.js", "requirejs/require.js")


def check_slide_assets(assets) -> Path:
    """Return `assets` as a Path if it holds the files the slides load; otherwise raise FileNotFoundError saying how."""
    assets = Path(assets)
    missing = [f for f in _SLIDE_FILES if not (assets / f).is_file()]
    if missing:
        raise FileNotFoundError(
            f"`assets` must be a folder holding reveal.js, jQuery and RequireJS as npm installs them; received "
            f"{str(assets)!r}, which lacks {', '.join(missing)}. Fill it on a machine with a network: "
            f"{SLIDE_ASSETS_NPM} (then pass build/slides/node_modules).")
    return assets


def slides(nb, dest: Path, assets: Path | None = None) -> Path:
    """Render an executed notebook as reveal.js slides and return `dest`.

    A ``#`` or ``##`` heading starts a slide and a ``###`` heading a sub-slide (reveal.js's down arrow); a slide
    longer than the screen scrolls. Output that went to stderr (TensorFlow's log lines, warnings) is left out.
    The page loads reveal.js, jQuery and RequireJS from CDNs, or, to present without a network, from `assets`: a
    folder as ``npm install reveal.js@4.0.2 jquery@2 requirejs@2`` leaves ``node_modules/`` (see
    ``SLIDE_ASSETS_NPM``), linked by a path relative to `dest`.
    """
    import copy

    from nbconvert import SlidesExporter

    exporter = SlidesExporter(reveal_scroll=True)
    if assets is not None:
        relative = Path(os.path.relpath(check_slide_assets(assets).resolve(), Path(dest).resolve().parent)).as_posix()
        for trait, inside in SLIDE_ASSETS.items():
            setattr(exporter, trait, f"{relative}/{inside}")
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        kind = "-"
        if cell.cell_type == "markdown":
            text = cell.source.lstrip()
            kind = "slide" if text.startswith(("# ", "## ")) else "subslide" if text.startswith("### ") else "-"
        elif cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
        cell.metadata.setdefault("slideshow", {})["slide_type"] = kind
    body, _ = exporter.from_notebook_node(nb)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(body, encoding="utf-8")
    return dest
