"""Tests for udl.viz: returned axes, labels, map shapes and ranges, planted signals, and argument errors."""

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from udl import viz  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def small_cnn(channels=1, n_classes=3, pooling=keras.layers.GlobalAveragePooling2D):
    """A tiny untrained convnet on 16x16 inputs."""
    keras.utils.set_random_seed(0)
    return keras.Sequential([
        keras.Input((16, 16, channels)),
        keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv1"),
        keras.layers.MaxPooling2D(name="pool"),
        keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv2"),
        pooling(name="gap"),
        keras.layers.Dense(n_classes, activation="softmax", name="out"),
    ])


def top_left_model():
    """A convnet whose output depends only on the top-left quadrant of its 16x16 input (fixed weights)."""
    mask = np.zeros((1, 16, 16, 1), "float32")
    mask[:, :8, :8] = 1
    inputs = keras.Input((16, 16, 1))
    masked = keras.layers.Lambda(lambda t: t * mask, name="mask")(inputs)
    conv = keras.layers.Conv2D(2, 3, padding="same", activation="relu", name="conv",
                               kernel_initializer="ones", bias_initializer="zeros")(masked)
    pooled = keras.layers.GlobalAveragePooling2D()(conv)
    outputs = keras.layers.Dense(2, activation="softmax", name="probs",
                                 kernel_initializer=keras.initializers.Constant([[1.0, -1.0], [1.0, -1.0]]))(pooled)
    return keras.Model(inputs, outputs)


def rng_images(shape, dtype="float32", seed=0):
    return np.random.default_rng(seed).random(shape).astype(dtype)


# --- image_grid ---------------------------------------------------------------------------------------

def test_image_grid_grey_and_colour():
    axes = viz.image_grid(rng_images((5, 16, 16)), titles=list("abcde"), ncols=3)
    assert len(axes) == 6 and axes[0].get_title() == "a" and axes[4].get_title() == "e"
    assert axes[0].images[0].get_cmap().name == "gray"
    assert not axes[5].axison                                       # the spare cell is blank
    colour = viz.image_grid((rng_images((2, 8, 8, 3)) * 255).astype("uint8"))
    assert colour[0].images[0].get_array().shape == (8, 8, 3)


def test_image_grid_rescales_floats_outside_unit_range():
    images = np.stack([np.linspace(-3, 5, 64).reshape(8, 8)] * 2)
    shown = viz.image_grid(images)[0].images[0].get_array()
    assert shown.min() == pytest.approx(0) and shown.max() == pytest.approx(1)


def test_image_grid_uses_given_axes():
    _, axes = plt.subplots(2, 2)
    assert viz.image_grid(rng_images((4, 8, 8)), axes=axes)[3] is axes[1, 1]


@pytest.mark.parametrize("kwargs, name, error", [
    (dict(images=np.zeros((8, 8))), "images", ValueError),
    (dict(images=np.zeros((2, 8, 8, 2))), "images", ValueError),
    (dict(images=np.array([[["a"]]])), "images", TypeError),
    (dict(images=np.zeros((2, 8, 8)), titles=["one"]), "titles", ValueError),
    (dict(images=np.zeros((2, 8, 8)), ncols=0), "ncols", ValueError),
    (dict(images=np.zeros((5, 8, 8)), axes="two axes"), "axes", TypeError),
])
def test_image_grid_rejects_bad_arguments(kwargs, name, error):
    if kwargs.get("axes") == "two axes":                               # too few for five images
        kwargs["axes"] = plt.subplots(1, 2)[1]
    with pytest.raises(error, match=f"`{name}`"):
        viz.image_grid(**kwargs)


# --- plot_history -------------------------------------------------------------------------------------

HISTORY = {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6], "accuracy": [0.5, 0.8, 0.9],
           "val_accuracy": [0.4, 0.7, 0.8]}


def test_plot_history_from_dict_and_history_object():
    axes = viz.plot_history(HISTORY)
    assert [ax.get_title() for ax in axes] == ["loss", "accuracy"]
    assert axes[0].get_xlabel() == "epoch" and axes[1].get_ylabel() == "accuracy"
    train, val = axes[0].get_lines()
    assert list(train.get_xdata()) == [1, 2, 3] and list(val.get_ydata()) == HISTORY["val_loss"]
    assert [t.get_text() for t in axes[0].get_legend().get_texts()] == ["train", "validation"]
    history = keras.callbacks.History()
    history.history = {"loss": [2.0, 1.0]}
    assert len(viz.plot_history(history, metrics="loss")[0].get_lines()) == 1


