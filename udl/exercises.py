"""Self-check exercises on otter-grader: read a notebook's questions, make its student edition, give students a grader.

An exercise is an otter-grader question (CONTRIBUTING, "Adding a checked exercise"): raw marker cells around a
prompt, one solution cell and its test cells. The instructor notebook in ``notebooks/`` runs the tests as plain
cells (nbval checks them); ``otter assign`` turns it into the student edition, where the solution is blanked,
hidden tests are dropped, the public tests travel in the notebook's metadata and a ``grader.check("q1")`` cell
follows each prompt.

```python
from udl import exercises
exercises.questions(nb)      # -> [Question(begin=85, prompt=86, solution=[88], tests=[91], ...), ...]
exercises.assign(nb, "01_convolution_by_hand.ipynb")   # otter assign's student version, made in a temp folder
grader = exercises.grader("01_convolution_by_hand.ipynb")  # in the student edition; works on Colab too
```
"""

from __future__ import annotations

import ast
import copy
import json
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

BEGIN_QUESTION, END_QUESTION = "# BEGIN QUESTION", "# END QUESTION"
BEGIN_SOLUTION, END_SOLUTION = "# BEGIN SOLUTION", "# END SOLUTION"
BEGIN_TESTS, END_TESTS = "# BEGIN TESTS", "# END TESTS"
MARKERS = (BEGIN_QUESTION, END_QUESTION, BEGIN_SOLUTION, END_SOLUTION, BEGIN_TESTS, END_TESTS)
TEST_CONFIG = re.compile(r'^\s*"""\s*# BEGIN TEST CONFIG\s*\n(.*?)\n\s*"""\s*# END TEST CONFIG\s*(\n|$)', re.S)
HIDDEN = re.compile(r"^\s*#.*\bhidden\b", re.I)
SOLUTION_TAG = "solution"
# What otter assign is told for every notebook: no init/check-all/export cells (the student edition keeps the
# template: header first, install cell before anything imports otter; `grader` is made in the setup cell), tests
# in the notebook's metadata so that one .ipynb file is all a student needs, and nothing executed or zipped.
ASSIGNMENT_CONFIG = """# ASSIGNMENT CONFIG
init_cell: false
check_all_cell: false
export_cell: false
run_tests: false
generate: false
solutions_pdf: false
template_pdf: false
tests:
  files: false
  ok_format: true"""


def marker(cell) -> str | None:
    """Return the otter marker a raw cell holds (``# BEGIN QUESTION`` ...), or None for any other cell."""
    if cell.cell_type != "raw":
        return None
    first = cell.source.strip().splitlines()[0].strip() if cell.source.strip() else ""
    return first if first in MARKERS else None


@dataclass
class Question:
    """One question's cells, by index in the notebook: where it starts and ends, its prompt, solution and tests."""

    begin: int
    end: int | None = None
    config: dict = field(default_factory=dict)
    prompt: int | None = None
    solution: list[int] = field(default_factory=list)
    tests: list[int] = field(default_factory=list)
    layout: list[tuple[int, str]] = field(default_factory=list)   # (cell, message) where the expected order broke

    @property
    def name(self) -> str:
        return str(self.config.get("name", ""))

    def cells(self) -> range:
        return range(self.begin, (self.end if self.end is not None else self.begin) + 1)


def _config(source: str) -> dict:
    import yaml

    try:
        config = yaml.safe_load("\n".join(source.strip().splitlines()[1:])) or {}
    except yaml.YAMLError:
        return {}
    return config if isinstance(config, dict) else {}


def questions(nb) -> list[Question]:
    """Return the notebook's questions in order, each with the indices of its cells and any layout problems.

    The layout expected inside a question: prompt (markdown), ``# BEGIN SOLUTION``, one code cell,
    ``# END SOLUTION``, ``# BEGIN TESTS``, one or more code cells, ``# END TESTS``, then ``# END QUESTION``.
    """
    cells, found = nb.cells, []
    begins = [i for i, c in enumerate(cells) if marker(c) == BEGIN_QUESTION]
    for k, begin in enumerate(begins):
        limit = begins[k + 1] if k + 1 < len(begins) else len(cells)
        question = Question(begin=begin, config=_config(cells[begin].source))
        found.append(question)
        i = begin + 1

        def expect(mark: str) -> bool:
            nonlocal i
            if i < limit and marker(cells[i]) == mark:
                i += 1
                return True
            got = "nothing" if i >= limit else f"`{marker(cells[i])}`" if marker(cells[i]) else \
                f"a {cells[i].cell_type} cell"
            question.layout.append((min(i, limit - 1), f"expected the raw cell `{mark}`; found {got}"))
            return False

        def code_cells() -> list[int]:
            nonlocal i
            taken = []
            while i < limit and cells[i].cell_type == "code":
                taken.append(i)
                i += 1
            return taken

        if i < limit and cells[i].cell_type == "markdown":
            question.prompt, i = i, i + 1
        else:
            question.layout.append((min(i, limit - 1), f"the prompt (a markdown cell) must follow `{BEGIN_QUESTION}`"))
        if expect(BEGIN_SOLUTION):
            question.solution = code_cells()
            if expect(END_SOLUTION) and expect(BEGIN_TESTS):
                question.tests = code_cells()
                if expect(END_TESTS) and expect(END_QUESTION):
                    question.end = i - 1
        if question.end is None:
            ends = [j for j in range(begin + 1, limit) if marker(cells[j]) == END_QUESTION]
            question.end = ends[0] if ends else limit - 1
    return found


