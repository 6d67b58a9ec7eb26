"""Explanations written to files: the picture (PNG), the numbers (CSV and NPY).

Shared by the command line and the panel's save and batch export, so both
write the same files for the same explanation. Every file is written atomically.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from graph.atomic import write_bytes, write_text
from runtime.explain.png import png_bytes
from runtime.explain.render import explanation_picture
from runtime.explain.result import Explanation


def feature_labels(explanation: Explanation, feature_names: tuple[str, ...]) -> list[str]:
    """A name per attribution: the words of a text, the dataset's feature names when they
    match, else positions."""
    if explanation.words is not None:
        return list(explanation.words)
    values = explanation.attributions
    if len(feature_names) == values.size:
        return list(feature_names)
    return ["_".join(map(str, index)) for index in np.ndindex(values.shape)]


def words_csv(explanation: Explanation) -> str:
    """One row per word of a text explanation: its position, the word as written, its score."""
    lines = ["position,word,value"]
    scored = zip(explanation.words, explanation.attributions, strict=True)
    for i, (word, value) in enumerate(scored):
        lines.append(f"{i},{_quoted(word)},{float(value):.9g}")
    return "\n".join(lines) + "\n"


def attributions_csv(explanation: Explanation, feature_names: tuple[str, ...]) -> str:
    """One row per attribution: feature, value (and std for permutation importance).

    A text explanation has a row per word instead (words_csv).
    """
    if explanation.words is not None:
        return words_csv(explanation)
    names = feature_labels(explanation, feature_names)
    values = explanation.attributions.ravel()
    spread = explanation.spread
    lines = ["feature,value" + (",std" if spread is not None else "")]
    for i, (name, value) in enumerate(zip(names, values, strict=True)):
        row = f"{_quoted(name)},{float(value):.9g}"
        lines.append(row + (f",{float(spread.ravel()[i]):.9g}" if spread is not None else ""))
    return "\n".join(lines) + "\n"


def _quoted(text: str) -> str:
    special = any(c in text for c in ',"\n\r')
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if special else text


def write_explanation(
    explanation: Explanation,
    folder: Path,
    stem: str,
    feature_names: tuple[str, ...],
    images: bool,
    opacity: float = 0.5,
) -> list[Path]:
    """Writes folder/stem.png, stem.csv and stem.npy; returns their paths.

    Raises:
        OSError: when a file cannot be written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    picture, table, array = (folder / f"{stem}{suffix}" for suffix in (".png", ".csv", ".npy"))
    write_bytes(picture, png_bytes(explanation_picture(explanation, images, opacity)))
    write_text(table, attributions_csv(explanation, feature_names))
    buffer = io.BytesIO()
    np.save(buffer, explanation.attributions, allow_pickle=False)
    write_bytes(array, buffer.getvalue())
    return [picture, table, array]


def samples_per_class(y: np.ndarray, per_class: int) -> list[int]:
    """Indices of the first `per_class` samples of each class in `y`, class by class."""
    y = np.asarray(y)
    return [int(i) for label in np.unique(y) for i in np.flatnonzero(y == label)[:per_class]]


def batch_csv(rows: list[tuple[int, str, str, Explanation]], feature_names: tuple[str, ...]) -> str:
    """One row per explained sample: index, true class, predicted class, then each attribution.

    Args:
        rows: (test index, true class name, explained class name, explanation).
        feature_names: The dataset's names of the flattened features.
    """
    if not rows:
        return "sample,true,explained\n"
    if rows[0][3].words is not None:  # texts differ in length: a row per word
        lines = ["sample,true,explained,position,word,value"]
        for index, true, explained, explanation in rows:
            for i, (word, value) in enumerate(
                zip(explanation.words, explanation.attributions, strict=True)
            ):
                lines.append(
                    f"{index},{_quoted(true)},{_quoted(explained)},{i},{_quoted(word)},"
                    f"{float(value):.9g}"
                )
        return "\n".join(lines) + "\n"
    names = feature_labels(rows[0][3], feature_names)
    lines = [",".join(["sample", "true", "explained", *map(_quoted, names)])]
    for index, true, explained, explanation in rows:
        values = ",".join(f"{float(v):.9g}" for v in explanation.attributions.ravel())
        lines.append(f"{index},{_quoted(true)},{_quoted(explained)},{values}")
    return "\n".join(lines) + "\n"
