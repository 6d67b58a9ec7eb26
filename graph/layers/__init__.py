"""Catalog entries, one module per family. `graph.catalog` collects them."""

from graph.layers import convolution, core, merge, pooling, recurrent

FAMILIES = (core, convolution, pooling, recurrent, merge)
