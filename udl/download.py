"""Hashed, atomic downloads (through pooch) and safe archive extraction.

Downloads go to a temporary file beside the destination and are renamed into place only after the
SHA-256 matched, so an interrupted or tampered download never leaves a file in the cache. Archives are
checked member by member before anything is written: absolute paths, ``..``, links that leave the
destination and device files are refused, and the extraction is itself renamed into place at the end.
"""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

DEFAULT_TIMEOUT = 20.0
ADVICE = ("Check the network, or use a mirror folder (set UDL_DATA_DIR, see data/README.md); "
          "with neither, udl falls back to its built-in samples.")


class DownloadError(RuntimeError):
    """A download failed: network error, timeout, HTTP error, truncated body or wrong hash."""

    reason = ""  # the short cause, without the advice (set by `fetch`)


class UnsafeArchiveError(ValueError):
    """An archive holds a member that would be written outside its destination, or a device file."""


def timeout() -> float:
    """Return the network timeout in seconds from ``UDL_DOWNLOAD_TIMEOUT`` (default 20)."""
    raw = os.environ.get("UDL_DOWNLOAD_TIMEOUT", "")
    try:
        value = float(raw) if raw else DEFAULT_TIMEOUT
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ValueError(f"The environment variable `UDL_DOWNLOAD_TIMEOUT` must be a positive number of "
                         f"seconds; received: {raw!r}")
    return value


def fetch(url: str, dest: Path, sha256: str | None, *, progress: bool = True) -> Path:
    """Download `url` to `dest` (atomically), verify its SHA-256 when given, and return `dest`.

    An existing `dest` whose hash matches is reused without a download.
    Raises DownloadError with the reason and what to do instead.
    """
    import pooch
    import requests
    import urllib3

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    known = f"sha256:{sha256}" if sha256 else None
    downloader = pooch.HTTPDownloader(progressbar=progress, timeout=timeout())
    try:
        return Path(pooch.retrieve(url, known, fname=dest.name, path=dest.parent, downloader=downloader))
    except requests.exceptions.Timeout as exc:
        reason = f"no answer within {timeout():g} s ({type(exc).__name__})"
    except requests.exceptions.HTTPError as exc:
        reason = f"HTTP error {exc.response.status_code if exc.response is not None else ''}".strip()
    except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
        reason = f"the connection broke off before the whole file arrived ({exc.__class__.__name__})"
    except requests.exceptions.RequestException as exc:  # a stall mid-body arrives as ConnectionError(ReadTimeoutError)
        stalled = any(isinstance(arg, urllib3.exceptions.TimeoutError) for arg in exc.args)
        reason = f"no answer within {timeout():g} s (the transfer stalled)" if stalled else _short(exc)
    except ValueError as exc:  # pooch: hash mismatch
        reason = f"the file's SHA-256 does not match the pinned hash: {_short(exc)}"
    error = DownloadError(f"Could not download {url}: {reason}. Nothing was saved. {ADVICE}")
    error.reason = reason
    raise error


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) < 300 else text[:297] + "..."


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    """Return the hex SHA-256 of a file."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _check_name(archive: Path, name: str) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchiveError(f"Refusing to extract {archive.name}: member {name!r} has an absolute path.")
    if ".." in path.parts:
        raise UnsafeArchiveError(f"Refusing to extract {archive.name}: member {name!r} climbs out with '..'.")
    return path


def _check_link(archive: Path, member: tarfile.TarInfo) -> None:
    target = PurePosixPath(member.linkname.replace("\\", "/"))
    base = PurePosixPath(member.name).parent if member.issym() else PurePosixPath()
    parts: list[str] = []
    for part in (base / target).parts if not target.is_absolute() else ("/",):
        if part == "/":
            parts = [".."]
            break
        if part == "..":
            if not parts:
                parts = [".."]
                break
            parts.pop()
        elif part != ".":
            parts.append(part)
    if parts[:1] == [".."]:
        raise UnsafeArchiveError(f"Refusing to extract {archive.name}: link {member.name!r} points outside "
                                 f"the destination ({member.linkname!r}).")


def _tar_members(archive: Path, handle: tarfile.TarFile, keep) -> list[tarfile.TarInfo]:
    chosen = []
    for member in handle.getmembers():
        _check_name(archive, member.name)
        if member.isdev() or not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
            raise UnsafeArchiveError(f"Refusing to extract {archive.name}: member {member.name!r} is a "
                                     f"device, FIFO or other special file.")
        if member.issym() or member.islnk():
            _check_link(archive, member)
        if keep is None or keep(member.name):
            chosen.append(member)
    return chosen


def _zip_members(archive: Path, handle: zipfile.ZipFile, keep) -> list[zipfile.ZipInfo]:
    chosen = []
    for info in handle.infolist():
        _check_name(archive, info.filename)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode):
            raise UnsafeArchiveError(f"Refusing to extract {archive.name}: member {info.filename!r} is a "
                                     f"link or special file.")
        if keep is None or keep(info.filename):
            chosen.append(info)
    return chosen


def extract(archive: Path, dest: Path, keep=None) -> Path:
    """Extract a tar (any compression) or zip `archive` into the new folder `dest`, safely and atomically.

    Args:
        keep: optional predicate on member names; members it rejects are not written (but still checked).
    Returns:
        `dest`, which replaces any earlier folder of that name only once the extraction has succeeded.
    """
    archive, dest = Path(archive), Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as handle:
                handle.extractall(work, members=_zip_members(archive, handle, keep))
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as handle:
                members = _tar_members(archive, handle, keep)
                if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4: the standard library checks too
                    handle.extractall(work, members=members, filter="data")
                else:
                    handle.extractall(work, members=members)
        else:
            raise UnsafeArchiveError(f"{archive.name} is neither a tar nor a zip archive.")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(work, dest)
    except tarfile.TarError as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise UnsafeArchiveError(f"Refusing to extract {archive.name}: {exc}") from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return dest
