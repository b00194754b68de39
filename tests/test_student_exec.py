"""The student editions of notebooks 01, 08 and 13 run top to bottom with every exercise unanswered.

Each runs as a student would run it (nbclient, in its own folder, the quick profile and whatever data the run
has: the mirror or the built-in samples): the notebook reaches its end, and every `grader.check("qN")` says
that the question fails and prints the hint of its first public test. A notebook listed here that has no
questions yet is skipped until `template.MIN_CHECKED` is switched on; then it must have them.
"""

from pathlib import Path

import nbformat
import pytest

from udl import exercises, notebooks, template

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
EXECUTED = ("01_convolution_by_hand", "08_recurrent_networks", "13_char_rnn")  # images, text, generation


def text(cell) -> str:
    return "".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in cell.outputs)


@pytest.mark.parametrize("stem", EXECUTED)
def test_the_unanswered_student_edition_runs_and_every_check_says_not_yet(stem, tmp_path):
    path = NOTEBOOKS / f"{stem}.ipynb"
    nb = nbformat.read(path, as_version=4)
    questions = exercises.questions(nb)
    if not questions and (template.MIN_CHECKED == 0 and stem != EXECUTED[0]):
        pytest.skip(f"{stem} has no checked exercises yet")
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
