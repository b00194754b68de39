"""Tests for udl.results: recording metrics, honest thresholds, and the table."""

import json
import math

import numpy as np
import pytest

from udl import data, results


def test_record_writes_one_json_per_notebook_with_profile_and_data_sources(isolate, monkeypatch, capsys):
    monkeypatch.setenv("UDL_OFFLINE", "1")
    data.load("imdb", verbose=False)
    path = results.record("02_mnist_mlp_to_cnn", test_accuracy=np.float32(0.9812), epochs=np.int64(3), loss=0.05)
    assert path == isolate.results / "02_mnist_mlp_to_cnn.json"
    entry = json.loads(path.read_text())
    assert entry["notebook"] == "02_mnist_mlp_to_cnn" and entry["profile"] == "quick"
    assert entry["data"] == {"imdb": "builtin"}
    assert entry["metrics"] == {"test_accuracy": pytest.approx(0.9812), "epochs": 3, "loss": 0.05}
    assert type(entry["metrics"]["epochs"]) is int
    assert capsys.readouterr().out == "recorded test_accuracy = 0.9812, epochs = 3, loss = 0.05\n"
    assert [p.name for p in isolate.results.iterdir()] == ["02_mnist_mlp_to_cnn.json"]  # no temporary file left
    results.record("02_mnist_mlp_to_cnn", test_accuracy=0.5)  # recording again replaces
    assert results.read_all() == [json.loads(path.read_text())]
    assert results.read_all()[0]["metrics"] == {"test_accuracy": 0.5}


@pytest.mark.parametrize("value", ["high", None, [0.9], math.nan, math.inf, True, np.array([0.1, 0.2]),
                                   np.array([]), np.bool_(True)])
def test_record_refuses_a_metric_that_is_not_a_finite_number(value, isolate):
    with pytest.raises(ValueError, match="`test_accuracy` must be a finite number"):
        results.record("02_mnist", loss=0.1, test_accuracy=value)
    assert not isolate.results.exists()


@pytest.mark.parametrize("name", ["", "02 mnist", "../02_mnist", "notebooks/02", 2, None])
def test_record_refuses_a_bad_notebook_name(name, isolate):
    with pytest.raises(ValueError, match="`notebook` must be a name of letters, digits") as info:
        results.record(name, test_accuracy=0.9)
    assert repr(name) in str(info.value)
    assert not isolate.results.exists()


def test_record_needs_a_metric(isolate):
    with pytest.raises(ValueError, match="`record` needs at least one metric.*received none"):
        results.record("02_mnist")
    assert not isolate.results.exists()


def test_require_passes_and_says_so(capsys):
    results.require(np.float64(0.975), at_least=0.97, what="CNN test accuracy")
    results.require(0.97, at_least=0.97, what="edge")
    assert capsys.readouterr().out == "ok: CNN test accuracy 0.975 >= 0.97\nok: edge 0.97 >= 0.97\n"


def test_require_below_the_threshold_names_value_and_threshold():
    with pytest.raises(AssertionError) as info:
        results.require(0.8123, at_least=0.97, what="CNN test accuracy")
    assert str(info.value).startswith("CNN test accuracy is 0.8123, below the expected 0.97")


def test_require_at_most_for_errors_and_differences(capsys):
    results.require(3.8e-6, at_most=1e-4, what="max |by hand - keras|")
    results.require(0.5, at_least=0.0, at_most=1.0, what="a fraction")
    assert capsys.readouterr().out == "ok: max |by hand - keras| 3.8e-06 <= 0.0001\nok: a fraction 0.5 >= 0 and <= 1\n"
    with pytest.raises(AssertionError, match=r"^max \|by hand - keras\| is 0.002, above the allowed 0.0001"):
        results.require(2e-3, at_most=1e-4, what="max |by hand - keras|")
    with pytest.raises(ValueError, match="needs `at_least` or `at_most`"):
        results.require(0.5, what="a fraction")


def test_require_refuses_a_value_that_is_not_a_number():
    with pytest.raises(ValueError, match="`value` must be a finite number"):
        results.require("0.99", at_least=0.97, what="accuracy")
    with pytest.raises(ValueError, match="`value` must be a finite number"):
        results.require(math.nan, at_least=0.97, what="accuracy")


def test_table_lists_notebooks_sources_times_metrics_and_failures(isolate, monkeypatch):
    monkeypatch.setenv("UDL_OFFLINE", "1")
    data.load("mnist", verbose=False)
    results.record("02_mnist", test_accuracy=0.98125)
    text = results.table(results.read_all(), seconds={"02_mnist": 41.6, "03_cifar": 12.0},
                         errors={"03_cifar": "FAILED: boom"})
    lines = text.splitlines()
    assert lines[0].split() == ["notebook", "data", "time", "metrics"] and set(lines[1]) == {"-"}
    assert lines[2].split() == ["02_mnist", "mnist:", "builtin", "42", "s", "test_accuracy", "0.9812"]
    assert lines[3].split() == ["03_cifar", "-", "12", "s", "FAILED:", "boom"]
    assert results.table([]).splitlines()[0].split() == ["notebook", "data", "time", "metrics"]


def test_results_dir_default_is_build_results(monkeypatch):
    monkeypatch.delenv("UDL_RESULTS_DIR")
    assert results.results_dir().parts[-2:] == ("build", "results")
