"""Tests for udl.runtime.setup: the one summary line, seeding, and argument checks (the only tests importing TensorFlow)."""

import numpy as np
import pytest

from udl import runtime


@pytest.fixture(scope="module")
def tf():
    import tensorflow

    return tensorflow


def test_setup_prints_exactly_one_line_saying_versions_device_profile_and_data_policy(tf, capsys, isolate):
    import keras

    info = runtime.setup()
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    assert len(lines) == 1 and out.endswith("\n")
    line = lines[0]
    assert line == info.summary()
    assert f"TensorFlow {tf.__version__}, Keras {keras.__version__}" in line
    if tf.config.list_physical_devices("GPU"):
        assert "GPU: " in line
    else:  # this machine: say so, and how to get a GPU
        assert "CPU only" in line and runtime.COLAB_HINT in line
    assert "profile quick" in line and "seed 42" in line
    assert f"data: no mirror (UDL_DATA_DIR unset) > cache {isolate.cache} > download > built-in sample" in line
    assert info.profile == "quick" and info.seed == 42 and info.mixed_precision is False
    assert runtime.elapsed() is not None and runtime.elapsed() >= 0


def test_setup_line_follows_the_environment(tf, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("UDL_PROFILE", "full")
    monkeypatch.setenv("UDL_OFFLINE", "1")
    monkeypatch.setenv("UDL_DATA_DIR", str(tmp_path / "mirror"))
    runtime.setup(seed=3)  # not deterministic=True here: TensorFlow cannot switch op determinism off again
    line = capsys.readouterr().out.strip()
    assert "profile full" in line and "seed 3" in line and "deterministic" not in line
    assert f"data: mirror {tmp_path / 'mirror'} > cache " in line and "no downloads (UDL_OFFLINE=1)" in line


def test_summary_names_the_options_in_use():
    info = runtime.Runtime(tensorflow="2.21.0", keras="3.14.0", gpus=("NVIDIA H100",), profile="full", seed=1,
                           mixed_precision=True, deterministic=True, data_policy="P")
    assert info.summary() == ("TensorFlow 2.21.0, Keras 3.14.0 | GPU: NVIDIA H100 | profile full | seed 1 | "
                              "mixed precision | deterministic ops | data: P")


def test_mixed_precision_on_cpu_is_refused_with_a_note(tf, capsys):
    import keras

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    info = runtime.setup(mixed_precision=True)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[1] == "note: mixed precision needs a GPU; running in float32."
    assert info.mixed_precision is False and keras.mixed_precision.global_policy().name == "float32"


def test_setup_quietly(tf, capsys):
    runtime.setup(verbose=False)
    assert capsys.readouterr() == ("", "")


def test_same_seed_same_draws_other_seed_other_draws(tf):
    import random

    import keras

    def draws(seed):
        runtime.setup(seed, verbose=False)
        return np.random.rand(4), keras.ops.convert_to_numpy(keras.random.uniform((4,))), random.random()

    def layer_weights(seed):
        runtime.setup(seed, verbose=False)
        layer = keras.layers.Dense(3)
        layer.build((None, 2))
        return keras.ops.convert_to_numpy(layer.kernel)

    first, second, other = draws(7), draws(7), draws(8)
    for a, b, c in zip(first, second, other):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)
    np.testing.assert_array_equal(layer_weights(7), layer_weights(7))
    assert not np.array_equal(layer_weights(7), layer_weights(8))


@pytest.mark.parametrize("seed", [-1, 1.5, "42", True, None])
def test_bad_seed_is_named(seed):
    with pytest.raises(ValueError, match="`seed` must be a non-negative integer") as info:
        runtime.setup(seed)
    assert repr(seed) in str(info.value)


def test_bad_profile_fails_before_anything_else(monkeypatch):
    monkeypatch.setenv("UDL_PROFILE", "Quickest")
    with pytest.raises(ValueError, match="UDL_PROFILE.*'Quickest'"):
        runtime.setup()


def test_profile_is_case_and_space_tolerant(monkeypatch):
    monkeypatch.setenv("UDL_PROFILE", " Quick ")
    assert runtime.profile() == "quick"
    monkeypatch.delenv("UDL_PROFILE")
    assert runtime.profile() == runtime.DEFAULT_PROFILE == "full"