def test_plot_history_compares_runs():
    axes = viz.plot_history({"lr=1e-3": HISTORY, "lr=1": {**HISTORY, "loss": [5, 9, 20]}}, metrics=["loss"])
    labels = [t.get_text() for t in axes[0].get_legend().get_texts()]
    assert labels == ["lr=1e-3 train", "lr=1e-3 validation", "lr=1 train", "lr=1 validation"]


def test_plot_history_names_missing_metrics():
    with pytest.raises(ValueError, match="`metrics`.*'auc'.*available: 'loss', 'val_loss'"):
        viz.plot_history({"loss": [1.0], "val_loss": [1.0]}, metrics=("loss", "auc"))
    with pytest.raises(TypeError, match="`history`"):
        viz.plot_history([1.0, 0.5])


# --- confusion_matrix and misclassified ---------------------------------------------------------------

def test_confusion_matrix_counts_and_normalised():
    ax = viz.confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], class_names=["cat", "dog", "owl"])
    assert ax.get_xlabel() == "Predicted label" and ax.get_ylabel() == "True label"
    assert "accuracy 75.0%" in ax.get_title()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog", "owl"]
    scores = np.eye(3)[[0, 1, 2, 2]]                              # class scores (N, K) are argmax-ed
    ax = viz.confusion_matrix(np.array([[0], [1], [1], [2]]), scores, normalize="true")
    assert "normalised over true" in ax.get_title()
    assert sorted(t.get_text() for t in ax.texts)[-1] == "1.00"


@pytest.mark.parametrize("args, kwargs, name", [
    (([0, 1], [0]), {}, "y_pred"),
    (([0, 1], [0, 1]), dict(normalize="rows"), "normalize"),
    (([0, 3], [0, 1]), dict(class_names=["a", "b"]), "class_names"),
    (([0.5, 1], [0, 1]), {}, "y_true"),
    ((["a", "b"], [0, 1]), {}, "y_true"),
])
def test_confusion_matrix_rejects_bad_arguments(args, kwargs, name):
    with pytest.raises((ValueError, TypeError), match=f"`{name}`"):
        viz.confusion_matrix(*args, **kwargs)


def test_misclassified_orders_by_confidence_and_titles():
    images = rng_images((4, 8, 8))
    scores = np.array([[0.9, 0.1], [0.3, 0.7], [0.05, 0.95], [0.2, 0.8]])
    axes = viz.misclassified(images, [0, 0, 0, 1], scores, class_names=["wolf", "husky"])
    assert [ax.get_title() for ax in axes[:2]] == ["wolf → husky"] * 2
    assert np.allclose(axes[0].images[0].get_array(), images[2])    # the most confident mistake first
    assert "2 of 4 misclassified" in axes[0].figure._suptitle.get_text()


def test_misclassified_says_when_none():
    axes = viz.misclassified(rng_images((3, 8, 8)), [0, 1, 2], [0, 1, 2])
    assert "No misclassified" in axes[0].texts[0].get_text()


def test_misclassified_rejects_length_mismatch():
    with pytest.raises(ValueError, match="`images`, `y_true` and `y_pred`"):
        viz.misclassified(rng_images((3, 8, 8)), [0, 1], [0, 1])


# --- filters, feature maps, maximal activation --------------------------------------------------------

def test_filters_grey_and_colour():
    model = small_cnn()
    axes = viz.filters(model.get_layer("conv1"))
    assert len([ax for ax in axes if ax.images]) == 4 and axes[3].get_title() == "filter 3"
    axes = viz.filters(model.get_layer("conv2"), n=2)                # 4 input channels: their mean
    assert axes[0].images[0].get_array().shape == (3, 3)
    colour = viz.filters(small_cnn(channels=3).get_layer("conv1"))
    shown = colour[0].images[0].get_array()
    assert shown.shape == (3, 3, 3) and shown.min() == 0 and shown.max() == 1


