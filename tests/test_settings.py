"""Tests for udl.settings: every UDL_* variable read in one place, validated once, with one error style."""

import math

import pytest

from udl import data, download, results, runtime, settings
from udl.settings import SettingError


@pytest.mark.parametrize("raw", ["nan", "NaN", "inf", "-inf", "1e300", "0", "-3", "soon", "3601"])
def test_a_timeout_that_is_not_a_usable_number_of_seconds_is_named(monkeypatch, raw):
    monkeypatch.setenv("UDL_DOWNLOAD_TIMEOUT", raw)
    with pytest.raises(SettingError, match=r"`UDL_DOWNLOAD_TIMEOUT` must be a number of seconds") as info:
        settings.download_timeout()
    assert repr(raw) in str(info.value)


def test_timeout_default_and_override(monkeypatch):
    monkeypatch.delenv("UDL_DOWNLOAD_TIMEOUT")
    assert settings.download_timeout() == settings.DEFAULT_TIMEOUT == 20
    monkeypatch.setenv("UDL_DOWNLOAD_TIMEOUT", " 7.5 ")
    assert settings.download_timeout() == 7.5 and math.isfinite(settings.download_timeout())


SPEED = [("UDL_DOWNLOAD_MIN_RATE", settings.download_min_rate, "a number of bytes per second", 1000,
          "1,000,000,000"),
         ("UDL_DOWNLOAD_STALL_SECONDS", settings.download_stall_seconds, "a number of seconds", 15, "3600")]


@pytest.mark.parametrize("raw", ["nan", "inf", "-inf", "1e300", "0", "-3", "slow", "2e9", "3601", "1 kB"])
@pytest.mark.parametrize("name,reader,expected,default,most", SPEED, ids=["min_rate", "stall_seconds"])
def test_a_rate_floor_or_window_that_is_not_a_usable_number_is_named(monkeypatch, raw, name, reader, expected,
                                                                     default, most):
    monkeypatch.setenv(name, raw)
    if raw == "3601" and name == "UDL_DOWNLOAD_MIN_RATE":  # a usable rate (the cap is 1e9 bytes per second)
        assert reader() == 3601
        return
    with pytest.raises(SettingError, match=f"`{name}` must be {expected} greater than 0 and at most {most}; "
                                           f"received: '{raw}'"):
        reader()


@pytest.mark.parametrize("name,reader,expected,default,most", SPEED, ids=["min_rate", "stall_seconds"])
def test_rate_floor_and_window_default_and_override(monkeypatch, name, reader, expected, default, most):
    monkeypatch.delenv(name, raising=False)
    assert reader() == default
    monkeypatch.setenv(name, " 2.5 ")
    assert reader() == 2.5
    assert (download.min_rate if "RATE" in name else download.stall_seconds)() == 2.5  # download asks settings


@pytest.mark.parametrize("name", ["UDL_DOWNLOAD_MIN_RATE", "UDL_DOWNLOAD_STALL_SECONDS"])
def test_fetch_and_load_with_a_bad_floor_say_so_before_any_request(monkeypatch, tmp_path, name, server, sha):
    monkeypatch.setenv(name, "nan")
    url = server.put("mnist.npz", b"x")
    with pytest.raises(SettingError, match=f"`{name}` must be"):
        download.fetch(url, tmp_path / "dl" / "mnist.npz", None, progress=False)
    monkeypatch.setitem(data.URLS, "mnist", url)
    with pytest.raises(SettingError, match=f"`{name}` must be"):
        data.load("mnist")
    assert server.count() == 0 and not (tmp_path / "dl").exists()


@pytest.mark.parametrize("name,reader", [("UDL_CACHE_DIR", settings.cache_dir),
                                         ("UDL_RESULTS_DIR", settings.results_dir),
                                         ("UDL_DATA_DIR", settings.data_dir)])
def test_a_folder_variable_pointing_at_a_file_is_named(monkeypatch, tmp_path, name, reader):
    file = tmp_path / "a-file"
    file.write_text("not a folder")
    monkeypatch.setenv(name, str(file))
    with pytest.raises(SettingError, match=f"`{name}` must be a folder; received: '{file}' \\(that path is a file\\)"):
        reader()


