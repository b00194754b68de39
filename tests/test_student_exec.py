"""The student editions of notebooks 01, 08 and 13 run top to bottom with every exercise unanswered.

Each runs as a student would run it (nbclient, in its own folder, the quick profile and whatever data the run
has: the mirror or the built-in samples): the notebook reaches its end, and every `grader.check("qN")` says
that the question fails and prints the hint of its first public test. 01, 08 and 13 must have questions
(`template.MIN_CHECKED` is 2); set to 0, as while the notebooks were being converted, a notebook that has
questions would stand in for 08 or 13 without any.
"""

from pathlib import Path

import nbformat
import pytest

from udl import exercises, notebooks, template

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
EXECUTED = ("01_convolution_by_hand", "08_recurrent_networks", "13_char_rnn")  # images, text, generation


def _has_questions(stem: str) -> bool:
    return bool(exercises.questions(nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)))


def _chosen() -> list[str]:
    """01, 08 and 13; while converting, another converted notebook in place of one not converted yet."""
    if template.MIN_CHECKED:
        return list(EXECUTED)
    ready = [stem for stem in EXECUTED if _has_questions(stem)]
    others = [p.stem for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")) if p.stem not in EXECUTED]
    stand_ins = [stem for stem in others if _has_questions(stem)][:len(EXECUTED) - len(ready)]
    return [EXECUTED[0]] + [s for s in ready if s != EXECUTED[0]] + stand_ins


def text(cell) -> str:
    return "".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in cell.outputs)


@pytest.mark.parametrize("stem", _chosen())
def test_the_unanswered_student_edition_runs_and_every_check_says_not_yet(stem, tmp_path):
    path = NOTEBOOKS / f"{stem}.ipynb"
    nb = nbformat.read(path, as_version=4)
    questions = exercises.questions(nb)
    assert questions, f"{stem} has no checked exercises (otter questions)"
    student = tmp_path / path.name
    nbformat.write(notebooks.student_edition(nb, path.name), student)
    ran, seconds, error = notebooks.execute(student, cell_timeout=600)
    assert error is None, f"the student edition of {stem} stopped: {error}"
    checks = {c.source.strip(): text(c) for c in ran.cells if c.cell_type == "code"
              and c.source.lstrip().startswith("grader.check(")}
    for number, question in enumerate(questions, 1):
        output = checks[f'grader.check("q{number}")']
        first = next(i for i in question.tests if not exercises.is_hidden(nb.cells[i].source))
        hint = exercises.test_config(nb.cells[first].source)["failure_message"]
        assert f"q{number} results:" in output and "Test case failed" in output, f"q{number}:\n{output[:2000]}"
        assert "All tests passed" not in output
        assert " ".join(hint.split()) in " ".join(output.split()), f"q{number} does not show its hint:\n{output[:2000]}"
