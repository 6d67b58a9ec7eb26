"""The split-digits setup the continual tests share: a tiny MLP and five tasks of two digits."""

from __future__ import annotations

from graph.model import NetworkGraph
from tests.runtime.runtime_helpers import mlp

# A few epochs per task at a learning rate that learns each task in them.
FAST = {"epochs_per_task": 2, "buffer_size": 100, "ewc_lambda": 1000.0, "seed": 3}


def split_digits_graph(**continual) -> NetworkGraph:
    """The tiny MLP on digits with continual settings `FAST` updated by `continual`."""
    graph = mlp(hidden=32, learning_rate=0.01)
    graph.settings["continual"] = {**graph.settings["continual"], **FAST, **continual}
    return graph
