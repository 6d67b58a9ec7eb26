"""Wrapper layers: run another layer in a new way (both directions, every step, a
normalized kernel).

The wrapped layer is a "layer" parameter, {"type": ..., "params": ...}; its
own catalog entry gives the inner shape and weight count. The catalog is
looked up lazily because it is assembled from these modules.
"""

from __future__ import annotations

from graph.layer_type import LayerType, ShapeError
from graph.layers._common import require_min_rank, times
from graph.params import Param

BIDIRECTIONAL_INNER = ("SimpleRNN", "LSTM", "GRU", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")
TIME_DISTRIBUTED_INNER = (
    "Dense",
    "Activation",
    "Dropout",
    "Flatten",
    "Conv1D",
    "Conv2D",
    "MaxPooling1D",
    "MaxPooling2D",
    "AveragePooling1D",
    "AveragePooling2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "LayerNormalization",
)

# Layers with a kernel SpectralNormalization can normalize, and the axis of that
# kernel whose size the wrapper's extra vector takes (a transposed convolution's
# kernel ends with its input channels).
SPECTRAL_INNER = {
    "Dense": "units",
    "Conv1D": "filters",
    "Conv2D": "filters",
    "Conv3D": "filters",
    "Conv1DTranspose": "inputs",
    "Conv2DTranspose": "inputs",
    "Conv3DTranspose": "inputs",
}


def _inner(params):
    from graph.catalog import CATALOG

    wrapped = params["layer"]
    return CATALOG[wrapped["type"]], wrapped["params"]


def _inner_rule(entry, inner_params, shapes):
    """Runs the wrapped layer's shape rule, naming it in any error."""
    try:
        return entry.shape_rule(inner_params, shapes)
    except ShapeError as error:
        raise ShapeError(f"wrapped {entry.type}: {error}") from None


def _bidirectional_shape(params, inputs):
    entry, inner_params = _inner(params)
    if inner_params["go_backwards"]:
        raise ShapeError(
            f"wrapped {entry.type} must read forwards (go_backwards false); "
            "Bidirectional adds the backward pass itself"
        )
    shape = _inner_rule(entry, inner_params, inputs)
    if params["merge_mode"] != "concat":
        return shape
    last = shape[-1]
    return (*shape[:-1], None if last is None else 2 * last)


def _bidirectional_count(params, inputs, _output):
    entry, inner_params = _inner(params)
    inner_output = _inner_rule(entry, inner_params, inputs)
    return 2 * entry.count_params(inner_params, inputs, inner_output)


def _bidirectional_macs(params, inputs, _output):
    entry, inner_params = _inner(params)
    inner_output = _inner_rule(entry, inner_params, inputs)
    return times(2, entry.count_macs(inner_params, inputs, inner_output))


def _step_shape(shape):
    require_min_rank(shape, 3, "(None, 10, 64) — (batch, time steps, features...)")
    return (None, *shape[2:])


def _time_distributed_shape(params, inputs):
    entry, inner_params = _inner(params)
    shape = inputs[0]
    step = _inner_rule(entry, inner_params, [_step_shape(shape)])
    return (None, shape[1], *step[1:])


def _time_distributed_count(params, inputs, _output):
    entry, inner_params = _inner(params)
    step = _step_shape(inputs[0])
    return entry.count_params(inner_params, [step], _inner_rule(entry, inner_params, [step]))


def _time_distributed_macs(params, inputs, _output):
    entry, inner_params = _inner(params)
    step = _step_shape(inputs[0])
    step_macs = entry.count_macs(inner_params, [step], _inner_rule(entry, inner_params, [step]))
    return times(inputs[0][1], step_macs)


def _spectral_shape(params, inputs):
    entry, inner_params = _inner(params)
    return _inner_rule(entry, inner_params, inputs)


def _spectral_count(params, inputs, _output):
    entry, inner_params = _inner(params)
    inner_output = _inner_rule(entry, inner_params, inputs)
    # Keras keeps one vector (not trained) as long as the kernel's last axis.
    axis = SPECTRAL_INNER[entry.type]
    vector = inputs[0][-1] if axis == "inputs" else inner_params[axis]
    return entry.count_params(inner_params, inputs, inner_output) + vector


def _spectral_macs(params, inputs, _output):
    entry, inner_params = _inner(params)
    return entry.count_macs(inner_params, inputs, _inner_rule(entry, inner_params, inputs))


def _layer_param(default: str, wrappable: tuple[str, ...], help_text: str) -> Param:
    return Param(
        "layer", "layer", {"type": default, "params": {}}, wrappable=wrappable, help=help_text
    )


LAYERS = (
    LayerType(
        "Bidirectional",
        "Recurrent",
        "Runs a recurrent layer forwards and backwards over the sequence and joins both results.",
        (
            _layer_param("LSTM", BIDIRECTIONAL_INNER, "The recurrent layer run both ways"),
            Param(
                "merge_mode",
                "choice",
                "concat",
                choices=("concat", "sum", "mul", "ave"),
                help="How the two directions are joined",
            ),
        ),
        _bidirectional_shape,
        _bidirectional_count,
        key_params=("layer", "merge_mode"),
        count_macs=_bidirectional_macs,
    ),
    LayerType(
        "TimeDistributed",
        "Recurrent",
        "Applies the same layer to every time step of a sequence, e.g. one Dense per frame.",
        (_layer_param("Dense", TIME_DISTRIBUTED_INNER, "The layer applied at every step"),),
        _time_distributed_shape,
        _time_distributed_count,
        key_params=("layer",),
        count_macs=_time_distributed_macs,
    ),
    LayerType(
        "SpectralNormalization",
        "Normalization",
        "Keeps a layer's weights from stretching its inputs too much, which steadies GAN training.",
        (
            _layer_param("Dense", tuple(SPECTRAL_INNER), "The layer whose kernel is normalized"),
            Param(
                "power_iterations",
                "int",
                1,
                minimum=1,
                help="Refinement steps of the estimate per training step",
                explanation="How many steps refine the estimate of the kernel's largest "
                "stretch each training step. 1 is usual; more is more exact but slower.",
            ),
        ),
        _spectral_shape,
        _spectral_count,
        key_params=("layer",),
        count_macs=_spectral_macs,
    ),
)
