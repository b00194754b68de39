"""Tests for the pm25 dataset: the CSV reader, the lookup tiers (mirror, download over loopback, sample), subsets."""

import io
import zipfile

import numpy as np
import pytest

from test_data import files
from udl import data, formats, samples
from udl.download import DownloadError

HEADER = ",".join(formats.PM25_HEADER)


def csv_text(start="2013-12-31T00", hours=48, missing=(1,), wind="NW") -> str:
    """A CSV in UCI's layout: `hours` consecutive rows from `start`; row i has temperature i, PM2.5 NA at `missing`."""
    lines = [HEADER]
    for i, t in enumerate(np.arange(np.datetime64(start, "h"), np.datetime64(start, "h") + hours)):
        y, m, d, h = str(t)[:4], str(t)[5:7], str(t)[8:10], str(t)[11:13]
        pm = "NA" if i in missing else str(10 * i)
        lines.append(f"{i + 1},{int(y)},{int(m)},{int(d)},{int(h)},{pm},-5,{i},1020,{wind if i else 'cv'},1.79,0,{i % 3}")
    return "\n".join(lines) + "\n"


def write_csv(root, text) -> None:
    folder = root / "pm25"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / data.PM25_CSV).write_text(text)


def zipped(text: str, name=f"some/folder/{data.PM25_CSV}") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as handle:
        handle.writestr(name, text)
        handle.writestr("readme.txt", "not the data")
    return buffer.getvalue()


def test_mirror_csv_is_read_split_by_time(tmp_path, monkeypatch, capsys):
    write_csv(tmp_path, csv_text())
    monkeypatch.setenv("UDL_DATA_DIR", str(tmp_path))
    pm25 = data.load("pm25")
    assert capsys.readouterr().out.startswith("pm25: real data from the mirror") and "24 train / 24 test hours" in pm25.sizes()
    assert pm25.columns == list(formats.PM25_COLUMNS) and pm25.x_train.shape == (24, 11) and pm25.x_train.dtype == np.float32
    assert str(pm25.time_train[0]) == "2013-12-31T00" and str(pm25.time_test[0]) == "2014-01-01T00"
    np.testing.assert_array_equal(pm25.x_train[:, 2], np.arange(24))           # temperature
    np.testing.assert_array_equal(pm25.x_test[:, 2], np.arange(24, 48))
    assert np.isnan(pm25.x_train[1, 0]) and pm25.x_train[2, 0] == 20             # NA -> NaN
    np.testing.assert_array_equal(pm25.x_train[0, 7:], [0, 0, 0, 1])           # cv: calm
    np.testing.assert_array_equal(pm25.x_train[5, 7:], [0, 1, 0, 0])           # NW
    assert pm25.y_train is None and pm25.class_names == []


def test_subsets_are_the_hours_next_to_the_split(tmp_path, monkeypatch):
    write_csv(tmp_path, csv_text(start="2013-12-30T00", hours=96))
    monkeypatch.setenv("UDL_DATA_DIR", str(tmp_path))
    pm25 = data.load("pm25", n_train=10, n_test=5, verbose=False)
    np.testing.assert_array_equal(pm25.x_train[:, 2], np.arange(38, 48))       # the last 10 train hours
    np.testing.assert_array_equal(pm25.x_test[:, 2], np.arange(48, 53))        # then the first 5 test hours
    assert str(pm25.time_train[-1]) == "2013-12-31T23" and len(pm25.time_test) == 5


