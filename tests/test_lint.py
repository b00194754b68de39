"""The notebook template: every course notebook follows it, and each rule catches a notebook that breaks it."""

import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest

from udl import cli, template

URL = "https://github.com/udl-course/udl"
STEM = "98_good"
NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
HEADER = f"""# 98 · A good notebook

{template.badge(STEM, URL)}

Train a tiny model and compare it with a baseline.

**Dataset**
- full: MNIST, 60,000 / 10,000 digits
- quick: 8,000 / 2,000 real digits
- offline: scikit-learn's digits upscaled

**Runtime**
- quick: about 20 s on 2 CPU cores
- full: about 2 min on a Colab GPU"""
SETUP = "from udl import data, results, runtime\n\nimport numpy as np\n\nruntime.setup()"


def cells(**replace):
    """The cells of a notebook that follows the template; `replace` swaps a cell by its role."""
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    parts = {
        "header": md(HEADER),
        "overview": md("## Overview\n\nYou will train a model."),
        "setup_heading": md("## Setup"),
        "install": code(template.install_cell(URL)),
        "setup": code(SETUP),
        "prepare": md("## Prepare the data"),
        "load": code('mnist = data.load("mnist")\nprint(np.shape(mnist.x_train))'),
        "record": code(f'results.record("{STEM}", test_accuracy=0.9)'),
        "summary": md("## Summary\n\nYou trained a model."),
        "exercises": md("## Exercises"),
        "questions": question(1) + question(2),
        "solution": None,  # a cell tagged `solution` after the questions: what only an instructor sees
    }
    parts.update(replace)
    return [c for part in parts.values() if part is not None for c in (part if isinstance(part, list) else [part])]


def legacy(**replace):
    """The exercises as they were before checked exercises: a prompt, then a cell tagged `solution`."""
    parts = dict(exercises=md("## Exercises\n\n**1. More.** Train longer."), questions=None,
                 solution=code("print('longer')", metadata={"tags": ["solution"]}))
    return {**parts, **replace}


def write(tmp_path, stem=STEM, **replace):
    nb = nbformat.v4.new_notebook()
    nb.cells = cells(**replace)
    path = tmp_path / f"{stem}.ipynb"
    nbformat.write(nb, path)
    return path


def rules(path):
    return sorted({p.rule for p in template.lint(path, url=URL)})


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_course_notebook_follows_the_template(path):
    problems = template.lint(path)
    assert not problems, "\n".join(map(str, problems))


def test_a_notebook_that_follows_the_template_passes(tmp_path):
    assert template.lint(write(tmp_path), url=URL) == []


