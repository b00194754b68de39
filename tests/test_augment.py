"""Tests for udl.augment: presets, the tf.data pipeline and the by-hand augmentations (small arrays, no network)."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from udl import augment  # noqa: E402


def _images(n=8, size=16, channels=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, size, size, channels), dtype=np.uint8)


def _photo(size=16, channels=3):
    """A smooth test image (a gradient with a bright square), so geometric transforms are visible."""
    rows, cols = np.mgrid[0:size, 0:size]
    grey = (rows * 5 + cols * 7) % 200 + 20
    grey[4:8, 9:13] = 250
    return np.repeat(grey[..., None], channels, axis=2).astype(np.uint8)


# Presets ------------------------------------------------------------------------------------------------------------

def test_presets_lists_names_with_descriptions():
    listed = augment.presets()
    assert {"none", "digits", "cifar"} <= set(listed)
    assert all(isinstance(text, str) and text and "\n" not in text for text in listed.values())


@pytest.mark.parametrize("name", sorted(augment.presets()))
def test_preset_is_a_sequential_that_keeps_shape_and_is_identity_outside_training(name):
    layer = augment.preset(name, seed=1)
    assert isinstance(layer, keras.Sequential)
    x = _images().astype("float32")
    trained = keras.ops.convert_to_numpy(layer(x, training=True))
    assert trained.shape == x.shape
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x, training=False)), x)
    if name != "none":
        assert not np.array_equal(trained, x)


def test_digits_preset_never_flips():
    (layer,) = augment.preset("digits").layers
    assert isinstance(layer, augment.RandomAffine) and not layer.flip
    assert layer.rotation > 0 and layer.height_shift > 0 and layer.width_shift > 0 and layer.zoom > 0


def test_preset_inside_a_model_changes_nothing_in_predict():
    model = keras.Sequential([keras.Input((16, 16, 3)), augment.preset("cifar", seed=0), keras.layers.Flatten()])
    x = _images(4).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), x.reshape(4, -1))


def test_preset_is_reproducible_under_the_setup_seed():
    x = _images().astype("float32")
    outputs = []
    for _ in range(2):
        keras.utils.set_random_seed(123)
        outputs.append(keras.ops.convert_to_numpy(augment.preset("cifar")(x, training=True)))
    np.testing.assert_array_equal(*outputs)
    a = keras.ops.convert_to_numpy(augment.preset("cifar", seed=5)(x, training=True))
    b = keras.ops.convert_to_numpy(augment.preset("cifar", seed=5)(x, training=True))
    np.testing.assert_array_equal(a, b)


def test_preset_rejects_unknown_name_and_bad_seed():
    with pytest.raises(ValueError, match=r"`name` must be one of .*'cifar'.*received: 'imagenet'"):
        augment.preset("imagenet")
    with pytest.raises(ValueError, match="`seed` must be a non-negative integer or None; received: 1.5"):
        augment.preset("cifar", seed=1.5)


# RandomAffine: flip, rotation, shift and zoom in one resampling ------------------------------------------------------

def _chained_reference(images, flips, angles, dx, dy, zooms, fill_mode="constant"):
    """Apply Keras's RandomFlip, RandomRotation, RandomTranslation, RandomZoom in turn with the given draws."""
    layers = keras.layers
    rotation = layers.RandomRotation(0.5, fill_mode=fill_mode)
    out = tf.convert_to_tensor(images, tf.float32)
    out = layers.RandomFlip("horizontal").transform_images(
        out, {"flips": tf.reshape(tf.cast(flips, bool), (-1, 1, 1, 1)), "input_shape": out.shape})
    matrix = rotation._compute_affine_matrix(
        0.5, 0.5, tf.constant(angles, tf.float32), *[tf.zeros(len(angles))] * 2, tf.ones(len(angles)),
        *[tf.zeros(len(angles))] * 2, out.shape[1], out.shape[2])
    out = rotation.transform_images(out, {"rotation_matrix": matrix}, training=True)
    out = layers.RandomTranslation(0.5, 0.5, fill_mode=fill_mode).transform_images(
        out, {"translations": tf.constant(np.stack([dx, dy], 1), tf.float32), "input_shape": out.shape})
    zoom = tf.constant(np.asarray(zooms, np.float32)[:, None])
    out = layers.RandomZoom(0.5, fill_mode=fill_mode).transform_images(
        out, {"height_zoom": zoom, "width_zoom": zoom, "input_shape": out.shape})
    return out.numpy()


