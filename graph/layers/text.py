"""Text input: turn strings into token ids inside the model.

A minimal TextVectorization entry added by the data work (free-text CSV
columns). If the catalog gains a fuller entry elsewhere (graph/layers/
preprocessing.py), that one replaces this module.
"""

from __future__ import annotations

from graph.layer_type import LayerType, ShapeError
from graph.layers._common import require_rank
from graph.params import Param


def _text_vectorization_shape(params, inputs):
    shape = inputs[0]
    if len(shape) == 2 and shape[1] not in (1, None):
        raise ShapeError(f"expects one text per sample, shape (None, 1). Received: {shape}")
    if len(shape) != 2:
        require_rank(shape, 2, "(None, 1) - one text per sample")
    return (shape[0], params["output_sequence_length"])


LAYERS = (
    LayerType(
        "TextVectorization",
        "Preprocessing",
        "Numbers the words of each text with a vocabulary learned from the training texts.",
        (
            Param("max_tokens", "int", 10000, minimum=2, help="Vocabulary size, ids included"),
            Param(
                "output_sequence_length",
                "int",
                40,
                minimum=1,
                help="Word ids per text: longer texts are cut, shorter ones padded with 0",
            ),
            Param(
                "ngrams",
                "int",
                None,
                minimum=1,
                nullable=True,
                help="Also count runs of up to this many words as tokens; empty: single words",
            ),
        ),
        _text_vectorization_shape,
        key_params=("max_tokens", "output_sequence_length"),
    ),
)
