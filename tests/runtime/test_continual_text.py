"""Continual learning on a model that reads text: topics learned two at a time, each
strategy (replay, EWC, LwF) over a sequence of texts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from graph.files import load_graph
from graph.model import SetParams
from runtime.continual.learner import ContinualLearner
from runtime.continual.tasks import build_sequence

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TOPICS = {
    "sport": "the striker scored a late goal for the team",
    "food": "the soup was warm and the bread fresh",
    "weather": "heavy rain and cold wind all afternoon",
    "music": "the band played a loud song on stage",
}


@pytest.fixture(scope="module")
def text_topics(tmp_path_factory):
    """(graph, sequence): the text example reading four topics from a CSV, two per task."""
    rng = np.random.default_rng(0)
    rows = ["text,topic"]
    for _ in range(30):
        for topic, sentence in TOPICS.items():
            words = sentence.split()
            rows.append(f"{' '.join(rng.permutation(words)[: len(words) - 2])},{topic}")
    path = tmp_path_factory.mktemp("topics") / "topics.csv"
    path.write_text("\n".join(rows) + "\n")
    graph = load_graph(EXAMPLES / "text_sentiment.yaml")
    graph.apply(SetParams("n5", {"units": len(TOPICS)}))
    graph.settings["dataset"] = {"source": "csv", "path": str(path), "test_size": 0.25}
    graph.settings["continual"] = {"classes_per_task": 2, "epochs_per_task": 2, "buffer_size": 20}
    sequence = build_sequence(graph.dataset, graph.settings["continual"])
    return graph, sequence


@pytest.mark.parametrize("strategy", ["replay", "ewc", "lwf"])
def test_each_strategy_learns_a_sequence_of_text_topics(text_topics, strategy):
    graph, sequence = text_topics
    assert [len(task.classes) for task in sequence.tasks] == [2, 2]
    assert sequence.tasks[0].x_train.dtype.kind == "U"  # the reviews' texts, not numbers
    learner = ContinualLearner(graph, sequence, graph.settings["continual"], strategy)
    result = learner.run()
    matrix = np.asarray(result.matrix)
    assert matrix.shape == (2, 2) and np.all((0 <= matrix) & (matrix <= 1))
    if strategy == "replay":
        assert len(learner.buffer) == 20 and learner.buffer.x.dtype.kind == "U"
