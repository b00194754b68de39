"""Every ``UDL_*`` environment variable in one place: names, defaults and validation.

==============================  =====================================  ===================================
variable                        meaning                                default
==============================  =====================================  ===================================
``UDL_PROFILE``                 ``quick`` or ``full``                  ``full``
``UDL_DATA_DIR``                the mirror folder (data/README.md)     none
``UDL_CACHE_DIR``               the download cache                     ``~/.cache/udl``
``UDL_OFFLINE``                 ``1``/``true``/``yes``/``on``: no      downloads allowed
                                downloads (``0``/``false``/... allow)
``UDL_DOWNLOAD_TIMEOUT``        seconds a download may wait for data   20
``UDL_DOWNLOAD_MIN_RATE``       bytes per second a transfer must keep  1000
                                up over each stall window, else it is
                                aborted (curl's ``--speed-limit``)
``UDL_DOWNLOAD_STALL_SECONDS``  that window in seconds (curl's         15
                                ``--speed-time``)
``UDL_RESULTS_DIR``             where `results.record` writes          ``build/results``
``UDL_SAVE_EXECUTED``           where nbval runs keep executed         none (``make test`` sets ``build``)
                                notebooks (the ``udl.nbval_save``
                                pytest plugin)
``UDL_MAX_STEPS``               a smoke test of the notebooks: every   none (train as the notebook says)
                                ``fit`` trains at most this many
                                batches per epoch for at most 2
                                epochs, and is timed (`udl.stepcap`)
``UDL_ORIGINS``                 a JSON file that replaces download     none (the canonical origins)
                                origins by loopback URLs, each with
                                its SHA-256 pin (`udl.data`; tests
                                and ``make smoke-full`` only)
==============================  =====================================  ===================================

A bad value raises `SettingError` naming the variable, what it must be and the value received.
The other modules ask this one; none reads ``os.environ`` for a ``UDL_*`` name itself.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

NAMES = ("UDL_PROFILE", "UDL_DATA_DIR", "UDL_CACHE_DIR", "UDL_OFFLINE", "UDL_DOWNLOAD_TIMEOUT",
         "UDL_DOWNLOAD_MIN_RATE", "UDL_DOWNLOAD_STALL_SECONDS", "UDL_RESULTS_DIR", "UDL_SAVE_EXECUTED", "UDL_MAX_STEPS",
         "UDL_ORIGINS")
PROFILES = ("quick", "full")
DEFAULT_PROFILE = "full"
DEFAULT_TIMEOUT = 20.0
MAX_TIMEOUT = 3600.0
DEFAULT_MIN_RATE = 1000.0        # bytes per second (curl's --speed-limit)
MAX_MIN_RATE = 1e9
DEFAULT_STALL_SECONDS = 15.0     # the window the rate is measured over (curl's --speed-time)
MAX_STEPS_LIMIT = 1000  # UDL_MAX_STEPS is for smoke tests: a few steps, not a training budget
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


class SettingError(ValueError):
    """An environment variable has a value udl cannot use."""


def _raw(name: str) -> str:
    return os.environ.get(name, "")


def _bad(name: str, expected: str, raw: str, detail: str = "") -> SettingError:
    return SettingError(f"The environment variable `{name}` must be {expected}; received: {raw!r}"
                        + (f" ({detail})" if detail else ""))


def profile() -> str:
    """Return ``quick`` or ``full`` from ``UDL_PROFILE`` (default ``full``; case and spaces ignored)."""
    raw = _raw("UDL_PROFILE")
    value = raw.strip().lower() or DEFAULT_PROFILE
    if value not in PROFILES:
        raise _bad("UDL_PROFILE", f"'quick' or 'full' (or unset, meaning '{DEFAULT_PROFILE}')", raw)
    return value


def _folder(name: str, default: Path | None) -> Path | None:
    raw = _raw(name)
    if not raw.strip():
        return default
    path = Path(raw.strip()).expanduser()
    if path.exists() and not path.is_dir():
        raise _bad(name, "a folder", raw, "that path is a file")
    return path


def data_dir() -> Path | None:
    """Return the mirror folder from ``UDL_DATA_DIR``, or None when unset."""
    return _folder("UDL_DATA_DIR", None)


def cache_dir() -> Path:
    """Return the cache folder: ``UDL_CACHE_DIR``, else ``~/.cache/udl``."""
    return _folder("UDL_CACHE_DIR", Path.home() / ".cache" / "udl")


def results_dir() -> Path:
    """Return the results folder: ``UDL_RESULTS_DIR``, else ``build/results`` in the repository (or working folder)."""
    repo = Path(__file__).resolve().parents[1]
    base = repo if (repo / "pyproject.toml").exists() else Path.cwd()
    return _folder("UDL_RESULTS_DIR", base / "build" / "results")


def save_executed() -> Path:
    """Return the build folder the nbval plugin keeps executed notebooks under: ``UDL_SAVE_EXECUTED``, else build/."""
    return _folder("UDL_SAVE_EXECUTED", Path("build"))


def offline() -> bool:
    """Return True when downloads are switched off with ``UDL_OFFLINE`` (1, true, yes or on)."""
    raw = _raw("UDL_OFFLINE")
    value = raw.strip().lower()
    if value not in _TRUE + _FALSE:
        raise _bad("UDL_OFFLINE", "1, true, yes or on (no downloads) or 0, false, no, off or unset", raw)
    return value in _TRUE


def _positive(name: str, default: float, most: float, unit: str) -> float:
    """Return the number in `name`, or `default` when unset; it must be finite, > 0 and <= `most`."""
    raw = _raw(name)
    if not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= most):
        shown = f"{most:,.0f}" if most >= 10_000 else f"{most:g}"
        raise _bad(name, f"a number of {unit} greater than 0 and at most {shown}", raw)
    return value


def download_timeout() -> float:
    """Return the seconds a download may wait for data, from ``UDL_DOWNLOAD_TIMEOUT`` (default 20)."""
    return _positive("UDL_DOWNLOAD_TIMEOUT", DEFAULT_TIMEOUT, MAX_TIMEOUT, "seconds")


def download_min_rate() -> float:
    """Return the bytes per second a transfer must keep up, from ``UDL_DOWNLOAD_MIN_RATE`` (default 1000)."""
    return _positive("UDL_DOWNLOAD_MIN_RATE", DEFAULT_MIN_RATE, MAX_MIN_RATE, "bytes per second")


def download_stall_seconds() -> float:
    """Return the window over which that rate is measured, from ``UDL_DOWNLOAD_STALL_SECONDS`` (default 15)."""
    return _positive("UDL_DOWNLOAD_STALL_SECONDS", DEFAULT_STALL_SECONDS, MAX_TIMEOUT, "seconds")


def max_steps() -> int | None:
    """Return the step cap of a smoke run from ``UDL_MAX_STEPS`` (a whole number 1-1000), or None when unset."""
    raw = _raw("UDL_MAX_STEPS")
    if not raw.strip():
        return None
    value = raw.strip()
    if not value.isdigit() or not 1 <= int(value) <= MAX_STEPS_LIMIT:
        raise _bad("UDL_MAX_STEPS", f"a whole number of steps from 1 to {MAX_STEPS_LIMIT} (or unset: no cap)", raw)
    return int(value)


def origins() -> Path | None:
    """Return the origins file named by ``UDL_ORIGINS`` (it must exist), or None when unset."""
    raw = _raw("UDL_ORIGINS")
    if not raw.strip():
        return None
    path = Path(raw.strip()).expanduser()
    if not path.is_file():
        raise _bad("UDL_ORIGINS", "an existing JSON file of replacement origins", raw,
                   "that path is a folder" if path.is_dir() else "no such file")
    return path


def check() -> dict[str, object]:
    """Validate every variable at once; return {name: value in use}."""
    readers = (profile, data_dir, cache_dir, offline, download_timeout, download_min_rate, download_stall_seconds,
               results_dir, save_executed, max_steps, origins)
    return {name: read() for name, read in zip(NAMES, readers)}


def policy() -> str:
    """Describe the data lookup order in force: mirror > cache > download > built-in sample."""
    mirror = data_dir()
    where = f"mirror {mirror}" if mirror else "no mirror (UDL_DATA_DIR unset)"
    download = "no downloads (UDL_OFFLINE=1)" if offline() else "download"
    return f"{where} > cache {cache_dir()} > {download} > built-in sample"
