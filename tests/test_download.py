"""Tests for udl.download: hashed atomic downloads over a loopback server, and safe archive extraction."""

import io
import os
import socket
import stat
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from udl import download
from udl.download import DownloadError, UnsafeArchiveError, extract, fetch

CONTENT = b"udl test payload\n" * 4096  # 69,632 bytes


def tree(folder: Path) -> set[str]:
    """Every path under `folder` (files, folders, links, hidden temp files), relative; not the lock files."""
    paths = {p.relative_to(folder).as_posix() for p in folder.rglob("*")} if folder.exists() else set()
    return {p for p in paths if p != ".locks" and "/.locks" not in "/" + p}


# ---------------------------------------------------------------- fetch
def test_fetch_downloads_verifies_and_reuses_without_a_second_request(server, sha, tmp_path):
    url = server.put("payload.bin", CONTENT)
    dest = tmp_path / "dl" / "payload.bin"
    assert fetch(url, dest, sha(CONTENT), progress=False) == dest
    assert dest.read_bytes() == CONTENT
    assert tree(dest.parent) == {"payload.bin"}
    assert server.count("payload.bin") == 1
    assert fetch(url, dest, sha(CONTENT), progress=False) == dest
    assert server.count("payload.bin") == 1  # the hash matched the existing file: no download


def test_fetch_replaces_an_existing_file_whose_hash_does_not_match(server, sha, tmp_path):
    url = server.put("payload.bin", CONTENT)
    dest = tmp_path / "dl" / "payload.bin"
    dest.parent.mkdir()
    dest.write_bytes(b"stale")
    fetch(url, dest, sha(CONTENT), progress=False)
    assert dest.read_bytes() == CONTENT and server.count() == 1


def test_fetch_wrong_hash_raises_and_leaves_nothing(server, sha, tmp_path):
    url = server.put("payload.bin", CONTENT)
    dest = tmp_path / "dl" / "payload.bin"
    with pytest.raises(DownloadError) as info:
        fetch(url, dest, sha(b"something else"), progress=False)
    message = str(info.value)
    assert "SHA-256 does not match" in message and url in message and "Nothing was saved" in message
    assert "SHA-256 does not match" in info.value.reason
    assert tree(dest.parent) == set()  # no file, no temporary file


@pytest.mark.parametrize("pinned", [True, False], ids=["pinned", "unpinned"])
def test_fetch_truncated_body_raises_and_leaves_nothing(server, sha, tmp_path, pinned):
    url = server.put("payload.bin", CONTENT, route="truncated")
    dest = tmp_path / "dl" / "payload.bin"
    with pytest.raises(DownloadError) as info:
        fetch(url, dest, sha(CONTENT) if pinned else None, progress=False)
    assert "broke off before the whole file arrived" in str(info.value)
    assert tree(dest.parent) == set()


def test_fetch_404_raises_naming_the_status(server, sha, tmp_path):
    server.put("payload.bin", CONTENT)
    dest = tmp_path / "dl" / "payload.bin"
    with pytest.raises(DownloadError, match="404") as info:
        fetch(server.url("payload.bin", "404"), dest, sha(CONTENT), progress=False)
    assert info.value.reason == "HTTP error 404"
    assert "UDL_DATA_DIR" in str(info.value)  # says what to do instead
    assert tree(dest.parent) == set()


@pytest.mark.parametrize("route", ["stall", "hang"])
def test_fetch_gives_up_on_a_stalled_server_within_the_timeout(server, sha, tmp_path, monkeypatch, route):
    monkeypatch.setenv("UDL_DOWNLOAD_TIMEOUT", "0.5")
    url = server.put("payload.bin", CONTENT, route=route)
    dest = tmp_path / "dl" / "payload.bin"
    start = time.perf_counter()
    with pytest.raises(DownloadError) as info:
        fetch(url, dest, sha(CONTENT), progress=False)
    assert time.perf_counter() - start < 3 * 0.5
    assert info.value.reason.startswith("no answer within 0.5 s")  # said in words, whichever way it stalled
    assert tree(dest.parent) == set()


