"""Non-finite parameters and absurd class counts are refused with the usual `_checks` message (issue 9)."""

import math
import time

import keras
import matplotlib
import numpy as np
import pytest

from udl import augment, training, viz

matplotlib.use("Agg")
IMAGE = np.full((8, 8), 200, np.uint8)
BAD = [math.nan, math.inf, -math.inf, np.float32("nan")]


@pytest.mark.parametrize("value", BAD, ids=["nan", "inf", "-inf", "np.nan"])
@pytest.mark.parametrize("call,arg", [
    (lambda v: augment.rotate(IMAGE, v), "degrees"),
    (lambda v: augment.shift(IMAGE, v, 0), "dx"),
    (lambda v: augment.shift(IMAGE, 0, v), "dy"),
    (lambda v: augment.rescale(IMAGE, v), "factor"),
    (lambda v: augment.salt_and_pepper(IMAGE, v), "amount"),
    (lambda v: augment.RandomAffine(rotation=v), "rotation"),
    (lambda v: augment.RandomAffine(fill_value=v), "fill_value"),
], ids=["rotate", "shift-dx", "shift-dy", "rescale", "salt_and_pepper", "RandomAffine-rotation", "fill_value"])
def test_augmentations_refuse_non_finite_parameters(call, arg, value):
    with pytest.raises(ValueError, match=f"`{arg}` must be a finite number"):
        call(value)


def test_confusion_matrix_refuses_an_absurd_class_count_at_once():
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"`y_true` must be class labels below 100 .*received: 'labels up to 1000000'"):
        viz.confusion_matrix([0, 10**6], [0, 1])
    assert time.perf_counter() - start < 1


def test_confusion_matrix_allows_more_classes_when_they_are_named(monkeypatch):
    monkeypatch.setattr(viz, "MAX_CLASSES", 3)  # the rule, on a matrix small enough to draw quickly
    with pytest.raises(ValueError, match="`y_pred` must be class labels below 3"):
        viz.confusion_matrix([0, 1], [0, 4])
    ax = viz.confusion_matrix([0, 1], [0, 4], class_names=list("abcde"))
    assert len(ax.get_xticklabels()) == 5


@pytest.mark.parametrize("labels", [[0.0, math.nan], [0.0, math.inf], [[0.1, math.nan], [0.5, 0.5]]])
def test_labels_and_scores_must_be_finite(labels):
    with pytest.raises(ValueError, match="`y_pred` must be finite labels or class scores"):
        viz.confusion_matrix([0, 1], labels)


def test_overlay_refuses_non_finite_alpha_and_heatmaps():
    with pytest.raises(ValueError, match="`alpha` must be a finite number in \\[0, 1\\]"):
        viz.overlay(IMAGE, np.zeros((8, 8)), alpha=math.nan)
    with pytest.raises(ValueError, match="`heatmap` must be a finite numeric map"):
        viz.overlay(IMAGE, np.full((8, 8), math.nan))


def _conv():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="conv")])


def test_gradient_ascent_refuses_non_finite_settings():
    model = _conv()
    with pytest.raises(ValueError, match="`lr` must be a finite positive number"):
        viz.max_activation(model, "conv", 0, steps=2, lr=math.nan)
    with pytest.raises(ValueError, match="`value_range\\[1\\]` must be a finite number"):
        viz.max_activation(model, "conv", 0, steps=2, value_range=(0.0, math.inf))


def test_saliency_refuses_an_image_of_nan():
    with pytest.raises(ValueError, match="`image` must be an image of finite values"):
        viz.saliency(_conv(), np.full((8, 8, 1), math.nan))


def test_the_lr_finder_blames_nan_inputs_not_min_lr():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="`x` must be an array of finite values") as info:
        training.find_learning_rate(model, np.full((32, 4), math.nan), np.zeros(32), steps=10)
    assert "min_lr" not in str(info.value)
    with pytest.raises(ValueError, match="`y` must be targets of finite values"):
        training.find_learning_rate(model, np.zeros((32, 4)), np.full(32, math.inf), steps=10)
