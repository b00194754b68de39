"""Sound as data: read and pad/trim waveforms, plot waveforms and spectrograms on real axes, play clips.

```python
from udl import audio
waves = audio.pad_or_trim(fsdd.x_train, 8000)                  # (N, 8000) float32: 1 s at 8 kHz
audio.plot_spectrogram(log_mel, sample_rate=8000, hop_length=128, frequencies=audio.mel_frequencies(40, 8000))
audio.player(waves[0], 8000)                                   # a play button in the notebook
```

Spectrograms are taken as (frequency bins, frames), the layout of ``keras.layers.MelSpectrogram``; transpose
the (frames, bins) output of ``tf.signal.stft`` or ``keras.layers.STFTSpectrogram`` first. Nothing here imports
TensorFlow.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Audio
from scipy import signal

from udl import formats
from udl._checks import fail, positive_int

MEL_BREAK_HZ, MEL_HIGH_Q = 700.0, 1127.0  # the HTK mel scale, as keras.layers.MelSpectrogram uses it
MIN_PLAYBACK_RATE = 8000  # browsers do not all play WAV files below this rate
NICE_HZ = (0, 50, 100, 200, 250, 500, 1000, 2000, 4000, 8000, 16000, 22050)


def read(path, length: int | None = None) -> tuple[np.ndarray, int]:
    """Read a mono 16-bit WAV file as float32 in [-1, 1], padded or trimmed to `length` samples when given.

    Example:
        >>> wave, rate = audio.read("recordings/0_george_0.wav", length=8000)
    """
    if not isinstance(path, (str, Path)):
        raise fail("path", "a file path (str or pathlib.Path)", path, TypeError)
    if not Path(path).is_file():
        raise fail("path", "an existing WAV file", str(path), FileNotFoundError)
    wave, rate = formats.read_wav(Path(path))
    return (wave if length is None else pad_or_trim(wave, length)), rate


def _wave(arg: str, wave) -> np.ndarray:
    """Return one waveform as a 1-D finite float32 array, or raise."""
    array = np.asarray(wave.numpy() if hasattr(wave, "numpy") else wave)
    if array.ndim != 1 or array.size == 0 or not np.issubdtype(array.dtype, np.number):
        raise fail(arg, "a non-empty 1-D array of samples", wave)
    array = array.astype(np.float32)
    if not np.all(np.isfinite(array)):
        raise fail(arg, "finite samples (no NaN or inf)", wave)
    return array


def pad_or_trim(waves, length: int) -> np.ndarray:
    """Pad with silence at the end, or cut the end off, so that every waveform has `length` samples.

    Takes one 1-D waveform (returns shape (length,)) or a list or 2-D array of them (returns (N, length)).

    Example:
        >>> x_train = audio.pad_or_trim(fsdd.x_train, 8000)   # 1 s at 8 kHz
    """
    length = positive_int("length", length)
    if isinstance(waves, np.ndarray) and waves.ndim == 1:
        return pad_or_trim([waves], length)[0]
    if isinstance(waves, (str, bytes)) or not hasattr(waves, "__len__") or len(waves) == 0:
        raise fail("waves", "one 1-D waveform, or a non-empty list or 2-D array of waveforms", waves)
    out = np.zeros((len(waves), length), np.float32)
    for i, wave in enumerate(waves):
        wave = _wave(f"waves[{i}]", wave)[:length]
        out[i, : len(wave)] = wave
    return out


def mel_frequencies(num_mel_bins: int, sample_rate: int, min_freq: float = 20.0,
                    max_freq: float | None = None) -> np.ndarray:
    """Return the centre frequency in Hz of each bin of ``keras.layers.MelSpectrogram`` with these settings.

    Example:
        >>> audio.mel_frequencies(40, 8000, min_freq=20)[[0, -1]]   # the lowest and highest band
        array([  53.7..., 3789.7...])
    """
    num_mel_bins, sample_rate = positive_int("num_mel_bins", num_mel_bins), positive_int("sample_rate", sample_rate)
    max_freq = sample_rate / 2 if max_freq is None else max_freq
    if not 0 <= min_freq < max_freq <= sample_rate / 2:
        raise fail("min_freq, max_freq", f"0 <= min_freq < max_freq <= sample_rate / 2 = {sample_rate / 2:g}",
                   (min_freq, max_freq))
    mel = np.linspace(*(MEL_HIGH_Q * np.log1p(np.array([min_freq, max_freq]) / MEL_BREAK_HZ)), num_mel_bins + 2)
    return MEL_BREAK_HZ * np.expm1(mel[1:-1] / MEL_HIGH_Q)


def _ax(ax):
    return plt.subplots(figsize=(6, 2.5))[1] if ax is None else ax


def plot_waveform(wave, sample_rate: int, ax=None, title: str | None = None):
    """Plot a waveform against time in seconds; return the axes.

    Example:
        >>> audio.plot_waveform(fsdd.x_train[0], fsdd.sample_rate, title="a spoken 'zero'")
    """
    wave, sample_rate = _wave("wave", wave), positive_int("sample_rate", sample_rate)
    ax = _ax(ax)
    ax.plot(np.arange(len(wave)) / sample_rate, wave, lw=0.6)
    ax.set(xlabel="time (s)", ylabel="amplitude", title=title or f"waveform, {sample_rate:,} samples per second",
           xlim=(0, len(wave) / sample_rate))
    return ax


def plot_spectrogram(spectrogram, sample_rate: int, hop_length: int, frequencies=None, ax=None,
                     title: str | None = None, colorbar_label: str = "dB"):
    """Show a (frequency bins, frames) spectrogram with time in seconds and frequency in Hz; return the axes.

    Args:
        frequencies: the centre frequency of each bin in Hz, e.g. `mel_frequencies(...)` for a mel
            spectrogram; by default the bins are evenly spaced from 0 Hz to sample_rate / 2, as an STFT's are.

    Example:
        >>> audio.plot_spectrogram(log_mel[0], 8000, hop_length=128, frequencies=audio.mel_frequencies(40, 8000))
    """
    spec = np.asarray(spectrogram.numpy() if hasattr(spectrogram, "numpy") else spectrogram)
    if spec.ndim != 2 or min(spec.shape) < 2 or not np.issubdtype(spec.dtype, np.number):
        raise fail("spectrogram", "a 2-D array (frequency bins, frames) with at least 2 of each", spectrogram)
    sample_rate, hop_length = positive_int("sample_rate", sample_rate), positive_int("hop_length", hop_length)
    n_bins, n_frames = spec.shape
    if frequencies is None:
        frequencies = np.linspace(0, sample_rate / 2, n_bins)
    frequencies = np.asarray(frequencies, dtype=float)
    if frequencies.shape != (n_bins,) or np.any(np.diff(frequencies) <= 0):
        raise fail("frequencies", f"{n_bins} increasing frequencies in Hz, one per row of `spectrogram`", frequencies)
    ax = _ax(ax)
    seconds = n_frames * hop_length / sample_rate  # frame t is centred at t * hop_length / sample_rate
    half = hop_length / sample_rate / 2
    image = ax.imshow(spec, origin="lower", aspect="auto", cmap="magma", extent=(-half, seconds - half, -0.5, n_bins - 0.5))
    ticks, rows = [], []
    for hz in NICE_HZ:  # round frequencies, at least a tenth of the axis apart
        row = float(np.interp(hz, frequencies, np.arange(n_bins)))
        if frequencies[0] <= hz <= frequencies[-1] and (not rows or row - rows[-1] >= n_bins / 10):
            ticks.append(hz)
            rows.append(row)
    ax.set_yticks(rows, [f"{hz:,}" for hz in ticks])
    ax.set(xlabel="time (s)", ylabel="frequency (Hz)", title=title or "spectrogram")
    ax.figure.colorbar(image, ax=ax, label=colorbar_label, pad=0.01)
    return ax


def player(wave, sample_rate: int, normalize: bool = True):
    """Return an `IPython.display.Audio` player for one waveform (values in [-1, 1] when `normalize=False`).

    With ``normalize=True`` (the default) the clip is scaled to full volume; pass False to hear it as loud as
    it is, e.g. to compare a clip with a quieter copy. Rates below 8 kHz, which not every browser plays, are
    played at a multiple of the rate after an ideal reconstruction filter (`scipy.signal.resample_poly`), as a
    sound card would: it sounds the same.

    Example:
        >>> audio.player(fsdd.x_train[0], fsdd.sample_rate)
    """
    wave, sample_rate = _wave("wave", wave), positive_int("sample_rate", sample_rate)
    if not normalize and np.abs(wave).max() > 1:
        raise fail("wave", "samples in [-1, 1] when normalize=False", f"peak {np.abs(wave).max():.3g}")
    if sample_rate < MIN_PLAYBACK_RATE:
        factor = math.ceil(MIN_PLAYBACK_RATE / sample_rate)
        wave, sample_rate = signal.resample_poly(wave, factor, 1), sample_rate * factor
        wave = np.clip(wave, -1, 1) if not normalize else wave  # the filter may overshoot a full-scale sample
    return Audio(wave, rate=sample_rate, normalize=normalize)


class Players:
    """Several labelled players in one row; displays itself in a notebook (see `players`)."""

    def __init__(self, items: list[tuple[str, object]]):
        self.items = items

    def _repr_html_(self) -> str:
        cells = "".join(f"<td style='text-align:center'>{html.escape(label)}<br>{widget._repr_html_()}</td>"
                        for label, widget in self.items)
        return f"<table><tr>{cells}</tr></table>"

    def __repr__(self) -> str:
        return f"<{len(self.items)} audio players: {', '.join(label for label, _ in self.items)}>"


def players(waves, sample_rate, labels=None, normalize: bool = True) -> Players:
    """Return a row of players, one per waveform, each with its label above it.

    Args:
        sample_rate: one rate for all, or a list with one per waveform.

    Example:
        >>> audio.players(x_test[:4], 8000, labels=[f"said {d}" for d in y_test[:4]])
    """
    if isinstance(waves, np.ndarray) and waves.ndim == 1:
        raise fail("waves", "a list or 2-D array of waveforms (use `player` for one)", waves)
    if not hasattr(waves, "__len__") or len(waves) == 0:
        raise fail("waves", "a non-empty list or 2-D array of waveforms", waves)
    labels = [str(i) for i in range(len(waves))] if labels is None else [str(label) for label in labels]
    if len(labels) != len(waves):
        raise fail("labels", f"{len(waves)} labels, one per waveform", f"{len(labels)} labels")
    rates = list(sample_rate) if isinstance(sample_rate, (list, tuple, np.ndarray)) else [sample_rate] * len(waves)
    if len(rates) != len(waves):
        raise fail("sample_rate", f"one rate, or {len(waves)} rates (one per waveform)", f"{len(rates)} rates")
    return Players([(label, player(wave, rate, normalize)) for label, wave, rate in zip(labels, waves, rates)])


def snr_db(clean, noisy) -> float:
    """Return the signal-to-noise ratio in dB of `noisy` against `clean` (same length): how much was lost.

    Example:
        >>> audio.snr_db(wave, np.round(wave * 128) / 128)   # 8 bits: about 6 dB per bit, below full scale
    """
    clean, noisy = _wave("clean", clean), _wave("noisy", noisy)
    if clean.shape != noisy.shape:
        raise fail("noisy", f"a waveform of the same length as `clean` ({len(clean)})", noisy)
    noise = float(np.sum((noisy - clean) ** 2))
    return math.inf if noise == 0 else float(10 * np.log10(np.sum(clean ** 2) / noise))

