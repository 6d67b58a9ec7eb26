"""What a model learns from the data besides its weights survives a rebuild from its graph."""

from __future__ import annotations

import io
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from graph.files import graph_to_yaml, load_graph
from graph.model import NetworkGraph
from runtime.compression.measure import save_keras
from runtime.data import load_dataset
from runtime.events import RunFinished, TrainingFinished
from runtime.learned_state import set_trained_weights, trained_weights
from runtime.run_store import load_npz_weights
from runtime.runs.base import RunRequest
from runtime.runs.kinds.train import TrainingOutcome
from runtime.runs.local import run_inline
from runtime.runs.recording import RunJournal
from runtime.trainer import Trainer

EXAMPLES = Path(__file__).parents[2] / "examples"


def _lookup_model() -> keras.Model:
    words = keras.Input((1,), dtype="string", name="word")
    codes = keras.Input((1,), dtype="int64", name="code")
    numbers = keras.Input((2,), name="number")
    looked_up = keras.layers.StringLookup(name="word_ids")(words)
    renumbered = keras.layers.IntegerLookup(name="code_ids")(codes)
    bins = keras.layers.Discretization(num_bins=3, name="bins")(numbers)
    scaled = keras.layers.Normalization(name="scaled")(numbers)
    joined = keras.layers.Concatenate()(
        [keras.ops.cast(t, "float32") for t in (looked_up, renumbered, bins)] + [scaled]
    )
    return keras.Model([words, codes, numbers], keras.layers.Dense(1, name="out")(joined))


def _adapted_lookup_model():
    model = _lookup_model()
    x = [
        tf.constant([["red"], ["green"], ["blue"], ["red"]]),
        tf.constant([[70], [80], [90], [70]], dtype="int64"),
        tf.constant([[1.0, 4.0], [5.0, 2.0], [9.0, 8.0], [3.0, 3.0]]),
    ]
    model.get_layer("word_ids").adapt(x[0])
    model.get_layer("code_ids").adapt(x[1])
    model.get_layer("bins").adapt(x[2])
    model.get_layer("scaled").adapt(x[2])
    return model, x


def test_vocabularies_bins_and_statistics_come_back_through_an_npz_file():
    model, x = _adapted_lookup_model()
    buffer = io.BytesIO()
    np.savez(buffer, *trained_weights(model))  # as the run store writes them
    path_free = io.BytesIO(buffer.getvalue())
    with np.load(path_free) as archive:
        carried = [archive[f"arr_{index}"] for index in range(len(archive.files))]
    rebuilt = _lookup_model()
    set_trained_weights(rebuilt, carried)
    assert rebuilt.get_layer("word_ids").get_vocabulary() == (
        model.get_layer("word_ids").get_vocabulary()
    )
    assert rebuilt.get_layer("bins").bin_boundaries == model.get_layer("bins").bin_boundaries
    np.testing.assert_array_equal(rebuilt(x).numpy(), model(x).numpy())


def test_weights_without_the_learned_vocabulary_are_refused_naming_the_layer():
    model, _ = _adapted_lookup_model()
    with pytest.raises(ValueError, match=r"word_ids \(StringLookup\): .* no learned vocabulary"):
        set_trained_weights(_lookup_model(), model.get_weights())


def tiny_text_graph() -> NetworkGraph:
    """The text example's data and settings, read by a model small enough to train at once."""
    example = load_graph(EXAMPLES / "text_sentiment.yaml")
    graph = NetworkGraph("tiny text")
    graph.training = {**example.training, "epochs": 1}
    graph.dataset = {**example.dataset, "samples": 200, "validation_size": 0.0}
    chain = [
        graph.add_node("Input", "review", {"shape": [1], "dtype": "string"}),
        graph.add_node(
            "TextVectorization", "words", {"max_tokens": 60, "output_sequence_length": 8}
        ),
        graph.add_node("Embedding", "vectors", {"input_dim": 60, "output_dim": 4}),
        graph.add_node("GlobalAveragePooling1D", "pooled"),
        graph.add_node("Dense", "sentiment", {"units": 2, "activation": "softmax"}),
    ]
    for source, target in zip(chain, chain[1:], strict=False):
        graph.connect(source.id, target.id)
    return graph


@pytest.fixture(scope="module")
def trained_text(tmp_path_factory):
    """A text model trained one epoch on a few reviews, and its run recorded in a store."""
    graph = tiny_text_graph()

    dataset = load_dataset(graph.dataset, EXAMPLES)
    result = Trainer(graph, dataset, epochs=1).run()
    assert isinstance(result, TrainingFinished), getattr(result, "message", result)
    folder = tmp_path_factory.mktemp("runs")
    graph_path = folder / "text.yaml"
    journal = RunJournal(folder / "store", graph_path)
    recording = journal.begin(RunRequest("train", graph_to_yaml(graph), EXAMPLES))
    outcome = TrainingOutcome(result, dataset, "", trained_weights(result.model))
    journal.end(recording, RunFinished("train", outcome, False))
    return result.model, dataset, folder, graph_path


def test_a_restored_text_model_predicts_and_deploys_exactly_as_trained(trained_text):
    model, dataset, folder, graph_path = trained_text
    (run,) = RunJournal(folder / "store", graph_path).runs()
    assert run.weights.suffix == ".npz"
    assert len(load_npz_weights(run.weights)) > len(model.get_weights())  # the vocabulary too
    request = RunRequest("restore", run.graph_yaml, EXAMPLES, {"record": run})
    ended = run_inline(request)  # the restore run, as the Runs panel starts it
    assert isinstance(ended, RunFinished), getattr(ended, "message", ended)
    restored = ended.result
    words = restored.model.get_layer("words")
    assert words.get_vocabulary() == model.get_layer("words").get_vocabulary()
    texts = tf.constant(dataset.x_test[:32])
    np.testing.assert_array_equal(restored.model(texts).numpy(), model(texts).numpy())
    deployed = folder / "deployed.keras"
    save_keras(restored.model, deployed)  # a compiled model is cloned without its optimizer
    loaded = keras.saving.load_model(deployed, compile=False)
    np.testing.assert_array_equal(loaded(texts).numpy(), model(texts).numpy())