def test_filters_rejects_non_conv():
    with pytest.raises(TypeError, match="`layer_or_weights`.*Dense"):
        viz.filters(small_cnn().get_layer("out"))
    with pytest.raises(ValueError, match="`layer_or_weights`"):
        viz.filters(np.zeros((3, 3, 4)))


def test_feature_maps_shows_channels():
    model = small_cnn()
    axes = viz.feature_maps(model, "conv2", rng_images((16, 16)), n=4)  # (H, W) is fine for a 1-channel model
    assert [ax.get_title() for ax in axes[:4]] == [f"channel {i}" for i in range(4)]
    assert axes[0].images[0].get_array().shape == (8, 8)
    assert "conv2: 4 of 6 feature maps, 8×8" in axes[0].figure._suptitle.get_text()


def test_feature_maps_rejects_bad_layer_and_image():
    model = small_cnn()
    with pytest.raises(ValueError, match="`layer_name`.*'conv1'.*'out'"):
        viz.feature_maps(model, "conv9", rng_images((16, 16, 1)))
    with pytest.raises(ValueError, match=r"`image`.*\(16, 16, 1\).*\(28, 28, 1\)"):
        viz.feature_maps(model, "conv1", rng_images((28, 28, 1)))
    with pytest.raises(ValueError, match="`layer_name`.*feature maps"):
        viz.feature_maps(model, "gap", rng_images((16, 16, 1)))


def test_max_activation_is_deterministic_in_range_and_raises_activation():
    model = small_cnn()
    feed = keras.Model(model.inputs[0], model.get_layer("conv1").output)
    pattern = viz.max_activation(model, "conv1", 2, steps=20, seed=1)
    assert pattern.shape == (16, 16, 1) and 0 <= pattern.min() and pattern.max() <= 1
    assert np.array_equal(pattern, viz.max_activation(model, "conv1", 2, steps=20, seed=1))
    grey = np.full((1, 16, 16, 1), 0.5, "float32")
    assert feed(pattern[None])[..., 2].numpy().mean() > feed(grey)[..., 2].numpy().mean()


def test_max_activation_of_a_softmax_unit_climbs_its_logit():
    pattern = viz.max_activation(top_left_model(), "probs", 0, steps=30)   # class 0 likes a bright top-left
    assert pattern[:8, :8].mean() > 0.9 and abs(pattern[8:, 8:].mean() - 0.5) < 0.1


def test_max_activation_grid_and_errors():
    axes = viz.max_activation_grid(small_cnn(), "conv2", [0, 5], steps=5)
    assert [ax.get_title() for ax in axes] == ["filter 0", "filter 5"]
    with pytest.raises(ValueError, match=r"`filter_index`.*\[0, 4\)"):
        viz.max_activation(small_cnn(), "conv1", 4)
    with pytest.raises(TypeError, match="`model`"):
        viz.max_activation("not a model", "conv1", 0)


# --- saliency, Grad-CAM, overlay ----------------------------------------------------------------------

def quadrant_share(heatmap):
    return heatmap[:8, :8].sum() / heatmap.sum()


def test_saliency_and_gradcam_find_the_planted_signal():
    model = top_left_model()
    image = rng_images((16, 16, 1), seed=3)
    sal = viz.saliency(model, image, class_index=0)
    assert sal.shape == (16, 16) and sal.min() >= 0
    assert quadrant_share(sal) > 0.99                               # nothing outside the quadrant matters
    cam = viz.gradcam(model, image, class_index=0)                  # default layer: the last Conv2D
    assert cam.shape == (16, 16) and cam.min() >= 0 and cam.max() == pytest.approx(1)
    assert quadrant_share(cam) > 0.8
    hires = viz.gradcam(model, image, class_index=0, method="hirescam")
    assert hires.shape == (16, 16) and quadrant_share(hires) > 0.8


