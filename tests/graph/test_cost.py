"""graph.cost: MACs, weights and memory per layer and per graph, counted by hand."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings

from graph.catalog import CATALOG
from graph.cost import (
    GraphCost,
    format_bytes,
    format_count,
    graph_cost,
    memory_verdict,
    optimizer_slots,
    training_memory,
)
from graph.model import NetworkGraph
from graph.validation import ERROR, WARNING, validate
from tests.graph.strategies import graphs


def macs(type_name: str, inputs: list, **params) -> int | None:
    """MACs of one layer from the catalog's rules, its params completed with defaults."""
    entry = CATALOG[type_name]
    full = entry.coerce_params(params)
    output = entry.shape_rule(full, inputs)
    return entry.count_macs(full, inputs, output)


@pytest.mark.parametrize(
    ("type_name", "inputs", "params", "expected"),
    [
        # Dense on a sequence: every position is a matrix-vector product.
        ("Dense", [(None, 5, 8)], {"units": 3}, 5 * 8 * 3),
        ("Dense", [(None, 64)], {"units": 10}, 640),
        # Conv: output positions x filters x (kernel x input channels / groups).
        ("Conv2D", [(None, 8, 8, 3)], {"filters": 4, "kernel_size": (3, 3)}, 36 * 4 * 9 * 3),
        (
            "Conv1D",
            [(None, 10, 4)],
            {"filters": 6, "kernel_size": (3,), "groups": 2},
            8 * 6 * 3 * 2,
        ),
        (
            "Conv3D",
            [(None, 4, 4, 4, 2)],
            {"filters": 3, "kernel_size": (3, 3, 3)},
            8 * 3 * 27 * 2,
        ),
        (
            "Conv2D",
            [(None, 8, 8, 3)],
            {"filters": 4, "kernel_size": (3, 3), "strides": (2, 2), "padding": "same"},
            16 * 4 * 27,
        ),
        # Transposed: each input value spreads over kernel x filters outputs.
        (
            "Conv2DTranspose",
            [(None, 4, 4, 3)],
            {"filters": 2, "kernel_size": (3, 3), "strides": (2, 2)},
            16 * 3 * 9 * 2,
        ),
        ("Conv1DTranspose", [(None, 5, 2)], {"filters": 3, "kernel_size": (2,)}, 5 * 2 * 2 * 3),
        # Depthwise: each output channel sees only its kernel window of one channel.
        (
            "DepthwiseConv2D",
            [(None, 8, 8, 3)],
            {"kernel_size": (3, 3), "depth_multiplier": 2},
            36 * 6 * 9,
        ),
        # Separable: depthwise, then a 1x1 convolution mixing channels.
        (
            "SeparableConv2D",
            [(None, 8, 8, 3)],
            {"filters": 4, "kernel_size": (3, 3)},
            36 * 3 * 9 + 36 * 3 * 4,
        ),
        (
            "SeparableConv1D",
            [(None, 10, 2)],
            {"filters": 5, "kernel_size": (3,)},
            8 * (2 * 3 + 2 * 5),
        ),
        # Pooling: one operation per value of each window.
        ("MaxPooling2D", [(None, 8, 8, 3)], {"pool_size": (2, 2)}, 4 * 4 * 3 * 4),
        ("AveragePooling1D", [(None, 9, 2)], {"pool_size": (3,)}, 3 * 2 * 3),
        ("GlobalAveragePooling2D", [(None, 8, 8, 3)], {}, 192),
        # Recurrent: every step, every gate multiplies [input, state] by its matrix.
        ("SimpleRNN", [(None, 10, 8)], {"units": 16}, 10 * 16 * 24),
        ("LSTM", [(None, 10, 8)], {"units": 16}, 10 * 4 * 16 * 24),
        ("GRU", [(None, 10, 8)], {"units": 16, "return_sequences": True}, 10 * 3 * 16 * 24),
        (
            "Bidirectional",
            [(None, 10, 8)],
            {"layer": {"type": "LSTM", "params": {"units": 16}}},
            2 * 10 * 4 * 16 * 24,
        ),
        (
            "TimeDistributed",
            [(None, 6, 8)],
            {"layer": {"type": "Dense", "params": {"units": 4}}},
            6 * 8 * 4,
        ),
        # Attention: projections plus scores and weighted sums over position pairs.
        (
            "MultiHeadAttention",
            [(None, 5, 16), (None, 7, 16)],
            {"num_heads": 2, "key_dim": 4},
            5 * 16 * 8 + 7 * 16 * 8 + 7 * 16 * 8 + 5 * 8 * 16 + 5 * 7 * 2 * (4 + 4),
        ),
        ("Attention", [(None, 5, 8), (None, 7, 8)], {}, 5 * 7 * (8 + 8)),
        ("AdditiveAttention", [(None, 5, 8), (None, 7, 8)], {}, 5 * 7 * (8 + 8)),
        # Grouped queries: query heads of 3, key/value heads shared by two query heads each.
        (
            "GroupQueryAttention",
            [(None, 5, 8), (None, 7, 8)],
            {"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 2},
            5 * 8 * 12 + 7 * (8 + 8) * 6 + 5 * 12 * 8 + 5 * 7 * 4 * 2 * 3,
        ),
        # EinsumDense: each output value sums over the contracted axis.
        ("EinsumDense", [(None, 5, 8)], {"equation": "abc,cd->abd", "output_shape": (5, 4)}, 160),
        ("EinsumDense", [(None, 5, 8)], {"equation": "abc,bcd->ad", "output_shape": (4,)}, 160),
        # SpectralNormalization costs what the layer it wraps costs.
        (
            "SpectralNormalization",
            [(None, 64)],
            {"layer": {"type": "Dense", "params": {"units": 10}}},
            640,
        ),
        # STFT: each frame is multiplied by the real and imaginary filter banks.
        (
            "STFTSpectrogram",
            [(None, 100, 1)],
            {"frame_length": 16, "frame_step": 8, "mode": "magnitude"},
            11 * 2 * 16 * 9,
        ),
        # Layers that only move data or work element by element: no MACs.
        ("Flatten", [(None, 4, 4, 2)], {}, 0),
        ("Dropout", [(None, 64)], {}, 0),
        ("Add", [(None, 8), (None, 8)], {}, 0),
        ("Embedding", [(None, 20)], {"input_dim": 100, "output_dim": 8}, 0),
    ],
)
def test_macs_match_hand_counts(type_name, inputs, params, expected):
    assert macs(type_name, inputs, **params) == expected


def test_macs_of_an_unknown_sequence_length_are_unknown():
    assert macs("LSTM", [(None, None, 8)], units=4) is None
    assert macs("Dense", [(None, None, 8)], units=4) is None


def test_every_catalog_entry_has_a_cost_rule_that_returns_a_count():
    for entry in CATALOG.values():
        assert callable(entry.count_macs), entry.type


def cnn() -> NetworkGraph:
    graph = NetworkGraph("cnn")
    source = graph.add_node("Input", params={"shape": (8, 8, 1)})
    conv = graph.add_node("Conv2D", params={"filters": 4, "kernel_size": (3, 3)})
    flat = graph.add_node("Flatten")
    head = graph.add_node("Dense", params={"units": 10})
    graph.connect(source.id, conv.id)
    graph.connect(conv.id, flat.id)
    graph.connect(flat.id, head.id)
    return graph


def test_graph_totals_add_up_the_layers():
    cost = graph_cost(cnn())
    assert isinstance(cost, GraphCost)
    conv_macs = 36 * 4 * 9
    dense_macs = 144 * 10
    assert cost.macs == conv_macs + dense_macs
    assert cost.params == (9 * 4 + 4) + (144 * 10 + 10)
    assert cost.weight_bytes("float32") == 4 * cost.params
    assert cost.weight_bytes("float16") == 2 * cost.params
    assert cost.weight_bytes("int8") == cost.params
    # Outputs per sample: input 64, conv 144, flatten 144, dense 10.
    assert cost.activation_values == 64 + 144 + 144 + 10
    assert cost.activation_bytes == 4 * (64 + 144 + 144 + 10)
    assert not cost.incomplete


def test_a_broken_layer_is_left_out_and_marks_the_totals_incomplete():
    graph = cnn()
    graph.set_params(graph.find("conv2d_1").id, kernel_size=(20, 20))
    cost = graph_cost(graph)
    assert cost.incomplete
    assert set(cost.nodes) == {graph.find("input_1").id}


@pytest.mark.parametrize(
    ("optimizer", "momentum", "slots"),
    [
        ("sgd", 0.0, 0),
        ("sgd", 0.9, 1),
        ("adam", 0.0, 2),
        ("adamw", 0.0, 2),
        ("rmsprop", 0.0, 1),
        ("rmsprop", 0.5, 2),
        ("adagrad", 0.0, 1),
        ("nadam", 0.0, 2),
    ],
)
def test_optimizer_slots(optimizer, momentum, slots):
    assert optimizer_slots({"optimizer": optimizer, "momentum": momentum}) == slots


def test_training_memory_counts_weights_gradients_slots_and_batch_activations():
    graph = cnn()
    cost = graph_cost(graph)
    memory = training_memory(cost, {"optimizer": "adam", "batch_size": 16}, data_bytes=1000)
    assert memory.weights == memory.gradients == 4 * cost.params
    assert memory.optimizer == 2 * 4 * cost.params
    assert memory.activations == 2 * 16 * cost.activation_bytes
    # At the update 7 values per weight are live, 3.5 more per slot: 14 x 4 bytes with Adam.
    step = 4 * 4 * cost.params + 32 * cost.activation_bytes
    assert memory.update == max(14 * 4 * cost.params - step, 0)
    assert memory.total == step + memory.update + 1000
    assert "adam state" in memory.breakdown()


def test_the_optimizers_update_outweighs_small_activations_of_wide_layers():
    cost = graph_cost(huge_dense(65_536))  # 64 x 65,536 weights + biases, no activation
    params = 65 * 65_536
    sgd = training_memory(cost, {"optimizer": "sgd", "batch_size": 32})
    adam = training_memory(cost, {"optimizer": "adam", "batch_size": 32})
    assert sgd.total == 7 * 4 * params  # live during the update: weights, new ones, temporaries
    assert adam.total == 14 * 4 * params  # and old and new values of the two moments
    assert "the optimizer's update" in adam.breakdown()


def test_memory_verdict_refuses_over_the_machine_and_warns_over_half():
    memory = training_memory(graph_cost(cnn()), {"optimizer": "sgd", "batch_size": 1})
    assert memory_verdict(memory, available=memory.total - 1).severity == "error"
    assert memory_verdict(memory, available=memory.total * 2 - 1).severity == "warning"
    assert memory_verdict(memory, available=memory.total * 3).severity is None


def huge_dense(units: int) -> NetworkGraph:
    graph = NetworkGraph("huge")
    source = graph.add_node("Input", params={"shape": (64,)})
    dense = graph.add_node("Dense", params={"units": units})
    graph.connect(source.id, dense.id)
    return graph


def test_validation_refuses_a_graph_too_large_for_this_machine():
    from graph.cost import machine_memory

    available = machine_memory()
    assert available
    # More than the machine even before the update: 16 bytes per weight of 64 + 1 inputs.
    graph = huge_dense(available // (65 * 16) + 1)
    problems = validate(graph)
    assert [p.severity for p in problems] == [ERROR]
    message = problems[0].message
    assert message.startswith("dense_1 (Dense): training would need about")
    assert "more than the" in message and "this machine has" in message
    assert problems[0].node_id == graph.find("dense_1").id


def test_validation_warns_over_half_of_this_machine():
    from graph.cost import machine_memory

    # Adam's update keeps 14 values per weight (graph.cost.UPDATE_VALUES_PER_*).
    graph = huge_dense(int(machine_memory() * 0.6) // (65 * 14 * 4))
    problems = validate(graph)
    assert [p.severity for p in problems] == [WARNING]
    assert "over half of the" in problems[0].message


def test_formats():
    assert format_count(950) == "950"
    assert format_count(12_300) == "12.3K"
    assert format_count(None) == "?"
    assert format_bytes(512) == "512 B"
    assert format_bytes(4_500_000) == "4.5 MB"
    assert format_bytes(10_240_000_000) == "10.2 GB"
    assert format_bytes(3_500_000_000_000) == "3.5 TB"
    assert format_bytes(3.64e24) == "3.64e+12 TB"  # a layer of absurd size: still short


@given(graphs())
@hyp_settings(max_examples=150, deadline=None)
def test_any_graph_costs_without_raising_and_never_negative(graph):
    cost = graph_cost(graph)
    assert cost.macs >= 0 and cost.params >= 0 and cost.activation_values >= 0
    for node_cost in cost.nodes.values():
        assert node_cost.macs is None or node_cost.macs >= 0
        assert node_cost.activation_values is None or node_cost.activation_values >= 0
    memory = training_memory(cost, graph.training)
    assert memory.total >= cost.weight_bytes()


def recurrent(layer: dict, steps: int = 20, features: int = 3) -> NetworkGraph:
    """Input(steps, features) -> `layer` (a recurrent layer or a Bidirectional one)."""
    graph = NetworkGraph("rnn")
    source = graph.add_node("Input", params={"shape": (steps, features)})
    node = graph.add_node(layer["type"], params=layer["params"])
    graph.connect(source.id, node.id)
    return graph


@pytest.mark.parametrize(("type_name", "per_step"), [("LSTM", 9), ("GRU", 7), ("SimpleRNN", 4)])
def test_a_recurrent_layer_keeps_values_for_every_step_of_its_sequence(type_name, per_step):
    cost = graph_cost(recurrent({"type": type_name, "params": {"units": 16}}))
    assert cost.step_values == per_step * 16 * 20  # per unit and step, 20 steps of 16 units
    memory = training_memory(cost, {"optimizer": "sgd", "batch_size": 32})
    # Outputs and their gradients (the input's 20 x 3 and the layer's 16 values, twice) plus
    # the kept steps, for 32 samples, 4 bytes each.
    assert memory.activations == 32 * 4 * (2 * (60 + 16) + per_step * 16 * 20)


def test_bidirectional_keeps_both_directions_steps_and_other_layers_keep_none():
    inner = {"type": "GRU", "params": {"units": 8}}
    wrapped = graph_cost(recurrent({"type": "Bidirectional", "params": {"layer": inner}}))
    assert wrapped.step_values == 2 * 7 * 8 * 20
    assert graph_cost(cnn()).step_values == 0
