"""Tests for udl.video: moving-digit clips (shapes, seeds, motion matching the label, order-blind symmetry), views."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from udl import video  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def digits(n=20, side=28):
    """Asymmetric blobs: a bright square in the top-left corner of each image."""
    rng = np.random.default_rng(0)
    images = np.zeros((n, side, side), np.uint8)
    images[:, 4:14, 4:12] = rng.integers(128, 256, (n, 1, 1))
    return images


def centre(frame):
    rows, cols = np.nonzero(frame)
    return rows.mean(), cols.mean()


def test_moving_digits_shapes_dtypes_and_seed():
    clips, labels = video.moving_digits(digits(), 30, frames=6, size=24, digit_size=12, seed=3)
    assert clips.shape == (30, 6, 24, 24) and clips.dtype == np.uint8
    assert labels.shape == (30,) and labels.dtype == np.uint8 and set(labels) <= set(range(len(video.DIRECTIONS)))
    again, same = video.moving_digits(digits(), 30, frames=6, size=24, digit_size=12, seed=3)
    other, _ = video.moving_digits(digits(), 30, frames=6, size=24, digit_size=12, seed=4)
    assert np.array_equal(clips, again) and np.array_equal(labels, same) and not np.array_equal(clips, other)
    assert np.all(clips.reshape(30, 6, -1).max(axis=2) > 0)  # the digit is in every frame


def test_the_digit_moves_in_the_labelled_direction():
    clips, labels = video.moving_digits(digits(), 200, seed=0)
    assert len(set(labels)) == 4
    for clip, label in zip(clips, labels):
        (r0, c0), (r1, c1) = centre(clip[0]), centre(clip[-1])
        moved = {"right": c1 - c0, "left": c0 - c1, "down": r1 - r0, "up": r0 - r1}[video.DIRECTIONS[label]]
        assert moved >= 7  # at least 1 pixel per frame, in the labelled direction
        assert abs(r1 - r0 if label < 2 else c1 - c0) < 1e-9  # and not along the other axis
        axis = int(label < 2)  # columns for right/left, rows for down/up
        steps = [centre(b)[axis] - centre(a)[axis] for a, b in zip(clip[:-1], clip[1:])]
        assert np.all(np.sign(steps) == np.sign(steps[0]))  # monotonic: a straight slide


def test_reversed_clips_are_as_likely_so_frame_averages_cannot_tell_direction():
    clips, labels = video.moving_digits(digits(1), 4000, frames=4, size=20, digit_size=14, seed=1)
    averages = {label: {clip.mean(axis=0).tobytes() for clip in clips[labels == label]} for label in range(4)}
    # with one digit image, every average seen for "right" is also seen for "left", and vice versa
    assert averages[0] == averages[1] and averages[2] == averages[3]
    assert not averages[0] & averages[2]  # but the axis of motion shows


def test_moving_digits_resizes_and_accepts_a_channel_axis():
    clips, _ = video.moving_digits(digits()[..., None], 5, size=20, digit_size=10)
    assert clips.shape == (5, 8, 20, 20)
    assert max(np.ptp(np.nonzero(frame)[0]) for frame in clips[:, 0]) <= 10  # resized to fit 10 pixels


@pytest.mark.parametrize("images,kwargs,name,error", [
    (np.zeros((4, 28, 28), np.float32), {}, "digits", TypeError),
    (np.zeros((28, 28), np.uint8), {}, "digits", ValueError),
    (np.zeros((4, 28, 28, 3), np.uint8), {}, "digits", ValueError),
    (np.zeros((4, 28, 28), np.uint8), {"n_clips": 0}, "n_clips", ValueError),
    (np.zeros((4, 28, 28), np.uint8), {"frames": 1}, "frames", ValueError),
    (np.zeros((4, 28, 28), np.uint8), {"digit_size": 28}, "digit_size", ValueError),
    (np.zeros((4, 28, 28), np.uint8), {"size": 20, "digit_size": 16}, "size", ValueError),
    (np.zeros((4, 28, 28), np.uint8), {"seed": -1}, "seed", ValueError),
])
def test_moving_digits_rejects_bad_input(images, kwargs, name, error):
    kwargs = {"n_clips": 3, **kwargs}
    with pytest.raises(error, match=f"`{name}` must be"):
        video.moving_digits(images, **kwargs)


def test_frame_strip_shows_each_frame_in_order():
    clips, _ = video.moving_digits(digits(), 2, frames=5, seed=0)
    axes = video.frame_strip(clips[0], title="a clip", fps=10)
    assert len(axes) == 5 and [ax.get_title() for ax in axes] == ["0.00 s", "0.10 s", "0.20 s", "0.30 s", "0.40 s"]
    assert np.array_equal(axes[3].images[0].get_array(), clips[0][3])
    fig, given = plt.subplots(1, 6)
    assert video.frame_strip(clips[1][..., None], axes=given)[0] is given[0]
    assert given[0].get_title() == "frame 0"


@pytest.mark.parametrize("clip,kwargs,name", [
    (np.zeros((28, 28)), {}, "clip"),
    (np.zeros((4, 28, 28, 2)), {}, "clip"),
    (np.zeros((4, 8, 8)), {"fps": 0}, "fps"),
    (np.zeros((4, 8, 8)), {"axes": [None, None]}, "axes"),
])
def test_frame_strip_rejects_bad_input(clip, kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}` must be"):
        video.frame_strip(clip, **kwargs)


def test_animate_returns_html_that_plays_every_frame_and_leaves_no_figure():
    clips, _ = video.moving_digits(digits(), 1, frames=4, seed=0)
    before = len(plt.get_fignums())
    page = video.animate(clips[0], fps=4)
    assert "<script" in page.data and page.data.count("data:image/png;base64") == 4
    assert len(plt.get_fignums()) == before
    with pytest.raises(ValueError, match="`fps` must be a positive number"):
        video.animate(clips[0], fps=-1)


def test_animate_needs_no_network():
    # Matplotlib's player loads Font Awesome from a CDN for its buttons: offline slides and the site made a request
    # that left the machine, and the buttons were blank.
    clips, _ = video.moving_digits(digits(), 1, frames=2, seed=0)
    page = video.animate(clips[0]).data
    assert "http://" not in page and "https://" not in page and 'class="fa ' not in page
    assert "▶" in page and "⏸" in page  # the play and pause buttons still say what they do
    with pytest.raises(TypeError, match="`clip` must be numeric"):
        video.animate(np.array([[["a"]]]))


def test_first_mover_moves_the_labelled_digit_first_then_pauses_then_the_other():
    clips, labels = video.first_mover(digits(), 100, frames=12, size=28, pause=4, seed=0)
    assert clips.shape == (100, 12, 28, 28) and clips.dtype == np.uint8 and set(labels) == {0, 1}
    for clip, label in zip(clips, labels):
        halves = {"top": clip[:, :14], "bottom": clip[:, 14:]}
        columns = {name: np.array([centre(frame)[1] for frame in part]) for name, part in halves.items()}
        first, second = video.MOVERS[label], video.MOVERS[1 - label]
        assert np.all(np.abs(np.diff(columns[first][:4])) >= 1) and np.ptp(columns[first][3:]) == 0
        assert np.ptp(columns[second][:8]) == 0 and np.all(np.abs(np.diff(columns[second][8:])) >= 1)
        assert all(np.ptp([centre(frame)[0] for frame in part]) == 0 for part in halves.values())  # sideways only
    again, same = video.first_mover(digits(), 100, frames=12, size=28, pause=4, seed=0)
    assert np.array_equal(clips, again) and np.array_equal(labels, same)


def test_first_mover_reversed_clips_are_as_likely_so_frame_averages_cannot_tell():
    clips, labels = video.first_mover(digits(1), 4000, frames=4, size=6, seed=1)
    averages = {label: {clip.mean(axis=0).tobytes() for clip in clips[labels == label]} for label in (0, 1)}
    assert averages[0] == averages[1]  # every average seen for "top first" is also seen for "bottom first"
    label_of = {clip.tobytes(): label for clip, label in zip(clips, labels)}
    for clip, label in zip(clips[:200], labels[:200]):
        assert label_of[clip[::-1].tobytes()] != label  # played backwards: the same digits, the other label


@pytest.mark.parametrize("kwargs,name", [
    ({"frames": 5}, "frames"), ({"frames": 2}, "frames"), ({"frames": 8, "pause": 5}, "frames"),
    ({"pause": -1}, "pause"), ({"size": 27}, "size"), ({"size": 6}, "size"), ({"n_clips": 0}, "n_clips"),
])
def test_first_mover_rejects_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}` must be"):
        video.first_mover(digits(), **{"n_clips": 3, **kwargs})
