"""Text input: turn strings into token ids inside the model.

TextVectorization learns its vocabulary from the training texts (adapted like
Normalization) unless given a fixed `vocabulary`, which is built into the
layer; it is then never adapted.
"""

from __future__ import annotations

from graph.layer_type import LayerType, ShapeError
from graph.layers._common import require_rank
from graph.layers.categorical import check_vocabulary
from graph.params import Param

# The tokens TextVectorization puts before any vocabulary: padding ("") and unknown words.
OOV_TOKEN = "[UNK]"


def _text_vectorization_shape(params, inputs):
    shape = inputs[0]
    if len(shape) == 2 and shape[1] not in (1, None):
        raise ShapeError(f"expects one text per sample, shape (None, 1). Received: {shape}")
    if len(shape) != 2:
        require_rank(shape, 2, "(None, 1) - one text per sample")
    if params["vocabulary"] is not None:
        check_vocabulary(params, {"oov_token": OOV_TOKEN}, added=2)
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
            Param(
                "vocabulary",
                "strs",
                None,
                nullable=True,
                distinct=True,
                help="The words to number, one per line; empty: learned from the training texts",
                explanation="A fixed list of words, each once, numbered 2, 3, ... in this order "
                "(0 is padding, 1 an unknown word); the layer then learns nothing from the data. "
                "Texts are lowercased and stripped of punctuation first, so list words that way.",
            ),
        ),
        _text_vectorization_shape,
        key_params=("max_tokens", "output_sequence_length"),
    ),
)
