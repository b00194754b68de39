"""Tests for the `udl` command (udl.cli.main): data list/fetch/verify, results, and notebook commands."""

import re

import nbformat
import pytest

from conftest import write_images
from udl import cli, data, notebooks, results


def rows(out: str) -> dict:
    """The `data list` table as {dataset: (tier, where)}."""
    table = {}
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] in data.names():
            table[parts[0]] = (parts[1], parts[2])
    return table


def test_data_list_says_where_each_dataset_would_come_from(mirror, monkeypatch, capsys, isolate):
    root = mirror("mnist", "fsdd")
    monkeypatch.setenv("UDL_DATA_DIR", str(root))
    assert cli.main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"lookup order: mirror {root} > cache {isolate.cache} > download > built-in sample")
    table = rows(out)
    assert table["mnist"] == ("mirror", str(root / "mnist.npz"))
    assert table["fsdd"] == ("mirror", str(root / "fsdd" / "recordings"))
    for name in ("cifar10", "imdb", "shakespeare"):
        assert table[name] == ("download", data.spec(name).url)
    assert "8,000 / 2,000" in out and "300,000 chars" in out

    monkeypatch.setenv("UDL_OFFLINE", "1")
    assert cli.main(["data", "list"]) == 0
    table = rows(capsys.readouterr().out)
    assert table["mnist"][0] == "mirror"
    assert {table[n][0] for n in ("cifar10", "imdb", "shakespeare")} == {"builtin"}


def test_data_list_shows_the_cache(server, monkeypatch, sha, capsys, isolate):
    write_images(server.root / "mnist.npz", (28, 28), 10, 5)
    monkeypatch.setitem(data.URLS, "mnist", server.url("mnist.npz"))
    monkeypatch.setattr(data, "MNIST_SHA", sha((server.root / "mnist.npz").read_bytes()))
    assert cli.main(["data", "fetch", "mnist"]) == 0
    assert capsys.readouterr().out == f"mnist: cached at {isolate.cache / 'mnist.npz'}\n"
    cli.main(["data", "list"])
    assert rows(capsys.readouterr().out)["mnist"] == ("cache", str(isolate.cache / "mnist.npz"))
    assert server.count() == 1


