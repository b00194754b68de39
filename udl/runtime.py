"""The setup cell of every notebook: seeds, device check, quick/full profiles.

```python
from udl import runtime
runtime.setup()                                  # one line: versions, device, profile, data policy
EPOCHS = runtime.pick(quick=3, full=15)          # sizes and epochs per profile, in one readable line
```

Many GPUs, one line: ``runtime.setup(distribute=True)`` trains on every visible GPU at once
(``tf.distribute.MirroredStrategy``; on one device it changes nothing). Build and compile models inside
``with runtime.strategy().scope():`` and feed ``runtime.global_batch(per_replica)`` examples a step.

The profile comes from the environment variable ``UDL_PROFILE``: ``quick`` (CI and CPU laptops: each
notebook in about a minute on two CPU cores, on documented subsets) or ``full`` (the default: the full
datasets and the epochs that reach the figures the notebooks state; use a GPU).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

from udl import settings, stepcap
from udl import _checks
from udl.settings import DEFAULT_PROFILE, PROFILES  # noqa: F401 (part of this module's API)

_started: float | None = None
_strategy = None  # what setup(distribute=...) chose; None: TensorFlow's default (one device)

COLAB_HINT = "to get one on Colab: Runtime > Change runtime type > GPU"
TENSOR_CORES = (7, 0)  # compute capability from which float16 matmuls run on Tensor Cores (V100, T4, A100, H100)


def profile() -> str:
    """Return the active profile, ``quick`` or ``full``, from ``UDL_PROFILE`` (default ``full``)."""
    return settings.profile()


def pick(quick, full):
    """Return `quick` in the quick profile and `full` in the full profile.

    Example:

    ```python
    EPOCHS = runtime.pick(quick=3, full=15)
    ```
    """
    return quick if profile() == "quick" else full


def is_quick() -> bool:
    """Return True in the quick profile."""
    return profile() == "quick"


def elapsed() -> float | None:
    """Return the seconds since `setup()` was called in this process, or None before it."""
    return None if _started is None else time.perf_counter() - _started


@dataclass(frozen=True)
class Runtime:
    """What `setup()` found: versions, device and settings."""

    tensorflow: str
    keras: str
    gpus: tuple[str, ...]
    profile: str
    seed: int
    mixed_precision: bool
    deterministic: bool
    data_policy: str
    replicas: int = 1
    max_steps: int | None = None

    @property
    def device(self) -> str:
        """Describe the device in words."""
        if self.gpus:
            return "GPU: " + ", ".join(self.gpus)
        return f"CPU only ({COLAB_HINT})"

    def _ipython_display_(self):
        """Show nothing: `setup()` has printed the summary already (a cell ending in setup() would repeat it)."""

    def summary(self) -> str:
        """Return the one-line summary `setup()` prints."""
        extras = [name for name, on in ((f"{self.replicas} replicas (MirroredStrategy)", self.replicas > 1),
                                        ("mixed precision", self.mixed_precision),
                                        ("deterministic ops", self.deterministic)) if on]
        if self.max_steps:
            extras.append(f"training capped at {self.max_steps} steps per epoch, {stepcap.EPOCHS} epochs (UDL_MAX_STEPS)")
        return " | ".join(
            [f"TensorFlow {self.tensorflow}, Keras {self.keras}", self.device,
             f"profile {self.profile}", f"seed {self.seed}"] + extras + [f"data: {self.data_policy}"]
        )


def wants_mixed_precision(setting, profile_name: str, capabilities: list[tuple[int, int]]) -> bool:
    """Return whether `setup(mixed_precision=setting)` uses float16 on GPUs of these compute capabilities."""
    if setting == "auto":  # where it pays: the full profile's long runs on Tensor Core GPUs
        return profile_name == "full" and bool(capabilities) and min(capabilities) >= TENSOR_CORES
    if not isinstance(setting, bool):
        raise _checks.fail("mixed_precision", "True, False or 'auto'", setting)
    return setting and bool(capabilities)


def _describe_gpu(details: dict, fallback: str) -> str:
    name, capability = details.get("device_name", fallback), details.get("compute_capability")
    return f"{name} (compute capability {capability[0]}.{capability[1]})" if capability else name


def _check_distribute(value):
    """Return `value` if it is True, False or a non-empty list/tuple of device names, else raise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (list, tuple)) and value and all(isinstance(d, str) and d.strip() for d in value):
        return tuple(value)
    raise _checks.fail("distribute", "True, False or a non-empty list of device names such as ['/gpu:0', '/gpu:1']",
                       value)


