"""Hashed, size-capped, deadline-bound downloads and safe archive extraction, safe when processes share a cache.

A download streams into a temporary file of this process's own beside the destination and is renamed into
place only when it is complete, within its size cap and deadline, and (when pinned) its SHA-256 matched.
A transfer that brings fewer than ``UDL_DOWNLOAD_MIN_RATE`` bytes per second over any
``UDL_DOWNLOAD_STALL_SECONDS`` window is aborted, as curl's ``--speed-limit``/``--speed-time`` do.
Archives are extracted by udl itself (not by `tarfile`'s filters, which Python 3.11.0-3.11.3 lack) into a
temporary folder renamed into place at the end: every member is checked before it is written, and a member
whose path, through links already extracted, would leave the destination is refused, as are device files,
setuid/setgid bits, and archives that expand beyond a size or member cap. Each destination is guarded by an
inter-process lock (``.locks/`` beside it), under which the leftovers of killed processes are removed.
SECURITY.md states these guarantees and how they are tested.
"""

from __future__ import annotations

import collections
import contextlib
import glob
import gzip
import hashlib
import lzma
import os
import shutil
import stat
import tarfile
import tempfile
import time
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from udl import settings

DEFAULT_TIMEOUT = settings.DEFAULT_TIMEOUT
DEFAULT_MAX_BYTES = 1 << 30      # the largest download accepted unless the caller allows more
MAX_EXTRACTED_BYTES = 1 << 30    # the most an archive may expand to (all members, kept or not)
MAX_MEMBERS = 250_000
MAX_NAME_BYTES = 255             # per path component, as on common file systems
MAX_PATH_BYTES = 1024            # per member path
LOCK_TIMEOUT = 2 * 3600.0
CHUNK = 1 << 16
ADVICE = ("Check the network, or use a mirror folder (set UDL_DATA_DIR, see data/README.md); "
          "with neither, udl falls back to its built-in samples.")
SLOW_ADVICE = ("Instead, on this network: use a mirror folder (set UDL_DATA_DIR to a copy of a cache that "
               "`udl data fetch` filled on another machine, see data/README.md), or set UDL_OFFLINE=1 to use "
               "the built-in samples without waiting.")

timeout = settings.download_timeout  # seconds a download may wait for data (UDL_DOWNLOAD_TIMEOUT)
min_rate = settings.download_min_rate  # bytes/s a transfer must keep up (UDL_DOWNLOAD_MIN_RATE) ...
stall_seconds = settings.download_stall_seconds  # ... over every window of this many seconds


class DownloadError(RuntimeError):
    """A download failed: network error, timeout, HTTP error, truncated body, too large, too slow or wrong hash."""

    reason = ""  # the short cause, without the advice (set by `fetch`)


class UnsafeArchiveError(ValueError):
    """An archive holds a member that would be written outside its destination, or is otherwise refused."""


class CorruptArchiveError(UnsafeArchiveError):
    """An archive is truncated or damaged."""


# ---------------------------------------------------------------- locks and leftovers
@contextlib.contextmanager
def locked(path: Path):
    """Hold the inter-process lock of `path` (a file in ``.locks/`` beside it) while the block runs."""
    from filelock import FileLock, Timeout

    folder = Path(path).parent / ".locks"
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / f"{Path(path).name}.lock"), timeout=LOCK_TIMEOUT)
    try:
        lock.acquire()
    except Timeout:
        raise DownloadError(f"Another process has held {lock.lock_file} for over {LOCK_TIMEOUT:g} s; "
                            f"if none is running any more, delete that file.") from None
    try:
        yield
    finally:
        lock.release()


def _clean_leftovers(path: Path) -> None:
    """Remove the temporaries that interrupted processes left for `path` (call with its lock held)."""
    pattern = glob.escape(str(path.parent / f".{path.name}"))
    for leftover in glob.glob(pattern + ".*.part") + glob.glob(pattern + "-*"):
        if os.path.isdir(leftover) and not os.path.islink(leftover):
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            Path(leftover).unlink(missing_ok=True)


