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
        "exercises": md("## Exercises\n\n**1. More.** Train longer."),
        "solution": code("print('longer')"),
    }
    parts["solution"].metadata["tags"] = ["solution"]
    parts.update(replace)
    return [c for c in parts.values() if c is not None]


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
    "exercise-without-solution": ("exercises", dict(solution=md("A hint, not tagged."))),
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


def run_install_cell(monkeypatch, colab: bool, installed: bool):
    """Execute the install cell with Colab present or not and udl installed or not; return pip's calls."""
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a[0]))
    if colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: (real(name, *a) if installed else None) if name == "udl" else real(name, *a))
    exec(template.install_cell(URL), {})
    return calls


def test_install_cell_does_nothing_outside_colab(monkeypatch):
    assert run_install_cell(monkeypatch, colab=False, installed=False) == []
    assert run_install_cell(monkeypatch, colab=False, installed=True) == []


def test_install_cell_installs_on_colab_only_when_udl_is_missing(monkeypatch):
    assert run_install_cell(monkeypatch, colab=True, installed=True) == []
    (call,) = run_install_cell(monkeypatch, colab=True, installed=False)
    assert call[1:5] == ["-m", "pip", "install", "-q"] and call[5] == f"udl @ git+{URL}"
    assert not any("tensorflow" in part for part in call)  # Colab's TensorFlow build is never touched


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
