"""Tests for udl.site (the course site in build/) and udl.nbval_save (keeping what nbval executed)."""

import json
import os
import subprocess
import sys

import nbformat
import pytest

from udl import notebooks, site

md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
HEADER = ("# 99 · Tiny course\n\n[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](x)\n\n"
          "Count pixels by hand. Then more.\n\n**Runtime**: 1 s.")


@pytest.fixture
def assets(tmp_path):
    """A stand-in for vendor/node_modules holding (empty) files where the pages expect them."""
    folder = tmp_path / "node_modules"
    for name in notebooks._ASSET_FILES + ("mathjax/extensions/TeX/AMSmath.js",):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("/* stand-in */")
    return folder


def pyproject(tmp_path, url):
    path = tmp_path / "pyproject.toml"
    urls = f'[project.urls]\nRepository = "{url}"\n' if url else ""
    path.write_text('[project]\nname = "x"\n' + urls)
    return path


@pytest.mark.parametrize("url", ["https://github.com/udl-course/udl", "https://github.com/udl-course/udl/"])
def test_colab_url_is_the_badges_link_from_the_repository_setting(tmp_path, url):
    assert site.colab_url("notebooks/02_x.ipynb", pyproject(tmp_path, url)) == \
        "https://colab.research.google.com/github/udl-course/udl/blob/main/notebooks/02_x.ipynb"


@pytest.mark.parametrize("url", [None, "https://gitlab.com/a/b", "github.com/a/b"])
def test_colab_url_is_none_without_a_github_repository(tmp_path, url):
    assert site.colab_url("02_x.ipynb", pyproject(tmp_path, url)) is None


def test_describe_reads_title_and_first_sentence_past_the_badge():
    assert site.describe(nbformat.v4.new_notebook(cells=[md(HEADER)])) == ("99 · Tiny course", "Count pixels by hand.")
    assert site.describe(nbformat.v4.new_notebook()) == ("", "")


def test_install_assets_copies_what_the_pages_load_and_refuses_an_empty_source(tmp_path, assets):
    dest = site.install_assets(tmp_path / "build", assets)
    assert (dest / "reveal.js" / "dist" / "reveal.js").is_file() and (dest / "mathjax" / "extensions" / "TeX").is_dir()
    with pytest.raises(FileNotFoundError, match=r"`source` must be a folder holding reveal.js.*npm ci --prefix vendor"):
        site.install_assets(tmp_path / "build", tmp_path / "empty")


def test_build_site_writes_index_pages_slides_and_student_editions(tmp_path, assets, monkeypatch):
    monkeypatch.chdir(tmp_path)
    solution = code("print('secret answer')")
    solution.metadata["tags"] = ["solution"]
    source = tmp_path / "99_tiny.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[md(HEADER), code("# NBVAL_CHECK_OUTPUT\nprint(6 * 7)"),
                                                   md("### Exercise 1\nDo it."), solution]), source)
    executed = nbformat.read(source, as_version=4)
    executed.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="42\n")]
    executed.metadata["udl"] = {"seconds": 12.3, "profile": "quick"}
    (tmp_path / "build" / "notebooks").mkdir(parents=True)
    nbformat.write(executed, tmp_path / "build" / "notebooks" / "99_tiny.ipynb")
    results = tmp_path / "results"
    results.mkdir()
    (results / "99_tiny.json").write_text(json.dumps({"notebook": "99_tiny", "profile": "quick",
                                                      "data": {"mnist": "mirror"}, "metrics": {"test_accuracy": 0.98765}}))
    monkeypatch.setenv("UDL_RESULTS_DIR", str(results))
    index = site.build_site([source], tmp_path / "build", assets).read_text(encoding="utf-8")
    assert "99 · Tiny course" in index and "Count pixels by hand." in index and "mnist (mirror)" in index
    assert "12 s" in index and "test_accuracy 0.9877" in index and "quick profile" in index
    for link in ("html/99_tiny.html", "slides/99_tiny.slides.html", "student/99_tiny.ipynb"):
        assert f'href="{link}"' in index and (tmp_path / "build" / link).is_file()
    assert 'href="https://colab.research.google.com/github/udl-course/udl/blob/main/notebooks/99_tiny.ipynb"' in index
    page = (tmp_path / "build" / "html" / "99_tiny.html").read_text(encoding="utf-8")
    assert ">42" in page and "NBVAL_CHECK_OUTPUT" not in page and 'href="../index.html"' in page
    assert "colab-badge.svg" not in page and "colab-badge.svg" not in index  # no image from outside the site
    assert '"../assets/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"' in page
    student = nbformat.read(tmp_path / "build" / "student" / "99_tiny.ipynb", as_version=4)
    assert "secret answer" not in json.dumps(student) and "### Exercise 1" in student.cells[2].source


def test_nbval_save_keeps_the_notebook_as_nbval_ran_it(tmp_path):
    source = tmp_path / "99_saved.ipynb"
    cells = [md("# T"), code("print(6 * 7)"), code("import time\ntime.sleep(0.3)")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), source)
    env = {**os.environ, "UDL_SAVE_EXECUTED": str(tmp_path / "out"), "UDL_PROFILE": "quick"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", str(source), "--nbval-lax", "--nbval-current-env",
                           "-p", "no:cacheprovider", "-p", "udl.nbval_save"], env=env, capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    saved = nbformat.read(tmp_path / "out" / "notebooks" / "99_saved.ipynb", as_version=4)
    assert [o.text for o in saved.cells[1].outputs] == ["42\n"] and saved.cells[1].execution_count == 1
    assert saved.metadata["udl"]["profile"] == "quick" and saved.metadata["udl"]["seconds"] >= 0.3
    assert nbformat.read(source, as_version=4).cells[1].outputs == []  # the committed notebook is untouched
