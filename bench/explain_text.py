"""Word explanations on the text example, each against one forward pass of the same model.

Builds examples/text_sentiment.yaml with its vocabulary adapted (the speed does
not depend on training), then measures CPU time (process_time: steadier than wall
time on a shared machine) per explanation, median over --samples test reviews
after one warm-up call: one forward pass of the review (the baseline), word
occlusion and SHAP (ours: exact up to 10 words, one batch). Then two one-off
comparisons: shap's own PermutationExplainer on the same word-presence game
(its first call compiles with numba), and occlusion of a --long-word text against
leaving out every word (what it would cost without skipping the words past the
12 tokens TextVectorization keeps).

Usage: python bench/explain_text.py [--samples 20] [--long 1000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras
import numpy as np

from graph.files import load_graph
from runtime.builder import build_model
from runtime.data import load_dataset
from runtime.explain import text
from runtime.explain.explain import explain
from runtime.explain.scoring import ModelScorer
from runtime.trainer import adapt_normalization

GRAPH = Path(__file__).resolve().parents[1] / "examples" / "text_sentiment.yaml"


def cpu_ms(run) -> float:
    start = time.process_time()
    run()
    return (time.process_time() - start) * 1000


def median_ms(run, samples) -> float:
    run(samples[0])  # warm-up: the first call traces the forward pass
    return statistics.median(cpu_ms(lambda s=sample: run(s)) for sample in samples)


def shap_library_ms(scorer: ModelScorer, review: str, target: int) -> float:
    import shap

    words = text.split_words(review)

    def score(masks):
        texts = [" ".join(w for w, keep in zip(words, row, strict=True) if keep) for row in masks]
        return scorer.predict(np.array(texts, dtype=object))[:, target]

    masker = shap.maskers.Independent(np.zeros((1, len(words))), max_samples=1)
    explainer = shap.explainers.Permutation(score, masker, seed=0)
    return cpu_ms(lambda: explainer(np.ones((1, len(words))), max_evals=500, silent=True))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--long", type=int, default=1000, help="words of the long text")
    args = parser.parse_args()
    graph = load_graph(GRAPH)
    dataset = load_dataset(graph.dataset, GRAPH.parent)
    keras.utils.set_random_seed(0)
    model = build_model(graph)
    adapt_normalization(model, dataset.x_train)
    scorer = ModelScorer(model, dataset.input_shape)
    samples = list(dataset.x_test[: args.samples])
    forward = median_ms(lambda s: scorer.predict(s[None]), samples)
    print(f"one forward pass (baseline): {forward:.1f} ms CPU")
    for method in ("occlusion", "shap"):
        figure = median_ms(lambda s, m=method: explain(scorer, m, s), samples)
        print(f"{method}: {figure:.1f} ms CPU, {figure / forward:.1f}x the baseline")
    review = str(samples[0][0])
    target = explain(scorer, "occlusion", samples[0]).target
    ours = cpu_ms(lambda: explain(scorer, "shap", samples[0]))
    first = shap_library_ms(scorer, review, target)
    again = shap_library_ms(scorer, review, target)
    print(
        f"shap.explainers.Permutation on the same words: first call {first:.0f} ms, "
        f"then {again:.0f} ms CPU; ours {ours:.1f} ms ({first / ours:.0f}x, {again / ours:.0f}x)"
    )
    long = np.array([" ".join(["great", "dull"] * (args.long // 2))])
    rules = text.text_rules(model)
    skipping = cpu_ms(lambda: text.word_occlusion(scorer, str(long[0]), target, rules))
    every = cpu_ms(lambda: text.word_occlusion(scorer, str(long[0]), target, text.TextRules()))
    print(
        f"occlusion of {args.long} words: leaving out every word {every:.0f} ms (baseline), "
        f"skipping words past the kept tokens {skipping:.1f} ms CPU ({every / skipping:.0f}x)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
