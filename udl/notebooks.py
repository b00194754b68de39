"""Execute the course notebooks into build/, render HTML and slides, and make the student edition.

- `run` executes notebooks (nbclient) into ``build/notebooks`` and ``build/html`` and times them.
- `refresh` re-executes a committed notebook in the quick profile and keeps only the outputs nbval
  compares (cells whose first line is ``# NBVAL_CHECK_OUTPUT``), so committed notebooks stay small.
- `student_edition` makes the otter-grader student edition (`udl.exercises`); `slides` renders an executed
  notebook as reveal.js slides laid out by `udl.slides`, figures included; `to_html` a page. Both hide test
  markers, prompts and the exercises' answers and tests, and load their scripts from a local ``assets`` folder
  (see `check_assets`) when given one.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from udl import exercises, settings
from udl.slides import CHECK_MARK, SOLUTION_TAG
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
    # The sockets get an absolute path in a fresh folder: the default is relative, and the kernel runs in the
    # notebook's folder while this process may not.
    if os.name != "posix":
        return KernelManager(kernel_name="python3", kernel_spec_manager=CurrentEnvironment())
    sockets = Path(tempfile.mkdtemp(prefix="udl-kernel-")) / "ipc"
    return KernelManager(kernel_name="python3", kernel_spec_manager=CurrentEnvironment(), transport="ipc",
                         ip=str(sockets))


def execute(path: Path, cell_timeout: int | None = None):
    """Execute a notebook in its own folder and return (executed notebook, seconds, error or None)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = _read(path)
    km = _kernel_manager()
    # startup_timeout: on a loaded machine (a classroom server, CI) a kernel can take over nbclient's 60 s to answer.
    client = NotebookClient(nb, km=km, timeout=cell_timeout, startup_timeout=180,
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
        if km.transport == "ipc":
            shutil.rmtree(Path(km.ip).parent, ignore_errors=True)
    return nb, time.perf_counter() - start, error


def to_html(nb, dest: Path, assets: Path | None = None, index: str | None = None) -> Path:
    """Write a notebook as a standalone HTML page without test markers, prompts or the exercises' answers and tests;
    scripts from `assets` if given."""
    from nbconvert import HTMLExporter

    from udl import slides as layout

    return _export(HTMLExporter, layout.without_answers(nb), dest, assets, "udl_lab", udl_index=index)


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
        nb.metadata["udl"] = {"seconds": round(seconds[name], 1), "profile": settings.profile()}
        nbformat.write(nb, build / "notebooks" / path.name)
        assets = build / "assets" if (build / "assets" / _ASSET_FILES[0]).is_file() else None  # once site/slides ran
        to_html(nb, build / "html" / f"{name}.html", assets)
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


COLAB_LINK = re.compile(r"^\[[^\]]*\]\(https://colab\.research\.google\.com/github/[^)]*\)$", re.M)
STUDENT_COLAB = "On Colab, open this file with *File › Upload notebook*."


def student_edition(nb, filename: str):
    """Return the student edition of the notebook named `filename`: no solutions, hidden tests, test markers or outputs.

    A notebook with checked exercises goes through ``otter assign`` (`udl.exercises.assign`): prompts stay,
    answers are blanked, a ``grader.check("qN")`` cell follows each one, the public tests travel in the
    metadata, and the setup cell ends by making ``grader``. Cells tagged ``solution`` are dropped either way.
    """
    from udl import slides as layout

    nb = layout.clean(nb)
    if nb.cells and nb.cells[0].cell_type == "markdown":  # the badge opens the course's notebook, not this edition
        nb.cells[0].source = COLAB_LINK.sub(STUDENT_COLAB, nb.cells[0].source)
    if exercises.questions(nb):
        nb = exercises.assign(nb, filename)
        setup = next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and c.source.startswith("## Setup")),
                     None)
        code = [c for c in nb.cells[(setup or 0):] if c.cell_type == "code" and not layout.is_install_cell(c)]
        if setup is None or not code:
            raise ValueError(f"{filename}: no setup cell under '## Setup' to make `grader` in")
        exercises.add_grader(code[0], filename)
    nb.cells = [c for c in nb.cells if SOLUTION_TAG not in c.metadata.get("tags", [])]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def check_cells(nb) -> int:
    """Count the ``grader.check(...)`` cells of a student edition."""
    return sum(c.cell_type == "code" and c.source.lstrip().startswith("grader.check(") for c in nb.cells)


# What the pages load, inside an `assets` folder laid out as `npm ci --prefix vendor` leaves vendor/node_modules
# (`udl notebooks slides` and `udl notebooks site` copy the files they need into build/assets).
ASSET_URLS = {"reveal_url_prefix": "reveal.js", "jquery_url": "jquery/dist/jquery.min.js",
              "require_js_url": "requirejs/require.js",
              "mathjax_url": "mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"}
ASSETS_NPM = "npm ci --prefix vendor"
_ASSET_FILES = ("reveal.js/dist/reveal.js", "reveal.js/dist/reveal.css", "reveal.js/plugin/notes/notes.js",
                "jquery/dist/jquery.min.js", "requirejs/require.js", "mathjax/MathJax.js")
TEMPLATES = Path(__file__).parent / "_templates"


def check_assets(assets) -> Path:
    """Return `assets` as a Path if it holds the files the pages load; otherwise raise FileNotFoundError saying how."""
    assets = Path(assets)
    missing = [f for f in _ASSET_FILES if not (assets / f).is_file()]
    if missing:
        raise FileNotFoundError(
            f"`assets` must be a folder holding reveal.js, jQuery, RequireJS and MathJax as npm installs them; "
            f"received {str(assets)!r}, which lacks {', '.join(missing)}. Fill vendor/node_modules once with "
            f"`{ASSETS_NPM}` (`make slides` does) and pass that folder or build/assets.")
    return assets


def _export(exporter_class, nb, dest: Path, assets: Path | None, template: str, traits=(), **resources) -> Path:
    """Render `nb` with one of the course templates, loading scripts from `assets` (relative to `dest`) if given."""
    exporter = exporter_class(template_name=template, extra_template_basedirs=[str(TEMPLATES)],
                              exclude_input_prompt=True, exclude_output_prompt=True, **dict(traits))
    if assets is not None:
        relative = Path(os.path.relpath(check_assets(assets).resolve(), Path(dest).resolve().parent)).as_posix()
        for trait, inside in ASSET_URLS.items():
            setattr(exporter, trait, f"{relative}/{inside}")
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(body, encoding="utf-8")
    return dest


def slides(nb, dest: Path, assets: Path | None = None) -> Path:
    """Render an executed notebook as reveal.js slides that fit a 1280x720 screen and return `dest`.

    `udl.slides.deck` lays the cells out (slides at ``#``/``##``, sub-slides at ``###`` and wherever a slide
    would overflow, fragments, speaker notes from long prose and cells tagged ``notes``). Output that went to
    stderr is left out, and so are test markers and prompts. Scripts load from CDNs, or, to present without a
    network, from `assets` (see `check_assets`), linked by a path relative to `dest`.
    """
    from nbconvert import SlidesExporter

    from udl import slides as layout

    return _export(SlidesExporter, layout.deck(nb), dest, assets, "udl_reveal", udl_css=layout.SLIDE_CSS,
                   traits={"reveal_number": "c/t", "reveal_theme": "white"})
