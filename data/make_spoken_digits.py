"""Synthesise the built-in spoken-digit sample (`udl/_data/spoken_digits.npz`) with espeak-ng.

This is how the stand-in for the Free Spoken Digit Dataset that ships inside the `udl` package was made.
Students never run it: `udl.samples.fsdd()` only reads the npz. To remake it you need Debian/Ubuntu's
`espeak-ng` (`apt-get install espeak-ng`) and the course environment:

    .venv/bin/python data/make_spoken_digits.py            # writes udl/_data/spoken_digits.npz
    .venv/bin/python data/make_spoken_digits.py --out x.npz

What it does: each of the words "zero".."nine" is spoken by 8 synthetic speakers (an espeak-ng accent
plus a voice variant, e.g. `en-us+f3` -> speaker "espeak-en-us-f3") in 5 takes each, every take with its
own pitch (`-p`) and speed (`-s`) drawn from a fixed-seed generator. Each take is resampled from 22,050 Hz
to 8 kHz mono (scipy.signal.resample_poly), trimmed of leading/trailing silence, peak-normalised and stored
as 8-bit mu-law codes. As upstream FSDD holds out the first takes of every speaker and digit, take 0 of
every (speaker, digit) is the test set (80 recordings), takes 1-4 are the training set (320).

The output is deterministic for a given espeak-ng version (stored in the npz as `espeak_version`).

Keys of the npz (all plain arrays, readable with `np.load(path, allow_pickle=False)`):
    codes          uint8 (total,)  mu-law codes of all recordings, concatenated
    offsets        int64 (N+1,)    recording i is codes[offsets[i]:offsets[i+1]]
    labels         uint8 (N,)      the digit spoken
    speakers       str   (N,)      e.g. "espeak-en-gb-x-rp-m3"
    takes          uint8 (N,)      take index 0-4 within (speaker, digit), as FSDD's file-name index
    is_test        bool  (N,)      take == 0
    sample_rate    int64 ()        8000
    mu             int64 ()        255 (mu-law parameter; decode: x = sign(y) * ((1 + mu)**|y| - 1) / mu)
    espeak_version str   ()        `espeak-ng --version` without its data path, e.g. "eSpeak NG text-to-speech: 1.51"
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from scipy.io import wavfile
from scipy.signal import resample_poly

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
# (espeak-ng voice, variant or "" for the voice's default): 8 accents, male and female variants, 2 klatt.
VOICES = [
    ("en-us", ""),
    ("en-us", "f3"),
    ("en-gb-x-rp", "m3"),
    ("en-gb-scotland", "f2"),
    ("en-029", "m7"),
    ("en", "f4"),
    ("en-gb-x-gbclan", "klatt"),
    ("en-us-nyc", "klatt4"),
]
TAKES = 5
TEST_TAKES = 1
SAMPLE_RATE = 8000
MU = 255
SEED = 2024
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "udl" / "_data" / "spoken_digits.npz"


def speak(word: str, voice: str, variant: str, pitch: int, speed: int) -> tuple[int, np.ndarray]:
    """Speak `word` with espeak-ng and return (sample rate, float waveform in [-1, 1])."""
    name = f"{voice}+{variant}" if variant else voice
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "word.wav"
        command = ["espeak-ng", "-v", name, "-p", str(pitch), "-s", str(speed), "-w", str(wav), word]
        subprocess.run(command, check=True, capture_output=True)
        rate, samples = wavfile.read(wav)
    return rate, samples.astype(np.float64) / 32768.0


def to_8khz(rate: int, x: np.ndarray) -> np.ndarray:
    """Resample to 8 kHz with a polyphase filter."""
    g = np.gcd(rate, SAMPLE_RATE)
    return resample_poly(x, SAMPLE_RATE // g, rate // g)


def trim_and_normalise(x: np.ndarray, threshold: float = 0.02, margin_s: float = 0.01) -> np.ndarray:
    """Cut leading/trailing samples below `threshold` x peak (keeping a short margin) and scale the peak to 1."""
    loud = np.flatnonzero(np.abs(x) > threshold * np.abs(x).max())
    margin = int(margin_s * SAMPLE_RATE)
    x = x[max(loud[0] - margin, 0) : loud[-1] + margin + 1]
    return x / np.abs(x).max()


def mu_law_encode(x: np.ndarray) -> np.ndarray:
    """Encode a waveform in [-1, 1] as 8-bit mu-law codes."""
    y = np.sign(x) * np.log1p(MU * np.abs(x)) / np.log1p(MU)
    return np.round((y + 1) / 2 * 255).astype(np.uint8)


def main() -> None:
    """Synthesise all recordings and write the npz."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"npz to write (default: {DEFAULT_OUT})")
    args = parser.parse_args()

    version = subprocess.run(["espeak-ng", "--version"], check=True, capture_output=True, text=True).stdout
    version = version.split("Data at")[0].strip()  # e.g. "eSpeak NG text-to-speech: 1.51"
    rng = np.random.default_rng(SEED)
    chunks, labels, speakers, takes = [], [], [], []
    for voice, variant in VOICES:
        speaker = "-".join(["espeak", voice] + ([variant] if variant else []))
        for digit, word in enumerate(WORDS):
            for take in range(TAKES):
                pitch, speed = int(rng.integers(25, 76)), int(rng.integers(170, 271))
                x = trim_and_normalise(to_8khz(*speak(word, voice, variant, pitch, speed)))
                chunks.append(mu_law_encode(x))
                labels.append(digit)
                speakers.append(speaker)
                takes.append(take)
        print(f"{speaker}: done")

    offsets = np.concatenate([[0], np.cumsum([len(c) for c in chunks])]).astype(np.int64)
    takes = np.array(takes, dtype=np.uint8)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out,
        codes=np.concatenate(chunks),
        offsets=offsets,
        labels=np.array(labels, dtype=np.uint8),
        speakers=np.array(speakers),
        takes=takes,
        is_test=takes < TEST_TAKES,
        sample_rate=np.int64(SAMPLE_RATE),
        mu=np.int64(MU),
        espeak_version=np.array(version),
    )
    seconds = offsets[-1] / SAMPLE_RATE
    print(f"{len(chunks)} recordings, {seconds:.1f} s of audio, {version}")
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
