"""Every CLI error is one line on stderr: exit 2 for usage (command line or setting), 1 for a failure, and a
traceback only with --debug (issue 9)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from udl import cli, data

REPO = Path(__file__).resolve().parents[1]


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def fails(argv, code, capsys, words):
    try:
        got = cli.main(argv)
    except SystemExit as exit_:
        got = exit_.code
    err = capsys.readouterr().err
    assert got == code and words in one_line(err), (got, err)


def bad_notebook(tmp_path) -> Path:
    path = tmp_path / "01_corrupt.ipynb"
    path.write_text('{"cells": [ oops')
    return path


@pytest.mark.parametrize("command", ["run", "student", "refresh", "slides"])
def test_a_missing_notebook_is_a_usage_error(command, capsys, tmp_path):
    fails(["notebooks", command, str(tmp_path / "nope.ipynb"), "--build", str(tmp_path / "b")], 2, capsys,
          f"no such notebook: {tmp_path / 'nope.ipynb'}")


@pytest.mark.parametrize("command", ["run", "student", "refresh"])
def test_a_corrupt_notebook_is_a_one_line_failure_naming_it(command, capsys, tmp_path):
    path = bad_notebook(tmp_path)
    fails(["notebooks", command, str(path), "--build", str(tmp_path / "b")], 1, capsys,
          f"{path} is not a readable notebook")


def test_build_pointing_at_a_file_is_a_usage_error(capsys, tmp_path):
    (tmp_path / "file").write_text("x")
    fails(["notebooks", "student", "--build", str(tmp_path / "file")], 2, capsys, "--build must be a folder")


@pytest.mark.parametrize("value", ["-5", "0", "soon"])
def test_cell_timeout_must_be_positive(value, capsys):
    fails(["notebooks", "run", "--cell-timeout", value], 2, capsys, "must be a positive whole number of seconds")


def test_results_with_bad_json_names_the_file(capsys, isolate):
    isolate.results.mkdir(parents=True)
    (isolate.results / "02_x.json").write_text("{broken")
    fails(["results"], 1, capsys, f"{isolate.results / '02_x.json'} is not a results file")


def test_data_verify_with_a_bad_manifest_says_corrupted(capsys, isolate):
    isolate.cache.mkdir(parents=True)
    (isolate.cache / "mnist.manifest.json").write_text("{broken")
    assert cli.main(["data", "verify", "mnist"]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("mnist: CORRUPTED") and err == ""


@pytest.mark.parametrize("variable,value", [("UDL_DOWNLOAD_TIMEOUT", "nan"), ("UDL_OFFLINE", "maybe"),
                                            ("UDL_PROFILE", "fast")])
def test_a_bad_setting_is_a_usage_error_naming_it(variable, value, capsys, monkeypatch):
    monkeypatch.setenv(variable, value)
    command = ["data", "fetch", "mnist"] if variable == "UDL_DOWNLOAD_TIMEOUT" else ["data", "list"]
    if variable == "UDL_PROFILE":
        monkeypatch.setattr(cli, "cmd_data_list", lambda args: data.load("mnist") and 0)
        command = ["data", "list"]
    fails(command, 2, capsys, f"`{variable}` must be")


def test_unknown_subcommand_is_one_line(capsys):
    fails(["data", "frobnicate"], 2, capsys, "invalid choice")


def test_the_installed_command_prints_one_line_and_a_traceback_only_with_debug(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "UDL_DOWNLOAD_TIMEOUT": "inf",
           "UDL_CACHE_DIR": str(tmp_path / "cache"), "HOME": str(tmp_path)}
    plain = subprocess.run([sys.executable, "-m", "udl.cli", "data", "fetch", "mnist"], env=env,
                           capture_output=True, text=True, timeout=60)
    assert plain.returncode == 2 and "UDL_DOWNLOAD_TIMEOUT" in one_line(plain.stderr)
    debug = subprocess.run([sys.executable, "-m", "udl.cli", "--debug", "data", "fetch", "mnist"], env=env,
                           capture_output=True, text=True, timeout=60)
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "SettingError" in debug.stderr
    assert not (tmp_path / "cache").exists()