def _umask() -> int:
    try:  # Linux says it without changing it
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass  # no /proc: read the umask the portable way below
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def as_created(path: str | Path) -> None:
    """Give a file or folder made by ``tempfile`` (0600 / 0700) the mode ``open``/``mkdir`` would have given it.

    Moved into place, it is then as readable as anything else this process writes: with a class's shared cache
    (umask 002, a group-owned folder), the next student can read what the first one downloaded.
    """
    full = 0o777 if os.path.isdir(path) else 0o666
    os.chmod(path, full & ~_umask())


def write_atomically(path: Path, text: str) -> Path:
    """Write `text` to `path` through a temporary file of this process's own, so readers never see half of it."""
    path = Path(path)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        as_created(tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


# ---------------------------------------------------------------- downloads
def fetch(url: str, dest: Path, sha256: str | None, *, max_bytes: int = DEFAULT_MAX_BYTES,
          progress: bool = True) -> Path:
    """Download `url` to `dest` (atomically), verify its SHA-256 when given, and return `dest`.

    An existing `dest` whose pinned hash matches is reused without a download; an unpinned one is always
    downloaded again. Refused: more than `max_bytes`; a read that waits over ``timeout()`` seconds; fewer than
    ``min_rate()`` bytes per second over any ``stall_seconds()`` window (no bytes at all for that long included);
    more than ``timeout() + stall_seconds() + size / min_rate()`` seconds in all, where size is the announced
    Content-Length (at most `max_bytes`), else `max_bytes`. Raises DownloadError with the reason and what to do
    instead (the message is one line).
    """
    dest = Path(dest)
    wait, floor, window = timeout(), min_rate(), stall_seconds()  # bad settings are reported before anything happens
    dest.parent.mkdir(parents=True, exist_ok=True)
    with locked(dest):
        _clean_leftovers(dest)
        if sha256 and dest.is_file() and sha256_of(dest) == sha256:
            return dest
        handle, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                reason = _download(url, out, sha256, max_bytes, wait, progress, floor, window)
            if reason is None:
                as_created(tmp)
                os.replace(tmp, dest)
                return dest
        finally:
            Path(tmp).unlink(missing_ok=True)
    advice = SLOW_ADVICE if isinstance(reason, _TooSlow) else ADVICE
    error = DownloadError(f"Could not download {url}: {reason}. Nothing was saved. {advice}")
    error.reason = str(reason)
    raise error


class _TooSlow(str):
    """The reason a download failed, when the network was too slow (the advice then says what to do instead)."""


class _Meter:
    """The bytes that arrived over the last `window` seconds of a body (curl's --speed-limit / --speed-time)."""

    def __init__(self, floor: float, window: float):
        self.floor, self.window = floor, window
        self.start = time.monotonic()
        self.marks = collections.deque([(self.start, 0)])  # (time, bytes received by then), thinned to window/100

    def too_slow(self, received: int, size: int | None) -> _TooSlow | None:
        """Return the reason to abort when fewer than floor x window bytes arrived in the last window, else None."""
        now = time.monotonic()
        if now - self.marks[-1][0] >= self.window / 100:
            self.marks.append((now, received))
        while len(self.marks) > 1 and self.marks[1][0] <= now - self.window:
            self.marks.popleft()
        if now - self.start < self.window:
            return None
        seen = received - self.marks[0][1]  # arrived after a mark at least `window` seconds old
        return self.reason(seen, received, size) if seen < self.floor * self.window else None

    def reason(self, seen: int, received: int, size: int | None) -> _TooSlow:
        of = f" of {size:,}" if size is not None else ""
        return _TooSlow(f"the transfer was too slow: {_rate(seen / self.window)} B/s over the last {self.window:g} s, "
                        f"below the limit of {self.floor:,g} B/s (UDL_DOWNLOAD_MIN_RATE over "
                        f"UDL_DOWNLOAD_STALL_SECONDS); {received:,}{of} bytes had arrived")


def _rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def _body_timeout(answer, seconds: float) -> None:
    """Let each read of the body wait at most `seconds` (the headers had the whole per-read timeout)."""
    sock = getattr(getattr(answer.raw, "connection", None), "sock", None)
    if sock is None:  # a connection that closes after this response has handed its socket to the response
        reader = getattr(getattr(answer.raw, "_fp", None), "fp", None)  # http.client's buffered socket file
        sock = getattr(getattr(reader, "raw", None), "_sock", None)
    if sock is not None:
        sock.settimeout(seconds)


def _download(url: str, out, sha256: str | None, max_bytes: int, wait: float, progress: bool,
              floor: float, window: float) -> str | None:
    """Stream `url` into `out`; return None when it arrived whole, else the reason it did not."""
    import requests
    import urllib3
    from tqdm.auto import tqdm

    start, received, digest, meter, size = time.monotonic(), 0, hashlib.sha256(), None, None
    try:
        with requests.get(url, stream=True, timeout=(wait, wait), headers={"Accept-Encoding": "identity"}) as answer:
            answer.raise_for_status()
            declared = answer.headers.get("Content-Length", "")
            size = int(declared) if declared.isdigit() else None
            if size is not None and size > max_bytes:
                return f"the server announced {size:,} bytes, more than the {max_bytes:,} this file may have"
            # what a transfer that keeps above the floor needs at most; without a Content-Length, for the cap
            deadline = wait + window + (max_bytes if size is None else size) / floor
            meter = _Meter(floor, window)
            _body_timeout(answer, min(wait, window))  # silence for a whole window is below any floor
            with tqdm(total=size, unit="B", unit_scale=True, disable=not progress, leave=False) as bar:
                while chunk := answer.raw.read1(CHUNK):
                    received += len(chunk)
                    if received > max_bytes:
                        return f"more than {max_bytes:,} bytes arrived, the most this file may have"
                    if slow := meter.too_slow(received, size):
                        return slow
                    if time.monotonic() - start > deadline:
                        return _TooSlow(f"the transfer took longer than its deadline of {deadline:.1f} s "
                                        f"({received:,} bytes arrived; udl allows UDL_DOWNLOAD_TIMEOUT + "
                                        f"UDL_DOWNLOAD_STALL_SECONDS + size at UDL_DOWNLOAD_MIN_RATE)")
                    digest.update(chunk)
                    out.write(chunk)
                    bar.update(len(chunk))
            if size is not None and received != size:
                return f"the connection broke off before the whole file arrived ({received:,} of {size:,} bytes)"
    except (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError) as exc:
        if meter is not None and window <= wait:  # the body fell silent for a whole window: 0 B/s over it
            return meter.reason(0, received, size)
        return _TooSlow(f"no answer within {wait:g} s ({type(exc).__name__})")
    except requests.exceptions.HTTPError as exc:
        return f"HTTP error {exc.response.status_code if exc.response is not None else ''}".strip()
    except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError,
            urllib3.exceptions.ProtocolError) as exc:
        return f"the connection broke off before the whole file arrived ({exc.__class__.__name__})"
    except requests.exceptions.RequestException as exc:  # a stall before the body arrives as ConnectionError
        stalled = any(isinstance(arg, urllib3.exceptions.TimeoutError) for arg in exc.args)
        return _TooSlow(f"no answer within {wait:g} s (the transfer stalled)") if stalled else _short(exc)
    if sha256 and digest.hexdigest() != sha256:
        return f"the file's SHA-256 does not match the pinned hash: expected {sha256}, received {digest.hexdigest()}"
    return None


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) < 300 else text[:297] + "..."


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    """Return the hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------- archives
def _refuse(archive: Path, what: str) -> UnsafeArchiveError:
    return UnsafeArchiveError(f"Refusing to extract {archive}: {what}.")


def _check_name(archive: Path, name: str) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise _refuse(archive, f"member {name!r} has an absolute path")
    if ".." in path.parts:
        raise _refuse(archive, f"member {name!r} climbs out with '..'")
    if "\0" in name or len(name.encode()) > MAX_PATH_BYTES or any(len(p.encode()) > MAX_NAME_BYTES for p in path.parts):
        raise _refuse(archive, f"member {name[:60]!r}... has a name longer than {MAX_NAME_BYTES} bytes per part "
                               f"or {MAX_PATH_BYTES} in all, or a NUL byte")
    return path


def _check_link(archive: Path, name: str, linkname: str, symbolic: bool) -> None:
    """Refuse a link whose target, read as written, leaves the destination (links through links: `_place`)."""
    target = PurePosixPath(linkname.replace("\\", "/"))
    depth = len(PurePosixPath(name).parts) - 1 if symbolic else 0
    for part in target.parts if not target.is_absolute() else ("/",):
        depth += -1 if part == ".." else 0 if part == "." else 1
        if part == "/" or depth < 0:
            raise _refuse(archive, f"link {name!r} points outside the destination ({linkname!r})")


def _check_mode(archive: Path, name: str, mode: int) -> None:
    if mode & (stat.S_ISUID | stat.S_ISGID):
        raise _refuse(archive, f"member {name!r} has the setuid or setgid bit")


def _inside(root: str, path: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def _place(archive: Path, work: Path, path: PurePosixPath, name: str, made: set) -> Path:
    """Create the folders above member `path` in `work`; refuse when they are files or lead outside; return its target.

    `made` holds the plain folders created so far: nothing can replace them (a member of the same name is
    refused as a clash), so they need no second check.
    """
    folder = work
    for part in path.parts[:-1]:
        folder = folder / part
        if folder in made:
            continue
        if os.path.islink(folder) or folder.exists():
            if not _inside(os.path.realpath(work), os.path.realpath(folder)):
                raise _refuse(archive, f"member {name!r} would be written through a link that leaves the destination")
            if not folder.is_dir():
                raise _refuse(archive, f"member {name!r} needs the folder {part!r}, which is a file in the archive")
        else:
            folder.mkdir()
            made.add(folder)
    target = work.joinpath(*path.parts)
    if os.path.islink(target) or target.exists():
        kind = "folder" if target.is_dir() else "file or link"
        raise _refuse(archive, f"member {name!r} clashes with a {kind} of the same name in the archive")
    return target


def _write(archive: Path, stream, target: Path, mode: int, budget: list[int]) -> None:
    """Copy `stream` into the new file `target` (never through a link), charging its bytes to `budget` [left, cap]."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                 0o755 if mode & 0o100 else 0o644)
    with os.fdopen(fd, "wb") as out:
        while block := stream.read(CHUNK):
            budget[0] -= len(block)
            if budget[0] < 0:
                raise _refuse(archive, f"it expands to more than {budget[1]:,} bytes (the cap)")
            out.write(block)