def test_config(source: str) -> dict | None:
    """Return the YAML between a test cell's ``\"\"\" # BEGIN TEST CONFIG`` lines, or None when it has none."""
    import yaml

    match = TEST_CONFIG.match(source)
    if not match:
        return None
    try:
        config = yaml.safe_load(match[1]) or {}
    except yaml.YAMLError:
        return {}
    return config if isinstance(config, dict) else {}


def test_body(source: str) -> str:
    """Return a test cell's code without its config block (what otter turns into the test)."""
    match = TEST_CONFIG.match(source)
    return source[match.end():] if match else source


def is_hidden(source: str) -> bool:
    """True for a test otter leaves out of the student edition (first line ``# HIDDEN`` or ``hidden: true``)."""
    lines = source.splitlines()
    config = test_config(source)
    return bool(config and config.get("hidden")) or bool(lines and HIDDEN.match(lines[0]))


def student_code(source: str) -> str:
    """Return the student's version of a solution cell, computed by otter's own solution remover."""
    from otter.assign.solutions import replace_solutions

    return "\n".join(replace_solutions(source.splitlines(), "python"))


def parse(code: str) -> ast.Module | None:
    """Parse a cell, IPython magics (``%timeit``) turned into Python first; None when it does not parse."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return ast.parse(TransformerManager().transform_cell(code))
    except SyntaxError:
        return None


def blanks(code: str) -> set[str]:
    """Return the names that a student cell leaves unanswered: bound to ``...``, or functions whose body is ``...``."""
    tree = parse(code)
    if tree is None:
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Constant) \
                and node.value.value is Ellipsis:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                                                 and isinstance(s.value.value, str))]
            if all(isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) and s.value.value is Ellipsis
                   for s in body):
                names.add(node.name)
    return names


_ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)


def misuses(code: str, values: set[str]) -> list[str]:
    """Return what `code` does with names holding ``...`` that would raise: ``x.attr``, ``x[i]``, ``x()``,
    arithmetic, ordering comparisons and format specs (``f"{x:.2f}"``); passing ``x`` around or printing it is fine.
    """
    tree = parse(code)
    if tree is None:
        return []

    def blank(node) -> str | None:
        return node.id if isinstance(node, ast.Name) and node.id in values else None

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and blank(node.value):
            found.append(f"`{ast.unparse(node)}`")
        elif isinstance(node, ast.Subscript) and blank(node.value) and isinstance(node.ctx, ast.Load):
            found.append(f"`{ast.unparse(node)}`")
        elif isinstance(node, ast.Call) and blank(node.func):
            found.append(f"`{ast.unparse(node)}`")
        elif isinstance(node, ast.BinOp) and (blank(node.left) or blank(node.right)):
            found.append(f"`{ast.unparse(node)}`")
        elif isinstance(node, ast.UnaryOp) and not isinstance(node.op, ast.Not) and blank(node.operand):
            found.append(f"`{ast.unparse(node)}`")
        elif isinstance(node, ast.Compare) and any(isinstance(op, _ORDERING) for op in node.ops) \
                and any(blank(n) for n in [node.left, *node.comparators]):
            found.append(f"`{ast.unparse(node)}`")
        elif isinstance(node, ast.FormattedValue) and node.format_spec is not None and blank(node.value):
            found.append(f"`{{{node.value.id}:...}}` in an f-string")
    return found


def value_blanks(code: str) -> set[str]:
    """The names a student cell binds to ``...`` (not the functions left with a ``...`` body)."""
    tree = parse(code)
    if tree is None:
        return set()
    functions = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return blanks(code) - functions


def reads(code: str) -> set[str]:
    """Return the names a test reads."""
    tree = parse(code)
    if tree is None:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def answer_cells(nb) -> set[int]:
    """Indices of the cells a class must not see on slides and pages: markers, solutions, tests, `solution` tags."""
    hidden = {i for i, c in enumerate(nb.cells)
              if c.cell_type == "raw" or SOLUTION_TAG in c.get("metadata", {}).get("tags", [])}
    for question in questions(nb):
        hidden |= set(question.solution) | set(question.tests)
    return hidden


# ---------------------------------------------------------------- the student edition
def _instructor_copy(nb):
    """The notebook otter assign reads: `solution`-tagged cells and outputs dropped, the config cell after the header."""
    import nbformat

    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if SOLUTION_TAG not in c.get("metadata", {}).get("tags", [])]
    for cell in nb.cells:
        if cell.cell_type == "code":  # otter would take a test cell's output for the expected doctest output
            cell.outputs, cell.execution_count = [], None
    nb.cells.insert(1, nbformat.v4.new_raw_cell(ASSIGNMENT_CONFIG))
    nb.metadata.setdefault("kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"})
    return nb


def assign(nb, filename: str):
    """Return otter assign's student version of `nb` (named `filename`): answers blanked, check cells, tests in metadata.

    Cells tagged ``solution`` are dropped first. `udl.notebooks.student_edition` adds the rest of the student
    edition (no outputs or test markers, `grader` made in the setup cell).
    """
    import logging

    import nbformat
    import otter.assign

    logging.getLogger("otter").setLevel(logging.ERROR)  # otter's INFO lines per notebook are noise in `make student`
    with tempfile.TemporaryDirectory(prefix="udl-assign-") as folder:
        master = Path(folder) / "master" / filename
        master.parent.mkdir()
        nbformat.write(_instructor_copy(nb), master)
        otter.assign.main(str(master), str(Path(folder) / "dist"), no_pdfs=True, no_run_tests=True)
        return nbformat.read(Path(folder) / "dist" / "student" / filename, as_version=4)


def add_grader(cell, filename: str) -> None:
    """Make `grader` at the end of the setup cell `cell`; ``exercises`` joins its ``from udl import`` line."""
    lines = cell.source.splitlines()
    first = re.match(r"^from udl import (.+)$", lines[0]) if lines else None
    if first:
        lines[0] = f"from udl import {', '.join(sorted({n.strip() for n in first[1].split(',')} | {'exercises'}))}"
    else:
        lines.insert(0, "from udl import exercises")
    lines.append(f'grader = exercises.grader("{filename}")  # checks your answers: grader.check("q1")')
    cell.source = "\n".join(lines)


# ---------------------------------------------------------------- in the student edition
def _colab_notebook() -> dict:
    """The open notebook as Colab's frontend holds it (on Colab the .ipynb file is not on the kernel's disk)."""
    from google.colab import _message  # noqa: PLC0415 (exists only on Colab)

    reply = _message.blocking_request("get_ipynb", request="", timeout_sec=60)
    return reply["ipynb"] if isinstance(reply, dict) and "ipynb" in reply else reply


def _write_tests(tests: dict, folder: Path) -> Path:
    """Write otter's metadata tests as the test files otter reads from a tests folder (OK format)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, test in tests.items():
        (folder / f"{name}.py").write_text(f"OK_FORMAT = True\n\ntest = {test!r}\n", encoding="utf-8")
    return folder


