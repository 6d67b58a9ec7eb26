"""Shared helpers for the panel tests: the default example, shortened for speed."""

from __future__ import annotations

from pathlib import Path

from graph.files import load_graph
from graph.model import NetworkGraph, SetSettings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TRAIN_TIMEOUT_MS = 180_000


def example(name: str = "mlp_digits", epochs: int = 2, **training) -> NetworkGraph:
    """An example graph with few epochs (and any other training settings given)."""
    graph = load_graph(EXAMPLES / f"{name}.yaml")
    graph.apply(SetSettings("training", {"epochs": epochs, **training}))
    return graph


def train(qtbot, window) -> object:
    """Clicks Train in the window's training panel and waits for the run to end."""
    panel = window.panels.training
    with qtbot.waitSignal(panel.training_ended, timeout=TRAIN_TIMEOUT_MS) as blocker:
        assert panel.train()
    return blocker.args[0]