def test_random_affine_equals_the_chained_keras_layers_for_a_fixed_draw():
    n, size = 4, 32
    draws = {"flip": np.array([0.0, 1.0, 1.0, 0.0], np.float32),
             "angle": np.array([0.0, 17.0, -33.0, 90.0], np.float32),
             "dx": np.array([3.0, -2.5, 0.0, 1.0], np.float32), "dy": np.array([0.0, 4.0, -1.5, -3.0], np.float32),
             "zoom": np.array([1.0, 0.9, 1.1, 1.05], np.float32)}
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float32)
    ramp = np.broadcast_to(np.stack([3 * rows + 5 * cols + 10, 200 - 2 * rows - cols], -1), (n, size, size, 2))
    ones = np.ones_like(ramp)
    layer = augment.RandomAffine(flip=True, rotation=0.25, height_shift=0.2, width_shift=0.2, zoom=0.2)
    fused = layer.transform_images(ramp, draws).numpy()
    reference = _chained_reference(ramp, *draws.values())
    # Bilinear resampling reproduces a linear ramp exactly, so one pass and four passes agree wherever no pass read
    # outside the image (a constant-filled all-ones image stays exactly 1 there).
    inside = (layer.transform_images(ones, draws).numpy() == 1) & (_chained_reference(ones, *draws.values()) == 1)
    assert inside.mean() > 0.4
    np.testing.assert_allclose(fused[inside], reference[inside], atol=1e-2)


def test_random_affine_moves_a_single_bright_pixel_where_the_matrix_says():
    image = np.zeros((1, 9, 9, 1), np.float32)
    image[0, 2, 6] = 255.0  # row 2, column 6
    layer = augment.RandomAffine(flip=True, rotation=0.25, height_shift=0.5, width_shift=0.5, interpolation="nearest")
    # Flip, then rotate 90 degrees (counter-clockwise on screen), then move 1 right and 2 down.
    draws = {"flip": [1.0], "angle": [90.0], "dx": [1.0], "dy": [2.0], "zoom": [1.0]}
    out = layer.transform_images(image, draws).numpy()[0, ..., 0]
    expected = np.rot90(np.flip(image[0, ..., 0], axis=1))  # numpy's rot90 turns counter-clockwise
    expected = np.roll(np.roll(expected, 2, axis=0), 1, axis=1)
    assert np.argwhere(out == 255).tolist() == np.argwhere(expected == 255).tolist()
    np.testing.assert_array_equal(out, expected)


def test_random_affine_is_identity_outside_training_and_reproducible_with_a_seed():
    x = _images().astype("float32")
    layer = augment.RandomAffine(flip=True, rotation=0.1, height_shift=0.1, width_shift=0.1, zoom=0.1, seed=3)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    model = keras.Sequential([keras.Input((16, 16, 3)), layer])
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    first = layer(x, training=True).numpy()
    assert not np.array_equal(first, x)
    again = augment.RandomAffine(flip=True, rotation=0.1, height_shift=0.1, width_shift=0.1, zoom=0.1, seed=3)
    np.testing.assert_array_equal(again(x, training=True).numpy(), first)
    assert not np.array_equal(layer(x, training=True).numpy(), first)  # the next batch gets new draws
    assert layer(x[0], training=True).shape == x[0].shape
    copy = augment.RandomAffine.from_config(layer.get_config())
    assert (copy.rotation, copy.zoom, copy.seed, copy.flip) == (0.1, 0.1, 3, True)