code, md = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
LONG_HEADER = HEADER.replace("baseline.", "baseline " + "and more " * 30 + "words.")
BROKEN = {
    "header-title": ("header", dict(header=md(HEADER.replace("# 98 ·", "# Good notebook")))),
    "header-badge": ("header", dict(header=md(HEADER.replace(template.badge(STEM, URL) + "\n\n", "")))),
    "header-badge-target": ("header", dict(header=md(HEADER.replace(STEM, "02_other")))),
    "header-no-runtime": ("header", dict(header=md(HEADER.split("**Runtime**")[0]))),
    "header-lab-log": ("header", dict(header=md(HEADER + "\n\nMeasured while the load average was 1.5."))),
    "header-words": ("header", dict(header=md(LONG_HEADER))),
    "sections-order": ("sections", dict(summary=md("## Wrap-up"))),
    "sections-no-exercises": ("sections", dict(exercises=md("## More"))),
    "sections-code-in-overview": ("sections", dict(overview=md("## Overview"), setup_heading=None)),
    "install-missing": ("setup", dict(install=None)),
    "setup-udl-not-first": ("setup", dict(setup=code("import numpy as np\nfrom udl import data, results, runtime\n\n"
                                                     "runtime.setup()"))),
    "setup-unsorted": ("setup", dict(setup=code(SETUP.replace("data, results, runtime", "runtime, data, results")))),
    "setup-semicolon": ("setup", dict(setup=code(SETUP + ";"))),
    "setup-other-statements": ("setup", dict(setup=code(SETUP.replace("\n\nruntime", "\nEPOCHS = 3\nruntime")))),
    "setup-unused-module": ("setup", dict(setup=code(SETUP.replace("data, results", "data, results, viz").replace(
        "results, viz, runtime", "results, runtime, viz")))),
    "imports-elsewhere": ("imports", dict(load=code('import os\nmnist = data.load("mnist")\nprint(np.shape(mnist.x_train))'))),
    "exercise-not-checked": ("exercises", legacy()),
    "outputs-unchecked": ("outputs", dict(load=code('mnist = data.load("mnist")\nprint(np.shape(mnist.x_train))',
                                                    outputs=[nbformat.v4.new_output("stream", text="hi\n")]))),
    "outputs-image": ("outputs", dict(load=code("# NBVAL_CHECK_OUTPUT\nmnist = data.load('mnist')", outputs=[
        nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})]))),
    "cell-length": ("cell-length", dict(load=code('mnist = data.load("mnist")\n' + "print(np)\n" * 30))),
    "code-lines": ("code-lines", dict(**{f"more{k}": code("x = np.zeros(3)\n" * 20) for k in range(16)})),
    "record-id": ("record-id", dict(record=code('results.record("02_mnist_mlp_to_cnn", test_accuracy=0.9)'))),
    "plumbing-socket": ("plumbing", dict(solution=code("import socket", metadata={"tags": ["solution"]}))),
    "plumbing-environ": ("plumbing", dict(load=code('os.environ["KERAS_HOME"] = "/tmp"\nmnist = data.load("mnist")'))),
    "plumbing-env-magic": ("plumbing", dict(load=code('%env KERAS_HOME=/tmp\nmnist = data.load("mnist")'))),
    "names-dataset": ("names", dict(load=code('ds = data.load("mnist")\nprint(np.shape(ds.x_train))'))),
    "names-batch": ("names", dict(load=code('BATCH = 32\nmnist = data.load("mnist")'))),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_rule_catches_a_notebook_that_breaks_it(tmp_path, case):
    rule, replace = BROKEN[case]
    path = write(tmp_path, **replace)
    problems = template.lint(path, url=URL)
    assert rule in rules(path), f"{case}: expected rule {rule!r}; got {[str(p) for p in problems]}"
    hit = next(p for p in problems if p.rule == rule)
    assert str(hit).startswith(f"{STEM}.ipynb, cell {hit.cell}: {rule}: ")


raw = nbformat.v4.new_raw_cell
TEST_CONFIG = '""" # BEGIN TEST CONFIG\nfailure_message: Look at the padding.\n""" # END TEST CONFIG\n'


def question(number=1, **replace):
    """The cells of one checked exercise (an otter question); `replace` swaps a cell by its role (None drops it)."""
    parts = {
        "begin": raw(f"# BEGIN QUESTION\nname: q{number}\npoints: 1"),
        "prompt": md(f"**{number}. Output size.** How wide is a 28-pixel image after a 5×5 kernel with P = 2?"),
        "begin_solution": raw("# BEGIN SOLUTION"),
        "solution": code("w_out = (28 - 5 + 2 * 2) // 1 + 1  # SOLUTION\nprint(w_out)"),
        "end_solution": raw("# END SOLUTION"),
        "begin_tests": raw("# BEGIN TESTS"),
        "test": code(TEST_CONFIG + "assert w_out is not ...\nassert w_out == 28"),
        "hidden": code("# HIDDEN\nassert isinstance(w_out, int)"),
        "end_tests": raw("# END TESTS"),
        "end_question": raw("# END QUESTION"),
    }
    parts.update(replace)
    return [c for c in parts.values() if c is not None]


def write_checked(tmp_path, questions=None, after=(), **replace):
    """A notebook whose exercises are checked: `questions` (lists of cells) after '## Exercises'."""
    nb = nbformat.v4.new_notebook()
    nb.cells = cells(questions=None, **replace)
    for cells_of_one in questions if questions is not None else [question(1), question(2)]:
        nb.cells += cells_of_one
    nb.cells += list(after)
    path = tmp_path / f"{STEM}.ipynb"
    nbformat.write(nb, path)
    return path


def test_a_notebook_with_checked_exercises_passes(tmp_path, monkeypatch):
    monkeypatch.setattr(template, "MIN_CHECKED", 2)
    discussion = md("The answer is 28: 'same' padding.")
    discussion.metadata["tags"] = ["solution"]
    assert template.lint(write_checked(tmp_path, after=[discussion]), url=URL) == []


FUNCTION = code('def double(x):\n    """Return 2x."""\n    # BEGIN SOLUTION NO PROMPT\n    return 2 * x\n    # END SOLUTION\n'
                '    """ # BEGIN PROMPT\n    ...\n    """ # END PROMPT')