def _symlink(archive: Path, work: Path, target: Path, name: str, linkname: str) -> None:
    resolved = os.path.realpath(os.path.join(os.path.realpath(target.parent), linkname))
    if not _inside(os.path.realpath(work), resolved):
        raise _refuse(archive, f"link {name!r} points outside the destination ({linkname!r})")
    os.symlink(linkname, target)


def _hardlink(archive: Path, work: Path, target: Path, name: str, linkname: str, budget: list[int]) -> None:
    source = os.path.realpath(work.joinpath(*_check_name(archive, linkname).parts))
    if not _inside(os.path.realpath(work), source) or not os.path.isfile(source):
        raise _refuse(archive, f"hard link {name!r} points to {linkname!r}, which is not a file extracted before it")
    with open(source, "rb") as stream:  # a copy, so that nothing outside can ever be linked in
        _write(archive, stream, target, os.stat(source).st_mode, budget)


def _untar(archive: Path, work: Path, keep, max_bytes: int, max_members: int) -> None:
    budget, declared, made = [max_bytes, max_bytes], 0, set()
    with tarfile.open(archive) as handle:
        for count, member in enumerate(handle, start=1):  # headers are read one by one: refused early
            if count > max_members:
                raise _refuse(archive, f"it has more than {max_members:,} members (the cap)")
            path = _check_name(archive, member.name)
            if member.isdev() or not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
                raise _refuse(archive, f"member {member.name!r} is a device, FIFO or other special file")
            _check_mode(archive, member.name, member.mode)
            if member.issym() or member.islnk():
                _check_link(archive, member.name, member.linkname, member.issym())
            declared += member.size if member.isfile() else 0
            if declared > max_bytes:
                raise _refuse(archive, f"it expands to more than {max_bytes:,} bytes (the cap)")
            if (keep is not None and not keep(member.name)) or not path.parts:
                continue
            if member.isdir():
                target = work.joinpath(*path.parts)
                if target not in made and (not target.is_dir() or target.is_symlink()):
                    _place(archive, work, path, member.name, made).mkdir()
                    made.add(target)
                continue
            target = _place(archive, work, path, member.name, made)
            if member.issym():
                _symlink(archive, work, target, member.name, member.linkname)
            elif member.islnk():
                _hardlink(archive, work, target, member.name, member.linkname, budget)
            else:
                _write(archive, handle.extractfile(member), target, member.mode, budget)