def _make_strategy(distribute, tf):
    """Return the tf.distribute strategy that `setup(distribute=...)` asks for."""
    if distribute is False:
        return tf.distribute.get_strategy()
    if distribute is True:
        # Every visible GPU; without one, the logical CPUs a test (or a user) split the processor into.
        devices = [d.name for d in tf.config.list_logical_devices("GPU")] or \
                  [d.name for d in tf.config.list_logical_devices("CPU")]
        if len(devices) < 2:
            return tf.distribute.get_strategy()  # one device: nothing to mirror
    else:
        devices = list(distribute)
    return tf.distribute.MirroredStrategy(devices=devices)


def strategy():
    """Return the distribution strategy chosen by `setup(distribute=...)` (TensorFlow's default one otherwise).

    Example:

    ```python
    runtime.setup(distribute=True)
    with runtime.strategy().scope():         # variables are created on (and mirrored to) every GPU
        model = keras.Sequential([...])
        model.compile(...)
    ```
    """
    import tensorflow as tf

    return _strategy if _strategy is not None else tf.distribute.get_strategy()


def replicas() -> int:
    """Return how many devices train in step: 1 unless `setup(distribute=True)` found several GPUs."""
    return int(strategy().num_replicas_in_sync)


def global_batch(per_replica: int) -> int:
    """Return the batch size of one training step when each device takes `per_replica` examples.

    Example:

    ```python
    BATCH = runtime.global_batch(64)         # 64 on one device, 128 on two GPUs
    ```
    """
    return _checks.positive_int("per_replica", per_replica) * replicas()


def setup(seed: int = 42, *, mixed_precision: bool | str = False, deterministic: bool = False,
          distribute: bool | list = False, verbose: bool = True) -> Runtime:
    """Seed Python/NumPy/TensorFlow, configure the device and print one line saying what is in use.

    Args:
        seed: passed to ``keras.utils.set_random_seed``; layers built afterwards are reproducible.
        mixed_precision: use the ``mixed_float16`` policy (only on a GPU; ignored with a note on CPU), or
            ``"auto"``: use it in the full profile on a GPU with Tensor Cores (compute capability >= 7.0,
            e.g. Colab's T4), where float16 matmuls and convolutions run on Tensor Cores; float32 elsewhere.
        deterministic: make TensorFlow ops deterministic (slower on GPU; CPU ops mostly are already).
        distribute: ``True`` trains on all visible GPUs with ``tf.distribute.MirroredStrategy`` (nothing
            changes on one device); a list of device names mirrors over exactly those. See `strategy()`.
        verbose: print the summary line.

    Example:

    ```python
    runtime.setup()                          # the last line of every notebook's setup cell
    runtime.setup(mixed_precision="auto")    # float16 on a Colab T4 in the full profile, float32 elsewhere
    runtime.setup(distribute=True)           # every GPU of the machine; then build models in strategy().scope()
    ```
    """
    global _started, _strategy
    seed = _checks.seed("seed", seed)
    distribute = _check_distribute(distribute)
    active = profile()
    wants_mixed_precision(mixed_precision, active, [])  # refuses a bad value before TensorFlow loads
    max_steps = settings.max_steps()  # a bad UDL_MAX_STEPS too
    _started = time.perf_counter()

    import tensorflow as tf  # imported here so that `import udl` stays fast
    import keras

    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        # RuntimeError: the GPU was initialised earlier in this kernel, and growth cannot change any more.
        with contextlib.suppress(RuntimeError):
            tf.config.experimental.set_memory_growth(gpu, True)
    details = [tf.config.experimental.get_device_details(g) for g in gpus]
    names = tuple(_describe_gpu(d, g.name) for d, g in zip(details, gpus))

    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    use_mixed = wants_mixed_precision(mixed_precision, active,
                                      [tuple(d.get("compute_capability") or (0, 0)) for d in details])
    keras.mixed_precision.set_global_policy("mixed_float16" if use_mixed else "float32")
    _strategy = _make_strategy(distribute, tf)
    stepcap.install()  # only with UDL_MAX_STEPS: every fit and evaluate cut to a few timed steps

    info = Runtime(tensorflow=tf.__version__, keras=keras.__version__, gpus=names, profile=active,
                   seed=seed, mixed_precision=use_mixed, deterministic=deterministic,
                   data_policy=settings.policy(), replicas=replicas(), max_steps=max_steps)
    if verbose:
        print(info.summary())
        if mixed_precision is True and not gpus:
            print("note: mixed precision needs a GPU; running in float32.")
    return info
