"""Training health: dead ReLU units and gradient norms, on models made to fail and on numbers."""

from __future__ import annotations

import math

import keras
import numpy as np

from runtime.events import HealthChecked, LogLine
from runtime.explain.health import HealthMonitor, layer_health
from runtime.explain.health_rules import RULES, badges, summary
from runtime.explain.result import LayerHealth


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


# The rules on hand-made numbers ---------------------------------------------------------


def health(node: str, norm: float | None, dead: float | None = None) -> LayerHealth:
    return LayerHealth(node, dead, 0.0, 1.0, norm)


def kinds(report: list[LayerHealth]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for badge in badges(report):
        found.setdefault(badge.node, []).append(badge.kind)
    return found


def test_gradient_rules_on_hand_made_norms():
    # Absolute: below 1e-7 vanished, above 1e3 exploded; in between healthy.
    assert kinds([health("a", 5e-8), health("b", 0.5), health("c", 2e3)]) == {
        "a": ["vanishing"],
        "c": ["exploding"],
    }
    # Relative: 10,000 times smaller than the largest layer's norm has vanished too.
    assert kinds([health("early", 1e-5), health("late", 0.2)]) == {"early": ["vanishing"]}
    assert kinds([health("early", 1e-4), health("late", 0.2)]) == {}
    # Not finite: infinity exploded; NaN says nothing (the NaN check reports it).
    assert kinds([health("a", math.inf), health("b", math.nan), health("c", 0.3)]) == {
        "a": ["exploding"]
    }
    # Layers without weights have no norm and no gradient badge.
    assert kinds([health("pool", None), health("dense", 0.1)]) == {}


def test_dead_rule_on_hand_made_fractions_and_thresholds():
    report = [health("a", 0.1, dead=0.5), health("b", 0.1, dead=0.51), health("c", 0.1, None)]
    assert kinds(report) == {"b": ["dead"]}
    assert kinds([health("a", 0.1, dead=0.3)]) == {}
    assert [b.kind for b in badges([health("a", 0.1, dead=0.3)], dead_threshold=0.2)] == ["dead"]
    both = badges([health("a", 0.0, dead=1.0), health("b", 1.0)])
    assert [b.kind for b in both] == ["dead", "vanishing"]
    assert both[0].problem == RULES["dead"].problem and both[0].fix == RULES["dead"].fix


def test_summary_reads_the_numbers():
    text = summary(LayerHealth("dense_1", 0.75, 0.125, 0.5, 3.2e-3))
    assert text == "output mean 0.125, std 0.5 · dead ReLU units 75% · gradient norm 0.0032"
    assert summary(LayerHealth("pool", None, 1.0, 2.0, None)) == "output mean 1, std 2"


# Sampled during training ----------------------------------------------------------------


# Two ReLU branches side by side: one starts with a bias so negative that every unit
# is dead, the other is healthy; one run shows the badge lands on one and not the other.
DEAD_AND_HEALTHY = """
format: deepwire-graph
version: 1
nodes:
- {id: n1, type: Input, name: input_1, params: {shape: [4]}, position: [0, 0]}
- id: n2
  type: Dense
  name: dead
  params:
    units: 8
    activation: relu
    bias_initializer: {class: Constant, config: {value: -100.0}}
  position: [200, 0]
- {id: n3, type: Dense, name: healthy, params: {units: 8, activation: relu}, position: [200, 150]}
- {id: n4, type: Concatenate, name: both, params: {}, position: [400, 0]}
- {id: n5, type: Dense, name: out, params: {units: 3, activation: softmax}, position: [600, 0]}
edges:
- {source: n1, target: n2, port: 0}
- {source: n1, target: n3, port: 0}
- {source: n2, target: n4, port: 0}
- {source: n3, target: n4, port: 1}
- {source: n4, target: n5, port: 0}
training: {epochs: 3, batch_size: 32}
dataset: {source: builtin, name: iris, validation_size: 0.2}
"""


def test_the_monitor_checks_every_n_epochs_and_after_the_last_with_node_ids():
    from graph.files import graph_from_yaml
    from runtime.builder import build_model
    from runtime.compile import compile_model
    from runtime.data import load_dataset
    from runtime.explain.health import HealthMonitor, health_batch

    graph = graph_from_yaml(DEAD_AND_HEALTHY)
    dataset = load_dataset(graph.dataset)
    keras.utils.set_random_seed(0)
    model = build_model(graph)
    heads = compile_model(model, graph, dataset)
    x, y = health_batch(dataset, heads, [(4,)])
    assert len(x) == len(dataset.x_val)  # the validation split (smaller than one batch)
    events = []
    monitor = HealthMonitor(x, y, {n.name: n.id for n in graph.nodes}, events.append, every=2)
    monitor.set_model(model)
    for epoch in range(3):  # what fit calls, without the cost of fitting
        monitor.on_epoch_end(epoch)
    monitor.on_train_end()
    assert [e.epoch for e in events] == [2, 3]  # every 2 epochs, and after the last one
    last = events[-1]
    assert isinstance(last, HealthChecked)
    assert set(last.layers) == {"n2", "n3", "n4", "n5"}  # node ids, not layer names
    assert last.layers["n2"].dead_fraction == 1.0 and last.layers["n3"].dead_fraction < 0.5
    dead = [b for b in last.badges if b.kind == "dead"]
    assert [b.node for b in dead] == ["n2"] and dead[0].fix == RULES["dead"].fix
    assert not any(b.node == "n3" for b in last.badges)


def test_a_check_that_fails_is_reported_once_and_training_goes_on():
    events = []
    model = model_with(bias=0.0)
    x, y = batch()
    monitor = HealthMonitor(x, y[:3], {}, events.append, every=1)  # targets of the wrong size
    monitor.set_model(model)
    monitor.on_epoch_end(0)
    monitor.on_epoch_end(1)
    monitor.on_train_end()
    assert len(events) == 1 and isinstance(events[0], LogLine)
    assert events[0].text.startswith("Layer health could not be checked: ")