def test_fetch_connection_refused_is_a_download_error(tmp_path):
    with socket.socket() as probe:  # a loopback port that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        with pytest.raises(DownloadError, match="Nothing was saved"):
            fetch(f"http://127.0.0.1:{port}/x.bin", tmp_path / "dl" / "x.bin", None, progress=False)
    assert tree(tmp_path / "dl") == set()


@pytest.mark.parametrize("raw", ["0", "-3", "soon"])
def test_timeout_must_be_a_positive_number(monkeypatch, raw):
    monkeypatch.setenv("UDL_DOWNLOAD_TIMEOUT", raw)
    with pytest.raises(ValueError, match="UDL_DOWNLOAD_TIMEOUT"):
        download.timeout()


def test_timeout_default_and_override(monkeypatch):
    monkeypatch.delenv("UDL_DOWNLOAD_TIMEOUT")
    assert download.timeout() == download.DEFAULT_TIMEOUT
    monkeypatch.setenv("UDL_DOWNLOAD_TIMEOUT", "7.5")
    assert download.timeout() == 7.5


# ---------------------------------------------------------------- archives
def make_tar(path: Path, members, mode="w:gz") -> Path:
    """Write a tar of (TarInfo-like dict, bytes or None) pairs, byte for byte as given (no name cleaning)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, mode, format=tarfile.GNU_FORMAT) as handle:
        for spec, content in members:
            info = tarfile.TarInfo(spec["name"])
            info.type = spec.get("type", tarfile.REGTYPE)
            info.linkname = spec.get("linkname", "")
            info.mode = spec.get("mode", 0o644)
            info.size = len(content) if content is not None else 0
            handle.addfile(info, io.BytesIO(content) if content is not None else None)
    return path


def make_zip(path: Path, members) -> Path:
    """Write a zip of (name or ZipInfo, bytes) pairs with the names exactly as given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as handle:
        for name, content in members:
            info = name if isinstance(name, zipfile.ZipInfo) else zipfile.ZipInfo(name)
            handle.writestr(info, content)
    with zipfile.ZipFile(path) as handle:  # the names really are stored as given
        stored = [i.filename for i in handle.infolist()]
    assert stored == [m[0].filename if isinstance(m[0], zipfile.ZipInfo) else m[0] for m in members]
    return path


def zip_link(name: str, target: str):
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix, so that external_attr carries the file type
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


OK = ({"name": "data/ok.txt"}, b"fine")


def malicious_tars(outside: Path):
    """(id, members) for tars that must be refused; `outside` is an absolute path beside the destination."""
    return [
        ("absolute", [OK, ({"name": str(outside)}, b"pwned")]),
        ("dotdot", [OK, ({"name": "data/../../outside.txt"}, b"pwned")]),
        ("dotdot-first", [({"name": "../outside.txt"}, b"pwned")]),
        ("symlink-out", [OK, ({"name": "data/link", "type": tarfile.SYMTYPE, "linkname": "../../"}, None),
                         ({"name": "data/link/outside.txt"}, b"pwned")]),
        ("symlink-absolute", [({"name": "link", "type": tarfile.SYMTYPE, "linkname": str(outside.parent)}, None)]),
        ("hardlink-out", [({"name": "data/hard", "type": tarfile.LNKTYPE, "linkname": "../outside.txt"}, None)]),
        ("hardlink-absolute", [({"name": "hard", "type": tarfile.LNKTYPE, "linkname": str(outside)}, None)]),
        ("chardev", [OK, ({"name": "data/tty", "type": tarfile.CHRTYPE}, None)]),
        ("blockdev", [({"name": "data/disk", "type": tarfile.BLKTYPE}, None)]),
        ("fifo", [OK, ({"name": "data/pipe", "type": tarfile.FIFOTYPE}, None)]),
    ]


def _malicious_tar_ids():
    return [case[0] for case in malicious_tars(Path("/x/y"))]


@pytest.mark.parametrize("case", _malicious_tar_ids())
def test_extract_refuses_malicious_tar_and_writes_nothing(tmp_path, case):
    sandbox = tmp_path / "sandbox"
    outside = sandbox / "outside.txt"
    members = dict(malicious_tars(outside))[case]
    archive = make_tar(tmp_path / "archives" / f"{case}.tar.gz", members)
    dest = sandbox / "work" / "dest"
    dest.parent.mkdir(parents=True)
    before = tree(tmp_path)
    with pytest.raises(UnsafeArchiveError, match="Refusing to extract"):
        extract(archive, dest)
    assert tree(tmp_path) == before  # nothing outside, no destination, no temporary folder
    assert not dest.exists() and not outside.exists()