CHECKED = {  # case: (rule, questions) for a notebook that breaks one rule of checked exercises
    "question-name": ("exercises", [question(1), question(2, begin=raw("# BEGIN QUESTION\nname: q3\npoints: 1"))]),
    "question-prompt-number": ("exercises", [question(1, prompt=md("**2. Size.** How wide?"))]),
    "question-no-prompt": ("exercises", [question(1, prompt=None)]),
    "question-no-end-solution": ("exercises", [question(1, end_solution=None)]),
    "question-two-solution-cells": ("exercises", [question(1, end_solution=code("print(1)"))]),
    "question-no-tests": ("exercises", [question(1, test=None, hidden=None)]),
    "question-no-end": ("exercises", [question(1, end_question=None)]),
    "question-test-tagged-solution": ("exercises", [question(1, hidden=code("# HIDDEN\nassert w_out > 0",
                                                                            metadata={"tags": ["solution"]}))]),
    "exercise-not-a-question": ("exercises", [question(1), [md("**2. More.** Train longer.")]]),
    "raw-outside-a-question": ("exercises", [question(1), [raw("just a note")]]),
    "checks-no-hint": ("checks", [question(1, test=code("assert w_out is not ...\nassert w_out == 28"))]),
    "checks-hint-not-yaml": ("checks", [question(1, test=code(TEST_CONFIG.replace("Look at", "Look: at") +
                                                               "assert w_out is not ..."))]),
    "checks-only-hidden": ("checks", [question(1, test=None)]),
    "checks-nothing-to-answer": ("checks", [question(1, solution=code("w_out = 28\nprint(w_out)"))]),
    "checks-first-test-passes-unanswered": ("checks", [question(1, test=code(TEST_CONFIG + "assert 28 == 28"))]),
    "checks-test-magic": ("checks", [question(1, hidden=code("# HIDDEN\n%time assert w_out == 28"))]),
    "checks-test-prints": ("checks", [question(1, hidden=code("# HIDDEN\nw_out == 28"))]),
    "unanswered-runs-attribute": ("unanswered-runs", [question(1, solution=code(
        "model = build_cnn()  # SOLUTION\nmodel.summary()"), test=code(TEST_CONFIG + "assert model is not ..."))]),
    "unanswered-runs-format": ("unanswered-runs", [question(1, solution=code(
        "w_out = 28  # SOLUTION\nprint(f'{w_out:.1f} pixels')"))]),
    "unanswered-runs-later-question": ("unanswered-runs", [question(1), question(2, solution=code(
        "h_out = 14  # SOLUTION\nprint(h_out, w_out + 1)"), test=code(TEST_CONFIG + "assert h_out is not ..."))]),
    "checks-function-body-tested": ("checks", [question(1, solution=FUNCTION, test=code(TEST_CONFIG + "assert w_out"),
                                                        hidden=None)]),
}


@pytest.mark.parametrize("case", sorted(CHECKED))
def test_each_exercise_rule_catches_a_notebook_that_breaks_it(tmp_path, case, monkeypatch):
    monkeypatch.setattr(template, "MIN_CHECKED", 1)  # one question is enough to break a rule
    rule, questions = CHECKED[case]
    path = write_checked(tmp_path, questions)
    problems = template.lint(path, url=URL)
    assert [p.rule for p in problems] and {p.rule for p in problems} == {rule}, \
        f"{case}: expected only rule {rule!r}; got {[str(p) for p in problems]}"


def test_a_function_exercise_whose_first_test_calls_it_passes(tmp_path, monkeypatch):
    monkeypatch.setattr(template, "MIN_CHECKED", 1)
    fixed = question(1, solution=FUNCTION, test=code(TEST_CONFIG + "assert double(2) == 4"), hidden=None)
    assert template.lint(write_checked(tmp_path, [fixed]), url=URL) == []


def test_every_notebook_has_at_least_min_checked_exercises_and_0_lets_the_old_form_pass(tmp_path, monkeypatch):
    assert template.MIN_CHECKED == 2  # issue 15: at least two checked exercises per notebook
    one = write_checked(tmp_path, [question(1)])
    (problem,) = template.lint(one, url=URL)
    assert problem.rule == "exercises" and "at least 2 checked exercises" in problem.message
    (tmp_path / "old").mkdir()
    old = write(tmp_path / "old", **legacy())
    assert "found none" in " ".join(p.message for p in template.lint(old, url=URL))
    monkeypatch.setattr(template, "MIN_CHECKED", 0)  # as it was while the notebooks were being converted
    assert template.lint(one, url=URL) == [] and template.lint(old, url=URL) == []
    no_solution = write(tmp_path / "old", **legacy(solution=md("A hint, not tagged.")))
    assert {p.rule for p in template.lint(no_solution, url=URL)} == {"exercises"}


