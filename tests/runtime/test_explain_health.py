"""Training health: dead ReLU units and gradient norms, checked on models made to fail."""

from __future__ import annotations

import keras
import numpy as np

from runtime.explain.health import badges, layer_health


def model_with(bias: float, kernel_scale: float = 1.0) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(
                8,
                activation="relu",
                name="hidden",
                bias_initializer=keras.initializers.Constant(bias),
                kernel_initializer=keras.initializers.RandomNormal(stddev=kernel_scale),
            ),
            keras.layers.Dense(3, activation="softmax", name="out"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def batch():
    rng = np.random.default_rng(0)
    return rng.normal(size=(64, 4)).astype("float32"), rng.integers(0, 3, 64)


def test_a_healthy_layer_earns_no_badge_and_gradients_match_a_tape():
    model = model_with(bias=0.1)
    x, y = batch()
    report = {h.node: h for h in layer_health(model, x, y)}
    assert report["hidden"].dead_fraction < 0.5 and report["out"].dead_fraction is None
    assert badges(list(report.values())) == []
    import tensorflow as tf

    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, model(x)))
    grads = tape.gradient(loss, model.get_layer("out").trainable_weights)
    expected = np.sqrt(sum(float(tf.reduce_sum(g * g)) for g in grads))
    assert abs(report["out"].gradient_norm - expected) < 1e-4 * max(expected, 1)


def test_dead_relu_units_earn_a_badge_with_a_fix():
    model = model_with(bias=-100.0)  # every hidden unit is below zero for every sample
    x, y = batch()
    report = layer_health(model, x, y)
    hidden = next(h for h in report if h.node == "hidden")
    assert hidden.dead_fraction == 1.0
    found = badges(report)
    dead = [b for b in found if b.node == "hidden" and b.kind == "dead"]
    assert dead and "leaky_relu" in dead[0].fix
    assert any(b.kind == "vanishing" and b.node == "hidden" for b in found)


def test_exploding_gradients_earn_a_badge():
    model = model_with(bias=0.0, kernel_scale=1e4)
    x, y = batch()
    found = badges(layer_health(model, x, y), exploding=10.0)
    assert any(b.kind == "exploding" for b in found)
