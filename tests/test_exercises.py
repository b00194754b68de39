"""udl.exercises: the questions of a notebook, otter assign's student version, and the students' grader.

The grader is checked as a student meets it: on Jupyter (the student edition's file in the working folder) and
on Colab, simulated: otter sees a Colab shell, no notebook file is on disk, and Colab's frontend hands over the
open notebook (`google.colab._message.blocking_request("get_ipynb")`, faked here with the student edition).
"""

import json
import sys
import types

import nbformat
import pytest

from udl import exercises

md, code, raw = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell, nbformat.v4.new_raw_cell
HINT = "Look at the padding."
NAME = "98_tiny.ipynb"


def instructor():
    test = code(f'""" # BEGIN TEST CONFIG\nfailure_message: {HINT}\n""" # END TEST CONFIG\n'
                "assert w_out is not ...\nassert w_out == 28")
    cells = [md("# 98 · Tiny"), md("## Setup"), code("from udl import runtime\n\nruntime.setup()"),
             md("## Exercises"), raw("# BEGIN QUESTION\nname: q1\npoints: 1"), md("**1. Size.** How wide?"),
             raw("# BEGIN SOLUTION"), code("w_out = 28  # SOLUTION\nprint(w_out)"), raw("# END SOLUTION"),
             raw("# BEGIN TESTS"), test, code("# HIDDEN\nassert w_out != 27  # the secret test"), raw("# END TESTS"),
             raw("# END QUESTION")]
    return nbformat.v4.new_notebook(cells=cells)


@pytest.fixture(scope="module")
def student():
    return exercises.assign(instructor(), NAME)


def test_questions_finds_each_cell_of_a_question():
    (question,) = exercises.questions(instructor())
    assert (question.name, question.begin, question.prompt, question.solution, question.tests, question.end) == \
        ("q1", 4, 5, [7], [10, 11], 13)
    assert question.layout == []
    assert exercises.answer_cells(instructor()) == {4, 6, 7, 8, 9, 10, 11, 12, 13}


def test_student_code_blanks_as_otter_does_and_blanks_names_what_is_left_to_answer():
    assert exercises.student_code("w_out = 28  # SOLUTION\nprint(w_out)") == "w_out = ...\nprint(w_out)"
    function = 'def f(x):\n    """Doc."""\n    # BEGIN SOLUTION NO PROMPT\n    return x\n    # END SOLUTION\n' \
               '    """ # BEGIN PROMPT\n    ...\n    """ # END PROMPT'
    assert exercises.student_code(function) == 'def f(x):\n    """Doc."""\n    ...'
    assert exercises.blanks(exercises.student_code(function)) == {"f"}
    assert exercises.blanks("a, b = ...\nc = 1") == {"a", "b"}


def test_assign_blanks_the_answer_drops_the_hidden_test_and_adds_the_check(student):
    sources = [c.source for c in student.cells]
    assert "w_out = ...\nprint(w_out)" in sources and 'grader.check("q1")' in sources
    assert not any("# SOLUTION" in s or "BEGIN" in s for s in sources)
    assert "secret test" not in json.dumps(student.metadata) and HINT in json.dumps(student.metadata)


def test_grader_on_jupyter_reads_the_tests_from_the_notebook_file(student, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    nbformat.write(student, tmp_path / NAME)
    (tmp_path / "tests").mkdir()  # a stray tests folder beside the notebook is not where the tests are
    grader = exercises.grader(NAME)
    unanswered = grader.check("q1", global_env={"w_out": ...})
    assert not unanswered.passed_all and HINT in repr(unanswered)
    assert not grader.check("q1", global_env={"w_out": 27}).passed_all
    assert grader.check("q1", global_env={"w_out": 28}).passed_all


def test_grader_on_colab_takes_the_tests_from_the_open_notebook(student, tmp_path, monkeypatch):
    import otter.check.utils

    monkeypatch.chdir(tmp_path)  # no notebook file here, as on Colab
    colab, message = types.ModuleType("google.colab"), types.ModuleType("google.colab._message")
    requests = []
    message.blocking_request = lambda kind, **kw: requests.append(kind) or {"ipynb": json.loads(nbformat.writes(student))}
    colab._message = message
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google.colab._message", message)
    monkeypatch.setattr(otter.check.utils, "get_ipython", lambda: "<google.colab._shell.Shell object>")
    grader = exercises.grader(NAME)
    assert requests == ["get_ipynb"] and grader.interpreter is otter.check.utils.IPythonInterpreter.COLAB
    unanswered = grader.check("q1", global_env={"w_out": ...})
    assert not unanswered.passed_all and HINT in repr(unanswered)
    assert grader.check("q1", global_env={"w_out": 28}).passed_all
    message.blocking_request = lambda kind, **kw: {"ipynb": {"metadata": {}, "cells": []}}
    with pytest.raises(RuntimeError, match="did not hand over the tests"):
        exercises.grader(NAME)


def test_grader_bad_input_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"`notebook` must be the notebook's file name, ending in .ipynb; received 'x'"):
        exercises.grader("x")
    with pytest.raises(FileNotFoundError, match="received '99_missing.ipynb', which is not there"):
        exercises.grader("99_missing.ipynb")
    nbformat.write(instructor(), tmp_path / NAME)
    with pytest.raises(ValueError, match="holds no exercise tests in its metadata: open the student edition"):
        exercises.grader(NAME)