def test_folders_default_and_expand_the_home_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("UDL_CACHE_DIR", "UDL_DATA_DIR", "UDL_RESULTS_DIR"):
        monkeypatch.delenv(name, raising=False)
    assert settings.cache_dir() == tmp_path / ".cache" / "udl"
    assert settings.data_dir() is None
    assert settings.results_dir().parts[-2:] == ("build", "results")
    monkeypatch.setenv("UDL_DATA_DIR", "~/mirror")
    assert settings.data_dir() == tmp_path / "mirror"


@pytest.mark.parametrize("raw,expected", [("1", True), ("yes", True), (" ON ", True), ("true", True), ("", False),
                                          ("0", False), ("off", False), ("False", False)])
def test_offline_values(monkeypatch, raw, expected):
    monkeypatch.setenv("UDL_OFFLINE", raw)
    assert settings.offline() is expected


def test_an_unclear_offline_value_is_refused_rather_than_read_as_online(monkeypatch):
    monkeypatch.setenv("UDL_OFFLINE", "maybe")
    with pytest.raises(SettingError, match="`UDL_OFFLINE` must be 1, true, yes or on .*; received: 'maybe'"):
        settings.offline()


def test_check_reads_all_eleven(monkeypatch, isolate):
    values = settings.check()
    assert list(values) == list(settings.NAMES) and len(values) == 11
    assert values["UDL_DOWNLOAD_MIN_RATE"] == 1000 and values["UDL_DOWNLOAD_STALL_SECONDS"] == 15
    assert values["UDL_PROFILE"] == "quick" and values["UDL_CACHE_DIR"] == isolate.cache
    monkeypatch.setenv("UDL_DOWNLOAD_TIMEOUT", "inf")
    with pytest.raises(SettingError, match="UDL_DOWNLOAD_TIMEOUT"):
        settings.check()


def test_the_public_names_elsewhere_ask_settings(monkeypatch, isolate):
    assert data.cache_dir() == isolate.cache and results.results_dir() == isolate.results
    assert runtime.profile() == "quick" and data.policy() == settings.policy() and data.offline() is False
    monkeypatch.setenv("UDL_DOWNLOAD_TIMEOUT", "1e300")
    with pytest.raises(SettingError, match="UDL_DOWNLOAD_TIMEOUT"):
        download.timeout()


@pytest.mark.parametrize("raw", ["nan", "inf", "1e300"])
def test_load_with_a_bad_timeout_says_so_instead_of_a_hash_mismatch_or_a_crash(monkeypatch, raw, server, sha):
    monkeypatch.setenv("UDL_DOWNLOAD_TIMEOUT", raw)
    monkeypatch.setitem(data.URLS, "mnist", server.put("mnist.npz", b"x"))
    with pytest.raises(SettingError, match=f"`UDL_DOWNLOAD_TIMEOUT` .*received: '{raw}'"):
        data.load("mnist")
    assert server.count() == 0


@pytest.mark.parametrize("name", ["UDL_CACHE_DIR", "UDL_RESULTS_DIR"])
def test_load_and_record_with_a_folder_that_is_a_file_say_so(monkeypatch, tmp_path, name, server):
    file = tmp_path / "plain-file"
    file.write_text("x")
    monkeypatch.setenv(name, str(file))
    with pytest.raises(SettingError, match=f"`{name}` must be a folder"):
        data.load("mnist", verbose=False) if name == "UDL_CACHE_DIR" else results.record("x", a=1)


def test_no_other_module_reads_a_udl_variable_itself():
    import pathlib
    import re

    package = pathlib.Path(settings.__file__).parent
    readers = {p.name for p in package.glob("*.py") if p.name != "settings.py"
               and re.search(r"environ(\.get)?\s*[\[(]\s*['\"]UDL_", p.read_text())}
    assert readers == set()


@pytest.mark.parametrize("raw", ["0", "-1", "2.5", "many", "1001"])
def test_a_step_cap_that_is_not_a_small_whole_number_is_named(monkeypatch, raw):
    monkeypatch.setenv("UDL_MAX_STEPS", raw)
    with pytest.raises(SettingError, match=r"`UDL_MAX_STEPS` must be a whole number of steps from 1 to 1000") as info:
        settings.max_steps()
    assert repr(raw) in str(info.value)


def test_step_cap_default_and_value(monkeypatch):
    assert settings.max_steps() is None
    monkeypatch.setenv("UDL_MAX_STEPS", " 3 ")
    assert settings.max_steps() == 3