def _unzip(archive: Path, work: Path, keep, max_bytes: int, max_members: int) -> None:
    budget, made = [max_bytes, max_bytes], set()
    with zipfile.ZipFile(archive) as handle:
        infos = handle.infolist()
        if len(infos) > max_members:
            raise _refuse(archive, f"it has more than {max_members:,} members (the cap)")
        if sum(info.file_size for info in infos) > max_bytes:  # declared sizes; `_write` counts the real ones
            raise _refuse(archive, f"it expands to more than {max_bytes:,} bytes (the cap)")
        for info in infos:
            path = _check_name(archive, info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode):
                raise _refuse(archive, f"member {info.filename!r} is a link or special file")
            _check_mode(archive, info.filename, mode)
        for info in infos:
            path = PurePosixPath(info.filename.replace("\\", "/"))
            if (keep is not None and not keep(info.filename)) or not path.parts:
                continue
            if info.is_dir():
                target = work.joinpath(*path.parts)
                if target not in made and not target.is_dir():
                    _place(archive, work, path, info.filename, made).mkdir()
                    made.add(target)
                continue
            with handle.open(info) as stream:
                target = _place(archive, work, path, info.filename, made)
                _write(archive, stream, target, info.external_attr >> 16, budget)


DAMAGED = (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, lzma.LZMAError, gzip.BadGzipFile)


