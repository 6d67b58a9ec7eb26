"""Word attributions for models that read text: which words drove a prediction.

A text sample is one string. It is cut into words the way the model's
TextVectorization sees them (ASCII whitespace, as tf.strings.split; a word
that is only punctuation vanishes when punctuation is stripped), and each
word is scored by what happens to the explained class's probability when
the word is left out (leave-one-out occlusion) or by its Shapley value over
word-presence masks (SHAP, with the empty text as reference). The original
words are kept for display.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from runtime.explain.errors import ExplainError
from runtime.explain.scoring import ModelScorer

# What Keras's TextVectorization strips with standardize="..._strip_punctuation".
PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
# tf.strings.split's whitespace: ASCII only (a no-break space stays inside a word).
WHITESPACE = re.compile(r"[ \t\n\v\f\r]+")
MAX_TEXT_CHARS = 200_000  # a typed text or a file; longer is refused, not truncated
MAX_SHAP_WORDS = 48  # SHAP's estimate needs more texts as words grow; occlusion has no limit
EXACT_SHAP_WORDS = 10  # up to here every subset of words is scored (2**10 texts)
SHAP_EVALUATIONS = 2048  # texts scored for SHAP's estimate on longer texts
VARIANTS_PER_CALL = 256  # texts without a word, predicted together


@dataclass(frozen=True)
class TextRules:
    """How the model's TextVectorization turns a text into tokens (what matters here).

    Attributes:
        strips_punctuation: True when punctuation is removed before splitting.
        length: Tokens kept per text (the rest is cut), or None when every word
            can matter (no int output of fixed length, n-grams, or no
            TextVectorization found).
    """

    strips_punctuation: bool = True
    length: int | None = None


def text_rules(model) -> TextRules:
    """The rules of the first TextVectorization layer in `model` (defaults without one)."""
    for layer in model.layers:
        if type(layer).__name__ != "TextVectorization":
            continue
        config = layer.get_config()
        standardize = config.get("standardize")
        strips = standardize in ("strip_punctuation", "lower_and_strip_punctuation")
        length = config.get("output_sequence_length")
        plain = (
            config.get("output_mode") == "int"
            and config.get("split") == "whitespace"
            and not config.get("ngrams")
            and (standardize is None or isinstance(standardize, str))
        )
        return TextRules(strips, int(length) if plain and length else None)
    return TextRules()


def sample_text(x: np.ndarray) -> str:
    """The one string a text sample (shape (1,)) holds."""
    return str(np.asarray(x).reshape(-1)[0])


def split_words(text: str) -> list[str]:
    """The text's words as written (case and punctuation kept), split on ASCII whitespace."""
    return [word for word in WHITESPACE.split(text) if word]


def token_positions(words: list[str], rules: TextRules) -> list[int | None]:
    """Each word's position among the model's tokens, None for a word that vanishes."""
    positions: list[int | None] = []
    count = 0
    for word in words:
        if rules.strips_punctuation and not PUNCTUATION.sub("", word):
            positions.append(None)
        else:
            positions.append(count)
            count += 1
    return positions


def check_text(text: str, rules: TextRules) -> list[str]:
    """The text's words, or ExplainError when it is too long or the model reads no word of it."""
    if len(text) > MAX_TEXT_CHARS:
        raise ExplainError(
            f"The text is too long to explain: {len(text):,} characters, at most "
            f"{MAX_TEXT_CHARS:,}. Explain a shorter part of it."
        )
    words = split_words(text)
    if not words:
        raise ExplainError("The text is empty: there are no words to explain. Type a sentence.")
    if all(p is None for p in token_positions(words, rules)):
        raise ExplainError(
            "The text holds only punctuation, which the model's TextVectorization strips: "
            "there are no words to explain. Type a sentence."
        )
    return words


def _scores(scorer: ModelScorer, texts: list[str], target: int) -> np.ndarray:
    parts = [
        scorer.predict(np.array(texts[start : start + VARIANTS_PER_CALL], dtype=object))[:, target]
        for start in range(0, len(texts), VARIANTS_PER_CALL)
    ]
    return np.concatenate(parts) if parts else np.zeros(0, "float32")