@pytest.mark.parametrize("case", ["dotdot", "symlink-out", "fifo"])
def test_extract_checks_members_that_keep_would_skip(tmp_path, case):
    members = dict(malicious_tars(tmp_path / "outside.txt"))[case]
    archive = make_tar(tmp_path / "archives" / "a.tar.gz", members)
    with pytest.raises(UnsafeArchiveError):
        extract(archive, tmp_path / "dest", keep=lambda name: name == "data/ok.txt")
    assert not (tmp_path / "dest").exists()


def test_extract_refusal_leaves_an_earlier_destination_untouched(tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "earlier.txt").write_text("kept")
    archive = make_tar(tmp_path / "a.tar.gz", dict(malicious_tars(tmp_path / "o.txt"))["dotdot"])
    with pytest.raises(UnsafeArchiveError):
        extract(archive, dest)
    assert tree(dest) == {"earlier.txt"} and (dest / "earlier.txt").read_text() == "kept"
    assert tree(tmp_path) == {"dest", "dest/earlier.txt", "a.tar.gz"}


def malicious_zips(outside: Path):
    return [
        ("dotdot", [("data/ok.txt", b"fine"), ("../outside.txt", b"pwned")]),
        ("dotdot-nested", [("data/../../outside.txt", b"pwned")]),
        ("absolute", [("data/ok.txt", b"fine"), (str(outside), b"pwned")]),
        ("backslash", [("..\\outside.txt", b"pwned")]),
        ("drive", [("C:/outside.txt", b"pwned")]),
        ("symlink", [("data/ok.txt", b"fine"), zip_link("data/link", "../../")]),
        ("symlink-inside", [zip_link("data/link", "ok.txt")]),  # zip links are refused altogether
    ]


@pytest.mark.parametrize("case", [c[0] for c in malicious_zips(Path("/x/y"))])
def test_extract_refuses_malicious_zip_and_writes_nothing(tmp_path, case):
    sandbox = tmp_path / "sandbox"
    outside = sandbox / "outside.txt"
    archive = make_zip(tmp_path / "archives" / f"{case}.zip", dict(malicious_zips(outside))[case])
    dest = sandbox / "work" / "dest"
    dest.parent.mkdir(parents=True)
    before = tree(tmp_path)
    with pytest.raises(UnsafeArchiveError, match="Refusing to extract"):
        extract(archive, dest)
    assert tree(tmp_path) == before
    assert not dest.exists() and not outside.exists()


def test_extract_refuses_what_is_not_an_archive(tmp_path):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"this is not an archive at all" * 10)
    with pytest.raises(UnsafeArchiveError, match="not a tar or zip archive"):
        extract(junk, tmp_path / "dest")
    assert tree(tmp_path) == {"junk.tar.gz"}


def test_extract_truncated_tar_is_refused_without_a_destination(tmp_path):
    good = make_tar(tmp_path / "good.tar", [({"name": f"f{i}.bin"}, os.urandom(4096)) for i in range(8)], mode="w")
    cut = tmp_path / "cut.tar"
    cut.write_bytes(good.read_bytes()[:10_000])
    with pytest.raises(UnsafeArchiveError):
        extract(cut, tmp_path / "dest")
    assert tree(tmp_path) == {"good.tar", "cut.tar"}


BENIGN = [
    ({"name": "pkg", "type": tarfile.DIRTYPE, "mode": 0o755}, None),
    ({"name": "pkg/recordings/0_a_1.wav"}, b"wav-1"),
    ({"name": "pkg/recordings/0_a_2.wav"}, b"wav-2"),
    ({"name": "pkg/README.md"}, b"readme"),
    ({"name": "pkg/sub/deep/notes.txt"}, b"notes"),
]


