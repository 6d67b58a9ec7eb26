"""keras.applications round trip: the resnet group (see applications_helpers); ResNet50 folded."""

from __future__ import annotations

import numpy as np
import pytest

from graph.block_folding import describe, find_repeats, fold_repeats
from runtime.builder import build_model
from runtime.importer import import_model, transfer_weights
from tests.runtime.applications_helpers import GROUPS, check_application, make, outputs, sample


@pytest.mark.slow
@pytest.mark.parametrize("name", GROUPS["resnet"])
def test_application_round_trips_through_exported_code(name):
    check_application(name)


@pytest.mark.slow
def test_resnet50_identity_blocks_fold_into_blocks_that_compute_the_same():
    original = make("ResNet50")  # built by the last case above
    graph = import_model(original)
    repeats = find_repeats(graph)
    assert describe("ResNet50", repeats) == "ResNet50: 12 repeated blocks of 4 kinds found"
    folded = fold_repeats(graph, repeats)
    assert list(folded.graph.blocks) == ["conv2_block", "conv3_block", "conv4_block", "conv5_block"]
    instances = [node.name for node in folded.graph.nodes if node.type == "Block"]
    assert instances[:3] == ["conv2_block2", "conv2_block3", "conv3_block2"]
    rebuilt = build_model(folded.graph, nested_blocks=False)
    assert rebuilt.count_params() == original.count_params()
    transfer_weights(original, rebuilt, folded.layer_names)
    images = sample("ResNet50")
    np.testing.assert_allclose(
        outputs(rebuilt, images), outputs(original, images), rtol=1e-5, atol=1e-6
    )