def grader(notebook: str):
    """Return an ``otter.Notebook`` that checks this notebook's answers: ``grader.check("q1")``.

    On Jupyter the tests are read from the notebook file (`notebook`, in the working folder, where Jupyter runs
    it). On Colab, where the file is not on the kernel's disk and otter reads tests only from a folder, the
    tests are taken from the open notebook's metadata and written into a temporary tests folder first.

    Example:
        grader = exercises.grader("01_convolution_by_hand.ipynb")
        grader.check("q1")   # after answering exercise 1: passes, or says what to look at
    """
    if not isinstance(notebook, str) or not notebook.endswith(".ipynb"):
        raise ValueError(f"`notebook` must be the notebook's file name, ending in .ipynb; received {notebook!r}")
    try:
        import otter
    except ImportError:
        raise ImportError("the exercise checks need otter-grader: `pip install otter-grader` (the install cell "
                          "does it on Colab), then run this cell again") from None
    if "google.colab" in sys.modules:
        tests = _colab_notebook().get("metadata", {}).get("otter", {}).get("tests")
        if not tests:
            raise RuntimeError(f"Colab did not hand over the tests stored in {notebook}'s metadata; open the "
                               f"student edition ({notebook}) itself, not a copy saved without its metadata")
        folder = _write_tests(tests, Path(tempfile.mkdtemp(prefix="udl-tests-")))
        return otter.Notebook(tests_dir=str(folder))
    path = Path(notebook)
    if not path.is_file():
        raise FileNotFoundError(f"`notebook` must be this notebook's file in the working folder {Path.cwd()}; "
                                f"received {notebook!r}, which is not there (renamed? run it from its folder)")
    tests = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("otter", {}).get("tests")
    if not tests:
        raise ValueError(f"{notebook} holds no exercise tests in its metadata: open the student edition "
                         "(`make student` writes it to build/student/), not the instructor notebook")
    return otter.Notebook(str(path), tests_dir="")  # "": never a ./tests folder that happens to be there


__all__ = ["Question", "add_grader", "answer_cells", "assign", "grader", "questions"]
