"""Tests for the `udl` command (udl.cli.main): data list/fetch/verify, results, and notebook commands."""

import nbformat
import pytest

from conftest import write_images
from udl import cli, data, results


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


def test_notebooks_student_and_slides(tmp_path, capsys):
    source = tiny_notebook(tmp_path / "99_tiny.ipynb")
    build = tmp_path / "build"
    assert cli.main(["notebooks", "student", str(source), "--build", str(build)]) == 0
    student = nbformat.read(build / "student" / "99_tiny.ipynb", as_version=4)
    assert [c.source for c in student.cells] == ["# 99 · Tiny", "print(6 * 7)"]
    assert cli.main(["notebooks", "slides", str(source), "--build", str(build)]) == 0
    assert (build / "slides" / "99_tiny.slides.html").stat().st_size > 1000
    assert capsys.readouterr().out.splitlines() == [str(build / "student" / "99_tiny.ipynb"),
                                                    str(build / "slides" / "99_tiny.slides.html")]


def test_notebooks_without_any_notebook_exit_with_a_message(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match="no notebooks given and none found"):
        cli.main(["notebooks", "student"])
