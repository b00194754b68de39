"""The lock files: current with their inputs, complete, exact, hashed, and what `make` installs.

- Each lock's header records the SHA-256 of its inputs (requirements file + pyproject.toml's dependencies);
  recomputed here, a difference fails with "run `make lock`". The check itself is shown to fail on an edited
  copy of requirements.txt and of pyproject.toml.
- Every package line pins one version (``==``) with at least one SHA-256; every requirement of the input that
  applies to Linux x86-64 is in the lock at a version its range allows (independently of the header).
- `make` (dry run) installs from the lock with ``--require-hashes`` where it applies, from the ranges with
  LOCKED=0, and from requirements-gpu.lock with REQUIREMENTS=requirements-gpu.txt.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("udl_lock_tool", REPO / "tools" / "lock.py")
lock = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lock)

INPUTS = ["requirements.txt", "requirements-gpu.txt"]
LINUX_X86_64 = {"platform_machine": "x86_64", "sys_platform": "linux", "platform_system": "Linux",
                "os_name": "posix", "python_version": "3.11", "python_full_version": "3.11.7",
                "implementation_name": "cpython", "platform_python_implementation": "CPython"}


def _pins(path: Path) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) of every package in a lock file."""
    pins, text = {}, path.read_text(encoding="utf-8")
    for block in re.split(r"\n(?=\S)", text):
        first = block.split("\n", 1)[0].strip()
        if not first or first.startswith("#"):
            continue
        match = re.match(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s\\;]+)\s*\\?$", first)
        assert match, f"{path.name}: not an exact pin: {first!r}"
        pins[canonicalize_name(match.group(1).split("[")[0])] = (
            match.group(2), re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
    return pins


@pytest.mark.parametrize("name", INPUTS)
def test_lock_is_current_with_its_inputs(name):
    problem = lock.stale(REPO / name)
    assert not problem, problem


def _copy(tmp_path: Path, name: str) -> Path:
    for f in (name, "pyproject.toml", lock.lock_path(name).name):
        shutil.copy(REPO / f, tmp_path / f)
    return tmp_path / name


def test_the_staleness_check_fails_on_an_edited_requirements_txt(tmp_path):
    requirements = _copy(tmp_path, "requirements.txt")
    assert lock.stale(requirements) == ""
    requirements.write_text(requirements.read_text() + "# a comment or spacing is no change\n\n")
    assert lock.stale(requirements) == ""
    requirements.write_text(requirements.read_text() + "rich>=13\n")
    assert "requirements.lock is stale" in lock.stale(requirements)
    assert "make lock" in lock.stale(requirements)
    requirements.write_text(requirements.read_text().replace("rich>=13\n", "").replace("keras>=3.14,<4", "keras>=3.15,<4"))
    assert "stale" in lock.stale(requirements)  # a narrowed range is a change too


def test_the_staleness_check_fails_on_an_edited_pyproject_dependency(tmp_path):
    requirements = _copy(tmp_path, "requirements.txt")
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"tqdm>=4.66",', '"tqdm>=4.66",\n    "rich>=13",'))
    assert "stale" in lock.stale(requirements)


def test_a_missing_or_headerless_lock_is_stale(tmp_path):
    requirements = _copy(tmp_path, "requirements.txt")
    lock_file = tmp_path / "requirements.lock"
    lock_file.write_text("\n".join(l for l in lock_file.read_text().splitlines() if "inputs-sha256" not in l))
    assert "records no" in lock.stale(requirements)
    lock_file.unlink()
    assert "missing" in lock.stale(requirements)


@pytest.mark.parametrize("name", INPUTS)
def test_lock_pins_every_requirement_exactly_with_hashes(name):
    pins = _pins(REPO / lock.lock_path(name))
    assert len(pins) > 50
    assert not [n for n, (_, hashes) in pins.items() if not hashes], "packages without a hash"
    date, digest = lock.recorded(REPO / lock.lock_path(name))
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", date or "") and digest
    wanted = [Requirement(line) for line in lock._lines((REPO / name).read_text())]
    wanted += [Requirement(d) for d in __import__("tomllib").loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]]
    for requirement in wanted:
        if requirement.marker and not requirement.marker.evaluate(LINUX_X86_64):
            continue
        key = canonicalize_name(requirement.name)
        assert key in pins, f"{requirement} is not in {lock.lock_path(name).name}"
        assert requirement.specifier.contains(pins[key][0], prereleases=True), \
            f"{lock.lock_path(name).name} pins {key}=={pins[key][0]}, outside {requirement}"
    assert "tensorflow-cpu" in pins if name == "requirements.txt" else "tensorflow" in pins


def test_the_cpu_and_gpu_locks_never_hold_both_tensorflow_wheels():
    cpu, gpu = _pins(REPO / "requirements.lock"), _pins(REPO / "requirements-gpu.lock")
    assert "tensorflow" not in cpu and "tensorflow-cpu" not in gpu
    assert cpu["keras"][0] == gpu["keras"][0] and cpu["numpy"][0] == gpu["numpy"][0]  # one course, one Keras


def _make_dry_run(*args: str) -> str:
    if not shutil.which("make"):
        pytest.skip("no make on this machine")
    done = subprocess.run(["make", "-n", "-B", "venv", *args], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_make_installs_from_the_lock_with_hashes():
    out = _make_dry_run("LOCKED=1")
    assert "pip install --quiet --require-hashes -r requirements.lock" in out
    assert "--no-deps --no-build-isolation -e ." in out and "-r requirements.txt" not in out
    out = _make_dry_run("LOCKED=1", "REQUIREMENTS=requirements-gpu.txt")
    assert "--require-hashes -r requirements-gpu.lock" in out
    out = _make_dry_run("LOCKED=0")
    assert "-r requirements.txt -e ." in out and "--require-hashes" not in out
