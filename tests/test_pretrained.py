"""udl.pretrained: ImageNet weights from Keras's cache or a time-limited download, else None and a reason.

No test reaches the network: a tiny stand-in application downloads its weights through the same Keras
function as keras.applications, from the loopback server of conftest.py.
"""

import time

import keras
import numpy as np
import pytest
from keras.src.backend import config as keras_config

from udl import pretrained

WEIGHTS = "tiny.weights.h5"


def tiny_model(input_shape):
    return keras.Sequential([keras.Input(input_shape), keras.layers.Conv2D(2, 3, name="conv"),
                             keras.layers.GlobalAveragePooling2D()])


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """Point Keras's cache (~/.keras) at an empty tmp folder; return its models/ folder."""
    (tmp_path / "keras").mkdir()  # Keras falls back to /tmp/.keras when the folder does not exist
    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(tmp_path / "keras"))
    return tmp_path / "keras" / "models"


@pytest.fixture
def tiny(tmp_path, monkeypatch, sha):
    """Register keras.applications.TinyNet, which fetches its weights like the real ones; return its weights."""
    source = tmp_path / WEIGHTS
    saved = tiny_model((8, 8, 3))
    saved.save_weights(source)
    weights = source.read_bytes()
    origin = {"url": "http://127.0.0.1:9/unused", "hash": sha(weights)}

    def tiny_net(input_shape, include_top=False, pooling="avg", weights="imagenet"):
        assert (include_top, pooling, weights) == (False, "avg", "imagenet")
        model = tiny_model(input_shape)
        path = keras.utils.get_file(WEIGHTS, origin["url"], cache_subdir="models", file_hash=origin["hash"])
        model.load_weights(path)
        return model

    monkeypatch.setattr(keras.applications, "TinyNet", tiny_net, raising=False)
    return type("Tiny", (), {"weights": weights, "origin": origin, "kernel": kernel(saved)})


def kernel(model):
    return model.get_layer("conv").kernel.numpy()


def test_downloads_once_from_the_server_then_uses_the_cache(tiny, keras_home, server, capsys):
    tiny.origin["url"] = server.put(WEIGHTS, tiny.weights)
    model = pretrained.load_application("TinyNet", input_shape=(8, 8, 3))
    assert model is not None and (keras_home / WEIGHTS).read_bytes() == tiny.weights
    np.testing.assert_array_equal(kernel(model), tiny.kernel)  # the served weights, not freshly initialised ones
    assert "Downloading tiny.weights.h5" in capsys.readouterr().out
    again = pretrained.load_application("TinyNet", input_shape=(8, 8, 3))
    np.testing.assert_array_equal(kernel(again), kernel(model))
    assert server.count(WEIGHTS) == 1


def test_offline_uses_cached_weights(tiny, keras_home, server, monkeypatch):
    tiny.origin["url"] = server.put(WEIGHTS, tiny.weights)
    keras_home.mkdir(parents=True)
    (keras_home / WEIGHTS).write_bytes(tiny.weights)
    monkeypatch.setenv("UDL_OFFLINE", "1")
    assert pretrained.load_application("TinyNet", input_shape=(8, 8, 3)) is not None
    assert server.count() == 0


def test_offline_without_weights_returns_none_at_once_and_says_what_to_do(tiny, keras_home, server, monkeypatch, capsys):
    tiny.origin["url"] = server.put(WEIGHTS, tiny.weights)
    monkeypatch.setenv("UDL_OFFLINE", "1")
    start = time.perf_counter()
    assert pretrained.load_application("TinyNet", input_shape=(8, 8, 3)) is None
    assert time.perf_counter() - start < 5
    out = capsys.readouterr().out
    assert "Downloading" not in out and keras.config.is_interactive_logging_enabled()
    assert "UDL_OFFLINE=1" in out and "Colab" in out and f"copy {WEIGHTS}" in out and str(keras_home) in out
    assert server.count() == 0 and not (keras_home / WEIGHTS).exists()


@pytest.mark.parametrize("route, reason", [("404", "HTTP error 404"), ("hang", "no answer within 0.5 s")])
def test_a_failed_download_returns_none_within_the_timeout(tiny, keras_home, server, monkeypatch, capsys,
                                                           route, reason):
    monkeypatch.setenv("UDL_DOWNLOAD_TIMEOUT", "0.5")
    tiny.origin["url"] = server.put(WEIGHTS, tiny.weights, route=route)
    start = time.perf_counter()
    assert pretrained.load_application("TinyNet", input_shape=(8, 8, 3)) is None
    assert time.perf_counter() - start < 10
    assert reason in capsys.readouterr().out
    assert not (keras_home / WEIGHTS).exists()


def test_a_server_that_refuses_is_not_waited_for(tiny, keras_home, monkeypatch, capsys):
    import socket

    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    tiny.origin["url"] = f"http://127.0.0.1:{port}/{WEIGHTS}"
    start = time.perf_counter()
    assert pretrained.load_application("TinyNet", input_shape=(8, 8, 3)) is None
    assert time.perf_counter() - start < 1.5  # refused at once: no need to wait for the 2 s timeout
    assert "no connection to 127.0.0.1 within 2 s" in capsys.readouterr().out


def test_corrupted_download_returns_none(tiny, keras_home, server, capsys):
    tiny.origin["url"] = server.put(WEIGHTS, b"not the weights")
    assert pretrained.load_application("TinyNet", input_shape=(8, 8, 3)) is None
    assert "corrupted" in capsys.readouterr().out


def test_a_real_application_offline_names_its_weights_file(keras_home, monkeypatch, capsys):
    monkeypatch.setenv("UDL_OFFLINE", "1")
    assert pretrained.load_application("MobileNetV3Small", input_shape=(32, 32, 3)) is None
    out = capsys.readouterr().out
    assert "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5" in out and "UDL_OFFLINE=1" in out


def test_other_errors_are_not_hidden(tiny, keras_home, monkeypatch):
    monkeypatch.setenv("UDL_OFFLINE", "1")
    with pytest.raises(AssertionError):  # an option the application refuses is the caller's error, not a download's
        pretrained.load_application("TinyNet", input_shape=(8, 8, 3), pooling="max")


@pytest.mark.parametrize("name", ["NoSuchNet", "mobilenet", 3, "imagenet_utils"])
def test_bad_name(name):
    with pytest.raises(ValueError, match="`name` must be the name of a model in keras.applications"):
        pretrained.load_application(name, input_shape=(32, 32, 3))


@pytest.mark.parametrize("shape", [(32, 32), (32, 32, 1), "32x32", (32.0, 32, 3), (0, 32, 3)])
def test_bad_input_shape(shape):
    with pytest.raises(ValueError, match=r"`input_shape` must be the shape of one colour image"):
        pretrained.load_application("MobileNetV3Small", input_shape=shape)


def test_reachable_gives_up_on_a_lookup_that_hangs(monkeypatch, server):
    import socket

    with monkeypatch.context() as patch:
        patch.setattr(socket, "create_connection", lambda *args, **kwargs: time.sleep(3))  # e.g. a stalled DNS
        start = time.perf_counter()
        assert pretrained.reachable("127.0.0.1", 80, timeout=0.3) is False
        assert time.perf_counter() - start < 1.0
    port = int(server.base.rsplit(":", 1)[1])
    assert pretrained.reachable("127.0.0.1", port, timeout=2) is True