def test_random_affine_draws_within_the_parameter_ranges():
    layer = augment.RandomAffine(flip=True, rotation=20 / 360, height_shift=0.2, width_shift=0.1, zoom=0.1, seed=0)
    draws = {k: v.numpy() for k, v in layer.get_random_transformation(tf.zeros((2000, 10, 20, 1))).items()}
    assert set(np.unique(draws["flip"])) == {0.0, 1.0} and 0.4 < draws["flip"].mean() < 0.6
    assert np.abs(draws["angle"]).max() <= 20 and np.abs(draws["angle"]).max() > 19
    assert np.abs(draws["dy"]).max() <= 2 and np.abs(draws["dx"]).max() <= 2 and np.abs(draws["dx"]).max() > 1.9
    assert 0.9 <= draws["zoom"].min() and draws["zoom"].max() <= 1.1
    assert layer.get_random_transformation(tf.zeros((2, 10, 20, 1)), training=False) is None


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"flip": "yes"}, r"`flip` must be True or False; received: 'yes'"),
        ({"rotation": 2}, r"`rotation` must be a finite number in \[0, 0.5\]; received: 2"),
        ({"height_shift": -0.1}, r"`height_shift` must be a finite number in \[0, 1\]; received: -0.1"),
        ({"width_shift": "0.1"}, r"`width_shift` must be a finite number in \[0, 1\]; received: '0.1'"),
        ({"zoom": 1.5}, r"`zoom` must be a finite number in \[0, 0.99\]; received: 1.5"),
        ({"fill_mode": "mirror"}, r"`fill_mode` must be one of 'constant', 'nearest', 'reflect', 'wrap'"),
        ({"interpolation": "cubic"}, r"`interpolation` must be one of 'bilinear', 'nearest'; received: 'cubic'"),
        ({"seed": -2}, r"`seed` must be a non-negative integer or None; received: -2"),
    ],
)
def test_random_affine_rejects_bad_arguments_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        augment.RandomAffine(**kwargs)


# Pipeline -----------------------------------------------------------------------------------------------------------

def _collect(ds):
    xs, ys = zip(*[(xb.numpy(), yb.numpy()) for xb, yb in ds])
    return np.concatenate(xs), np.concatenate(ys)


def test_pipeline_batches_all_examples_and_keeps_labels_with_images():
    x = _images(10)
    y = np.arange(10)
    ds = augment.pipeline(x, y, preset="none", batch_size=4, shuffle=True, seed=0)
    assert [int(b[0].shape[0]) for b in ds] == [4, 4, 2]
    xs, ys = _collect(ds)
    assert xs.dtype == np.float32 and xs.shape == (10, 16, 16, 3)
    assert sorted(ys) == list(range(10)) and list(ys) != list(range(10))
    np.testing.assert_array_equal(xs, x[ys].astype(np.float32))  # the label travels with its image


def test_pipeline_without_shuffle_or_labels_keeps_order():
    x = _images(5)
    xs = np.concatenate([b.numpy() for b in augment.pipeline(x, preset="none", batch_size=2, shuffle=False)])
    np.testing.assert_array_equal(xs, x.astype(np.float32))


def test_pipeline_is_parallel_and_prefetched():
    ds = augment.pipeline(_images(4), np.zeros(4), preset="cifar", batch_size=2, seed=0)
    graph = tf.compat.v1.GraphDef.FromString(ds._as_serialized_graph().numpy())
    ops = {node.op for node in graph.node}
    assert {"ParallelMapDatasetV2", "PrefetchDataset", "BatchDatasetV2"} <= ops


def test_pipeline_is_reproducible_with_a_seed_and_under_the_setup_seed():
    x, y = _images(24), np.arange(24)
    a = _collect(augment.pipeline(x, y, preset="cifar", batch_size=4, seed=7))
    b = _collect(augment.pipeline(x, y, preset="cifar", batch_size=4, seed=7))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    runs = []
    for _ in range(2):
        keras.utils.set_random_seed(3)
        runs.append(_collect(augment.pipeline(x, y, preset="cifar", batch_size=4)))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


