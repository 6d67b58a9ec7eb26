"""What a graph costs, read from the catalog's rules: compute, weights, memory.

Per node and in total: multiply-accumulates (MACs) per sample, parameters,
weight bytes at float32 / float16 / int8, and the activation memory one sample
needs. :func:`training_memory` adds what a training run holds at its peak
(weights, gradients, the optimizer's slots and the activations of a batch), so
a graph too large for this machine is refused before TensorFlow tries.

All figures are estimates from shapes alone, without TensorFlow; the weight
counts match Keras exactly, MACs follow the usual textbook counts (a bias add
or an activation is element-wise work, not a MAC).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graph.catalog import find_type
from graph.layers._common import product
from graph.model import NetworkGraph
from graph.shapes import NodeInfo, ShapeAnalysis

# Bytes per weight in each storage type a deployed model may use.
WEIGHT_BYTES = {"float32": 4, "float16": 2, "int8": 1}
# Training computes in float32.
VALUE_BYTES = 4
# Per-weight state each optimizer keeps beside the weight (Keras 3): Adam-like
# ones keep two moments, RMSprop and Adagrad one accumulator, SGD none unless it
# has momentum.
OPTIMIZER_SLOTS = {"sgd": 0, "adam": 2, "adamw": 2, "nadam": 2, "rmsprop": 1, "adagrad": 1}
# Backpropagation keeps each layer's forward output and builds a gradient of
# the same size: two values per activation value.
ACTIVATION_COPIES = 2
# Backpropagation through time: TensorFlow's loop over a recurrent layer's
# steps keeps, for every step, the tensors that step's gradient reads, so the
# layer holds values for all its steps, not just its output. Per unit and step,
# counted from Keras's cells: LSTM the last output and cell state, three gate
# outputs, the candidate and the new cell's tanh (7); GRU the last output, two
# gates, the candidate and its recurrent part (5); SimpleRNN the last output
# and the new one (2); each plus the loop's list of outputs and, going back,
# a gradient for every one of them (2). A 512-unit LSTM over 20 steps measured
# 9.7 per unit and step (bench/cost_estimate.py's child, batch 128 vs 1024).
RECURRENT_VALUES_PER_STEP = {"LSTM": 9, "GRU": 7, "SimpleRNN": 4}
# Keras compiles the training step with XLA, which writes the new weights and
# optimizer slots into fresh buffers before they replace the old ones, with the
# update's temporaries alive meanwhile. Measured with bench/cost_estimate.py on a
# 65,536-unit Dense (the same peak at batch 32 and 128, so not activations): about
# 7 values per trainable weight are live during the update with SGD, and 3.5 more
# per optimizer slot.
UPDATE_VALUES_PER_WEIGHT = 7
UPDATE_VALUES_PER_SLOT = 3.5
# Warn when a run would take more than this share of the machine's memory.
WARN_SHARE = 0.5


@dataclass(frozen=True)
class NodeCost:
    """The cost of one layer.

    Attributes:
        macs: Multiply-accumulates per sample, or None when unknown (e.g. a
            sequence of unknown length).
        params: Weights in the layer.
        activation_values: Values the layer outputs per sample, or None when unknown.
    """

    macs: int | None
    params: int
    activation_values: int | None

    def weight_bytes(self, dtype: str = "float32") -> int:
        """Bytes of the layer's weights stored as `dtype` (float32, float16 or int8)."""
        return self.params * WEIGHT_BYTES[dtype]

    @property
    def activation_bytes(self) -> int | None:
        """Bytes of the layer's output per sample, in float32."""
        return None if self.activation_values is None else self.activation_values * VALUE_BYTES


@dataclass(frozen=True)
class GraphCost:
    """The cost of a whole graph; totals over the layers whose shapes are known.

    Attributes:
        nodes: Each node's cost by node id; nodes with unknown shapes are absent.
        macs: Total MACs per sample over the layers where they are known.
        params: Total weights.
        activation_values: Total output values per sample over known layers.
        incomplete: Whether some layer's figure is unknown and left out.
        step_values: Values per sample that recurrent layers keep for every
            step of their sequence during training (backpropagation through time).
    """

    nodes: dict[str, NodeCost]
    macs: int
    params: int
    activation_values: int
    incomplete: bool
    step_values: int = 0

    def weight_bytes(self, dtype: str = "float32") -> int:
        return self.params * WEIGHT_BYTES[dtype]

    @property
    def activation_bytes(self) -> int:
        return self.activation_values * VALUE_BYTES


