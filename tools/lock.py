"""Make and check the lock files: every package of the course environment at one exact version, with hashes.

    python tools/lock.py                      # `make lock`: (re)write requirements.lock and requirements-gpu.lock
    python tools/lock.py --date 2027-01-15    # the same as PyPI stood on another day (a new semester's pin)
    python tools/lock.py --check              # exit 1, naming the file, when a lock is stale against its input

`requirements.txt` (CPU) and `requirements-gpu.txt` stay the human-edited inputs, with version ranges; each
`*.lock` beside them is what `make` installs (`pip install --require-hashes -r requirements.lock`). A lock is
made by `uv pip compile` for CPython 3.11 on Linux x86-64 (manylinux_2_28) from its requirements file and the
`dependencies` of pyproject.toml, with only what PyPI held on its date (`--exclude-newer`): the same inputs and
the same date give the same lock, byte for byte, whenever it is run. Its header records that date and the
SHA-256 of the inputs; `check` (and tests/test_lock.py) recomputes the SHA-256 and calls the lock stale when
they differ.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INPUTS = ("requirements.txt", "requirements-gpu.txt")
PYTHON_VERSION = "3.11"
PLATFORM = "x86_64-manylinux_2_28"
UV_VERSION = "0.13.9"  # `make lock` installs this one (the Makefile reads it here)
DATE = re.compile(r"^# exclude-newer: (\d{4}-\d{2}-\d{2})$", re.M)
DIGEST = re.compile(r"^# inputs-sha256: ([0-9a-f]{64})$", re.M)


def lock_path(requirements: str | Path) -> Path:
    """Return the lock file of a requirements file: requirements.txt -> requirements.lock."""
    requirements = Path(requirements)
    return requirements.with_suffix(".lock")


def _lines(text: str) -> list[str]:
    """The requirement lines of a requirements file: comments, blank lines and spacing do not count."""
    out = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if line:
            out.append(" ".join(line.split()))
    return out


def inputs_digest(requirements: str | Path, pyproject: str | Path | None = None) -> str:
    """SHA-256 of what a lock is made from: the requirement lines, pyproject's dependencies, the target."""
    requirements = Path(requirements)
    pyproject = Path(pyproject) if pyproject else requirements.parent / "pyproject.toml"
    dependencies = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    record = {"requirements": _lines(requirements.read_text(encoding="utf-8")),
              "pyproject": [" ".join(d.split()) for d in dependencies],
              "python": PYTHON_VERSION, "platform": PLATFORM}
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def recorded(lock: str | Path) -> tuple[str | None, str | None]:
    """Return the (date, inputs digest) a lock's header records, None for what it lacks."""
    head = Path(lock).read_text(encoding="utf-8")[:4000]
    date, digest = DATE.search(head), DIGEST.search(head)
    return (date.group(1) if date else None), (digest.group(1) if digest else None)


def stale(requirements: str | Path, lock: str | Path | None = None) -> str:
    """Return why `lock` does not match `requirements` (and pyproject.toml beside it), or '' when it does."""
    requirements = Path(requirements)
    lock = Path(lock) if lock else lock_path(requirements)
    if not lock.is_file():
        return f"{lock.name} is missing: run `make lock`"
    _, digest = recorded(lock)
    if digest is None:
        return f"{lock.name} records no '# inputs-sha256:' line: run `make lock`"
    if digest != inputs_digest(requirements):
        return (f"{lock.name} is stale: {requirements.name} or pyproject.toml's dependencies changed since it "
                f"was made; run `make lock` and commit both")
    return ""


def header(requirements: Path, date: str) -> str:
    return (f"# The exact environment of {requirements.name} (made by `make lock`, i.e. tools/lock.py; do not edit):\n"
            f"# CPython {PYTHON_VERSION} on Linux x86-64 ({PLATFORM}), as PyPI stood on the date below.\n"
            f"# `make` installs it with `pip install --require-hashes -r {lock_path(requirements).name}`.\n"
            f"# exclude-newer: {date}\n"
            f"# inputs-sha256: {inputs_digest(requirements)}\n")


def compile_lock(requirements: Path, date: str) -> Path:
    """Resolve `requirements` + pyproject's dependencies with uv and write the lock (atomically)."""
    lock = lock_path(requirements)
    version = subprocess.run([sys.executable, "-m", "uv", "--version"], capture_output=True, text=True, timeout=60)
    if version.returncode != 0 or version.stdout.split()[1:2] != [UV_VERSION]:
        raise SystemExit(f"tools/lock.py needs uv {UV_VERSION} (another may write the same resolution differently); "
                         f"found: {(version.stdout or version.stderr).strip() or 'none'}. "
                         f"`make lock` installs it: pip install uv=={UV_VERSION}")
    command = [sys.executable, "-m", "uv", "pip", "compile", "--quiet", "--no-header", "--generate-hashes",
               "--python-version", PYTHON_VERSION, "--python-platform", PLATFORM,
               "--exclude-newer", date, "--index-url", "https://pypi.org/simple",
               str(requirements.relative_to(REPO)), "pyproject.toml"]
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / lock.name
        done = subprocess.run([*command, "-o", str(out)], cwd=REPO, capture_output=True, text=True, timeout=600)
        if done.returncode != 0 or not out.is_file():
            raise SystemExit(f"uv pip compile failed for {requirements.name}:\n{done.stderr}")
        tmp = lock.with_suffix(".lock.part")
        tmp.write_text(header(requirements, date) + out.read_text(encoding="utf-8"), encoding="utf-8")
        tmp.replace(lock)
    return lock


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--date", help="resolve as PyPI stood on this day (YYYY-MM-DD); default: the date the "
                                       "existing lock records, else today")
    parser.add_argument("--check", action="store_true", help="only say whether each lock is stale")
    parser.add_argument("inputs", nargs="*", default=list(INPUTS), help="requirements files (default: both)")
    args = parser.parse_args(argv)
    files = [REPO / name for name in args.inputs]
    if args.check:
        problems = [p for p in (stale(f) for f in files) if p]
        print("\n".join(problems) or "the locks match their inputs")
        return 1 if problems else 0
    if args.date:
        try:
            datetime.date.fromisoformat(args.date)
        except ValueError:
            parser.error(f"--date must be a day as YYYY-MM-DD; received: {args.date!r}")
    for requirements in files:
        lock = lock_path(requirements)
        date = args.date or (recorded(lock)[0] if lock.is_file() else None) or datetime.date.today().isoformat()
        compile_lock(requirements, date)
        print(f"{lock.relative_to(REPO)}: {sum(1 for l in lock.read_text().splitlines() if '==' in l)} packages "
              f"as of {date}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
