"""Catalog entries, one module per family. `graph.catalog` collects them."""

from graph.layers import (
    activation,
    attention,
    augmentation,
    categorical,
    convolution,
    core,
    embedding,
    merge,
    normalization,
    pooling,
    preprocessing,
    recurrent,
    regularization,
    reshaping,
    text,
    wrappers,
)

FAMILIES = (
    core,
    embedding,
    convolution,
    pooling,
    reshaping,
    recurrent,
    wrappers,
    attention,
    normalization,
    regularization,
    merge,
    activation,
    preprocessing,
    text,
    augmentation,
    categorical,
)