def node_cost(info: NodeInfo) -> NodeCost | None:
    """The cost of a node from its shape analysis; None when its shape is unknown."""
    if info.output_shape is None:
        return None
    # A block with several outputs holds each of them.
    values = [product(shape[1:]) for shape in info.outputs or (info.output_shape,)]
    return NodeCost(info.macs, info.param_count, None if None in values else sum(values))


def graph_cost(graph: NetworkGraph, analysis: ShapeAnalysis | None = None) -> GraphCost:
    """Per-node costs and totals of `graph`.

    Args:
        graph: The graph to cost.
        analysis: A live ShapeAnalysis of `graph` to reuse; one is made if None.
    """
    owned = analysis is None
    analysis = analysis or ShapeAnalysis(graph)
    try:
        infos = analysis.all()
        nodes = {}
        step_values = 0
        for node in graph.nodes:
            cost = node_cost(infos[node.id])
            if cost is not None:
                nodes[node.id] = cost
                step_values += recurrent_step_values(node.type, node.params, infos[node.id])
    finally:
        if owned:
            analysis.close()
    macs = [c.macs for c in nodes.values()]
    values = [c.activation_values for c in nodes.values()]
    incomplete = len(nodes) < len(graph) or None in macs or None in values
    return GraphCost(
        nodes=nodes,
        macs=sum(m for m in macs if m is not None),
        params=sum(c.params for c in nodes.values()),
        activation_values=sum(v for v in values if v is not None),
        incomplete=incomplete,
        step_values=step_values,
    )


def recurrent_step_values(type_name: str, params: Mapping[str, Any], info: NodeInfo) -> int:
    """Values per sample a recurrent layer keeps over its steps for training; 0 for others.

    A Bidirectional layer runs its inner layer twice, once each way.
    """
    if type_name == "Bidirectional":
        inner = params.get("layer") or {}
        inner_params = inner.get("params") or {}
        return 2 * recurrent_step_values(inner.get("type", ""), inner_params, info)
    per_step = RECURRENT_VALUES_PER_STEP.get(type_name)
    if per_step is None or not info.input_shapes or info.input_shapes[0] is None:
        return 0
    steps = info.input_shapes[0][1]
    units = params.get("units", find_type(type_name).default_params()["units"])
    return per_step * int(units) * (steps or 0)


def optimizer_slots(training: Mapping[str, Any]) -> int:
    """Values the chosen optimizer keeps per trainable weight."""
    name = training.get("optimizer", "adam")
    slots = OPTIMIZER_SLOTS.get(name, 2)
    if name in ("sgd", "rmsprop") and training.get("momentum", 0.0):
        slots += 1
    return slots


@dataclass(frozen=True)
class TrainingMemory:
    """The estimated peak memory of a training run, in bytes, by part.

    Attributes:
        weights: The model's weights.
        gradients: One gradient per trainable weight.
        optimizer: The optimizer's per-weight slots (e.g. Adam's two moments).
        activations: Outputs and their gradients for one batch, and what
            recurrent layers keep of every step.
        update: What the optimizer's update needs beyond the parts above (its
            new weights and slots and temporaries outlive the activations).
        data: The training data held in memory, when known.
        batch_size: The batch the activations are sized for.
        optimizer_name: The optimizer the slots are counted for.
    """

    weights: int
    gradients: int
    optimizer: int
    activations: int
    update: int
    data: int
    batch_size: int
    optimizer_name: str

    @property
    def total(self) -> int:
        return (
            self.weights
            + self.gradients
            + self.optimizer
            + self.activations
            + self.update
            + self.data
        )

    def breakdown(self) -> str:
        """The parts as one line: 'weights 2.6 GB, gradients 2.6 GB, ...'."""
        parts = [
            ("weights", self.weights),
            ("gradients", self.gradients),
            (f"{self.optimizer_name} state", self.optimizer),
            (f"activations of a batch of {self.batch_size}", self.activations),
            ("the optimizer's update", self.update),
            ("data", self.data),
        ]
        return ", ".join(f"{name} {format_bytes(size)}" for name, size in parts if size)


