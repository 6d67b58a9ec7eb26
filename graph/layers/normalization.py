"""Normalization layers: rescale values to a steady range so training is stable.

Normalization's `mean` and `variance` are empty by default: the trainer then
adapts the layer to the training data before fitting (Keras's `adapt`), and
the layer holds the adapted statistics as three non-trainable weights. Set
both to fixed values (one per feature, or one for all) and the layer has no
weights and is never adapted; a model imported with fixed statistics keeps
them that way.
"""

from __future__ import annotations

from graph.layer_type import LayerType, ShapeError
from graph.layers._common import (
    axis_index,
    constraint,
    fmt,
    initializer,
    regularizer,
    require_min_rank,
)
from graph.params import Param


def axis_param(help_text: str = "Axis normalised over; -1 is the last (the features)") -> Param:
    return Param("axis", "int", -1, help=help_text)


def _axis_size(params, shape) -> int:
    """The known size of the axis that carries the learned weights."""
    require_min_rank(shape, 2, "(None, 64)")
    index = axis_index(params["axis"], len(shape), shape)
    if shape[index] is None:
        raise ShapeError(
            f"needs a known size on axis {params['axis']}. Received: input shape {fmt(shape)}"
        )
    return shape[index]


def _rms_count(params, inputs, _output) -> int:
    return _axis_size(params, inputs[0])


def _checked_single(params, inputs):
    _axis_size(params, inputs[0])
    return inputs[0]


def _affine_params() -> tuple[Param, ...]:
    """epsilon, center, scale and their weights, shared by the learned normalizations."""
    return (
        Param(
            "epsilon", "float", 0.001, minimum=0.0, help="Small number that avoids dividing by 0"
        ),
        Param("center", "bool", True, help="Learn an offset (beta)"),
        Param("scale", "bool", True, help="Learn a scale (gamma)"),
        initializer("beta_initializer", "zeros"),
        initializer("gamma_initializer", "ones"),
        regularizer("beta_regularizer"),
        regularizer("gamma_regularizer"),
        constraint("beta_constraint"),
        constraint("gamma_constraint"),
    )


def _affine_count(params, inputs, _output):
    return _axis_size(params, inputs[0]) * (int(params["center"]) + int(params["scale"]))


def _batch_norm_count(params, inputs, output):
    # The moving mean and variance are weights too, not trained by gradients.
    return _affine_count(params, inputs, output) + 2 * _axis_size(params, inputs[0])


def _group_norm_shape(params, inputs):
    size = _axis_size(params, inputs[0])
    if size % params["groups"]:
        raise ShapeError(
            f"the {size} channels on axis {params['axis']} are not divisible by "
            f"groups={params['groups']}"
        )
    return inputs[0]


def _unit_norm_shape(params, inputs):
    shape = inputs[0]
    require_min_rank(shape, 2, "(None, 64)")
    axis_index(params["axis"], len(shape), shape)
    return shape


def _normalization_shape(params, inputs):
    size = _axis_size(params, inputs[0])
    mean, variance = params["mean"], params["variance"]
    if (mean is None) != (variance is None):
        raise ShapeError(
            "mean and variance must be set together or both left empty (adapted from data). "
            f"Received: mean={mean}, variance={variance}"
        )
    for name, values in (("mean", mean), ("variance", variance)):
        if values is not None and len(values) not in (1, size):
            raise ShapeError(
                f"{name} needs 1 or {size} values for axis {params['axis']} of input shape "
                f"{fmt(inputs[0])}. Received: {len(values)} values"
            )
    return inputs[0]


def _normalization_count(params, inputs, _output):
    if params["mean"] is not None:
        return 0
    # Adapted mean and variance per feature, plus the sample count.
    return 2 * _axis_size(params, inputs[0]) + 1


def _axis_from_keras(config: dict) -> dict:
    """A built layer stores its axis as a one-item list; the catalog keeps an int."""
    axis = config.get("axis")
    if isinstance(axis, (list, tuple)) and len(axis) == 1:
        return {**config, "axis": axis[0]}
    return config


def _normalization_to_keras(kwargs: dict) -> dict:
    converted = dict(kwargs)
    for name in ("mean", "variance"):
        if converted[name] is not None:
            converted[name] = list(converted[name])
    return converted


def _normalization_from_keras(config: dict) -> dict:
    converted = _axis_from_keras(config)
    for name in ("mean", "variance"):
        value = converted.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            converted[name] = (float(value),)
        elif isinstance(value, (list, tuple)):
            converted[name] = tuple(value)
    return converted


LAYERS = (
    LayerType(
        "BatchNormalization",
        "Normalization",
        "Rescales each feature to mean 0 and spread 1 over the batch, which speeds up training.",
        (
            axis_param(),
            Param("momentum", "float", 0.99, minimum=0.0, maximum=1.0, help="Running-average rate"),
            *_affine_params(),
            initializer("moving_mean_initializer", "zeros"),
            initializer("moving_variance_initializer", "ones"),
        ),
        _checked_single,
        _batch_norm_count,
        key_params=("momentum",),
    ),
    LayerType(
        "LayerNormalization",
        "Normalization",
        "Rescales the features of each sample to mean 0 and spread 1; common in transformers.",
        (axis_param(), *_affine_params()),
        _checked_single,
        _affine_count,
        key_params=("epsilon",),
        from_keras=_axis_from_keras,
    ),
    LayerType(
        "RMSNormalization",
        "Normalization",
        "Divides each sample's features by their root mean square, then scales them.",
        (
            axis_param(),
            Param(
                "epsilon", "float", 1e-6, minimum=0.0, help="Small number that avoids dividing by 0"
            ),
        ),
        _checked_single,
        _rms_count,
        key_params=("epsilon",),
        from_keras=_axis_from_keras,
    ),
    LayerType(
        "GroupNormalization",
        "Normalization",
        "Normalises channels in groups within each sample; works well with small batches.",
        (
            Param("groups", "int", 4, minimum=1, help="Number of channel groups"),
            axis_param("Channel axis; -1 is the last"),
            *_affine_params(),
        ),
        _group_norm_shape,
        _affine_count,
        key_params=("groups",),
    ),
    LayerType(
        "UnitNormalization",
        "Normalization",
        "Scales each sample's vector to length 1, keeping only its direction.",
        (axis_param("Axis scaled to length 1; -1 is the last"),),
        _unit_norm_shape,
        key_params=("axis",),
        from_keras=_axis_from_keras,
    ),
    LayerType(
        "Normalization",
        "Normalization",
        "Shifts and scales input features to mean 0 and spread 1, using statistics of the "
        "training data.",
        (
            axis_param("Axis with one mean and variance per entry; -1: per feature"),
            Param(
                "mean",
                "floats",
                None,
                nullable=True,
                help="Fixed means; empty: learned from the training data",
            ),
            Param(
                "variance",
                "floats",
                None,
                minimum=0.0,
                nullable=True,
                help="Fixed variances; empty: learned from the training data",
            ),
            Param("invert", "bool", False, help="Undo a normalization instead"),
        ),
        _normalization_shape,
        _normalization_count,
        key_params=("axis",),
        to_keras=_normalization_to_keras,
        from_keras=_normalization_from_keras,
    ),
)