def test_a_problem_names_the_cell_that_breaks_the_rule(tmp_path):
    path = write(tmp_path, record=code('results.record("other", test_accuracy=0.9)'))
    (problem,) = template.lint(path, url=URL)
    assert problem.cell == 7 and problem.rule == "record-id" and "'98_good'" in problem.message


def test_colab_writes_the_badge_and_install_cell_once(tmp_path):
    path = write(tmp_path, header=md(HEADER.replace(template.badge(STEM, URL) + "\n\n", "")), install=None)
    assert template.colab(path, url=URL) is True
    assert template.lint(path, url=URL) == []
    assert template.colab(path, url=URL) is False  # idempotent: a second run changes nothing
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].source.count("colab-badge.svg") == 1
    assert sum(c.source == template.install_cell(URL) for c in nb.cells) == 1


def test_colab_points_the_badge_at_a_renamed_notebook(tmp_path):
    path = write(tmp_path, record=None, setup=code(SETUP.replace("data, results, runtime", "data, runtime")))
    renamed = path.rename(tmp_path / "97_renamed.ipynb")
    nb = nbformat.read(renamed, as_version=4)
    nb.cells[0].source = nb.cells[0].source.replace("# 98 ·", "# 97 ·")
    nbformat.write(nb, renamed)
    assert rules(renamed) == ["header"]
    template.colab(renamed, url=URL)
    assert template.lint(renamed, url=URL) == []
    assert "notebooks/97_renamed.ipynb" in nbformat.read(renamed, as_version=4).cells[0].source


def test_badge_and_install_cell_use_the_repository_url_from_pyproject():
    url = template.repository_url()
    assert url.startswith("https://github.com/")
    assert template.badge("02_x", url) == (
        "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        f"(https://colab.research.google.com/github/{url[len('https://github.com/'):]}/blob/main/notebooks/02_x.ipynb)")
    assert f'"udl @ git+{url}"' in template.install_cell(url)


def test_repository_url_missing_is_a_clear_error(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    with pytest.raises(RuntimeError, match=r"`\[project.urls\] Repository` must be set"):
        template.repository_url(tmp_path / "pyproject.toml")


def run_install_cell(monkeypatch, colab: bool, installed: bool, missing: str = "udl"):
    """Execute the install cell with Colab present or not and `missing` (udl or otter) installed or not; return
    pip's calls."""
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a[0]))
    if colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: (None if name == missing and not installed else real(name, *a)))
    exec(template.install_cell(URL), {})
    return calls


def test_install_cell_does_nothing_outside_colab(monkeypatch):
    assert run_install_cell(monkeypatch, colab=False, installed=False) == []
    assert run_install_cell(monkeypatch, colab=False, installed=True) == []


def test_install_cell_installs_udl_and_otter_on_colab_only_when_one_is_missing(monkeypatch):
    assert run_install_cell(monkeypatch, colab=True, installed=True) == []
    (call,) = run_install_cell(monkeypatch, colab=True, installed=False)
    assert call[1:5] == ["-m", "pip", "install", "-q"] and call[5:] == ["otter-grader", f"udl @ git+{URL}"]
    assert not any("tensorflow" in part for part in call)  # Colab's TensorFlow build is never touched
    (call,) = run_install_cell(monkeypatch, colab=True, installed=False, missing="otter")
    assert call[5:] == ["otter-grader", f"udl @ git+{URL}"]


def test_cli_lint_exits_1_and_lists_problems(tmp_path, capsys):
    bad = write(tmp_path, record=code('results.record("other", test_accuracy=0.9)'))
    assert cli.main(["notebooks", "lint", str(bad)]) == 1
    assert "cell 7: record-id" in capsys.readouterr().out


def test_cli_colab_then_lint_passes(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(template, "repository_url", lambda pyproject=None: URL)
    path = write(tmp_path, install=None)
    assert cli.main(["notebooks", "colab", str(path)]) == 0
    assert cli.main(["notebooks", "lint", str(path)]) == 0
    assert "every notebook follows the template" in capsys.readouterr().out