@pytest.mark.parametrize("setting, profile, capabilities, expected", [
    ("auto", "full", [(7, 5)], True),            # Colab's T4
    ("auto", "full", [(8, 0), (9, 0)], True),    # A100 and H100 together
    ("auto", "full", [(6, 0)], False),           # P100: no Tensor Cores, float16 does not pay
    ("auto", "full", [(8, 0), (6, 1)], False),   # one old card among them: all in float32
    ("auto", "quick", [(7, 5)], False),          # short runs: not worth the numerics
    ("auto", "full", [], False),                 # CPU
    (True, "quick", [(6, 0)], True), (True, "full", [], False), (False, "full", [(8, 0)], False),
])
def test_mixed_precision_auto_uses_float16_in_the_full_profile_on_tensor_core_gpus(setting, profile, capabilities,
                                                                                   expected):
    assert runtime.wants_mixed_precision(setting, profile, capabilities) is expected


@pytest.mark.parametrize("setting", ["yes", 1, None, "Auto"])
def test_bad_mixed_precision_is_named_before_tensorflow_loads(setting):
    with pytest.raises(ValueError, match=r"`mixed_precision` must be True, False or 'auto'; received: " + repr(setting)):
        runtime.setup(mixed_precision=setting)


def test_gpus_are_named_with_their_compute_capability():
    assert runtime._describe_gpu({"device_name": "Tesla T4", "compute_capability": (7, 5)}, "GPU:0") == \
        "Tesla T4 (compute capability 7.5)"
    assert runtime._describe_gpu({}, "/physical_device:GPU:0") == "/physical_device:GPU:0"


def test_auto_mixed_precision_on_cpu_stays_float32_without_a_note(tf, capsys, monkeypatch):
    import keras

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    monkeypatch.setenv("UDL_PROFILE", "full")
    info = runtime.setup(mixed_precision="auto")
    assert len(capsys.readouterr().out.splitlines()) == 1
    assert info.mixed_precision is False and keras.mixed_precision.global_policy().name == "float32"


# ---------------------------------------------------------------- UDL_MAX_STEPS: the smoke run's step cap
@pytest.fixture
def capped(tf, monkeypatch):
    """UDL_MAX_STEPS=3 and a fresh setup(); the wrappers are removed afterwards."""
    from udl import stepcap

    monkeypatch.setenv("UDL_MAX_STEPS", "3")
    runtime.setup(verbose=False)
    yield stepcap
    stepcap.uninstall()


class _Count:
    def __new__(cls):
        import keras

        class Count(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.train, self.test, self.epochs = 0, 0, []

            def on_epoch_begin(self, epoch, logs=None):
                self.epochs.append(epoch)

            def on_train_batch_end(self, batch, logs=None):
                self.train += 1

            def on_test_batch_end(self, batch, logs=None):
                self.test += 1

        return Count()


def _tiny_model():
    import keras

    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _arrays(n=1000):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 4)).astype("float32"), rng.integers(0, 3, size=n)


def test_max_steps_caps_fit_to_a_few_timed_steps_per_epoch_and_two_epochs(capped, capsys):
    x, y = _arrays()
    count = _Count()
    history = _tiny_model().fit(x, y, batch_size=10, epochs=5, validation_split=0.2, callbacks=[count], verbose=0)
    assert count.epochs == [0, 1] and len(history.history["loss"]) == 2
    assert count.train == 2 * 3 and count.test == 2 * 3
    (record,) = capped.records()
    # what the uncapped fit would have run: 800 training rows in batches of 10, 200 validation rows
    assert record["call"] == "fit" and record["epochs"] == 5
    assert record["steps_per_epoch"] == 80 and record["validation_steps"] == 20 and record["steps_run"] == 6
    assert record["seconds_per_step"] > 0 and record["seconds_per_validation_step"] > 0