def word_occlusion(
    scorer: ModelScorer, text: str, target: int, rules: TextRules
) -> tuple[list[str], np.ndarray]:
    """(words, drop per word): how much the target's score falls when the word is left out.

    Positive: the word pushed toward the class; negative: against it. A word the
    model never sees (only punctuation, or past the tokens it keeps) scores 0
    exactly and is not predicted; the others go through the model together
    (a call per VARIANTS_PER_CALL texts).
    """
    words = check_text(text, rules)
    positions = token_positions(words, rules)
    seen = [
        i
        for i, position in enumerate(positions)
        if position is not None and (rules.length is None or position < rules.length)
    ]
    variants = [" ".join(words[:i] + words[i + 1 :]) for i in seen]
    scores = _scores(scorer, [text, *variants], target)
    drops = np.zeros(len(words), "float32")
    drops[seen] = scores[0] - scores[1:]
    return words, drops


def _shapley_exact(values: np.ndarray, n: int) -> np.ndarray:
    """Shapley values from the scores of all 2**n coalitions (bit i of the index: word i)."""
    subsets = np.arange(2**n)
    sizes = np.array([bin(s).count("1") for s in subsets])
    weights = np.array([math.factorial(k) * math.factorial(n - k - 1) for k in range(n)])
    weights = weights / math.factorial(n)
    result = np.zeros(n)
    for i in range(n):
        without = subsets[(subsets >> i) & 1 == 0]
        result[i] = (weights[sizes[without]] * (values[without | (1 << i)] - values[without])).sum()
    return result


def _chains(n: int, permutations: int, rng: np.random.Generator) -> np.ndarray:
    """Presence masks along random orders of the words and their reverses (antithetic pairs).

    Returns (permutations, n + 1, n): row j of an order holds its first j words.
    """
    orders = [rng.permutation(n) for _ in range(permutations // 2)]
    orders += [order[::-1] for order in orders]
    masks = np.zeros((len(orders), n + 1, n), bool)
    for k, order in enumerate(orders):
        for j, word in enumerate(order):
            masks[k, j + 1 :, word] = True
    return masks


def word_shap(
    scorer: ModelScorer, text: str, target: int, rules: TextRules, seed: int = 0
) -> tuple[list[str], np.ndarray]:
    """(words, Shapley value per word) over word-presence masks; absent words are left out.

    "No word" (the empty text) is the reference, so the values add up to the
    score of the text minus the score of the empty text. Exact (every subset of
    words) up to EXACT_SHAP_WORDS words, else estimated from random orders of
    the words and their reverses, as shap's PermutationExplainer does, with
    every masked text predicted in one batch (shap's own explainers compile
    with numba first, which costs more than this whole computation). Words
    that vanish (punctuation) get 0.

    Raises:
        ExplainError: for a text of more than MAX_SHAP_WORDS words the model reads.
    """
    words = check_text(text, rules)
    features = [i for i, p in enumerate(token_positions(words, rules)) if p is not None]
    n = len(features)
    if n > MAX_SHAP_WORDS:
        raise ExplainError(
            f"SHAP explains texts of at most {MAX_SHAP_WORDS} words; this one has "
            f"{n}. Use occlusion, which explains texts of any length."
        )

    def texts_of(masks: np.ndarray) -> list[str]:
        return [" ".join(words[features[i]] for i in np.flatnonzero(row)) for row in masks]

    if n <= EXACT_SHAP_WORDS:
        subsets = np.arange(2**n)
        masks = (subsets[:, None] >> np.arange(n)) & 1
        values = _shapley_exact(_scores(scorer, texts_of(masks), target), n)
    else:
        permutations = 2 * math.ceil(SHAP_EVALUATIONS / (2 * (n + 1)))
        chains = _chains(n, permutations, np.random.default_rng(seed))
        scores = _scores(scorer, texts_of(chains.reshape(-1, n)), target)
        gains = np.diff(scores.reshape(permutations, n + 1), axis=1)
        added = chains[:, 1:] & ~chains[:, :-1]  # the word each step adds
        values = np.einsum("pj,pjw->w", gains, added) / permutations
    attributions = np.zeros(len(words), "float32")
    attributions[features] = values
    return words, attributions
