"""Hostile archives and servers (issue 9): escapes through links, special bits, size caps, damaged archives,
slow-drip servers, unpinned downloads that must not stick, leftovers of killed processes. SECURITY.md refers here."""

import os
import signal
import subprocess
import sys
import tarfile
import time

import pytest

from test_download import _malicious_tar_ids, make_tar, make_zip, malicious_tars, tree
from udl import data
from udl.download import CorruptArchiveError, DownloadError, UnsafeArchiveError, extract, fetch

FILTERS = ["stdlib-filter", "no-stdlib-filter"]  # Python >= 3.11.4 has tarfile.data_filter; 3.11.0-3.11.3 do not


@pytest.fixture(params=FILTERS)
def tar_filter(request, monkeypatch):
    """Run the test as on this Python, and again as on a Python without tarfile's `data` filter."""
    if request.param == "no-stdlib-filter":
        for name in ("data_filter", "tar_filter", "fully_trusted_filter"):
            monkeypatch.delattr(tarfile, name, raising=False)
        monkeypatch.setattr(tarfile.TarFile, "extraction_filter", None, raising=False)
    return request.param


def refused(tmp_path, members, match="Refusing to extract", error=UnsafeArchiveError, **caps):
    """Extract a tar of `members` into tmp/sandbox/work/dest; assert it is refused and that nothing was written."""
    archive = make_tar(tmp_path / "archives" / "a.tar.gz", members)
    dest = tmp_path / "sandbox" / "work" / "dest"
    dest.parent.mkdir(parents=True)
    before = tree(tmp_path)
    with pytest.raises(error, match=match) as info:
        extract(archive, dest, **caps)
    assert tree(tmp_path) == before, "something was written"
    return info.value


# ---------------------------------------------------------------- escapes, special bits, with and without the filter
ESCAPES = {
    # Each link stays inside when read as written; followed, the second resolves to the destination's parent.
    "link-through-link": [({"name": "sub", "type": tarfile.DIRTYPE, "mode": 0o755}, None),
                          ({"name": "sub/l", "type": tarfile.SYMTYPE, "linkname": ".."}, None),
                          ({"name": "sub/l/m", "type": tarfile.SYMTYPE, "linkname": ".."}, None),
                          ({"name": "sub/l/m/pwned.txt"}, b"pwned")],
    "file-through-link-to-parent": [({"name": "up", "type": tarfile.SYMTYPE, "linkname": "."}, None),
                                    ({"name": "up/up2", "type": tarfile.SYMTYPE, "linkname": "up/.."}, None),
                                    ({"name": "up2/pwned.txt"}, b"pwned")],
}


@pytest.mark.parametrize("case", sorted(ESCAPES))
def test_links_that_escape_when_followed_are_refused(tmp_path, tar_filter, case):
    refused(tmp_path, ESCAPES[case], match="outside the destination|leaves the destination")
    assert not list(tmp_path.rglob("pwned.txt"))


@pytest.mark.parametrize("case", _malicious_tar_ids())
def test_every_malicious_tar_is_refused_without_the_stdlib_filter_too(tmp_path, tar_filter, case):
    refused(tmp_path, dict(malicious_tars(tmp_path / "sandbox" / "outside.txt"))[case])


@pytest.mark.parametrize("mode", [0o4755, 0o2755, 0o6755])
def test_setuid_and_setgid_members_are_refused(tmp_path, tar_filter, mode):
    refused(tmp_path, [({"name": "bin/tool", "mode": mode}, b"#!/bin/sh\n")], match="setuid or setgid")


def test_benign_links_still_work_without_the_stdlib_filter(tmp_path, tar_filter):
    members = [({"name": "pkg/a.txt"}, b"alpha"),
               ({"name": "pkg/latest", "type": tarfile.SYMTYPE, "linkname": "a.txt"}, None),
               ({"name": "pkg/copy", "type": tarfile.LNKTYPE, "linkname": "pkg/a.txt"}, None),
               ({"name": "pkg/run.sh", "mode": 0o755}, b"echo")]
    dest = extract(make_tar(tmp_path / "ok.tar.gz", members), tmp_path / "dest")
    assert (dest / "pkg/latest").read_bytes() == (dest / "pkg/copy").read_bytes() == b"alpha"
    assert not (dest / "pkg/copy").is_symlink() and os.stat(dest / "pkg/run.sh").st_mode & 0o777 == 0o755


