"""Video as data: short clips of moving digits made from digit images, and ways to look at a clip.

```python
from udl import video
clips, labels = video.moving_digits(mnist.x_train, n_clips=2000, seed=0)   # (2000, 8, 28, 28) uint8, (2000,)
video.frame_strip(clips[0], title=video.DIRECTIONS[labels[0]])
video.animate(clips[0], fps=8)                                             # plays in the notebook
```

Each clip shows one digit sliding in a straight line; the label is the direction it moves. Start points are
drawn so that a clip and its reversal are equally likely: the average of the frames (a smear along the path)
is the same for "left" and "right", so a model that ignores frame order can tell the axis but not the
direction. A harder task, `first_mover`: two digits, one above the other, slide in turn; the label says which
moved first, which needs both *when* and *where*. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import HTML
from matplotlib import animation
from skimage.transform import resize

from udl._checks import fail, image_batch, positive_int, seed as check_seed

DIRECTIONS = ("right", "left", "down", "up")
MOVERS = ("top", "bottom")  # `first_mover`'s labels: which of the two digits moved first
_STEPS = {"right": (0, 1), "left": (0, -1), "down": (1, 0), "up": (-1, 0)}  # (row, column) per unit of travel


def _resize(digits: np.ndarray, size: int) -> np.ndarray:
    """Resize grey uint8 images (N, H, W) to (N, size, size) with anti-aliasing."""
    if digits.shape[1:] == (size, size):
        return digits
    out = resize(digits.astype(np.float32) / 255.0, (len(digits), size, size), anti_aliasing=True)
    return np.round(np.clip(out, 0, 1) * 255).astype(np.uint8)


def _digit_images(digits) -> np.ndarray:
    """Return `digits` as (N, H, W) uint8 images, or raise naming the argument."""
    images = image_batch("digits", digits, channels=(1,))[..., 0]
    if images.dtype != np.uint8:
        raise fail("digits", "uint8 images (0..255), like MNIST's", images, TypeError)
    return images


def moving_digits(digits, n_clips: int, frames: int = 8, size: int = 28, digit_size: int = 14,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Make `n_clips` clips of one digit sliding right, left, down or up; return (clips, direction labels).

    Args:
        digits: grey digit images (N, H, W) or (N, H, W, 1), uint8 0..255 (e.g. `mnist.x_train`); each clip
            uses one of them, resized to `digit_size` pixels.
        frames, size: frames per clip and the side of the square frame, in pixels.
        seed: the same seed gives the same clips.

    Returns:
        clips of shape (n_clips, frames, size, size), uint8; labels (n_clips,) uint8, indices into `DIRECTIONS`.

    Example:
        >>> clips, labels = video.moving_digits(mnist.x_train, 2000, seed=0)
    """
    images = _digit_images(digits)
    n_clips, frames = positive_int("n_clips", n_clips), positive_int("frames", frames)
    size, digit_size = positive_int("size", size), positive_int("digit_size", digit_size)
    if frames < 2:
        raise fail("frames", "at least 2 (one frame cannot show motion)", frames)
    if digit_size >= size:
        raise fail("digit_size", f"smaller than `size` ({size}), so that the digit has room to move", digit_size)
    seed = check_seed("seed", seed)
    room = size - digit_size  # how far the digit can travel along one axis
    if room < frames - 1:
        raise fail("size", f"at least digit_size + frames - 1 = {digit_size + frames - 1} (1 pixel per frame)", size)

    rng = np.random.default_rng(seed)
    which = rng.integers(len(images), size=n_clips)
    small = _resize(images[which], digit_size)  # one digit per clip, resized once
    labels = rng.integers(len(DIRECTIONS), size=n_clips).astype(np.uint8)
    travel = rng.integers(frames - 1, room + 1, size=n_clips)  # pixels covered between first and last frame
    start = rng.integers(0, room - travel + 1)                 # where the path begins along its axis
    across = rng.integers(0, room + 1, size=n_clips)           # the fixed position on the other axis
    clips = np.zeros((n_clips, frames, size, size), np.uint8)
    t = np.arange(frames) / (frames - 1)
    for i in range(n_clips):
        d_row, d_col = _STEPS[DIRECTIONS[labels[i]]]
        forward = d_row + d_col > 0
        along = np.round(start[i] + (t if forward else 1 - t) * travel[i]).astype(int)
        for f in range(frames):
            row, col = (along[f], across[i]) if d_row else (across[i], along[f])
            clips[i, f, row : row + digit_size, col : col + digit_size] = small[i]
    return clips, labels