def test_data_verify_on_an_empty_cache(capsys, isolate):
    assert cli.main(["data", "verify"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == data.names()
    assert all(": not in the cache (" in line for line in lines)
    assert not isolate.cache.exists()  # verifying does not create anything


@pytest.mark.parametrize("command", [["data", "fetch", "mnist", "cifar100"], ["data", "verify", "cifar100"]])
def test_unknown_dataset_exits_with_an_error_naming_it(command, capsys, server):
    with pytest.raises(SystemExit) as info:
        cli.main(command)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "unknown dataset 'cifar100'" in err and "known: mnist, cifar10, imdb, fsdd, shakespeare" in err
    assert server.count() == 0


def test_data_fetch_needs_a_name(capsys):
    with pytest.raises(SystemExit, match="name at least one dataset, or --all; known: mnist"):
        cli.main(["data", "fetch"])


def test_data_fetch_failure_is_reported_and_exits_1(server, monkeypatch, capsys, isolate):
    monkeypatch.setitem(data.URLS, "shakespeare", server.url("input.txt", "404"))
    assert cli.main(["data", "fetch", "shakespeare"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"shakespeare: Could not download {server.url('input.txt', '404')}: HTTP error 404")
    monkeypatch.setenv("UDL_OFFLINE", "1")
    assert cli.main(["data", "fetch", "shakespeare"]) == 1
    assert "UDL_OFFLINE=1" in capsys.readouterr().err


def test_results_table_after_record(capsys, isolate):
    assert cli.main(["results"]) == 0
    assert capsys.readouterr().out.splitlines()[0].split() == ["notebook", "data", "time", "metrics"]
    results.record("04_cifar_cnn", test_accuracy=0.7125)
    capsys.readouterr()
    assert cli.main(["results"]) == 0
    out = capsys.readouterr().out
    assert "04_cifar_cnn" in out and "test_accuracy 0.7125" in out


def tiny_notebook(path):
    nb = nbformat.v4.new_notebook()
    solution = nbformat.v4.new_code_cell("print('the answer')")
    solution.metadata["tags"] = ["solution"]
    nb.cells = [nbformat.v4.new_markdown_cell("# 99 · Tiny"), nbformat.v4.new_code_cell("print(6 * 7)"), solution]
    nbformat.write(nb, path)
    return path


def test_notebooks_student_edition_has_no_solutions(tmp_path, capsys):
    source = tiny_notebook(tmp_path / "99_tiny.ipynb")
    build = tmp_path / "build"
    assert cli.main(["notebooks", "student", str(source), "--build", str(build)]) == 0
    student = nbformat.read(build / "student" / "99_tiny.ipynb", as_version=4)
    assert [c.source for c in student.cells] == ["# 99 · Tiny", "print(6 * 7)"]
    assert capsys.readouterr().out.splitlines() == [str(build / "student" / "99_tiny.ipynb"),
                                                    "0 check cells in 1 student editions"]


@pytest.fixture
def assets(tmp_path):
    """A stand-in for vendor/node_modules holding (empty) files where the pages expect them."""
    folder = tmp_path / "node_modules"
    for name in notebooks._ASSET_FILES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("/* stand-in */")
    return folder


def test_notebooks_slides_are_made_from_an_executed_copy_with_local_assets(tmp_path, capsys, assets):
    source = tiny_notebook(tmp_path / "99_tiny.ipynb")
    build = tmp_path / "build"
    slides = build / "slides" / "99_tiny.slides.html"
    # No executed copy yet: the notebook is executed first, so its output is on the slides.
    assert cli.main(["notebooks", "slides", str(source), "--build", str(build), "--assets", str(assets)]) == 0
    out = capsys.readouterr().out
    assert "so executing it first" in out and out.splitlines()[-1] == str(slides)
    assert (build / "notebooks" / "99_tiny.ipynb").is_file() and ">42" in slides.read_text(encoding="utf-8")
    # An up-to-date executed copy is used as it is (here edited, to tell it apart).
    done = nbformat.read(build / "notebooks" / "99_tiny.ipynb", as_version=4)
    done.cells[1].outputs[0].text = "from the executed copy\n"
    nbformat.write(done, build / "notebooks" / "99_tiny.ipynb")
    assert cli.main(["notebooks", "slides", str(source), "--build", str(build), "--assets", str(assets)]) == 0
    assert capsys.readouterr().out.splitlines() == [str(slides)]
    html = slides.read_text(encoding="utf-8")
    assert "from the executed copy" in html
    assert re.findall(r"""(?:src=|href=|import \w+ from |url\()["']?(https?://[^"')]+)""", html) == []
    for url in ('"../assets/reveal.js/dist/reveal.css"', '"../assets/reveal.js/dist/reveal.js"',
                '"../assets/jquery/dist/jquery.min.js"', '"../assets/requirejs/require.js"',
                '"../assets/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"'):
        assert url in html
    assert (build / "assets" / "reveal.js" / "dist" / "reveal.js").is_file()  # copied into the build


def test_notebooks_slides_refuse_an_incomplete_assets_folder_before_executing_anything(tmp_path):
    source = tiny_notebook(tmp_path / "99_tiny.ipynb")
    (tmp_path / "assets" / "reveal.js" / "dist").mkdir(parents=True)
    (tmp_path / "assets" / "reveal.js" / "dist" / "reveal.js").write_text("")
    with pytest.raises(SystemExit, match=r"`source` must be a folder holding reveal.js, jQuery, RequireJS and MathJax"
                                         r".*lacks reveal.js/dist/reveal.css, .*mathjax/MathJax.js\. .*npm ci --prefix vendor"):
        cli.main(["notebooks", "slides", str(source), "--build", str(tmp_path / "build"),
                  "--assets", str(tmp_path / "assets")])
    assert not (tmp_path / "build" / "notebooks").exists()


def test_notebooks_slides_of_a_failing_notebook_exit_with_a_message(tmp_path, assets):
    source = tmp_path / "98_broken.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("raise ValueError('planted')")]
    nbformat.write(nb, source)
    with pytest.raises(SystemExit, match=r"no slides for .*98_broken.ipynb: it failed to run \(FAILED: ValueError: planted"):
        cli.main(["notebooks", "slides", str(source), "--build", str(tmp_path / "build"), "--assets", str(assets)])
    assert not (tmp_path / "build" / "slides").exists()


def test_notebooks_without_any_notebook_exit_with_a_message(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match="no notebooks given and none found"):
        cli.main(["notebooks", "student"])
