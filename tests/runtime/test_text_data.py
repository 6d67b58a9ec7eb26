"""Free text: detected in CSV files, the synthetic sentiment set, the data check and training."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codegen.python_source import export_training_script
from graph.files import load_graph
from graph.validation import ERROR
from runtime.data import DataError, load_dataset
from runtime.data_check import check_data
from runtime.evaluation import evaluate
from runtime.events import TrainingFinished
from runtime.trainer import Trainer

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "text_sentiment.yaml"


def review_csv(tmp_path, extra_column=False):
    sentiment = load_dataset({"name": "sentiment", "samples": 200, "validation_size": 0.0})
    texts = np.concatenate([sentiment.x_train[:, 0], sentiment.x_test[:, 0]])
    labels = np.concatenate([sentiment.y_train, sentiment.y_test])
    header = "stars,review,label" if extra_column else "review,label"
    lines = [header]
    for index, (text, label) in enumerate(zip(texts, labels, strict=True)):
        text = "" if index == 3 else text  # an empty review stays an (empty) text
        row = f'"{text}",{"positive" if label else "negative"}'
        lines.append(f"{index % 5},{row}" if extra_column else row)
    path = tmp_path / "reviews.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_a_free_text_column_becomes_string_samples(tmp_path):
    dataset = load_dataset({"source": "csv", "path": str(review_csv(tmp_path))})
    assert dataset.text and dataset.x_train.dtype.kind == "U"
    assert dataset.input_shape == (1,)
    assert dataset.feature_names == ("review",)
    assert dataset.class_names == ("negative", "positive")
    total = len(dataset.x_train) + len(dataset.x_val) + len(dataset.x_test)
    assert total == 200  # the empty review is kept, not dropped as missing
    assert "" in set(np.concatenate([dataset.x_train, dataset.x_val, dataset.x_test])[:, 0])


def test_text_beside_other_features_is_refused_with_the_columns_named(tmp_path):
    path = review_csv(tmp_path, extra_column=True)
    with pytest.raises(DataError, match=r"column 'review' holds free text.*others \(stars\)"):
        load_dataset({"source": "csv", "path": str(path)})


def test_a_nul_character_in_the_text_is_refused_with_its_row_and_column(tmp_path):
    # Training once finished, then rebuilding the model failed with a Keras traceback:
    # the learned vocabulary came back with the word "\x00" read as "", the mask token.
    path = review_csv(tmp_path)
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[5] = lines[5].replace(" ", " \x00 ", 1)
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(
        DataError, match=r"reviews.csv: row 6, column 'review': the text holds a NUL character"
    ):
        load_dataset({"source": "csv", "path": str(path)})


def test_short_words_stay_categories_not_text(tmp_path):
    rows = [f"{i},{'dark red' if i % 2 else 'blue'},{i % 2}" for i in range(40)]
    path = tmp_path / "colours.csv"
    path.write_text("a,colour,y\n" + "\n".join(rows), encoding="utf-8")
    dataset = load_dataset({"source": "csv", "path": str(path)})
    assert dataset.feature_names == ("a", "colour=blue", "colour=dark red")


def test_the_synthetic_sentiment_set_is_labelled_and_repeatable():
    first = load_dataset({"name": "sentiment", "samples": 500})
    again = load_dataset({"name": "sentiment", "samples": 500})
    np.testing.assert_array_equal(first.x_train, again.x_train)
    assert first.class_names == ("negative", "positive")
    assert 0.35 < first.y_train.mean() < 0.65
    # "not" with a word of the opposite sentiment keeps the review's own label.
    for text, label in zip(first.x_train[:, 0], first.y_train, strict=True):
        if text.startswith("i would not call"):
            assert text.split()[-1] in (
                ("boring", "awful", "dull", "clumsy", "terrible", "bland")
                + ("tedious", "weak", "messy", "predictable", "forgettable", "painful")
                if label
                else ("wonderful", "brilliant", "moving", "delightful", "superb", "charming")
                + ("gripping", "beautiful", "clever", "fun", "touching", "excellent")
            )


def test_the_data_check_asks_for_the_text_chain():
    dataset = load_dataset({"name": "sentiment", "samples": 200})
    digits = load_graph(ROOT / "examples" / "mlp_digits.yaml")
    messages = [p.message for p in check_data(digits, dataset) if p.severity == ERROR]
    assert any("set dtype=string" in m and "TextVectorization -> Embedding" in m for m in messages)
    assert any("set shape=[1]" in m for m in messages)
    graph = load_graph(EXAMPLE)
    assert not [p for p in check_data(graph, dataset) if p.severity == ERROR]
    embedding = next(n for n in graph.nodes if n.type == "Embedding")
    embedding.params["input_dim"] = 50
    messages = [p.message for p in check_data(graph, dataset) if p.severity == ERROR]
    assert any("input_dim 50 is smaller than the 200 word ids" in m for m in messages)
    numbers = load_dataset({"name": "iris"})
    problems = check_data(graph, numbers)
    assert any("dtype string but iris samples are numbers" in p.message for p in problems)


def test_the_data_check_fixes_turn_a_number_model_into_a_text_model_that_learns(tmp_path):
    """A learner's own review CSV on the digits MLP: applying every fix gives a text model."""
    from graph.fixes import all_fixes_command, working_fix
    from graph.validation import validate

    graph = load_graph(ROOT / "examples" / "mlp_digits.yaml")
    graph.dataset = {**graph.dataset, "source": "csv", "path": str(review_csv(tmp_path))}
    graph.training = {**graph.training, "epochs": 4, "learning_rate": 0.01}
    dataset = load_dataset(graph.dataset)
    problems = check_data(graph, dataset)
    fixes = [working_fix(graph, p, lambda g: check_data(g, dataset)) for p in problems]
    assert all(fixes), [p.message for p, f in zip(problems, fixes, strict=True) if f is None]
    chain = next(f for f in fixes if "TextVectorization" in f.text)
    words = {w for text in dataset.x_train[:, 0] for w in text.lower().split()}
    assert f"max_tokens={len(words) + 2}" in chain.text  # sized to the training texts
    graph.apply(all_fixes_command(graph, fixes))
    assert check_data(graph, dataset) == [] and validate(graph) == []
    kinds = [n.type for n in graph.nodes]
    assert {"TextVectorization", "Embedding", "LSTM"} <= set(kinds)
    result = Trainer(graph, dataset).run()
    assert isinstance(result, TrainingFinished), getattr(result, "message", result)
    assert result.history["accuracy"][-1] > 0.7  # chance is 0.5


