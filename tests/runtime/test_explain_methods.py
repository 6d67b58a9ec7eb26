"""Correctness of the explanation methods on tiny models trained on generated tasks."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from runtime.explain.activations import node_output
from runtime.explain.errors import ExplainError
from runtime.explain.explain import explain
from runtime.explain.gradients import integrated_gradients
from runtime.explain.scoring import ModelScorer

SIDE = 12
CORNER = (slice(0, SIDE // 2), slice(0, SIDE // 2))  # a quarter of the image: chance share 25%
USEFUL = (2, 7)  # the only tabular features that decide the class


def corner_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Noisy images; class 1 has a bright 3x3 patch in the top-left corner."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 0.3, (n, SIDE, SIDE, 1)).astype("float32")
    y = (np.arange(n) % 2).astype("int64")
    x[y == 1, 1:4, 1:4, 0] = 1.0
    return x, y


def two_feature_table(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 10)).astype("float32")
    y = (x[:, USEFUL[0]] + x[:, USEFUL[1]] > 0).astype("int64")
    return x, y


@pytest.fixture(scope="module")
def image_model():
    keras.utils.set_random_seed(1)
    inputs = keras.Input((SIDE, SIDE, 1))
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv_a")(inputs)
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv_b")(h)
    h = keras.layers.MaxPooling2D(2, name="pool")(h)
    h = keras.layers.Flatten(name="flat")(h)
    outputs = keras.layers.Dense(2, activation="softmax", name="out")(h)
    model = keras.Model(inputs, outputs)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = corner_images(400, seed=0)
    model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    x_test, y_test = corner_images(40, seed=1)
    assert model.evaluate(x_test, y_test, verbose=0)[1] > 0.95
    return model, x_test, y_test


@pytest.fixture(scope="module")
def table_model():
    keras.utils.set_random_seed(2)
    model = keras.Sequential(
        [
            keras.Input((10,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(
        keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    x, y = two_feature_table(1000, seed=0)
    model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    x_test, y_test = two_feature_table(200, seed=1)
    assert model.evaluate(x_test, y_test, verbose=0)[1] > 0.85
    return model, x, x_test, y_test


def corner_share(heatmap: np.ndarray) -> float:
    heatmap = np.abs(heatmap)
    return float(heatmap[CORNER].sum() / heatmap.sum())


@pytest.mark.parametrize("method", ["gradcam", "ig", "occlusion"])
def test_image_methods_find_the_deciding_corner(image_model, method):
    model, x_test, y_test = image_model
    scorer = ModelScorer(model, x_test.shape[1:])
    shares = [
        corner_share(explain(scorer, method, x, target=1).heatmap) for x in x_test[y_test == 1][:5]
    ]
    assert min(shares) > 0.5, shares  # chance is 0.25


def test_gradcam_uses_the_last_convolution_by_default_and_any_chosen_one(image_model):
    model, x_test, _ = image_model
    scorer = ModelScorer(model, x_test.shape[1:])
    default = explain(scorer, "gradcam", x_test[1])
    chosen = explain(scorer, "gradcam", x_test[1], node="conv_a")
    assert default.node == "conv_b" and chosen.node == "conv_a"
    assert default.heatmap.shape == (SIDE, SIDE) and default.heatmap.max() == pytest.approx(1.0)


def test_gradcam_refuses_nodes_without_spatial_output_or_unknown(image_model):
    model, x_test, _ = image_model
    scorer = ModelScorer(model, x_test.shape[1:])
    with pytest.raises(ExplainError, match=r"flat \(Flatten\) outputs \(None, 288\)") as error:
        explain(scorer, "gradcam", x_test[0], node="flat")
    assert error.value.node == "flat"
    with pytest.raises(ExplainError, match="no node named 'nope'.*conv_a, conv_b, pool"):
        explain(scorer, "gradcam", x_test[0], node="nope")


def test_integrated_gradients_are_complete(image_model, table_model):
    image, x_images, _ = image_model
    table, _, x_table, _ = table_model
    for model, x in ((image, x_images[1]), (table, x_table[0])):
        scorer = ModelScorer(model, x.shape)
        attributions = integrated_gradients(scorer, x, target=1, steps=128)
        change = float(scorer.predict(x[None])[0, 1] - scorer.predict(np.zeros_like(x)[None])[0, 1])
        assert abs(change) > 0.05
        assert attributions.sum() == pytest.approx(change, rel=0.01)


def test_permutation_importance_and_shap_rank_the_deciding_features_first(table_model):
    model, x_train, x_test, y_test = table_model
    scorer = ModelScorer(model, (10,))
    importance = explain(scorer, "permutation", x_eval=x_test, y_eval=y_test)
    assert set(np.argsort(-importance.attributions)[:2]) == set(USEFUL)
    assert importance.spread.shape == (10,) and importance.prediction[0] > 0.85
    magnitude = np.zeros(10)
    for x in x_test[:5]:
        values = explain(scorer, "shap", x, background=x_train).attributions
        magnitude += np.abs(values)
    assert set(np.argsort(-magnitude)[:2]) == set(USEFUL)


def test_shap_values_add_up_to_the_change_from_the_background(table_model):
    model, x_train, x_test, _ = table_model
    scorer = ModelScorer(model, (10,))
    result = explain(scorer, "shap", x_test[3], target=1, background=x_train[:100])
    expected = scorer.predict(x_test[3][None])[0, 1] - scorer.predict(x_train[:100])[:, 1].mean()
    assert result.attributions.sum() == pytest.approx(expected, abs=1e-3)


def test_smoothgrad_is_seeded_and_shaped_like_the_sample(image_model):
    model, x_test, _ = image_model
    scorer = ModelScorer(model, x_test.shape[1:])
    first = explain(scorer, "smoothgrad", x_test[1], samples=8)
    again = explain(scorer, "smoothgrad", x_test[1], samples=8)
    np.testing.assert_array_equal(first.attributions, again.attributions)
    assert first.attributions.shape == (SIDE, SIDE, 1) and first.heatmap.shape == (SIDE, SIDE)


def test_feature_maps_equal_a_sub_model_and_a_hand_computed_convolution(image_model):
    model, x_test, _ = image_model
    scorer = ModelScorer(model, x_test.shape[1:])
    x = x_test[1]
    maps = node_output(scorer, x, "conv_a")
    sub_model = keras.Model(model.inputs, model.get_layer("conv_a").output)
    np.testing.assert_allclose(maps.values, sub_model.predict(x[None], verbose=0)[0], atol=1e-6)
    kernel, bias = model.get_layer("conv_a").get_weights()
    padded = np.pad(x, ((1, 1), (1, 1), (0, 0)))
    by_hand = np.zeros((SIDE, SIDE, 8))
    for i in range(SIDE):
        for j in range(SIDE):
            by_hand[i, j] = np.tensordot(padded[i : i + 3, j : j + 3], kernel, axes=3) + bias
    np.testing.assert_allclose(maps.values, np.maximum(by_hand, 0), atol=1e-5)
    assert maps.maximum == pytest.approx(float(maps.values.max()))
    with pytest.raises(ExplainError, match="no node named 'ghost'"):
        node_output(scorer, x, "ghost")


def test_sequences_get_attributions_per_step_and_feature():
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [keras.Input((6, 2)), keras.layers.LSTM(4), keras.layers.Dense(1, activation="sigmoid")]
    )
    x = np.random.default_rng(0).normal(size=(6, 2)).astype("float32")
    scorer = ModelScorer(model, (6, 2))
    result = explain(scorer, "ig", x, steps=64)
    assert result.attributions.shape == (6, 2) and result.heatmap.shape == (6, 2)
    assert result.extra["attribution_sum"] == pytest.approx(result.extra["score_change"], rel=0.01)
    assert explain(scorer, "occlusion", x, patch=1).attributions.shape == (6,)


def test_several_inputs_are_fed_from_one_sample_and_outputs_are_chosen():
    keras.utils.set_random_seed(4)
    left, right = keras.Input((3,), name="left"), keras.Input((2,), name="right")
    joined = keras.layers.Concatenate()([left, right])
    first = keras.layers.Dense(2, activation="softmax", name="first")(joined)
    second = keras.layers.Dense(1, name="second")(joined)
    model = keras.Model([left, right], [first, second])
    x = np.arange(5, dtype="float32") / 5
    for output in (0, 1):
        scorer = ModelScorer(model, (5,), output=output)
        result = explain(scorer, "ig", x, steps=64)
        assert result.attributions.shape == (5,)
        assert result.extra["attribution_sum"] == pytest.approx(
            result.extra["score_change"], rel=0.01
        )
    with pytest.raises(ExplainError, match=r"2 output\(s\); choose output 0 to 1"):
        ModelScorer(model, (5,), output=2)
    with pytest.raises(ExplainError, match=r"does not fit the model's input\(s\) \(3,\), \(2,\)"):
        ModelScorer(model, (4,))


def test_bad_samples_and_options_get_clear_messages(image_model):
    model, x_test, _ = image_model
    scorer = ModelScorer(model, x_test.shape[1:])
    with pytest.raises(ExplainError, match=r"expected \(12, 12, 1\). Received: \(8, 8, 1\)"):
        explain(scorer, "ig", np.zeros((8, 8, 1)))
    with pytest.raises(ExplainError, match="NaN"):
        explain(scorer, "ig", np.full((SIDE, SIDE, 1), np.nan))
    with pytest.raises(ExplainError, match="choose a target from 0 to 1. Received: target=5"):
        explain(scorer, "ig", x_test[0], target=5)
    with pytest.raises(ExplainError, match="Unknown explanation method 'lime'"):
        explain(scorer, "lime", x_test[0])


def test_gradcam_refuses_a_node_off_the_way_to_the_chosen_output():
    inputs = keras.Input((6, 6, 1))
    left = keras.layers.Conv2D(2, 3, name="left_conv")(inputs)
    right = keras.layers.Conv2D(2, 3, name="right_conv")(inputs)
    first = keras.layers.Dense(2, name="first")(keras.layers.Flatten()(left))
    second = keras.layers.Dense(2, name="second")(keras.layers.Flatten()(right))
    model = keras.Model(inputs, [first, second])
    x = np.ones((6, 6, 1), "float32")
    on_the_way = explain(ModelScorer(model, (6, 6, 1), output=1), "gradcam", x, node="right_conv")
    assert on_the_way.heatmap.shape == (6, 6)
    with pytest.raises(ExplainError, match="does not depend on node left_conv"):
        explain(ModelScorer(model, (6, 6, 1), output=1), "gradcam", x, node="left_conv")