@pytest.mark.parametrize("mode,suffix", [("w:gz", "tar.gz"), ("w:bz2", "tar.bz2"), ("w", "tar")])
def test_extract_benign_tar(tmp_path, mode, suffix):
    archive = make_tar(tmp_path / f"good.{suffix}", BENIGN, mode=mode)
    dest = tmp_path / "out" / "dest"
    assert extract(archive, dest) == dest
    assert tree(dest) == {"pkg", "pkg/recordings", "pkg/recordings/0_a_1.wav", "pkg/recordings/0_a_2.wav",
                          "pkg/README.md", "pkg/sub", "pkg/sub/deep", "pkg/sub/deep/notes.txt"}
    assert (dest / "pkg/recordings/0_a_2.wav").read_bytes() == b"wav-2"
    assert tree(dest.parent) == {"dest"} | {"dest/" + p for p in tree(dest)}  # no temporary folder left


def test_extract_tar_with_keep_writes_only_the_kept_members_and_replaces_the_old_folder(tmp_path):
    archive = make_tar(tmp_path / "good.tar.gz", BENIGN)
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "old.txt").write_text("replaced")
    extract(archive, dest, keep=lambda name: name.endswith(".wav"))
    assert tree(dest) == {"pkg", "pkg/recordings", "pkg/recordings/0_a_1.wav", "pkg/recordings/0_a_2.wav"}
    assert (dest / "pkg/recordings/0_a_1.wav").read_bytes() == b"wav-1"


def test_extract_tar_keeps_links_that_stay_inside(tmp_path):
    members = BENIGN + [({"name": "pkg/latest.wav", "type": tarfile.SYMTYPE, "linkname": "recordings/0_a_2.wav"}, None),
                        ({"name": "pkg/copy.md", "type": tarfile.LNKTYPE, "linkname": "pkg/README.md"}, None)]
    dest = extract(make_tar(tmp_path / "links.tar.gz", members), tmp_path / "dest")
    assert (dest / "pkg/latest.wav").is_symlink() and (dest / "pkg/latest.wav").read_bytes() == b"wav-2"
    assert (dest / "pkg/copy.md").read_bytes() == b"readme"


def test_extract_benign_zip_with_keep(tmp_path):
    members = [("pkg/a.txt", b"alpha"), ("pkg/sub/b.txt", b"beta"), ("pkg/skip.bin", b"\0\1")]
    archive = make_zip(tmp_path / "good.zip", members)
    full = extract(archive, tmp_path / "full")
    assert {p for p in tree(full) if (full / p).is_file()} == {"pkg/a.txt", "pkg/sub/b.txt", "pkg/skip.bin"}
    assert (full / "pkg/sub/b.txt").read_bytes() == b"beta"
    kept = extract(archive, tmp_path / "kept", keep=lambda name: name.endswith(".txt"))
    assert {p for p in tree(kept) if (kept / p).is_file()} == {"pkg/a.txt", "pkg/sub/b.txt"}
    assert tree(tmp_path) - {"good.zip"} == {"full", "kept"} | {f"full/{p}" for p in tree(full)} | {
        f"kept/{p}" for p in tree(kept)}


# ---------------------------------------------------------------- a cache shared by a class (umask 002)
@pytest.fixture
def class_umask():
    old = os.umask(0o002)
    yield
    os.umask(old)


def test_what_a_download_or_extraction_writes_is_readable_by_the_class_not_private_to_the_writer(
        server, sha, tmp_path, class_umask):
    # tempfile makes 0600 files and 0700 folders: moved into a shared cache as they were, the next student
    # (another account in the class group) could not read what the first one downloaded (the live hub test saw it).
    url = server.put("payload.bin", CONTENT)
    dest = fetch(url, tmp_path / "dl" / "payload.bin", sha(CONTENT), progress=False)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o664
    manifest = download.write_atomically(tmp_path / "dl" / "payload.manifest.json", "{}")
    assert stat.S_IMODE(manifest.stat().st_mode) == 0o664
    folder = extract(make_tar(tmp_path / "good.tar.gz", BENIGN), tmp_path / "out" / "dest")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o775
    os.umask(0o077)  # a private umask stays private
    assert stat.S_IMODE(download.write_atomically(tmp_path / "private.json", "{}").stat().st_mode) == 0o600
