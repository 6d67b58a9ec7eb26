"""Explaining a text model word by word: the text example, its vocabulary adapted, explained."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from graph.files import graph_to_yaml, load_graph
from main import main
from runtime.builder import build_model
from runtime.data import load_dataset
from runtime.events import RunFailed, RunFinished
from runtime.explain.errors import ExplainError
from runtime.explain.explain import explain as explain_sample
from runtime.explain.export import batch_csv, words_csv
from runtime.explain.render import words_html
from runtime.explain.scoring import ModelScorer
from runtime.explain.text import _chains, _shapley_exact
from runtime.learned_state import trained_weights
from runtime.runs import RunError, RunRequest
from runtime.runs.kinds.explain import _chosen_text
from runtime.runs.local import run_inline
from runtime.trainer import adapt_normalization

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def text_model():
    """The text example with seeded weights and its vocabulary adapted to 300 reviews:
    (graph YAML, weights, Keras model). Untrained: every check here holds for any weights,
    and training would only cost the suite seconds."""
    graph = load_graph(EXAMPLES / "text_sentiment.yaml")
    graph.settings["dataset"]["samples"] = 300
    keras.utils.set_random_seed(0)
    model = build_model(graph)
    adapt_normalization(model, load_dataset(graph.dataset, EXAMPLES).x_train)
    return graph_to_yaml(graph), trained_weights(model), model


@pytest.fixture(scope="module")
def scorer(text_model):
    """The trained model as explanations see it (traced once for every test here)."""
    return ModelScorer(text_model[2], (1,))


def explain(text_model, **options) -> RunFinished | RunFailed:
    graph_yaml, weights, _ = text_model
    request = RunRequest("explain", graph_yaml, EXAMPLES, {"weights": weights, **options})
    return run_inline(request)


def probability(model, text: str, unit: int) -> float:
    return float(model(np.array([[text]], dtype=object), training=False).numpy()[0, unit])


def test_each_word_of_a_test_review_scores_what_leaving_it_out_costs(text_model):
    outcome = explain(text_model, method="occlusion", sample=2, node_outputs=["n3"])
    assert isinstance(outcome, RunFinished), outcome
    result, model = outcome.result, text_model[2]
    assert result.node_outputs["n3"].values.shape == (12, 16)  # the review's word vectors
    explanation = result.explanation
    text = str(result.sample[0])
    assert explanation.words == tuple(text.split())
    assert explanation.attributions.shape == (len(explanation.words),)
    target = explanation.target
    assert target == explanation.predicted_class and result.label in (0, 1)
    full = probability(model, text, target)
    assert explanation.prediction[target] == pytest.approx(full, abs=1e-5)
    top = int(np.argmax(explanation.attributions))
    without = " ".join(w for i, w in enumerate(explanation.words) if i != top)
    drop = full - probability(model, without, target)
    assert explanation.attributions[top] == pytest.approx(drop, abs=1e-5)
    assert np.abs(explanation.heatmap).max() == pytest.approx(1.0)


@pytest.mark.parametrize("copies", [1, 3])  # 10 words: exact; 30: sampled orders
def test_shap_values_add_up_to_the_texts_score_minus_the_empty_texts(text_model, scorer, copies):
    text = " ".join(["honestly the plot felt really dull, not touching at all"] * copies) + " !"
    explanation, model = explain_sample(scorer, "shap", np.array([text])), text_model[2]
    assert explanation.words == tuple(text.split())
    assert explanation.attributions[-1] == 0  # "!" vanishes: punctuation is stripped
    target = explanation.target
    change = probability(model, text, target) - probability(model, "", target)
    assert explanation.attributions.sum() == pytest.approx(change, abs=1e-5)


def test_shapley_values_exact_and_sampled_agree_on_an_additive_game():
    shares = np.array([0.5, -0.25, 0.125, 1.0])
    masks = (np.arange(16)[:, None] >> np.arange(4)) & 1
    np.testing.assert_allclose(_shapley_exact(masks @ shares, 4), shares)
    chains = _chains(4, 6, np.random.default_rng(0))
    assert chains.shape == (6, 5, 4) and chains[:, -1].all() and not chains[:, 0].any()
    gains = np.diff((chains @ shares).reshape(6, 5), axis=1)
    added = chains[:, 1:] & ~chains[:, :-1]
    np.testing.assert_allclose(np.einsum("pj,pjw->w", gains, added) / 6, shares)


@pytest.mark.parametrize("method", ["ig", "smoothgrad", "gradcam", "permutation"])
def test_methods_for_numbers_are_refused_naming_occlusion(scorer, method):
    with pytest.raises(ExplainError, match="works on numbers.*for text, use occlusion"):
        explain_sample(scorer, method, np.array(["a dull film"]))


def test_a_refused_method_ends_the_run_with_its_message(text_model):
    outcome = explain(text_model, method="smoothgrad", sample=0)
    assert isinstance(outcome, RunFailed)
    assert outcome.message.startswith("SmoothGrad saliency works on numbers")


@pytest.mark.parametrize(
    ("method", "given", "message"),
    [
        ("occlusion", "", "The text is empty"),
        ("occlusion", "   \t ", "The text is empty"),
        ("shap", "?! ... --", "only punctuation"),
        ("shap", "great " * 5000, "SHAP explains texts of at most 48 words"),
        ("occlusion", "x" * 200_001, "too long to explain"),
        ("occlusion", [0.5], "This model reads text"),
    ],
)
def test_hostile_texts_get_a_clear_message(scorer, method, given, message):
    with pytest.raises(ExplainError, match=message):
        explain_sample(scorer, method, np.array(given, dtype=object))


def test_long_and_unusual_texts_are_explained_word_by_word(scorer):
    scores = explain_sample(scorer, "occlusion", np.array(["great dull " * 2500])).attributions
    # The example's TextVectorization keeps 12 words: leaving out a later word changes nothing.
    assert len(scores) == 5000 and not scores[12:].any() and scores[:12].any()
    odd = "très <b>bon</b> 👍 film,\u00a0not dull"
    unusual = explain_sample(scorer, "occlusion", np.array([odd]))
    assert unusual.words == ("très", "<b>bon</b>", "👍", "film,\u00a0not", "dull")
    shown = words_html(unusual.words, unusual.attributions)
    assert "&lt;b&gt;bon&lt;/b&gt;" in shown and "<b>" not in shown


def test_a_text_file_is_read_as_the_text(text_model, tmp_path):
    path = tmp_path / "review.txt"
    path.write_text("what a touching film\n", encoding="utf-8")
    request = RunRequest("explain", text_model[0], EXAMPLES, {"input_path": str(path)})
    assert _chosen_text(request).tolist() == ["what a touching film\n"]
    path.write_bytes(b"\xff\xfe broken")
    with pytest.raises(RunError, match="not UTF-8 text"):
        _chosen_text(request)
    folder = RunRequest("explain", text_model[0], EXAMPLES, {"input_path": str(tmp_path)})
    with pytest.raises(RunError, match="expected a text file"):
        _chosen_text(folder)


def test_words_and_scores_are_exported_one_row_per_word(scorer):
    explanation = explain_sample(scorer, "occlusion", np.array(['a "dull", film']))
    rows = words_csv(explanation).splitlines()
    assert rows[0] == "position,word,value" and rows[2].startswith('1,"""dull"",",')
    batch = batch_csv([(7, "positive", "negative", explanation)], ("text",)).splitlines()
    assert batch[0] == "sample,true,explained,position,word,value" and len(batch) == 4


def test_the_command_prints_the_words_of_a_typed_text(text_model, tmp_path, capsys):
    graph_yaml, _, model = text_model
    graph_file, model_file = tmp_path / "text.yaml", tmp_path / "model.keras"
    graph_file.write_text(graph_yaml, encoding="utf-8")
    model.save(model_file)
    text = "the ending was really boring"
    argv = ["explain", str(graph_file), "--weights", str(model_file), "--method", "occlusion"]
    assert main([*argv, "--text", text, "-o", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "prediction: " in printed and "words: the(" in printed and "boring(" in printed
    rows = (tmp_path / "out" / "occlusion.csv").read_text().splitlines()
    assert [row.split(",")[1] for row in rows[1:]] == text.split()
