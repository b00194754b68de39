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

from udl import exercises
from udl.notebooks import _read as read
from udl.slides import CHECK_MARK, INSTALL_MARK, SOLUTION_TAG, is_install_cell

# Checked exercises (otter questions) each notebook must have (issue 15: at least two). Set to 0, a notebook
# without questions would be linted by the old rule (a `solution` cell after every prompt) and
# tests/test_student_exec.py would let another notebook stand in for 08 or 13: that was for the conversion.
MIN_CHECKED = 2
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
    """Return the source of the install cell: on Colab it installs udl and otter-grader (which checks the exercises)
    when either is missing, and elsewhere it does nothing."""
    return (
        f"{INSTALL_MARK} and otter-grader (Colab's own TensorFlow and Keras stay). Elsewhere this does nothing.\n"
        "import importlib.util, subprocess, sys\n"
        "if \"google.colab\" in sys.modules and not all(map(importlib.util.find_spec, (\"udl\", \"otter\"))):\n"
        f"    subprocess.run([sys.executable, \"-m\", \"pip\", \"install\", \"-q\", \"otter-grader\", \"udl @ git+{url}\"], check=True)"
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
    tree = exercises.parse(source)
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
    tree = exercises.parse(cell.source)
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


def _legacy_exercises(cells, heading: int):
    """A notebook not yet converted to checked exercises: every prompt is followed by a cell tagged `solution`."""
    has_prompt = len(cells[heading].source.strip().splitlines()) > 1  # the heading cell may hold the first prompt
    prompts = [heading] if has_prompt else []
    prompts += [i for i in range(heading + 1, len(cells)) if not _is_solution(cells[i])]
    if not prompts:
        yield heading, "at least one exercise under '## Exercises', with a solution"
    for k, start in enumerate(prompts):
        end = prompts[k + 1] if k + 1 < len(prompts) else len(cells)
        if not any(_is_solution(c) for c in cells[start + 1:end]):
            yield start, "every exercise prompt is followed by a cell tagged `solution`"


def _check_exercises(nb, questions):
    """Under '## Exercises' every exercise is an otter question, numbered q1, q2, ... with its prompt `**N. ...**`."""
    cells = nb.cells
    heading = next((i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith("## Exercises")),
                   None)
    inside = {i for q in questions for i in q.cells()}
    for i, cell in enumerate(cells):
        if cell.cell_type == "raw" and i not in inside:
            yield i, "a raw cell is only an otter marker inside a question (`# BEGIN QUESTION` ... `# END QUESTION`)"
    if heading is None:
        return
    if not questions:
        if MIN_CHECKED:
            yield heading, (f"at least {MIN_CHECKED} checked exercises (otter questions, CONTRIBUTING 'Adding a "
                            "checked exercise'); found none")
        yield from _legacy_exercises(cells, heading)
        return
    if len(questions) < MIN_CHECKED:
        yield heading, f"at least {MIN_CHECKED} checked exercises (otter questions); found {len(questions)}"
    if re.search(r"^\*\*\d+\.", cells[heading].source, re.M):
        yield heading, "the '## Exercises' cell holds no prompt: each prompt is the markdown cell of its question"
    for i in range(heading + 1, len(cells)):
        if i not in inside and not _is_solution(cells[i]) and cells[i].cell_type != "raw":
            yield i, ("under '## Exercises' a cell is part of a question (`# BEGIN QUESTION` ... `# END QUESTION`) "
                      "or tagged `solution` (what only an instructor sees, after `# END QUESTION`)")
    for number, question in enumerate(questions, 1):
        if question.begin < heading:
            yield question.begin, "questions go under '## Exercises'"
        for cell, message in question.layout:
            yield cell, f"question {number}: {message}"
        if question.name != f"q{number}":
            yield question.begin, f"question {number} must be named q{number} (`name: q{number}`); found {question.name!r}"
        if question.prompt is not None and not re.match(rf"\*\*{number}\. \S", cells[question.prompt].source):
            yield question.prompt, f"the prompt of question {number} starts `**{number}. Title.**`"
        if len(question.solution) != 1:
            yield question.begin, (f"question {number}: exactly one code cell between `# BEGIN SOLUTION` and "
                                   f"`# END SOLUTION`; found {len(question.solution)}")
        if not question.tests and not question.layout:
            yield question.begin, f"question {number}: at least one test cell between `# BEGIN TESTS` and `# END TESTS`"
        for i in question.solution + question.tests:
            if _is_solution(cells[i]):
                yield i, "a question's solution and test cells are not tagged `solution` (otter removes them itself)"


def _quiet_test_statement(node) -> bool:
    """An `assert`, an assignment to `_names`, a `def _helper`, or a call of an assert-function (prints nothing)."""
    if isinstance(node, ast.Assert):
        return True
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return all(isinstance(n, ast.Name) and n.id.startswith("_") for t in targets for n in ast.walk(t)
                   if isinstance(n, ast.Name))
    if isinstance(node, ast.FunctionDef):
        return node.name.startswith("_")
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and "assert" in ast.unparse(node.value.func)


def _check_unanswered_runs(nb, questions):
    """The student edition runs top to bottom unanswered: nothing uses a name left as `...` in a way that raises."""
    cells, values = nb.cells, set()
    skip = {i for q in questions for i in q.tests} | {i for i, c in enumerate(cells) if _is_solution(c)}
    solutions = {q.solution[0] for q in questions if len(q.solution) == 1}
    for i, cell in enumerate(cells):
        if cell.cell_type != "code" or i in skip:
            continue
        source = cell.source
        if i in solutions:
            try:
                source = exercises.student_code(source)
            except AssertionError:
                continue
            values |= exercises.value_blanks(source)
        for use in exercises.misuses(source, values):
            yield i, (f"unanswered, {use} would stop the student edition (a name left as `...` there): only "
                      "print it or pass it on, or make the answer a function the student completes")


def _check_tests(nb, questions):
    """Each question's public tests carry a hint, and the first one fails on the student's unanswered cell."""
    cells = nb.cells
    for number, question in enumerate(questions, 1):
        public = [i for i in question.tests if not exercises.is_hidden(cells[i].source)]
        if question.tests and not public:
            yield question.tests[0], f"question {number} needs a public test (a test cell without `# HIDDEN`)"
        for i in public:
            config = exercises.test_config(cells[i].source)
            if config is None:
                yield i, ('a public test starts with `""" # BEGIN TEST CONFIG`, `failure_message: <hint>`, '
                          '`""" # END TEST CONFIG`')
            elif not isinstance(config.get("failure_message"), str) or not config["failure_message"].strip():
                yield i, ("the test config needs `failure_message: <a hint that teaches>` as valid YAML "
                          "(no unquoted ': ' in it)")
        for i in question.tests:
            try:
                body = ast.parse(exercises.test_body(cells[i].source))
            except SyntaxError:
                yield i, "a test is plain Python (otter turns it into a doctest): no IPython magics or shell lines"
                continue
            for node in body.body:
                if not _quiet_test_statement(node):
                    yield i, (f"a test holds `assert`s (and `_name = ...` helpers); `{ast.unparse(node)[:60]}` would "
                              "print a value, and otter's doctest would fail on it even for a right answer")
        if len(question.solution) != 1:
            continue
        source = cells[question.solution[0]].source
        try:
            student = exercises.student_code(source)
        except AssertionError as error:
            yield question.solution[0], f"otter cannot blank this solution: {error}"
            continue
        blank = exercises.blanks(student)
        if exercises.parse(student) is None:
            yield question.solution[0], "the student's version of this cell (as otter blanks it) does not parse"
        elif not blank:
            yield question.solution[0], ("the solution leaves the student nothing to answer: end answer lines with "
                                         "`# SOLUTION` (`x = ...` for the student) or put a function body between "
                                         "`# BEGIN SOLUTION NO PROMPT` and `# END SOLUTION` with a `...` prompt")
        elif public and not exercises.reads(exercises.test_body(cells[public[0]].source)) & blank:
            yield public[0], (f"the first public test must read a name the unanswered cell leaves as `...` "
                              f"({', '.join(sorted(blank))}), so that it fails before the exercise is answered")


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
    questions = exercises.questions(nb)
    problems += [Problem(name, i, "exercises", m) for i, m in _check_exercises(nb, questions)]
    problems += [Problem(name, i, "checks", m) for i, m in _check_tests(nb, questions)]
    problems += [Problem(name, i, "unanswered-runs", m) for i, m in _check_unanswered_runs(nb, questions)]
    in_questions = {i for q in questions for i in q.solution + q.tests}
    total = sum(len([line for line in c.source.splitlines() if line.strip()])
                for i, c in enumerate(cells) if c.cell_type == "code" and not _is_solution(c) and i not in in_questions)
    if total > MAX_CODE_LINES:
        problems.append(Problem(name, 0, "code-lines", f"at most {MAX_CODE_LINES} non-blank code lines outside "
                                                       f"solutions; found {total}"))
    return problems
