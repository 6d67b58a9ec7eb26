"""keras.applications: every architecture has its round-trip case; keras.ops are refused."""

from __future__ import annotations

import itertools

import keras
import pytest

from runtime.importer import ImportModelError, import_model
from tests.runtime.applications_helpers import ALL, GROUPS, REFUSED


def test_every_application_runs_in_exactly_one_group():
    grouped = list(itertools.chain.from_iterable(GROUPS.values()))
    assert sorted(grouped) == ALL
    assert set(REFUSED) <= set(ALL)


def test_keras_ops_between_layers_are_refused_by_name():
    """MobileNetV3's hard sigmoid, relu6(x + 3) / 6, written with keras.ops on tensors."""
    images = keras.Input((8, 8, 3), name="images")
    gate = keras.layers.ReLU(6.0, name="relu6")(images + 3.0) * (1.0 / 6.0)
    with pytest.raises(ImportModelError, match=REFUSED["MobileNetV3Small"]):
        import_model(keras.Model(images, gate))