def training_memory(
    cost: GraphCost,
    training: Mapping[str, Any],
    trainable_params: int | None = None,
    data_bytes: int = 0,
) -> TrainingMemory:
    """The estimated peak memory of training a graph with `training` settings.

    Args:
        cost: The graph's cost (graph_cost).
        training: The graph's training settings (optimizer, momentum, batch_size).
        trainable_params: Weights that get gradients; all of them if None.
        data_bytes: Bytes of training data the run holds in memory, if known.
    """
    trainable = cost.params if trainable_params is None else trainable_params
    batch = int(training.get("batch_size", 32))
    slots = optimizer_slots(training)
    weights = cost.params * VALUE_BYTES
    gradients = trainable * VALUE_BYTES
    optimizer = trainable * VALUE_BYTES * slots
    activations = (
        cost.activation_bytes * ACTIVATION_COPIES + cost.step_values * VALUE_BYTES
    ) * batch
    # The update runs after the backward pass has freed the activations.
    during_update = (cost.params - trainable) * VALUE_BYTES + int(
        trainable * VALUE_BYTES * (UPDATE_VALUES_PER_WEIGHT + UPDATE_VALUES_PER_SLOT * slots)
    )
    during_step = weights + gradients + optimizer + activations
    return TrainingMemory(
        weights=weights,
        gradients=gradients,
        optimizer=optimizer,
        activations=activations,
        update=max(during_update - during_step, 0),
        data=data_bytes,
        batch_size=batch,
        optimizer_name=str(training.get("optimizer", "adam")),
    )


@functools.lru_cache(maxsize=1)
def machine_memory() -> int | None:
    """Bytes of memory this process may use: physical memory, or a smaller cgroup limit."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        physical = None
    limits = [physical] if physical and physical > 0 else []
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < (1 << 60):
            limits.append(int(text))
    return min(limits) if limits else None


@dataclass(frozen=True)
class MemoryVerdict:
    """Whether a training run fits this machine.

    Attributes:
        severity: "error" (it will not fit), "warning" (over half) or None (fine).
        message: What the run needs, and what the machine has; empty when fine.
    """

    severity: str | None
    message: str


def memory_verdict(memory: TrainingMemory, available: int | None = None) -> MemoryVerdict:
    """Compares a training estimate with the machine's memory.

    Args:
        memory: The estimate (training_memory).
        available: Bytes the machine has; machine_memory() if None.
    """
    available = machine_memory() if available is None else available
    if not available:
        return MemoryVerdict(None, "")
    needed = memory.total
    detail = f"training would need about {format_bytes(needed)} of memory ({memory.breakdown()})"
    if needed > available:
        return MemoryVerdict(
            "error",
            f"{detail}, more than the {format_bytes(available)} this machine has. "
            "Use fewer units or filters, or a smaller batch size",
        )
    if needed > available * WARN_SHARE:
        return MemoryVerdict(
            "warning",
            f"{detail}, over half of the {format_bytes(available)} this machine has; "
            "training may be slow or stopped by the system",
        )
    return MemoryVerdict(None, "")


def format_count(value: int | None) -> str:
    """A count in short form: 950, 12.3K, 4.5M, 1.2G; '?' when unknown."""
    if value is None:
        return "?"
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= limit:
            return f"{value / limit:.1f}{suffix}"
    return str(value)


def format_bytes(value: int | None) -> str:
    """Bytes in short decimal form: 512 B, 3.1 KB, 4.5 MB, 10.2 GB; '?' when unknown.

    Past 1,000 TB (a layer of absurd size) the figure keeps three digits: 3.64e+09 TB.
    """
    if value is None:
        return "?"
    if abs(value) >= 1e15:
        return f"{value / 1e12:.3g} TB"
    for limit, suffix in ((1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "KB")):
        if abs(value) >= limit:
            return f"{value / limit:.1f} {suffix}"
    return f"{value} B"