@pytest.mark.parametrize("text, message", [
    ("No,year,month\n1,2010,1\n", "expected the header"),
    ("", "expected the header"),
    (csv_text(wind="N"), "line 3 to hold 13 numbers"),
    (csv_text().replace("1020", "high", 1), "line 2 to hold"),
    ("\n".join(csv_text().splitlines()[:5] + csv_text().splitlines()[4:]), "expected consecutive hours"),
    ("\n".join(csv_text().splitlines()[:5] + csv_text().splitlines()[6:]), "expected consecutive hours"),
    (csv_text(start="2014-01-01T00", hours=5), "expected hours before and from 2014"),
])
def test_a_bad_csv_is_refused_naming_the_problem(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(formats.MirrorFormatError, match=message):
        formats.read_pm25(path)


def test_download_checks_the_extracted_csv_and_caches_it(server, monkeypatch, sha, isolate):
    text = csv_text()
    monkeypatch.setitem(data.URLS, "pm25", server.put("pm25.zip", zipped(text)))
    monkeypatch.setattr(data, "PM25_CONTENT", sha(text.encode()))
    pm25 = data.load("pm25", verbose=False)
    assert pm25.source == "download" and len(pm25.x_test) == 24
    assert files(isolate.cache) == ["pm25.manifest.json", f"pm25/{data.PM25_CSV}"]
    assert data.verify("pm25").startswith("pm25: ok")


def test_download_with_other_content_saves_nothing_and_a_retry_downloads_again(server, monkeypatch, sha, isolate):
    text = csv_text()
    monkeypatch.setattr(data, "PM25_CONTENT", sha(text.encode()))
    monkeypatch.setitem(data.URLS, "pm25", server.put("pm25.zip", zipped(text.replace("1020", "1021"))))
    with pytest.raises(DownloadError, match="no PRSA_data_2010.1.1-2014.12.31.csv with the pinned SHA-256"):
        data.fill_cache("pm25")
    assert files(isolate.cache) == []
    server.put("pm25.zip", zipped(text, name="elsewhere.csv"))  # the wrong file name is refused too
    with pytest.raises(DownloadError):
        data.fill_cache("pm25")
    server.put("pm25.zip", zipped(text))
    assert data.fill_cache("pm25") == isolate.cache / "pm25" / data.PM25_CSV
    assert server.count("pm25.zip") == 3


def test_builtin_sample_is_a_labelled_synthetic_series_with_both_cycles(monkeypatch, capsys):
    monkeypatch.setenv("UDL_OFFLINE", "1")
    monkeypatch.setenv("UDL_PROFILE", "full")
    pm25 = data.load("pm25")
    assert pm25.is_sample and "synthetic" in capsys.readouterr().out
    assert pm25.columns == list(formats.PM25_COLUMNS) and pm25.x_train.shape[1] == pm25.x_test.shape[1] == 11
    time = np.concatenate([pm25.time_train, pm25.time_test])
    assert np.all(np.diff(time) == np.timedelta64(1, "h")) and len(pm25.time_test) == 8_760
    x = np.concatenate([pm25.x_train, pm25.x_test])
    assert 0.01 < np.isnan(x[:, 0]).mean() < 0.1 and not np.isnan(x[:, 1:]).any()
    temperature, hour = x[:, 2], time.astype(int) % 24
    daily = [temperature[hour == h].mean() for h in range(24)]
    month = (time.astype("datetime64[M]").astype(int) % 12)
    assert max(daily) - min(daily) > 5                                              # a daily cycle
    assert temperature[month == 6].mean() - temperature[month == 0].mean() > 20    # and a yearly one
    assert np.all(x[:, 7:].sum(axis=1) == 1) and np.all(x[:, 5:7] >= 0)
    np.testing.assert_array_equal(samples.pm25()["x_train"], samples.pm25()["x_train"])  # deterministic


def test_builtin_sample_in_the_quick_profile(monkeypatch):
    monkeypatch.setenv("UDL_OFFLINE", "1")
    pm25 = data.load("pm25", verbose=False)
    assert (len(pm25.x_train), len(pm25.x_test)) == data.spec("pm25").quick == (17_544, 8_760)
    assert str(pm25.time_train[0]) == "2012-01-01T00"   # two whole years before the test year
    pm25.x_train[:] = 0
    assert np.nanmax(data.load("pm25", verbose=False).x_train) > 0  # a fresh copy every time
