"""Training health onto the canvas: each node's numbers, and a badge where a rule warns.

The rules and their words live in runtime.explain.health_rules; this only
turns a check's plain results into what the canvas's nodes show.
"""

from __future__ import annotations

from gui.canvas.node_item import NodeHealth


def node_health(heading: str, layers: dict, badges) -> dict[str, NodeHealth]:
    """Node id -> NodeHealth for a health check.

    Args:
        heading: Where the numbers come from ("Run 2, epoch 10").
        layers: Node id -> runtime.explain.result.LayerHealth.
        badges: runtime.explain.result.Badge per problem, with node ids.
    """
    from runtime.explain.health_rules import RULES, summary

    warnings: dict[str, list[tuple[str, str, str]]] = {}
    for badge in badges:
        title = RULES[badge.kind].title if badge.kind in RULES else badge.kind
        warnings.setdefault(badge.node, []).append((title, badge.problem, badge.fix))
    return {
        node_id: NodeHealth(heading, summary(health), tuple(warnings.get(node_id, ())))
        for node_id, health in layers.items()
    }