# ---------------------------------------------------------------- caps
def test_an_archive_that_expands_beyond_the_cap_is_refused_before_it_is_written(tmp_path):
    bomb = [({"name": "zeros.bin"}, bytes(32 << 20))]  # 32 MiB of zeros: about 32 KiB compressed
    start = time.perf_counter()
    refused(tmp_path, bomb, match="expands to more than 1,048,576 bytes", max_bytes=1 << 20)
    assert time.perf_counter() - start < 5


def test_the_size_cap_counts_members_that_keep_skips(tmp_path):
    members = [({"name": f"skip{i}.bin"}, bytes(300_000)) for i in range(4)] + [({"name": "kept.txt"}, b"x")]
    refused(tmp_path, members, match="expands to more than", max_bytes=1 << 20)


def test_an_archive_with_too_many_members_is_refused(tmp_path):
    refused(tmp_path, [({"name": f"f{i}"}, b"") for i in range(11)], match="more than 10 members", max_members=10)


def test_a_zip_beyond_the_caps_is_refused(tmp_path):
    archive = make_zip(tmp_path / "a.zip", [("big.bin", bytes(2 << 20)), ("small.txt", b"x")])
    with pytest.raises(UnsafeArchiveError, match="expands to more than"):
        extract(archive, tmp_path / "dest", max_bytes=1 << 20)
    with pytest.raises(UnsafeArchiveError, match="more than 1 members"):
        extract(archive, tmp_path / "dest", max_members=1)
    assert tree(tmp_path) == {"a.zip"}


def test_a_download_beyond_its_cap_is_refused_without_reading_the_body(server, tmp_path):
    url = server.put("big.bin", bytes(4 << 20))
    dest = tmp_path / "dl" / "big.bin"
    start = time.perf_counter()
    with pytest.raises(DownloadError, match="announced 4,194,304 bytes, more than the 1,048,576"):
        fetch(url, dest, None, max_bytes=1 << 20, progress=False)
    assert time.perf_counter() - start < 2 and tree(dest.parent) == set()


def test_a_download_without_a_length_stops_at_the_cap(server, tmp_path):
    url = server.put("big.bin", bytes(4 << 20), route="nolength")
    dest = tmp_path / "dl" / "big.bin"
    with pytest.raises(DownloadError, match="more than 1,048,576 bytes arrived"):
        fetch(url, dest, None, max_bytes=1 << 20, progress=False)
    assert tree(dest.parent) == set()


def test_load_caps_each_dataset_at_its_known_size(server, monkeypatch, sha, isolate):
    body = bytes(3 << 20)
    monkeypatch.setitem(data.URLS, "mnist", server.put("mnist.npz", body))
    monkeypatch.setattr(data, "MNIST_SHA", sha(body))
    monkeypatch.setitem(data.SIZES, "mnist", 1 << 20)  # the cap: the size plus a quarter, at least 1 MiB more
    with pytest.raises(DownloadError, match="more than the 2,097,152 this file may have"):
        data.fill_cache("mnist")  # through `load`: the built-in sample, with this reason in its notice
    assert tree(isolate.cache) == set()


# ---------------------------------------------------------------- archives that would raise raw exceptions
@pytest.mark.parametrize("members,match", [
    ([({"name": "d/" + "n" * 300}, b"x")], "longer than 255 bytes"),
    ([({"name": "/".join(["abcdefgh"] * 150)}, b"x")], "or 1024 in all"),
    ([({"name": "x", "type": tarfile.DIRTYPE, "mode": 0o755}, None), ({"name": "x"}, b"file")],
     "clashes with a folder"),
    ([({"name": "x"}, b"file"), ({"name": "x", "type": tarfile.DIRTYPE, "mode": 0o755}, None)], "clashes with a file"),
    ([({"name": "x"}, b"file"), ({"name": "x/y"}, b"under a file")], "which is a file in the archive"),
    ([({"name": "x"}, b"one"), ({"name": "x"}, b"two")], "clashes with a file"),
], ids=["long-part", "long-path", "dir-then-file", "file-then-dir", "file-as-folder", "twice"])
def test_hostile_names_are_refused_clearly(tmp_path, members, match):
    refused(tmp_path, members, match=match)


@pytest.mark.parametrize("mode,suffix", [("w:gz", "tar.gz"), ("w:xz", "tar.xz"), ("w:bz2", "tar.bz2")])
def test_a_truncated_compressed_tar_is_a_corrupt_archive_naming_the_file(tmp_path, mode, suffix):
    good = make_tar(tmp_path / f"good.{suffix}", [({"name": f"f{i}.bin"}, os.urandom(20_000)) for i in range(6)],
                    mode=mode)
    cut = tmp_path / f"cut.{suffix}"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CorruptArchiveError, match="truncated or damaged") as info:
        extract(cut, tmp_path / "dest")
    assert str(cut) in str(info.value)
    assert tree(tmp_path) == {f"good.{suffix}", f"cut.{suffix}"}