def first_mover(digits, n_clips: int, frames: int = 8, size: int = 28, pause: int = 0, seed: int = 0
                ) -> tuple[np.ndarray, np.ndarray]:
    """Make `n_clips` clips of two digits that slide sideways in turn; return (clips, labels: which moved first).

    One digit fills the top half of the frame, another the bottom half (each resized to ``size // 2`` pixels).
    One of them slides left or right during the first half of the clip while the other stands still; then, after
    `pause` frames in which nothing moves, the other slides. The label is an index into `MOVERS`: 0 when the top digit moved first, 1 when the bottom one did.
    Played backwards a clip shows the other label, and both are equally likely, so the average of the frames
    cannot tell them apart: a model must see the order of the frames *and* where in the frame the motion is.

    Args:
        digits: grey digit images (N, H, W) or (N, H, W, 1), uint8 0..255 (e.g. `mnist.x_train`).
        frames: frames per clip; ``frames - pause`` must be even and at least 4 (each digit moves in half of them).
        size: the side of the square frame, in pixels, even, and half of it at least ``(frames - pause) // 2``.
        pause: still frames between the two moves: the longer, the further apart in time the two events are.
        seed: the same seed gives the same clips.

    Returns:
        clips of shape (n_clips, frames, size, size), uint8; labels (n_clips,) uint8, indices into `MOVERS`.

    Example:
        >>> clips, labels = video.first_mover(mnist.x_train, 2000, seed=0)
    """
    images = _digit_images(digits)
    n_clips, frames, size = positive_int("n_clips", n_clips), positive_int("frames", frames), positive_int("size", size)
    if isinstance(pause, bool) or not isinstance(pause, (int, np.integer)) or pause < 0:
        raise fail("pause", "a non-negative integer (still frames between the two moves)", pause)
    if frames - pause < 4 or (frames - pause) % 2:
        raise fail("frames", "pause + an even number of at least 4 (each digit moves in half of the other frames)",
                   frames)
    half = (frames - pause) // 2
    if size % 2 or size // 2 < half:
        raise fail("size", f"an even number of at least {2 * half} (each digit moves 1 pixel per frame or more)", size)
    seed = check_seed("seed", seed)
    digit_size = size // 2
    room = size - digit_size  # how far a digit can slide

    rng = np.random.default_rng(seed)
    small = _resize(images[rng.integers(len(images), size=2 * n_clips)], digit_size).reshape(
        n_clips, 2, digit_size, digit_size)
    labels = rng.integers(len(MOVERS), size=n_clips).astype(np.uint8)
    travel = rng.integers(half - 1, room + 1, size=(n_clips, 2))     # pixels each digit slides
    start = rng.integers(0, room - travel + 1)                       # where each slide begins
    rightward = rng.random((n_clips, 2)) < 0.5
    clips = np.zeros((n_clips, frames, size, size), np.uint8)
    t = np.clip(np.arange(frames) / (half - 1), 0, 1)                # 0 -> 1 over the first `half`, then still
    for i in range(n_clips):
        for d in range(2):                                          # d = 0: the top digit, 1: the bottom one
            moves_first = labels[i] == d
            progress = t if moves_first else 1 - t[::-1]             # the second mover: still, then 0 -> 1
            progress = progress if rightward[i, d] else 1 - progress
            cols = np.round(start[i, d] + progress * travel[i, d]).astype(int)
            row = d * digit_size
            for f in range(frames):
                clips[i, f, row : row + digit_size, cols[f] : cols[f] + digit_size] = small[i, d]
    return clips, labels


