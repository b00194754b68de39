"""Run a snippet of TensorFlow code in a fresh Python whose CPU is split into logical devices.

TensorFlow fixes its devices when it first initialises, so a test that needs two devices on a one-CPU machine runs
its code in a subprocess that calls ``tf.config.set_logical_device_configuration`` first. Downloads are off there
(the built-in samples stand in). The snippet prints one
JSON object on its last line; `run` returns it. Used by tests/test_distribute.py and by the tests of custom
``train_step``s (a VAE, a GAN) that must give the same update on two replicas as on one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRELUDE = """
import json, os
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * {devices})
"""


def run(code: str, devices: int = 2, timeout: float = 300.0) -> dict:
    """Run `code` after splitting the CPU into `devices` logical devices; return the JSON its last line prints."""
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    env.update(CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="2", UDL_OFFLINE="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")])))
    script = textwrap.dedent(PRELUDE.format(devices=devices)) + textwrap.dedent(code)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=timeout,
                          cwd=ROOT)
    if done.returncode != 0:
        raise AssertionError(f"the {devices}-device subprocess failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