def test_a_damaged_zip_is_a_corrupt_archive(tmp_path):
    archive = make_zip(tmp_path / "a.zip", [("a.bin", os.urandom(50_000))])
    raw = bytearray(archive.read_bytes())
    raw[100:200] = bytes(100)  # the member's data, not the directory: the CRC check fails on reading
    archive.write_bytes(bytes(raw))
    with pytest.raises(CorruptArchiveError, match="truncated or damaged"):
        extract(archive, tmp_path / "dest")
    assert tree(tmp_path) == {"a.zip"}


# ---------------------------------------------------------------- downloads: deadline, unpinned, leftovers
def test_a_slow_drip_server_is_stopped_by_the_rate_floor(server, tmp_path, monkeypatch):
    monkeypatch.setenv("UDL_DOWNLOAD_TIMEOUT", "0.5")  # each byte arrives well within it (20 bytes a second)
    monkeypatch.setenv("UDL_DOWNLOAD_STALL_SECONDS", "1")  # 1,000 B/s over 1 s (tests/test_slow_downloads.py: more)
    url = server.put("slow.bin", bytes(2000), route="drip")
    dest = tmp_path / "dl" / "slow.bin"
    start = time.perf_counter()
    with pytest.raises(DownloadError, match=r"too slow: \d+ B/s over the last 1 s, below the limit of 1,000 B/s"):
        fetch(url, dest, None, max_bytes=2000, progress=False)
    assert time.perf_counter() - start < 1 + 3 and tree(dest.parent) == set()


def test_an_unpinned_download_is_never_reused(server, tmp_path):
    url = server.put("a.bin", b"first")
    dest = tmp_path / "dl" / "a.bin"
    fetch(url, dest, None, progress=False)
    server.put("a.bin", b"second")
    assert fetch(url, dest, None, progress=False).read_bytes() == b"second" and server.count("a.bin") == 2


def test_an_unpinned_archive_cut_short_is_not_kept_and_the_next_load_heals(server, monkeypatch, tmp_path, isolate):
    from test_data import fsdd_archive

    archive, content = fsdd_archive(tmp_path)
    monkeypatch.setitem(data.URLS, "fsdd", server.put("fsdd.tar.gz", archive, route="cut"))  # looks complete
    monkeypatch.setattr(data, "FSDD_CONTENT", content)
    first = data.load("fsdd", verbose=False)
    assert first.is_sample and "truncated or damaged" in first.notice
    assert tree(isolate.cache) == {"downloads"}  # no archive, no half extraction, no manifest
    monkeypatch.setitem(data.URLS, "fsdd", server.url("fsdd.tar.gz"))
    second = data.load("fsdd", verbose=False)
    assert second.source == "download" and server.count("fsdd.tar.gz") == 2
    assert data.verify("fsdd").startswith("fsdd: ok")


KILLED = """
import sys
from udl.download import fetch
fetch(sys.argv[1], sys.argv[2], None, progress=False)
"""


def test_the_temporary_file_of_a_killed_download_is_removed_by_the_next_one(server, tmp_path, monkeypatch):
    dest = tmp_path / "dl" / "payload.bin"
    url = server.put("payload.bin", os.urandom(100_000), route="stall")
    env = dict(os.environ, UDL_DOWNLOAD_TIMEOUT="60")
    child = subprocess.Popen([sys.executable, "-c", KILLED, url, str(dest)], env=env)
    try:
        for _ in range(400):  # until the child has created its temporary file and is waiting for the body
            if server.count("payload.bin") and any(p.name.endswith(".part") for p in dest.parent.glob(".*")):
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the child never started downloading")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert any(p.name.endswith(".part") for p in dest.parent.glob(".*"))  # what a killed process leaves
    fetch(server.url("payload.bin"), dest, None, progress=False)
    assert tree(dest.parent) == {"payload.bin"}


def test_a_killed_extraction_leaves_nothing_after_the_next_one(tmp_path):
    dest = tmp_path / "out" / "dest"
    (tmp_path / "out" / ".dest-abc123" / "half").mkdir(parents=True)  # as mkdtemp names it, left by a killed process
    extract(make_tar(tmp_path / "a.tar.gz", [({"name": "f.txt"}, b"x")]), dest)
    assert tree(tmp_path / "out") == {"dest", "dest/f.txt"}