def extract(archive: Path, dest: Path, keep=None, *, max_bytes: int = MAX_EXTRACTED_BYTES,
            max_members: int = MAX_MEMBERS) -> Path:
    """Extract a tar (any compression) or zip `archive` into the new folder `dest`, safely and atomically.

    Args:
        keep: optional predicate on member names; members it rejects are not written (but still checked).
        max_bytes, max_members: caps on what the archive may hold (all members, kept or not).
    Returns:
        `dest`, which replaces any earlier folder of that name only once the extraction has succeeded.
    Raises:
        UnsafeArchiveError (CorruptArchiveError when truncated or damaged), naming the archive; nothing is left.
    """
    archive, dest = Path(archive), Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with locked(dest):
        _clean_leftovers(dest)
        work = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
        try:
            if zipfile.is_zipfile(archive):
                _unzip(archive, work, keep, max_bytes, max_members)
            elif tarfile.is_tarfile(archive):
                _untar(archive, work, keep, max_bytes, max_members)
            else:
                raise CorruptArchiveError(f"Refusing to extract {archive}: it is not a tar or zip archive, or it is "
                                          f"truncated or damaged.")
            if dest.is_dir() and not dest.is_symlink():
                shutil.rmtree(dest)
            as_created(work)
            os.replace(work, dest)
        except DAMAGED as exc:
            raise CorruptArchiveError(f"Refusing to extract {archive}: it is truncated or damaged "
                                      f"({type(exc).__name__}: {_short(exc)}).") from None
        except OSError as exc:
            raise UnsafeArchiveError(f"Could not extract {archive}: {type(exc).__name__}: {_short(exc)}.") from None
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return dest
