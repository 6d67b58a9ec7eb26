"""What a trained model learned besides its weights: vocabularies and bin edges.

Keras keeps an adapted vocabulary (TextVectorization, StringLookup,
IntegerLookup) in a lookup table and Discretization's learned edges in a plain
attribute: neither is a weight, so `model.get_weights()` leaves them out, and a
model rebuilt from its graph with those weights set cannot look anything up.
Normalization's statistics are weights, but Keras turns them into the tensors
it divides by only when it adapts or loads a file, not on `set_weights`.

A trained model therefore travels as `trained_weights(model)`: its weights,
then a marker array naming the layers with learned state, then one array per
named layer (its vocabulary without the special tokens, or its bin edges).
It stays a plain list of NumPy arrays, so it pickles, crosses processes and
saves as `.npz` like weights do. `set_trained_weights` is its inverse.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

MARKER = "deepwire:learned-state"

_LOOKUPS = (keras.layers.TextVectorization, keras.layers.StringLookup, keras.layers.IntegerLookup)


def trained_weights(model: keras.Model, weights: Sequence | None = None) -> list:
    """`model.get_weights()` followed by its learned vocabularies and bin edges, if any.

    Args:
        model: The trained model.
        weights: Weights for it to carry instead of its current ones (federated
            training keeps the global model's apart).
    """
    names, states = [], []
    for layer in model.layers:
        state = _state_of(layer)
        if state is not None:
            names.append(layer.name)
            states.append(state)
    weights = list(model.get_weights() if weights is None else weights)
    if not names:
        return weights
    return [*weights, np.array([MARKER, *names]), *states]


def split_trained_weights(weights: Sequence) -> tuple[list, dict[str, np.ndarray]]:
    """The plain weights and the learned state (layer name -> array) of a `trained_weights` list."""
    for index, array in enumerate(weights):
        array = np.asarray(array)
        if array.dtype.kind == "U" and array.ndim == 1 and array.size and array[0] == MARKER:
            names = [str(name) for name in array[1:]]
            states = [np.asarray(state) for state in weights[index + 1 :]]
            if len(states) != len(names):
                raise ValueError(
                    f"the learned state names {len(names)} layers but holds {len(states)} arrays"
                )
            return list(weights[:index]), dict(zip(names, states, strict=True))
    return list(weights), {}


def set_trained_weights(model: keras.Model, weights: Sequence) -> None:
    """Sets a `trained_weights` list (or plain `get_weights()`) on a model built from its graph.

    Raises:
        ValueError: the weights do not fit the model, or a layer that learns a
            vocabulary or bin edges from the data finds none in them (weights
            recorded without it); the message names the layer.
    """
    plain, states = split_trained_weights(weights)
    model.set_weights(plain)
    for layer in model.layers:
        if isinstance(layer, keras.layers.Normalization):
            layer.finalize_state()  # its mean and variance tensors, from the weights just set
        elif layer.name in states:
            _set_state(layer, states[layer.name])
        elif _state_of(layer) is None and isinstance(
            layer, (*_LOOKUPS, keras.layers.Discretization)
        ):
            what = "bin edges" if isinstance(layer, keras.layers.Discretization) else "vocabulary"
            raise ValueError(
                f"{layer.name} ({type(layer).__name__}): these weights carry no learned {what} "
                "(recorded before the app kept it): train the graph again"
            )


def clone_trained(model: keras.Model) -> keras.Model:
    """A copy of `model` (fresh layers, no optimizer) with its weights and learned state."""
    copy = keras.models.clone_model(model)
    set_trained_weights(copy, trained_weights(model))
    return copy


def _state_of(layer: keras.layers.Layer) -> np.ndarray | None:
    if isinstance(layer, _LOOKUPS):
        vocabulary = layer.get_vocabulary(include_special_tokens=False)
        return np.asarray(vocabulary) if vocabulary else None
    if isinstance(layer, keras.layers.Discretization) and layer.bin_boundaries is not None:
        return np.asarray(layer.bin_boundaries, dtype="float64")
    return None


def _set_state(layer: keras.layers.Layer, state: np.ndarray) -> None:
    if isinstance(layer, _LOOKUPS):
        layer.set_vocabulary(state.tolist())
    elif isinstance(layer, keras.layers.Discretization):
        layer.bin_boundaries = state.tolist()
    else:
        raise ValueError(
            f"{layer.name} ({type(layer).__name__}): the learned state recorded for it belongs "
            "to another kind of layer: was the graph edited after training?"
        )
