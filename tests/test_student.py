"""The student edition of every notebook: no solution survives, the exercises remain, each with its check.

Running every edition would double the notebooks' CI time, so every edition is checked statically here (no cell
after a removed solution uses a name only that solution defined; otter blanked each answer, dropped the hidden
tests and put a `grader.check` after each prompt); tests/test_student_exec.py runs three of them.
"""

import ast
import json
import re
from pathlib import Path

import nbformat
import pytest

from udl import exercises, notebooks

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _defined_and_used(source: str) -> tuple[set[str], set[str]]:
    """Return the names a cell binds and the names it reads (IPython magics and shell lines left out)."""
    code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    tree = ast.parse(code)
    defined, used = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (used if isinstance(node.ctx, ast.Load) else defined).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined.update((a.asname or a.name).split(".")[0] for a in node.names)
    return defined, used


def orphans(nb) -> list[str]:
    """Return 'cell N uses NAME' for names that only solution cells define but a later kept cell reads."""
    kept_defined, solution_only, problems = set(), set(), []
    for number, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        defined, used = _defined_and_used(cell.source)
        if notebooks.SOLUTION_TAG in cell.metadata.get("tags", []):
            solution_only |= defined - kept_defined
            continue
        problems += [f"cell {number} uses {name}" for name in sorted(used & solution_only - defined)]
        kept_defined |= defined
        solution_only -= defined
    return problems


def prompts(nb) -> int:
    prompts = re.compile(r"^\*\*\d+\.|^#+ Exercise", re.M)  # "**1. ..." or "### Exercise 1"
    return sum(len(prompts.findall(c.source)) for c in nb.cells if c.cell_type == "markdown")


def test_the_orphan_check_catches_a_name_only_a_solution_defined():
    solution = nbformat.v4.new_code_cell("answer = 42\ndef helper():\n    return 1")
    solution.metadata["tags"] = ["solution"]
    later = nbformat.v4.new_code_cell("%time x = 1\nprint(answer, helper(), x)")
    nb = nbformat.v4.new_notebook(cells=[solution, later])
    assert orphans(nb) == ["cell 1 uses answer", "cell 1 uses helper"]
    nb.cells.insert(0, nbformat.v4.new_code_cell("answer = 0"))  # defined outside the solution too: fine
    assert orphans(nb) == ["cell 2 uses helper"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_student_edition_drops_solutions_keeps_exercises_and_needs_nothing_they_defined(path):
    nb = nbformat.read(path, as_version=4)
    student = notebooks.student_edition(nb, path.name)
    assert not any(notebooks.SOLUTION_TAG in c.metadata.get("tags", []) for c in student.cells)
    assert prompts(student) == prompts(nb) > 0
    assert orphans(nb) == []
    assert "colab.research.google.com" not in student.cells[0].source  # it would open the instructor's notebook
    assert notebooks.STUDENT_COLAB in student.cells[0].source
    questions = exercises.questions(nb)
    assert notebooks.check_cells(student) == len(questions)
    if not questions:
        return
    assert not any(c.cell_type == "raw" for c in student.cells)
    assert [c.cell_type for c in student.cells[:3]] == ["markdown", "markdown", "markdown"]  # header first
    sources = [c.source for c in student.cells]
    setup = next(c for c in student.cells if c.source.startswith("from udl import"))
    assert "exercises" in setup.source.splitlines()[0].split("import ")[1].split(", ")
    assert setup.source.splitlines()[-1].startswith(f'grader = exercises.grader("{path.name}")')
    assert sources.index(setup.source) > next(i for i, c in enumerate(student.cells) if c.cell_type == "code")
    tests = student.metadata["otter"]["tests"]
    for number, question in enumerate(questions, 1):
        solution = nb.cells[question.solution[0]].source
        assert solution not in sources, f"q{number}: the solution cell reached the student edition"
        assert exercises.student_code(solution) in sources  # ... blanked, as otter blanks it
        assert f'grader.check("q{number}")' in sources
        hidden = [i for i in question.tests if exercises.is_hidden(nb.cells[i].source)]
        cases = json.dumps(tests[f"q{number}"])
        assert len(tests[f"q{number}"]["suites"][0]["cases"]) == len(question.tests) - len(hidden)
        assert not any(exercises.test_body(nb.cells[i].source).strip().splitlines()[-1][:40] in cases for i in hidden)
        assert not any(nb.cells[i].source in sources for i in question.tests)

