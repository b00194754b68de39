"""Installing udl where TensorFlow is already installed (Colab) keeps that TensorFlow and a working Keras.

- The package declares no TensorFlow, directly or through any dependency (checked on installed metadata).
- pip's resolver, asked offline in this environment (which has TensorFlow), would install udl and nothing else.
- A fresh venv holding a Colab-like older Keras and a TensorFlow stand-in: pip's resolver, asked against the
  package index, would upgrade Keras and install nothing TensorFlow (needs the index; skipped, saying so, without).
- ``UDL_COLAB_CHECK=1`` (``make colab-check``, minutes, about 600 MB of wheels): a fresh venv with a real
  ``tensorflow-cpu`` and older Keras, udl installed into it, TensorFlow unchanged, ``pip check`` clean, and a
  Keras model trains on a ``tf.data`` pipeline.
"""

import json
import os
import re
import subprocess
import sys
import textwrap
import tomllib
import venv
from importlib import metadata
from pathlib import Path

import pytest
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
TENSORFLOW = re.compile(r"^(tensorflow|tf-nightly|tensorflow-(cpu|gpu|intel|macos))$")
COLAB_LIKE = {"tensorflow-cpu": "2.19.1", "keras": "3.10.0"}  # what a Colab image shipped before keras 3.14


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[(]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _dependencies() -> list[str]:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]


def _pip(python: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    return subprocess.run([str(python), "-m", "pip", *args], capture_output=True, text=True, env=env, timeout=timeout)


def _would_install(python: Path, tmp_path: Path, *extra: str) -> dict[str, str]:
    report = tmp_path / "report.json"
    done = _pip(python, "install", "--dry-run", "--quiet", "--report", str(report), *extra, str(REPO))
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return {_name(i["metadata"]["name"]): i["metadata"]["version"] for i in json.loads(report.read_text())["install"]}


def test_no_dependency_is_tensorflow_directly_or_through_another_package():
    seen, todo = set(), [_name(r) for r in _dependencies()]
    assert todo and not [n for n in todo if TENSORFLOW.match(n)]
    while todo:  # walk what the installed distributions require (extras are optional, left out)
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo += [_name(r) for r in requires if "extra ==" not in r and "extra==" not in r]
    assert not [n for n in seen if TENSORFLOW.match(n)], sorted(seen)
    assert "keras" in seen and "numpy" in seen  # the walk did reach the dependencies


def test_pip_would_install_only_udl_where_tensorflow_and_keras_are_already_installed(tmp_path):
    # Offline (--no-index): the resolver must find every dependency satisfied by what is installed here.
    assert _would_install(Path(sys.executable), tmp_path, "--no-index", "--no-build-isolation") == {"udl": "0.1.0"}


def _fresh_venv(folder: Path) -> Path:
    venv.EnvBuilder(with_pip=True, clear=True).create(folder)
    return folder / "bin" / "python"


def _tensorflow_stand_in(python: Path, version: str) -> None:
    """Register an empty tensorflow-cpu distribution (metadata only), as a preinstalled TensorFlow looks to pip."""
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    info = Path(site) / f"tensorflow_cpu-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: tensorflow-cpu\nVersion: {version}\n"
                                   "Requires-Dist: keras>=3.5.0\n")
    (info / "INSTALLER").write_text("pip\n")
    (info / "RECORD").write_text("")


def test_a_colab_like_environment_would_keep_its_tensorflow_and_only_upgrade_keras(tmp_path):
    python = _fresh_venv(tmp_path / "venv")
    done = _pip(python, "install", "--quiet", f"keras=={COLAB_LIKE['keras']}")
    if done.returncode != 0:
        pytest.skip(f"the package index cannot be reached, so the resolver cannot be asked: {done.stderr[-300:]}")
    _tensorflow_stand_in(python, COLAB_LIKE["tensorflow-cpu"])
    would = _would_install(python, tmp_path)
    assert not [n for n in would if TENSORFLOW.match(n)], would
    assert would["udl"] == "0.1.0" and Version(would["keras"]) >= Version("3.14")


@pytest.mark.skipif(os.environ.get("UDL_COLAB_CHECK") != "1",
                    reason="installs a real TensorFlow (minutes, ~600 MB): UDL_COLAB_CHECK=1 (make colab-check) runs it")
def test_installing_into_a_venv_with_real_tensorflow_keeps_it_and_keras_trains(tmp_path):
    python = _fresh_venv(tmp_path / "venv")
    pins = [f"{name}=={version}" for name, version in COLAB_LIKE.items()]
    assert _pip(python, "install", "--quiet", *pins, timeout=1800).returncode == 0
    assert _pip(python, "install", "--quiet", str(REPO), timeout=1800).returncode == 0
    check = _pip(python, "check")
    assert check.returncode == 0, check.stdout
    script = textwrap.dedent("""
        import numpy as np, tensorflow as tf, keras
        from importlib.metadata import version
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)])
        model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        x = np.random.rand(64, 4).astype("float32")
        data = tf.data.Dataset.from_tensor_slices((x, (x[:, 0] > 0.5).astype("int32"))).batch(16)
        loss = model.fit(data, epochs=2, verbose=0).history["loss"]
        print(version("tensorflow-cpu"), keras.__version__, tf.keras.__version__, len(loss))
    """)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run([str(python), "-c", script], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    tf_version, keras_version, tf_keras, epochs = done.stdout.split()[-4:]
    assert tf_version == COLAB_LIKE["tensorflow-cpu"] and keras_version == tf_keras and epochs == "2"
    assert Version(keras_version) >= Version("3.14")
