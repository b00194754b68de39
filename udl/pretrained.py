"""Pretrained networks from ``keras.applications``, loaded so that a missing network never hangs a notebook.

```python
from udl import pretrained
base = pretrained.load_application("MobileNetV3Small", input_shape=(96, 96, 3))  # a keras.Model, or None
```

Keras downloads ImageNet weights once into ``~/.keras/models`` (or ``$KERAS_HOME/models``) with no time
limit of its own. Here that download honours ``UDL_OFFLINE`` (no download at all) and
``UDL_DOWNLOAD_TIMEOUT`` (for every read); the server must accept a connection, name lookup included,
within `CONNECT_TIMEOUT` seconds. A failure returns None with a printed reason and what to do instead.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import warnings
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

import keras
from keras.src.utils import file_utils  # where keras.applications downloads its weights (`urlretrieve`)

from udl import download, settings
from udl._checks import fail


CONNECT_TIMEOUT = 3.0  # seconds for a server to accept a connection (less if UDL_DOWNLOAD_TIMEOUT is smaller)


class _Refused(Exception):
    """The weights are not on this machine and cannot be downloaded now (the reason is the message)."""


def reachable(host: str, port: int, timeout: float) -> bool:
    """Return True if `host` accepts a connection on `port` within `timeout` seconds, name lookup included."""
    answered: list[bool] = []

    def probe():  # in a thread: the name lookup itself has no time limit
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            answered.append(True)
        except OSError:
            answered.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return answered == [True]


def _retrieve(origin: str, target: str, *_progress) -> None:
    """Download `origin` to `target` for Keras: refused offline or when the server does not answer in time."""
    if settings.offline():
        raise _Refused("downloads are switched off (UDL_OFFLINE=1)")
    parts = urlsplit(origin)
    seconds = min(CONNECT_TIMEOUT, settings.download_timeout())
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if not reachable(parts.hostname or "", port, seconds):
        raise _Refused(f"no connection to {parts.hostname} within {seconds:g} s (no network here, or it is blocked)")
    print(f"Downloading {Path(target).name} (once) into {Path(target).parent}")
    Path(target).unlink(missing_ok=True)  # Keras asks again when a cached file's hash is wrong
    try:
        download.fetch(origin, Path(target), None, progress=False)
    except download.DownloadError as error:
        raise _Refused(f"the download failed: {error.reason}") from None


def _application(name):
    builder = getattr(keras.applications, name, None) if isinstance(name, str) else None
    if not (callable(builder) and name[:1].isupper()):
        raise fail("name", "the name of a model in keras.applications, e.g. 'MobileNetV3Small'", name)
    return builder


def load_application(name: str, input_shape, **options):
    """Return ``keras.applications.<name>`` with its ImageNet weights, or None (printing why) if they cannot be had.

    The weights come from Keras's cache when they are there; otherwise they are downloaded, unless
    ``UDL_OFFLINE=1``, or the server does not accept a connection within `CONNECT_TIMEOUT` seconds, or a read
    waits longer than ``UDL_DOWNLOAD_TIMEOUT`` seconds.

    Args:
        name: a model of ``keras.applications``, e.g. ``"MobileNetV3Small"``, ``"EfficientNetB0"``.
        input_shape: the shape of one image, (height, width, 3).
        **options: passed on; the defaults are ``include_top=False, pooling="avg"`` (one feature vector per image).

    Example:
        >>> base = pretrained.load_application("MobileNetV3Small", input_shape=(96, 96, 3))
        >>> if base is not None:
        ...     features = base.predict(images)          # (N, 576): one vector per image
    """
    builder = _application(name)
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else None
    if not (shape and len(shape) == 3 and shape[-1] == 3
            and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape)):
        raise fail("input_shape", "the shape of one colour image, (height, width, 3)", input_shape)
    options = {"include_top": False, "pooling": "avg", **options, "weights": "imagenet"}
    wanted = []  # the weights file Keras asked for, if it had to download it

    def retrieve(origin, target, *progress):
        wanted.append(Path(target))
        _retrieve(origin, target, *progress)

    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.object(file_utils, "urlretrieve", retrieve))
        if keras.config.is_interactive_logging_enabled():  # Keras's own "Downloading data from" comes too early
            keras.config.disable_interactive_logging()
            stack.callback(keras.config.enable_interactive_logging)
        stack.enter_context(warnings.catch_warnings())
        warnings.filterwarnings("ignore", message=r".*[Ww]eights for input shape", category=UserWarning)
        try:
            return builder(input_shape=shape, **options)
        except _Refused as refused:
            why = str(refused)
        except ValueError as error:  # Keras checks the downloaded file's hash
            if not (wanted and re.search(r"hash", str(error))):
                raise
            why = "the downloaded file is corrupted (its hash does not match Keras's)"
    print(f"No ImageNet weights for {name}: {why}.\nTo use them, run this notebook on Colab (or any machine with "
          f"a network), or copy {wanted[-1].name} from such a machine into {wanted[-1].parent}.")
    return None
