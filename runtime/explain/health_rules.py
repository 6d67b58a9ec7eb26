"""When a layer's training health earns a badge, and what the badge tells a learner.

The thresholds and the words are declared here once, on plain numbers
(`runtime.explain.result.LayerHealth`), without TensorFlow: the training run,
the explain run and the canvas all read them, and tests check the rules on
hand-made numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from runtime.explain.result import Badge, LayerHealth

CHECK_EVERY_EPOCHS = 5  # training checks health this often, and after its last epoch
DEAD_THRESHOLD = 0.5  # share of dead ReLU units that earns a badge
VANISHING = 1e-7  # a gradient norm below this has vanished, whatever the others do
VANISHING_RATIO = 1e-4  # ... and so has one this many times smaller than the largest layer's
EXPLODING = 1e3  # a gradient norm above this (or not finite) has exploded


@dataclass(frozen=True)
class HealthRule:
    """One kind of badge: what is wrong and the fix to try, in a learner's words."""

    kind: str
    title: str
    problem: str
    fix: str


RULES = {
    "dead": HealthRule(
        "dead",
        "Dead ReLU units",
        "Most of this layer's ReLU units output zero for every sample: they no longer learn.",
        "Lower the learning rate, use He initialization, or try leaky_relu / elu.",
    ),
    "vanishing": HealthRule(
        "vanishing",
        "Vanishing gradients",
        "The gradients reaching this layer are almost zero: its weights barely change.",
        "Use ReLU-family activations, batch normalization or residual connections.",
    ),
    "exploding": HealthRule(
        "exploding",
        "Exploding gradients",
        "The gradients reaching this layer are huge: training may jump around or turn NaN.",
        "Lower the learning rate, normalize the inputs, or add batch normalization.",
    ),
}


def badges(
    report: list[LayerHealth],
    dead_threshold: float = DEAD_THRESHOLD,
    vanishing: float = VANISHING,
    vanishing_ratio: float = VANISHING_RATIO,
    exploding: float = EXPLODING,
) -> list[Badge]:
    """The badges `report` earns, layer by layer.

    A gradient vanishes when its norm is below `vanishing`, or below
    `vanishing_ratio` times the largest finite norm of the report: early layers
    that learn thousands of times slower than late ones are the classic case.
    """
    norms = [h.gradient_norm for h in report if h.gradient_norm is not None]
    largest = max((n for n in norms if math.isfinite(n)), default=0.0)
    found = []
    for health in report:
        kinds = []
        if health.dead_fraction is not None and health.dead_fraction > dead_threshold:
            kinds.append("dead")
        norm = health.gradient_norm
        if norm is not None and not math.isnan(norm):
            if norm > exploding:
                kinds.append("exploding")
            elif norm < vanishing or norm < vanishing_ratio * largest:
                kinds.append("vanishing")
        for kind in kinds:
            rule = RULES[kind]
            found.append(Badge(health.node, kind, rule.problem, rule.fix))
    return found


def summary(health: LayerHealth) -> str:
    """One line of a layer's numbers: its output, its dead units and its gradient norm."""
    parts = [f"output mean {health.mean:.3g}, std {health.std:.3g}"]
    if health.dead_fraction is not None:
        parts.append(f"dead ReLU units {health.dead_fraction:.0%}")
    if health.gradient_norm is not None:
        parts.append(f"gradient norm {health.gradient_norm:.3g}")
    return " · ".join(parts)