def test_max_steps_keeps_initial_epoch_and_counts_datasets_and_given_steps(capped, tf):
    x, y = _arrays(640)
    model, count = _tiny_model(), _Count()
    model.fit(x, y, epochs=10, initial_epoch=4, callbacks=[count], verbose=0)  # a second stage of training
    assert count.epochs == [4, 5] and count.train == 6
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(64)
    model.fit(data, validation_data=data, epochs=3, verbose=0)
    model.fit(data.repeat(), steps_per_epoch=50, epochs=1, verbose=0)
    first, second, third = capped.records()
    assert (first["epochs"], first["steps_per_epoch"], first["validation_steps"]) == (6, 20, 0)
    assert (second["epochs"], second["steps_per_epoch"], second["validation_steps"]) == (3, 10, 10)
    assert (third["epochs"], third["steps_per_epoch"], third["steps_run"]) == (1, 50, 3)


def test_max_steps_caps_evaluate_but_not_predict(capped):
    x, y = _arrays()
    model, count = _tiny_model(), _Count()
    loss, accuracy = model.evaluate(x, y, callbacks=[count], verbose=0)
    assert count.test == 3 and 0 <= accuracy <= 1
    assert model.predict(x, verbose=0).shape == (1000, 3)
    (record,) = capped.records()
    assert record["call"] == "evaluate" and record["steps_per_epoch"] == 32 and record["steps_run"] == 3


def test_max_steps_caps_the_learning_rate_finder_at_its_ten_step_minimum(capped):
    from udl import training

    x, y = _arrays()
    finder = training.find_learning_rate(_tiny_model(), x, y, steps=100, batch_size=10)
    assert len(finder.raw_losses) <= 10
    (record,) = capped.records()
    assert record["call"] == "find_learning_rate" and record["steps_per_epoch"] == 100 and record["steps_run"] <= 10


def test_setup_names_the_cap_and_without_it_nothing_is_wrapped(tf, monkeypatch, capsys):
    import keras

    from udl import stepcap

    runtime.setup(verbose=False)
    assert not getattr(keras.Model.fit, "_udl_capped", False)
    x, y = _arrays(200)
    assert len(_tiny_model().fit(x, y, epochs=3, verbose=0).history["loss"]) == 3
    monkeypatch.setenv("UDL_MAX_STEPS", "2")
    try:
        info = runtime.setup()
        assert "training capped at 2 steps per epoch, 2 epochs (UDL_MAX_STEPS)" in capsys.readouterr().out
        assert info.max_steps == 2 and keras.Model.fit._udl_capped
    finally:
        stepcap.uninstall()
    assert not getattr(keras.Model.fit, "_udl_capped", False)


def test_a_threshold_missed_under_the_cap_is_reported_and_recorded_not_raised(capped, capsys, monkeypatch):
    import json

    from udl import results

    path = results.record("99_smoke", accuracy=0.1)
    results.require(0.1, at_least=0.9, what="test accuracy")
    assert "not enforced: test accuracy is 0.1, below the expected 0.9" in capsys.readouterr().out
    x, y = _arrays(100)
    _tiny_model().fit(x, y, verbose=0)  # after record: still written into the notebook's file
    entry = json.loads(path.read_text())
    assert entry["step_cap"]["max_steps"] == 3 and entry["step_cap"]["unmet"] == ["test accuracy is 0.1, below the expected 0.9"]
    assert [c["call"] for c in entry["step_cap"]["calls"]] == ["fit"]
    monkeypatch.delenv("UDL_MAX_STEPS")
    with pytest.raises(AssertionError, match="below the expected"):
        results.require(0.1, at_least=0.9, what="test accuracy")


def test_max_steps_times_each_step_when_keras_runs_several_per_execution(capped):
    x, y = _arrays()
    model = _tiny_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", steps_per_execution=4)
    count = _Count()
    model.fit(x, y, batch_size=10, epochs=3, callbacks=[count], verbose=0)
    model.evaluate(x, y, batch_size=10, verbose=0)
    fit, evaluate = capped.records()
    # 3 steps would be one execution, the one that traces: two executions of 4 are run so that one is timed
    assert count.train == 2 * 2 and fit["steps_run"] == 2 * 8 and fit["steps_per_epoch"] == 100
    assert evaluate["steps_run"] == 8 and evaluate["steps_per_epoch"] == 100
    assert 0 < fit["cpu_seconds_per_step"] < fit["cpu_seconds"] / 4  # per step, not per execution of 4