def test_pipeline_matches_calling_the_preset_on_each_batch():
    x = _images(12)
    ds = augment.pipeline(x, preset="cifar", batch_size=5, shuffle=False, seed=11)
    got = np.concatenate([b.numpy() for b in ds])
    layer = augment.preset("cifar", seed=11)
    want = np.concatenate([keras.ops.convert_to_numpy(layer(x[i:i + 5].astype("float32"), training=True))
                           for i in range(0, 12, 5)])
    np.testing.assert_allclose(got, want, atol=1e-4)


def test_pipeline_augments_differently_each_epoch():
    ds = augment.pipeline(_images(4), preset="cifar", batch_size=4, shuffle=False, seed=0)
    first, second = (next(iter(ds)).numpy() for _ in range(2))
    assert not np.array_equal(first, second)


def test_pipeline_normalisation():
    x = _images(50, channels=3)
    unit = np.concatenate([b.numpy() for b in augment.pipeline(x, normalize="unit", shuffle=False)])
    np.testing.assert_allclose(unit, x / 255.0, atol=1e-5)
    std = np.concatenate([b.numpy() for b in augment.pipeline(x, normalize="standardize", shuffle=False)])
    np.testing.assert_allclose(std.reshape(-1, 3).mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(std.reshape(-1, 3).std(axis=0), 1, atol=1e-4)
    mean, spread = augment.channel_stats(x)
    assert mean.shape == spread.shape == (3,)
    given = np.concatenate([b.numpy() for b in augment.pipeline(x, normalize=(mean, spread), shuffle=False)])
    np.testing.assert_allclose(given, std, atol=1e-5)


def test_pipeline_accepts_grey_images_without_channel_axis():
    x = _images(6, channels=1)[..., 0]
    xb, yb = next(iter(augment.pipeline(x, np.arange(6), preset="digits", batch_size=6, seed=0)))
    assert xb.shape == (6, 16, 16, 1) and yb.shape == (6,)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"x": np.zeros((28, 28))}, r"`x` must be a non-empty batch of images .*received: an array of shape \(28, 28\)"),
        ({"x": np.zeros((2, 8, 8, 5))}, r"`x` must be a non-empty batch .*shape \(2, 8, 8, 5\)"),
        ({"x": np.zeros((2, 8, 8), bool)}, r"`x` must be images with an integer or floating-point dtype.*dtype bool"),
        ({"x": np.array([["a"]])}, r"`x` must be images with an integer or floating-point dtype"),
        ({"y": np.zeros(3)}, r"`y` must be labels with one row per image \(2 rows\); received: an array of shape \(3,\)"),
        ({"preset": "mnist"}, r"`preset` must be one of 'none', 'digits', 'cifar'.*received: 'mnist'"),
        ({"batch_size": 0}, r"`batch_size` must be a positive integer; received: 0"),
        ({"shuffle": "yes"}, r"`shuffle` must be True or False; received: 'yes'"),
        ({"seed": -1}, r"`seed` must be a non-negative integer or None; received: -1"),
        ({"normalize": "zscore"}, r"`normalize` must be one of 'unit', 'standardize'; received: 'zscore'"),
        ({"normalize": (1, 2, 3)}, r"`normalize` must be None, \"unit\", \"standardize\" or a \(mean, std\) pair"),
    ],
)
def test_pipeline_rejects_bad_arguments_with_a_clear_message(kwargs, message):
    args = {"x": np.zeros((2, 8, 8, 3), np.uint8), "y": np.zeros(2)}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        augment.pipeline(**args)


# By-hand augmentations ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("channels", [None, 3])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_by_hand_functions_keep_shape_and_dtype_and_are_deterministic(channels, dtype):
    image = _photo()
    image = (image[..., 0] if channels is None else image).astype(dtype)
    calls = [
        lambda im: augment.flip(im, 1),
        lambda im: augment.rotate(im, 30),
        lambda im: augment.shift(im, 2, -3),
        lambda im: augment.rescale(im, 0.7),
        lambda im: augment.rescale(im, 1.3),
        lambda im: augment.salt_and_pepper(im, 0.1, seed=1),
    ]
    for call in calls:
        out = call(image)
        assert out.shape == image.shape and out.dtype == image.dtype
        np.testing.assert_array_equal(out, call(image))
        assert not np.array_equal(out, image)
    np.testing.assert_array_equal(image, (_photo()[..., 0] if channels is None else _photo()).astype(dtype))


