"""The notebook template of CONTRIBUTING.md: check a notebook against it, and write its Colab badge and install cell.

```python
from udl import template
template.lint("notebooks/02_mnist_mlp_to_cnn.ipynb")   # -> [] or a list of Problem, one per broken rule
template.colab("notebooks/02_mnist_mlp_to_cnn.ipynb")  # (re)writes the badge and the install cell in place
```

The command line does the same: ``udl notebooks lint`` and ``udl notebooks colab``. Rules are named; each
problem names the notebook, the cell (counted from 0) and the rule.
"""

from __future__ import annotations

import ast
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from udl.notebooks import _read as read
from udl.slides import CHECK_MARK, INSTALL_MARK, SOLUTION_TAG, is_install_cell

MAX_HEADER_WORDS = 80
MAX_CELL_LINES = 25
MAX_CODE_LINES = 300
FIRST_SECTIONS = ("## Overview", "## Setup")
LAST_SECTIONS = ("## Summary", "## Exercises")
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
PLUMBING_MODULES = ("socket", "threading", "urllib", "requests", "http")
ENV_WRITERS = ("os.putenv", "os.environ.setdefault", "os.environ.update", "os.environ.pop")
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")
# Names the course uses for one idea each (CONTRIBUTING, "One name per idea"): the wrong name -> the right one.
RENAMED = {"BATCH": "BATCH_SIZE", "ds": "the dataset's name (e.g. mnist)", "compiled": "compile_model",
           "compile_convnet": "compile_model", "compile_cnn": "compile_model"}
HEADER_LINES = (  # (pattern, what it must look like), in order, after the title
    (re.compile(r"^\[!\[Open In Colab\]\(.+\)\]\(.+\)$"), "the Colab badge (written by `udl notebooks colab`)"),
    (re.compile(r"^[A-Z].{9,150}\.$"), "one sentence, capitalised, ending with a period"),
    (re.compile(r"^\*\*Dataset\*\*$"), "**Dataset**"),
    (re.compile(r"^- full: \S.*$"), "- full: <the full dataset>"),
    (re.compile(r"^- quick: \S.*$"), "- quick: <the quick subset>"),
    (re.compile(r"^- offline: \S.*$"), "- offline: <the built-in sample>"),
    (re.compile(r"^\*\*Runtime\*\*$"), "**Runtime**"),
    (re.compile(r"^- quick: \S.*$"), "- quick: <time on a CPU>"),
    (re.compile(r"^- full: \S.*$"), "- full: <time on a GPU>"),
)


@dataclass(frozen=True)
class Problem:
    """One broken rule: where, which rule, what is wrong."""

    notebook: str
    cell: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.notebook}, cell {self.cell}: {self.rule}: {self.message}"


