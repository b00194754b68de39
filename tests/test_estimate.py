"""`udl notebooks estimate`: uncapped CPU time per notebook from a capped run's step times (udl.estimate)."""

import json

import pytest

from udl import cli, estimate


def _entry(notebook, calls, wall=100.0, kernel=40.0):
    return {"notebook": notebook, "profile": "full", "metrics": {"a": 1},
            "step_cap": {"max_steps": 3, "calls": calls, "unmet": [], "wall_seconds": wall, "kernel_cpu_seconds": kernel}}


FIT = {"call": "fit", "epochs": 10, "steps_per_epoch": 100, "validation_steps": 20, "validation_freq": 1,
       "cpu_seconds_per_step": 0.5, "cpu_seconds_per_validation_step": 0.1, "cpu_seconds": 4.0, "seconds": 9.0}
EVALUATE = {"call": "evaluate", "epochs": 1, "steps_per_epoch": 40, "cpu_seconds_per_step": 0.25, "cpu_seconds": 1.0}


def test_a_call_is_its_uncapped_steps_times_its_cpu_seconds_per_step():
    assert estimate.call_seconds(FIT) == pytest.approx(10 * (100 * 0.5 + 20 * 0.1))
    assert estimate.call_seconds({**FIT, "validation_freq": 2}) == pytest.approx(10 * 100 * 0.5 + 5 * 20 * 0.1)
    assert estimate.call_seconds(EVALUATE) == pytest.approx(10.0)
    assert estimate.call_seconds({**FIT, "steps_per_epoch": None}) is None  # a generator of unknown length


def test_a_notebook_is_its_rest_as_measured_plus_its_calls_uncapped():
    p = estimate.project(_entry("02_x", [FIT, EVALUATE, {**FIT, "steps_per_epoch": None}]))
    assert p["training"] == pytest.approx(520 + 10) and p["rest"] == pytest.approx(40 - (4 + 1 + 4))
    assert p["total"] == pytest.approx(530 + 31) and p["unknown"] == 1 and p["calls"] == 3


def test_cli_prints_one_row_per_notebook_and_the_total(tmp_path, capsys):
    (tmp_path / "02_x.json").write_text(json.dumps(_entry("02_x", [FIT])))
    (tmp_path / "03_y.json").write_text(json.dumps(_entry("03_y", [EVALUATE], kernel=None)))
    (tmp_path / "04_z.json").write_text(json.dumps({"notebook": "04_z", "metrics": {"a": 1}}))  # not a capped run
    assert cli.main(["notebooks", "estimate", "--results", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line.split() for line in lines if line[:2] in ("02", "03", "al")}
    assert set(rows) == {"02_x", "03_y", "all"}
    assert " ".join(rows["02_x"]).endswith("9 min 36 s 9 min")
    assert " ".join(rows["03_y"]).endswith("10 s - -")  # no kernel CPU time: the total is unknown, not guessed


def test_cli_without_a_capped_run_says_what_to_run(tmp_path, capsys):
    assert cli.main(["notebooks", "estimate", "--results", str(tmp_path)]) == 2
    assert "make smoke-full" in capsys.readouterr().err
