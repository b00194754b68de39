"""The student edition of every notebook: no solution survives, the exercises remain, and it still runs.

Running every edition would double the notebooks' CI time, so every edition is checked statically (no cell
after a removed solution uses a name only that solution defined), and the fastest notebook's edition is run.
"""

import ast
import re
from pathlib import Path

import nbformat
import pytest

from udl import notebooks

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
FASTEST = "01_convolution_by_hand.ipynb"  # no dataset, about 15 s on 2 CPU cores


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


def exercises(nb) -> int:
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
    student = notebooks.student_edition(nb)
    assert not any(notebooks.SOLUTION_TAG in c.metadata.get("tags", []) for c in student.cells)
    assert exercises(student) == exercises(nb) > 0
    assert orphans(nb) == []


def test_the_fastest_student_edition_runs(tmp_path):
    path = next((p for p in NOTEBOOKS if p.name == FASTEST), None)
    if path is None:
        pytest.skip(f"{FASTEST} is not in notebooks/")
    student = tmp_path / FASTEST
    nbformat.write(notebooks.student_edition(nbformat.read(path, as_version=4)), student)
    _, seconds, error = notebooks.execute(student, cell_timeout=300)
    assert error is None