# ---------------------------------------------------------------- the generated parts
def repository_url(pyproject: Path | None = None) -> str:
    """Return ``[project.urls] Repository`` from the repository's pyproject.toml."""
    path = Path(pyproject) if pyproject else Path(__file__).resolve().parents[1] / "pyproject.toml"
    try:
        url = tomllib.loads(path.read_text(encoding="utf-8"))["project"]["urls"]["Repository"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise RuntimeError(f"`[project.urls] Repository` must be set in {path}; could not read it ({exc!r})") from None
    return url.rstrip("/")


def badge(stem: str, url: str) -> str:
    """Return the markdown of the Open-in-Colab badge for notebooks/<stem>.ipynb."""
    github = url.removeprefix("https://github.com/")
    return f"[![Open In Colab]({BADGE_IMAGE})](https://colab.research.google.com/github/{github}/blob/main/notebooks/{stem}.ipynb)"


def install_cell(url: str) -> str:
    """Return the source of the install cell: it installs udl on Colab when missing, and does nothing elsewhere."""
    return (
        f"{INSTALL_MARK} (Colab's own TensorFlow and Keras stay). Elsewhere this does nothing.\n"
        "import importlib.util, subprocess, sys\n"
        "if \"google.colab\" in sys.modules and importlib.util.find_spec(\"udl\") is None:\n"
        f"    subprocess.run([sys.executable, \"-m\", \"pip\", \"install\", \"-q\", \"udl @ git+{url}\"], check=True)"
    )


def _setup_heading(cells) -> int | None:
    return next((i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith("## Setup")), None)


def colab(path, url: str | None = None) -> bool:
    """Write the Colab badge into the header and the install cell after ``## Setup``; return True if changed."""
    import nbformat

    path = Path(path)
    nb = read(path)
    url = url or repository_url()
    before = nbformat.writes(nb)
    lines = nb.cells[0].source.splitlines() if nb.cells and nb.cells[0].cell_type == "markdown" else []
    if not lines or not lines[0].startswith("# "):
        raise ValueError(f"{path.name}: the first cell must be the markdown header starting '# NN · Title'")
    rest = [line for line in lines[1:] if not HEADER_LINES[0][0].match(line)]
    while rest and not rest[0].strip():
        rest.pop(0)
    nb.cells[0].source = "\n".join([lines[0], "", badge(path.stem, url), "", *rest])
    old = [c for c in nb.cells if is_install_cell(c)]
    nb.cells = [c for c in nb.cells if not is_install_cell(c)]
    setup = _setup_heading(nb.cells)
    if setup is None:
        raise ValueError(f"{path.name}: no '## Setup' markdown cell to put the install cell after")
    cell = old[0] if old else nbformat.v4.new_code_cell()  # keep the cell (and its id) when there is one
    cell.source, cell.outputs, cell.execution_count = install_cell(url), [], None
    nb.cells.insert(setup + 1, cell)
    changed = nbformat.writes(nb) != before
    if changed:
        nbformat.write(nb, path)
    return changed


# ---------------------------------------------------------------- the rules
def _python(source: str) -> ast.Module | None:
    """Parse a code cell (IPython magics turned into Python first); None when it does not parse."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:
        return None


def _is_solution(cell) -> bool:
    return SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


def _words(header: str) -> int:
    return len(" ".join(line for line in header.splitlines() if not HEADER_LINES[0][0].match(line)).split())


def _check_header(cell, stem: str, url: str):
    if cell.cell_type != "markdown":
        yield "the first cell must be the markdown header"
        return
    lines = [line.rstrip() for line in cell.source.splitlines() if line.strip()]
    number = stem.split("_", 1)[0]
    if not lines or not re.match(rf"^# {re.escape(number)} · \S", lines[0]):
        yield f"the first line must be '# {number} · Title'; found {lines[0] if lines else '(nothing)'!r}"
        return
    body = lines[1:]
    for k, (pattern, what) in enumerate(HEADER_LINES):
        found = body[k] if k < len(body) else "(nothing)"
        if not pattern.match(found):
            yield f"line {k + 2} must be {what}; found {found[:80]!r}"
            return
    if len(body) > len(HEADER_LINES):
        yield f"nothing may follow the Runtime lines (it goes in the Overview); found {body[len(HEADER_LINES)][:80]!r}"
    if body[0] != badge(stem, url):
        yield f"the badge must point at this notebook: run `udl notebooks colab {stem}.ipynb`"
    if _words(cell.source) > MAX_HEADER_WORDS:
        yield f"at most {MAX_HEADER_WORDS} words (the badge line not counted); found {_words(cell.source)}"


def _check_sections(cells):
    found = [(i, c.source.splitlines()[0].strip()) for i, c in enumerate(cells)
             if c.cell_type == "markdown" and c.source.startswith("## ")]
    titles = [t for _, t in found]
    if tuple(titles[:2]) != FIRST_SECTIONS or tuple(titles[-2:]) != LAST_SECTIONS:
        where = found[0][0] if found else 0
        yield where, (f"the '##' sections must start with {', '.join(FIRST_SECTIONS)} and end with "
                      f"{', '.join(LAST_SECTIONS)}; found {titles}")
    elif len(found) >= 2 and any(c.cell_type == "code" for c in cells[found[0][0]:found[1][0]]):
        yield found[0][0], "the Overview has no code: code starts under '## Setup'"


def _check_setup(cells, url: str):
    """Yield (cell, message) for the install and setup cells; return nothing when both are right."""
    setup = _setup_heading(cells)
    if setup is None:
        return
    code = [i for i in range(setup + 1, len(cells)) if cells[i].cell_type == "code"]
    if not code or cells[code[0]].source != install_cell(url):
        yield (code[0] if code else setup), "the first code cell must be the install cell: run `udl notebooks colab`"
        return
    if len(code) < 2:
        yield setup, "the setup cell (udl imports, other imports, runtime.setup()) is missing"
        return
    index, source = code[1], cells[code[1]].source
    tree = _python(source)
    body = tree.body if tree else []
    first = body[0] if body else None
    if not (isinstance(first, ast.ImportFrom) and first.module == "udl" and first.lineno == 1):
        yield index, "the setup cell must start with `from udl import ...`"
        return
    names = [a.name for a in first.names]
    if names != sorted(names) or "runtime" not in names:
        yield index, f"`from udl import` must list its modules sorted and include runtime; found {', '.join(names)}"
    last = body[-1]
    if not (isinstance(last, ast.Expr) and isinstance(last.value, ast.Call)
            and ast.unparse(last.value.func) == "runtime.setup"):
        yield index, "the setup cell must end with `runtime.setup()`"
    elif source.rstrip().endswith(";"):
        yield index, "write `runtime.setup()` without a semicolon (it displays nothing)"
    if any(not isinstance(node, (ast.Import, ast.ImportFrom)) for node in body[1:-1]):
        yield index, "the setup cell holds only imports and `runtime.setup()`"
    rest = "\n".join(c.source for c in cells if c.cell_type == "code").replace(source.splitlines()[0], "")
    for name in names:
        if not re.search(rf"\b{name}\.", rest):
            yield index, f"`{name}` is imported from udl but never used"


def _check_code(cell, index: int, stem: str, setup_index: int | None):
    tree = _python(cell.source)
    solution = _is_solution(cell)
    lines = cell.source.splitlines()
    if len(lines) > MAX_CELL_LINES:
        yield "cell-length", f"at most {MAX_CELL_LINES} lines; found {len(lines)} (split building from running)"
    if tree is None:
        yield "syntax", "the cell does not parse as Python"
        return
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            bad = [m for m in modules if m.split(".")[0] in PLUMBING_MODULES]
            if bad:
                yield "plumbing", f"no `{bad[0]}` in a notebook: network and threads belong in udl, tested there"
            elif not solution and setup_index is not None and index != setup_index and not is_install_cell(cell):
                yield "imports", f"imports go in the setup cell; found `{ast.unparse(node)}`"
        elif isinstance(node, ast.Call):
            func = ast.unparse(node.func)
            magic = ast.unparse(node.args[0]) if func == "get_ipython().run_line_magic" and node.args else ""
            if func in ENV_WRITERS or magic in ("'env'", "'set_env'"):
                yield "plumbing", f"no `{func}` in a notebook: settings are read by udl, not written by the lesson"
            if func == "results.record":
                first = node.args[0] if node.args else None
                if not (isinstance(first, ast.Constant) and first.value == stem):
                    got = ast.unparse(first) if first is not None else "nothing"
                    yield "record-id", f"results.record's first argument must be {stem!r}; found {got}"
        elif isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Subscript) and ast.unparse(target.value) == "os.environ":
                    yield "plumbing", "no writes to os.environ in a notebook: settings are read by udl"
                if isinstance(target, ast.Name) and target.id in RENAMED:
                    yield "names", f"call `{target.id}` {RENAMED[target.id]} (CONTRIBUTING, one name per idea)"
                value = node.value
                if (isinstance(target, ast.Name) and isinstance(value, ast.Call)
                        and ast.unparse(value.func) == "data.load" and value.args
                        and isinstance(value.args[0], ast.Constant) and target.id != value.args[0].value):
                    yield "names", f"name the dataset after itself: `{value.args[0].value} = data.load(...)`"
        elif isinstance(node, ast.FunctionDef) and node.name in RENAMED:
            yield "names", f"call `{node.name}` {RENAMED[node.name]} (CONTRIBUTING, one name per idea)"
    if cell.get("outputs") and not cell.source.startswith(CHECK_MARK):
        yield "outputs", f"commit outputs only for `{CHECK_MARK}` cells: run `udl notebooks refresh`"
    for output in cell.get("outputs", []):
        if any(kind in output.get("data", {}) for kind in IMAGE_TYPES):
            yield "outputs", "no images in a committed notebook (the build renders them)"


def _check_exercises(cells):
    """Every prompt under '## Exercises' (a cell not tagged solution) is followed by a solution cell."""
    heading = next((i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith("## Exercises")),
                   None)
    if heading is None:
        return
    has_prompt = len(cells[heading].source.strip().splitlines()) > 1  # the heading cell may hold the first prompt
    prompts = [heading] if has_prompt else []
    prompts += [i for i in range(heading + 1, len(cells)) if not _is_solution(cells[i])]
    if not prompts:
        yield heading, "at least one exercise under '## Exercises', with a solution"
    for k, start in enumerate(prompts):
        end = prompts[k + 1] if k + 1 < len(prompts) else len(cells)
        if not any(_is_solution(c) for c in cells[start + 1:end]):
            yield start, "every exercise prompt is followed by a cell tagged `solution`"


def lint(path, url: str | None = None) -> list[Problem]:
    """Check one notebook against the template; return the problems found (empty when it follows it)."""
    path = Path(path)
    nb = read(path)
    url = url or repository_url()
    name, stem, cells = path.name, path.stem, nb.cells
    problems = [Problem(name, 0, "header", m) for m in _check_header(cells[0], stem, url)] if cells else [
        Problem(name, 0, "header", "the notebook has no cells")]
    problems += [Problem(name, i, "sections", m) for i, m in _check_sections(cells)]
    problems += [Problem(name, i, "setup", m) for i, m in _check_setup(cells, url)]
    setup = _setup_heading(cells)
    code = [i for i in range(setup + 1, len(cells)) if cells[i].cell_type == "code"] if setup is not None else []
    setup_index = code[1] if len(code) > 1 else None
    for i, cell in enumerate(cells):
        if cell.cell_type == "code":
            problems += [Problem(name, i, rule, m) for rule, m in _check_code(cell, i, stem, setup_index)]
    problems += [Problem(name, i, "exercises", m) for i, m in _check_exercises(cells)]
    total = sum(len([line for line in c.source.splitlines() if line.strip()])
                for c in cells if c.cell_type == "code" and not _is_solution(c))
    if total > MAX_CODE_LINES:
        problems.append(Problem(name, 0, "code-lines", f"at most {MAX_CODE_LINES} non-blank code lines outside "
                                                       f"solutions; found {total}"))
    return problems