def _clip(clip) -> np.ndarray:
    """Return one clip as (frames, H, W) or (frames, H, W, C), or raise."""
    array = np.asarray(clip.numpy() if hasattr(clip, "numpy") else clip)
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (3, 4) or array.shape[0] == 0 or (array.ndim == 4 and array.shape[-1] != 3):
        raise fail("clip", "one clip of shape (frames, H, W), (frames, H, W, 1) or (frames, H, W, 3)", clip)
    if not np.issubdtype(array.dtype, np.number):
        raise fail("clip", "numeric frames", clip, TypeError)
    return array


def frame_strip(clip, axes=None, title: str | None = None, fps: float | None = None):
    """Show the frames of one clip side by side, each titled with its index (or time, given `fps`); return the axes.

    Example:
        >>> video.frame_strip(clips[0], title=video.DIRECTIONS[labels[0]])
    """
    frames = _clip(clip)
    n = len(frames)
    if fps is not None and (isinstance(fps, bool) or not isinstance(fps, (int, float)) or fps <= 0):
        raise fail("fps", "a positive number of frames per second, or None", fps)
    if axes is None:
        axes = plt.subplots(1, n, figsize=(1.2 * n, 1.5))[1]
    axes = np.atleast_1d(axes).ravel()
    if len(axes) < n:
        raise fail("axes", f"at least {n} axes, one per frame", f"{len(axes)} axes")
    vmax = 255 if frames.dtype == np.uint8 else max(float(frames.max()), 1e-12)
    for i, (ax, frame) in enumerate(zip(axes, frames)):
        ax.imshow(frame, cmap="gray", vmin=0, vmax=vmax)
        ax.set_title(f"{i / fps:.2f} s" if fps else f"frame {i}", fontsize=8)
        ax.axis("off")
    if title:
        axes[0].figure.suptitle(title, y=1.05)
    return axes


def animate(clip, fps: float = 8, size: float = 2.0):
    """Return an animation of one clip that plays (and loops) in a notebook, as an `IPython.display.HTML`.

    Example:
        >>> video.animate(clips[0], fps=8)
    """
    frames = _clip(clip)
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or fps <= 0:
        raise fail("fps", "a positive number of frames per second", fps)
    fig, ax = plt.subplots(figsize=(size, size))
    vmax = 255 if frames.dtype == np.uint8 else max(float(frames.max()), 1e-12)
    image = ax.imshow(frames[0], cmap="gray", vmin=0, vmax=vmax)
    ax.axis("off")

    def show(i):
        image.set_data(frames[i])
        ax.set_title(f"frame {i} ({i / fps:.2f} s)", fontsize=8)
        return (image,)

    movie = animation.FuncAnimation(fig, show, frames=len(frames), interval=1000 / fps, blit=True)
    page = _offline(movie.to_jshtml(default_mode="loop"))
    plt.close(fig)  # the HTML holds the frames; the figure itself would show as a still image
    return HTML(page)


# Matplotlib's player takes its button icons from Font Awesome on a CDN: offline (a lecture hall, the slides, CI)
# that request fails and the buttons are blank. Text symbols need no network.
_ICONS = {"fa fa-minus": "−", "fa fa-fast-backward": "⏮", "fa fa-step-backward": "⏴",
          "fa fa-play fa-flip-horizontal": "◀", "fa fa-pause": "⏸", "fa fa-play": "▶",
          "fa fa-step-forward": "⏵", "fa fa-fast-forward": "⏭", "fa fa-plus": "+"}


def _offline(page: str) -> str:
    """Return matplotlib's animation HTML without its Font Awesome stylesheet, with text symbols for the icons."""
    page = re.sub(r'<link[^>]*font-awesome[^>]*>', "", page)
    for icon, symbol in _ICONS.items():
        page = page.replace(f'<i class="{icon}"></i>', symbol)
    return page