def test_gradcam_on_trained_model_points_at_the_cue():
    """Class 1 images carry a bright 4x4 patch in the top-left corner; everything else is noise."""
    rng = np.random.default_rng(0)
    x = rng.random((256, 16, 16, 1)).astype("float32") * 0.5
    y = np.arange(256) % 2
    x[y == 1, :4, :4] = 1.0
    model = small_cnn(n_classes=2, pooling=keras.layers.GlobalMaxPooling2D)
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=4, batch_size=32, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] > 0.95
    cam = viz.gradcam(model, x[1], class_index=1)
    assert np.argmax(cam) // 16 < 8 and np.argmax(cam) % 16 < 8     # the hottest pixel is in the top-left
    assert cam[:8, :8].mean() > 1.5 * cam[8:, 8:].mean()
    sal = viz.saliency(model, x[1], class_index=1)
    assert sal[:6, :6].mean() > 2 * sal[8:, 8:].mean()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")          # keras's own saving code, numpy 2 copy=
def test_maps_of_a_reloaded_sequential_model(tmp_path):
    """A reloaded Sequential model keeps older graphs around; Grad-CAM must still connect layer and score."""
    model = small_cnn(n_classes=2)
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    image = rng_images((16, 16, 1))
    assert np.allclose(viz.gradcam(reloaded, image, class_index=1), viz.gradcam(model, image, class_index=1), atol=1e-5)
    assert np.allclose(viz.saliency(reloaded, image), viz.saliency(model, image), atol=1e-6)


def test_gradcam_and_saliency_errors():
    dense = keras.Sequential([keras.Input((16, 16, 1)), keras.layers.Flatten(), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="`model`.*Conv2D"):
        viz.gradcam(dense, rng_images((16, 16, 1)))
    with pytest.raises(ValueError, match="`class_index`"):
        viz.saliency(small_cnn(), rng_images((16, 16, 1)), class_index=3)
    with pytest.raises(ValueError, match="`image`"):
        viz.gradcam(small_cnn(), rng_images((2, 16, 16, 1)))
    with pytest.raises(ValueError, match="`method`.*'hirescam'"):
        viz.gradcam(small_cnn(), rng_images((16, 16, 1)), method="gradcam++")
    with pytest.raises(ValueError, match=r"`layer_name`.*feature maps.*'gap', whose output has shape \(None, 6\)"):
        viz.gradcam(small_cnn(), rng_images((16, 16, 1)), layer_name="gap")


def test_overlay_draws_heatmap_and_colour_bar():
    ax = viz.overlay(rng_images((16, 16, 3)), np.linspace(0, 1, 256).reshape(16, 16), title="Grad-CAM")
    assert ax.get_title() == "Grad-CAM" and len(ax.images) == 2 and len(ax.figure.axes) == 2
    blank = viz.overlay(rng_images((16, 16)), np.zeros((16, 16)))      # an empty map stays at the bottom colour
    assert blank.images[1].get_clim() == (0.0, 1.0)
    with pytest.raises(ValueError, match=r"`heatmap`.*\(16, 16\)"):
        viz.overlay(rng_images((16, 16)), np.zeros((8, 8)))
    with pytest.raises(ValueError, match="`image`"):
        viz.overlay(rng_images((2, 16, 16, 3)), np.zeros((16, 16)))


def test_hirescam_finds_a_cue_that_grad_cam_averages_away():
    """Bright strokes everywhere, but only those in the top-left count: position-wise weights see that."""
    inputs = keras.Input((16, 16, 1))
    conv = keras.layers.Conv2D(1, 1, activation="relu", name="conv", kernel_initializer="ones",
                               bias_initializer="zeros")(inputs)
    weights = np.full((256, 2), 0.0, "float32")
    position = np.arange(256).reshape(16, 16)
    weights[position[:8, :8].ravel(), 1] = 1.0                        # class 1 reads the top-left quadrant
    weights[position[8:, 8:].ravel(), 1] = -0.2                       # and mildly against the bottom-right
    flat = keras.layers.Flatten()(conv)
    outputs = keras.layers.Dense(2, activation="softmax", kernel_initializer=keras.initializers.Constant(weights))(flat)
    model = keras.Model(inputs, outputs)
    image = np.zeros((16, 16, 1), "float32")
    image[2:6, 2:6] = image[10:14, 10:14] = 1.0
    hires = viz.gradcam(model, image, class_index=1, method="hirescam")
    assert quadrant_share(hires) > 0.99
    grad_cam = viz.gradcam(model, image, class_index=1)              # one weight per channel: both squares lit
    assert grad_cam[10:14, 10:14].mean() > 0.5
