"""Tests for udl.audio: reading and pad/trim, mel centres that match Keras, real plot axes, players, bad input."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from conftest import write_wav  # noqa: E402
from udl import audio  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def tone(hz=440.0, seconds=0.5, rate=8000):
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


# ---------------------------------------------------------------- read, pad_or_trim
def test_read_returns_floats_in_unit_range_and_pads(tmp_path):
    write_wav(tmp_path / "a.wav", np.array([0, 16384, -32768, 32767] * 10), rate=8000)
    wave, rate = audio.read(tmp_path / "a.wav")
    assert rate == 8000 and wave.dtype == np.float32 and wave.shape == (40,)
    assert wave[1] == pytest.approx(0.5) and wave[2] == pytest.approx(-1.0)
    padded, _ = audio.read(str(tmp_path / "a.wav"), length=100)
    assert padded.shape == (100,) and np.all(padded[40:] == 0) and np.array_equal(padded[:40], wave)


def test_read_rejects_bad_paths(tmp_path):
    with pytest.raises(FileNotFoundError, match="`path` must be an existing WAV file"):
        audio.read(tmp_path / "missing.wav")
    with pytest.raises(TypeError, match="`path` must be a file path"):
        audio.read(123)


def test_pad_or_trim_pads_with_silence_and_cuts_the_end():
    out = audio.pad_or_trim([np.ones(3), np.arange(10, dtype=np.float64)], 5)
    assert out.shape == (2, 5) and out.dtype == np.float32
    assert out[0].tolist() == [1, 1, 1, 0, 0] and out[1].tolist() == [0, 1, 2, 3, 4]
    one = audio.pad_or_trim(np.ones(7), 4)
    assert one.shape == (4,)


@pytest.mark.parametrize("waves,length,name", [
    ([np.ones(3)], 0, "length"),
    ([np.ones(3)], 2.5, "length"),
    ([], 5, "waves"),
    ("abc", 5, "waves"),
    ([np.ones((2, 3))], 5, r"waves\[0\]"),
    ([np.ones(3), np.array([1.0, np.nan])], 5, r"waves\[1\]"),
    ([np.array(["a", "b"])], 5, r"waves\[0\]"),
])
def test_pad_or_trim_rejects_bad_input(waves, length, name):
    with pytest.raises(ValueError, match=f"`{name}` must be"):
        audio.pad_or_trim(waves, length)


# ---------------------------------------------------------------- mel frequencies
def test_mel_frequencies_match_the_peaks_of_keras_mel_filters():
    from keras.layers import MelSpectrogram

    layer = MelSpectrogram(fft_length=512, sampling_rate=8000, num_mel_bins=20, min_freq=20, max_freq=4000)
    weights = np.asarray(layer.linear_to_mel_weight_matrix(20, 257, 8000, 20.0, 4000.0))
    bin_hz = np.linspace(0, 4000, 257)
    centres = audio.mel_frequencies(20, 8000, min_freq=20, max_freq=4000)
    assert centres.shape == (20,) and np.all(np.diff(centres) > 0)
    # each filter peaks at the FFT bin nearest its centre (the bins are 15.6 Hz apart)
    assert np.all(np.abs(bin_hz[weights.argmax(axis=0)] - centres) <= 4000 / 256)


@pytest.mark.parametrize("args,kwargs,name", [
    ((0, 8000), {}, "num_mel_bins"),
    ((40, -1), {}, "sample_rate"),
    ((40, 8000), {"max_freq": 5000}, "min_freq, max_freq"),
    ((40, 8000), {"min_freq": 3000, "max_freq": 2000}, "min_freq, max_freq"),
])
def test_mel_frequencies_rejects_bad_input(args, kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}` must be"):
        audio.mel_frequencies(*args, **kwargs)


# ---------------------------------------------------------------- plots
def test_plot_waveform_has_a_time_axis_in_seconds():
    ax = audio.plot_waveform(tone(seconds=0.5), 8000)
    assert ax.get_xlabel() == "time (s)" and ax.get_xlim() == (0, 0.5)
    x = ax.lines[0].get_xdata()
    assert x[1] == pytest.approx(1 / 8000) and ax.get_title()


def test_plot_spectrogram_puts_a_tone_at_its_frequency_and_time():
    rate, hop, fft = 8000, 64, 256
    wave = np.concatenate([np.zeros(4000, np.float32), tone(1000, 0.5, rate)])  # silence, then 1 kHz
    frames = np.lib.stride_tricks.sliding_window_view(wave, fft)[::hop] * np.hanning(fft)
    spec = 20 * np.log10(np.abs(np.fft.rfft(frames)).T + 1e-6)  # (129 bins, frames)
    fig, ax = plt.subplots()
    assert audio.plot_spectrogram(spec, rate, hop, ax=ax) is ax
    assert ax.get_xlabel() == "time (s)" and ax.get_ylabel() == "frequency (Hz)"
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "1,000" in labels and "4,000" in labels
    tick_of_1k = ax.get_yticks()[labels.index("1,000")]
    peak_row = spec[:, -5].argmax()  # late in the clip: the tone
    assert abs(peak_row - tick_of_1k) <= 1  # the 1,000 Hz label sits on the tone's row
    assert np.all(np.diff(ax.get_yticks()) >= spec.shape[0] / 10)  # readable: no crowded labels at 0-250 Hz
    left, right = ax.images[0].get_extent()[:2]
    assert right - left == pytest.approx(spec.shape[1] * hop / rate)  # seconds, not frames


def test_plot_spectrogram_labels_mel_bins_in_hz():
    centres = audio.mel_frequencies(40, 8000)
    ax = audio.plot_spectrogram(np.zeros((40, 30)), 8000, 128, frequencies=centres)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    ticks = ax.get_yticks()
    assert "1,000" in labels
    assert ticks[labels.index("1,000")] == pytest.approx(np.interp(1000, centres, np.arange(40)))
    assert ticks[labels.index("500")] > 40 * 500 / 4000  # mel rows give low frequencies more room


@pytest.mark.parametrize("args,kwargs,name", [
    ((np.zeros(10), 8000, 128), {}, "spectrogram"),
    ((np.zeros((1, 10)), 8000, 128), {}, "spectrogram"),
    ((np.zeros((4, 10)), 0, 128), {}, "sample_rate"),
    ((np.zeros((4, 10)), 8000, None), {}, "hop_length"),
    ((np.zeros((4, 10)), 8000, 128), {"frequencies": [1, 2, 3]}, "frequencies"),
    ((np.zeros((4, 10)), 8000, 128), {"frequencies": [4, 3, 2, 1]}, "frequencies"),
])
def test_plot_spectrogram_rejects_bad_input(args, kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}` must be"):
        audio.plot_spectrogram(*args, **kwargs)


# ---------------------------------------------------------------- players
def test_player_embeds_a_wav_at_the_sample_rate():
    widget = audio.player(tone(), 8000)
    assert widget.data[:4] == b"RIFF" and int.from_bytes(widget.data[24:28], "little") == 8000
    quiet = audio.player(0.1 * tone(), 8000, normalize=False)
    assert "<audio" in quiet._repr_html_()


def test_player_plays_low_rates_at_a_multiple_of_the_rate_with_the_same_tone():
    low = tone(hz=500, seconds=0.5, rate=4000)
    widget = audio.player(low, 4000, normalize=False)
    rate = int.from_bytes(widget.data[24:28], "little")
    assert rate == 8000  # browsers do not all play 4 kHz WAV files
    samples = np.frombuffer(widget.data[44:], "<i2").astype(float)
    assert len(samples) == 2 * len(low)  # same duration
    spectrum = np.abs(np.fft.rfft(samples[400:-400] * np.hanning(len(samples) - 800)))
    assert np.fft.rfftfreq(len(samples) - 800, 1 / 8000)[spectrum.argmax()] == pytest.approx(500, abs=5)


def test_player_rejects_bad_input():
    with pytest.raises(ValueError, match="`wave` must be a non-empty 1-D array"):
        audio.player(np.zeros((2, 100)), 8000)
    with pytest.raises(ValueError, match="`sample_rate` must be a positive integer"):
        audio.player(tone(), 8000.5)
    with pytest.raises(ValueError, match=r"`wave` must be samples in \[-1, 1\] when normalize=False"):
        audio.player(3 * tone(), 8000, normalize=False)


def test_players_shows_one_labelled_player_per_wave():
    row = audio.players([tone(), tone(880)], 8000, labels=["A <low>", "high"])
    page = row._repr_html_()
    assert page.count("<audio") == 2 and "A &lt;low&gt;" in page and "high" in page
    assert "2 audio players" in repr(row)
    with pytest.raises(ValueError, match="`labels` must be 2 labels"):
        audio.players([tone(), tone()], 8000, labels=["one"])
    with pytest.raises(ValueError, match="`waves` must be a list or 2-D array"):
        audio.players(tone(), 8000)
    with pytest.raises(ValueError, match="`sample_rate` must be one rate, or 2 rates"):
        audio.players([tone(), tone()], [8000, 4000, 2000])


def test_players_take_one_rate_per_wave():
    row = audio.players([tone(rate=8000), tone(rate=16000)], [8000, 16000])
    assert [int.from_bytes(w.data[24:28], "little") for _, w in row.items] == [8000, 16000]


# ---------------------------------------------------------------- snr_db
def test_snr_db_follows_the_six_db_per_bit_rule():
    wave = tone()
    for bits in (8, 12):
        step = 2.0 ** (1 - bits)
        assert audio.snr_db(wave, np.round(wave / step) * step) == pytest.approx(6.02 * bits + 1.76 - 6.02, abs=2)  # a half-scale sine
    assert audio.snr_db(wave, wave) == float("inf")
    with pytest.raises(ValueError, match="`noisy` must be a waveform of the same length"):
        audio.snr_db(wave, wave[:-1])