def test_flip_twice_is_identity_and_axes_mean_up_down_and_left_right():
    image = _photo()
    for axis in (0, 1):
        np.testing.assert_array_equal(augment.flip(augment.flip(image, axis), axis), image)
    np.testing.assert_array_equal(augment.flip(image, 0), image[::-1])
    np.testing.assert_array_equal(augment.flip(image, 1), image[:, ::-1])


def test_rotate_by_right_angles_matches_rot90_and_full_turn_is_identity():
    image = _photo()
    np.testing.assert_array_equal(augment.rotate(image, 90), np.rot90(image))
    np.testing.assert_array_equal(augment.rotate(image, -90), np.rot90(image, -1))
    np.testing.assert_array_equal(augment.rotate(image, 360), image)
    np.testing.assert_array_equal(augment.rotate(image, 0), image)


def test_shift_moves_a_single_bright_pixel_by_dx_dy():
    image = np.zeros((9, 9), np.uint8)
    image[4, 4] = 255
    moved = augment.shift(image, dx=3, dy=-2)
    assert [tuple(p) for p in np.argwhere(moved)] == [(2, 7)]
    assert moved[2, 7] == 255
    assert not augment.shift(image, dx=5, dy=0).any()  # shifted off the edge: nothing left


def test_rescale_keeps_size_shrinks_towards_centre_and_one_is_identity():
    image = np.zeros((20, 20), np.float32)
    image[5:15, 5:15] = 1.0  # a 10x10 square in the middle
    np.testing.assert_allclose(augment.rescale(image, 1.0), image)
    small = augment.rescale(image, 0.5)
    rows, cols = np.nonzero(small > 0.5)
    assert small.shape == (20, 20)
    assert 4 <= rows.max() - rows.min() + 1 <= 6 and 4 <= cols.max() - cols.min() + 1 <= 6
    assert abs(rows.mean() - 9.5) <= 1 and abs(cols.mean() - 9.5) <= 1
    big = augment.rescale(image, 2.0)
    assert big.shape == (20, 20) and (big > 0.5).mean() == pytest.approx(1.0)  # the square now fills the frame


def test_salt_and_pepper_changes_about_amount_of_pixels_half_each():
    image = np.full((100, 100, 3), 128, np.uint8)
    noisy = augment.salt_and_pepper(image, 0.1, seed=0)
    changed = (noisy != image).any(axis=2)
    assert changed.mean() == pytest.approx(0.1)
    salt = (noisy == 255).all(axis=2).sum()
    pepper = (noisy == 0).all(axis=2).sum()
    assert salt + pepper == changed.sum() and abs(salt - pepper) < 200
    assert not np.array_equal(noisy, augment.salt_and_pepper(image, 0.1, seed=1))
    np.testing.assert_array_equal(augment.salt_and_pepper(image, 0.0), image)
    floats = augment.salt_and_pepper(np.full((10, 10), 0.5, np.float32), 0.5)
    assert set(np.unique(floats)) == {0.0, 0.5, 1.0}


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: augment.flip(np.zeros((2, 8, 8, 3)), 0), r"`image` must be one image of shape \(H, W\) or \(H, W, C\)"),
        (lambda: augment.flip(np.zeros((8, 8)), 2), r"`axis` must be one of 0, 1; received: 2"),
        (lambda: augment.rotate(np.zeros((8, 8), bool), 10), r"`image` must be images with an integer or floating"),
        (lambda: augment.rotate(np.zeros((8, 8)), "10"), r"`degrees` must be a finite number; received: '10'"),
        (lambda: augment.shift(np.zeros((8, 8)), 1, None), r"`dy` must be a finite number; received: None"),
        (lambda: augment.rescale(np.zeros((8, 8)), 0), r"`factor` must be a positive number; received: 0"),
        (lambda: augment.salt_and_pepper(np.zeros((8, 8)), 1.5), r"`amount` must be a finite number in \[0, 1\]; received: 1.5"),
    ],
)
def test_by_hand_functions_reject_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()