def test_the_text_example_trains_with_a_vocabulary_from_the_training_split():
    graph = load_graph(EXAMPLE)
    graph.dataset["samples"] = 800
    dataset = load_dataset(graph.dataset)
    result = Trainer(graph, dataset, epochs=3).run()
    assert isinstance(result, TrainingFinished), getattr(result, "message", result)
    assert result.history["accuracy"][-1] > 0.7  # chance is 0.5
    vocabulary = result.model.get_layer("words").get_vocabulary()
    train_words = {w for text in dataset.x_train[:, 0] for w in text.split()}
    assert set(vocabulary[2:]) <= train_words  # learned from the training split only
    report = evaluate(result.model, dataset)
    assert [c.name for c in report.per_class] == ["negative", "positive"]
    assert report.metrics["accuracy"] > 0.6


@pytest.mark.slow
def test_the_exported_text_script_sees_the_same_texts_and_trains(tmp_path):
    graph = load_graph(EXAMPLE)
    graph.dataset["samples"] = 400
    graph.training["epochs"] = 1
    source = export_training_script(graph, "train_text.py")
    namespace = {"__name__": "exported_script"}
    exec(compile(source, "<script>", "exec", dont_inherit=True), namespace)
    (x_train, y_train), _, (x_test, _), task = namespace["load_data"]()
    expected = load_dataset(graph.dataset)
    np.testing.assert_array_equal(x_train, expected.x_train)
    np.testing.assert_array_equal(y_train, expected.y_train)
    np.testing.assert_array_equal(x_test, expected.x_test)
    script = tmp_path / "train_text.py"
    script.write_text(source, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "text.keras")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "test accuracy:" in result.stdout
    assert (tmp_path / "text.keras").stat().st_size > 0


def test_the_federated_run_deals_texts_to_its_clients_and_learns():
    from graph.files import graph_from_yaml
    from runtime.federated.simulation import FederatedSimulation

    # The graph the exported Flower app's test runs: its accuracy there is compared to this.
    text = (Path(__file__).resolve().parents[1] / "codegen" / "flower_text.yaml").read_text()
    graph = graph_from_yaml(text)
    result = FederatedSimulation(graph, load_dataset(graph.dataset), check_membership=True).run()
    assert result.rounds_done == 1 and sum(result.client_sizes) == 1500
    assert result.test_logs["accuracy"] > 0.65
    assert 0.0 <= result.membership_auc <= 1.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=300), min_size=1, max_size=40))
def test_any_texts_get_a_chain_fix_that_builds_and_removes_its_problem(texts):
    """Empty, punctuation-only, huge or odd Unicode texts: the fix's sizes stay valid."""
    from graph.fixes import working_fix
    from runtime.data_contract import Dataset

    x = np.array(texts, dtype=str).reshape(-1, 1)
    y = np.arange(len(texts)) % 2
    classes = ("a", "b")
    dataset = Dataset("typed", x, y, None, None, x, y, "classification", classes, ("t",), 2, (1,))
    graph = load_graph(ROOT / "examples" / "mlp_digits.yaml")
    problem = next(p for p in check_data(graph, dataset) if "word ids" in p.message)
    fix = working_fix(graph, problem, lambda g: check_data(g, dataset))
    assert fix is not None
    layers = dict(fix.changes[0].layers)
    assert 2 <= layers["TextVectorization"]["max_tokens"] <= 10_000
    assert 1 <= layers["TextVectorization"]["output_sequence_length"] <= 200
    assert layers["Embedding"]["input_dim"] == layers["TextVectorization"]["max_tokens"]
