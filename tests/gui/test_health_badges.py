"""Training health on the canvas: sampled during a run in the app, a badge where a rule warns."""

from __future__ import annotations

from graph.files import graph_from_yaml
from graph.model import SetSettings
from gui.canvas.node_item import NodeHealth
from runtime.explain.health_rules import CHECK_EVERY_EPOCHS, RULES
from tests.gui.panel_helpers import train
from tests.runtime.test_explain_health import DEAD_AND_HEALTHY


def test_a_run_badges_the_node_with_dead_relus_and_not_the_healthy_one(qtbot, make_window):
    graph = graph_from_yaml(DEAD_AND_HEALTHY)
    graph.apply(SetSettings("training", {"epochs": CHECK_EVERY_EPOCHS + 1}))
    window = make_window(graph)
    panel = window.panels.training
    checks = []
    panel.health_checked.connect(lambda run: checks.append(run.health.epoch))
    run = train(qtbot, window)
    assert run.succeeded and run.health is not None
    assert checks == [CHECK_EVERY_EPOCHS, CHECK_EVERY_EPOCHS + 1]  # sampled, and after the last
    items = window.scene.node_items
    dead, healthy = items["n2"], items["n3"]
    assert dead.health_badge is not None and dead.health_badge.isVisible()
    assert RULES["dead"].fix in dead.health_badge.toolTip()
    assert "dead ReLU units 100%" in dead.toolTip()
    assert healthy.health_badge is None
    assert f"Run {run.number}, epoch {CHECK_EVERY_EPOCHS + 1}" in healthy.toolTip()
    assert "gradient norm" in healthy.toolTip()
    assert items["n1"].health is None  # an Input has no health of its own

    panel.training_started.emit()  # the next run starts clean: its own checks bring its badges
    assert all(item.health is None and item.health_badge is None for item in items.values())


def test_a_badge_goes_when_the_node_is_healthy_again(qtbot, window):
    from tests.gui.conftest import mlp_graph

    window.session.replace_graph(mlp_graph())
    item = next(iter(window.scene.node_items.values()))
    warning = ("Dead ReLU units", RULES["dead"].problem, RULES["dead"].fix)
    window.scene.show_health({item.node_id: NodeHealth("Run 1, epoch 5", "numbers", (warning,))})
    badge = item.health_badge
    assert badge is not None and badge.scene() is window.scene
    window.scene.show_health({item.node_id: NodeHealth("Run 2, epoch 5", "numbers")})
    assert item.health_badge is None and badge.scene() is None
    assert "Run 2, epoch 5: numbers" in item.toolTip()
