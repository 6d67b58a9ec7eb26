"""The graph as an SVG picture, drawn from the node positions the user gave it.

Plain SVG text (no Qt), so a report can embed it as a data: URI and any
browser draws it.
"""

from __future__ import annotations

from html import escape

from graph.model import NetworkGraph

NODE_WIDTH, NODE_HEIGHT = 150, 46
MARGIN = 20
COLORS = {
    "Core": "#e8f0fe",
    "Convolution": "#e6f4ea",
    "Pooling": "#fef7e0",
    "Recurrent": "#fce8e6",
    "Attention": "#f3e8fd",
    "Normalization": "#e4f7fb",
    "Regularization": "#f1f3f4",
    "Merge": "#fff0e0",
}
DEFAULT_COLOR = "#ffffff"


def graph_svg(graph: NetworkGraph) -> str:
    """An SVG document: one box per node (name, type), one arrow per edge."""
    from graph.catalog import CATALOG

    if len(graph) == 0:
        return (
            '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40">'
            '<text x="10" y="25" font-family="sans-serif">(empty graph)</text></svg>'
        )
    xs = [node.position[0] for node in graph.nodes]
    ys = [node.position[1] for node in graph.nodes]
    left, top = min(xs) - MARGIN, min(ys) - MARGIN
    width = max(xs) - left + NODE_WIDTH + MARGIN
    height = max(ys) - top + NODE_HEIGHT + MARGIN

    def corner(node) -> tuple[float, float]:
        return node.position[0] - left, node.position[1] - top

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#5f6368"/></marker>'
        "</defs>",
    ]
    for edge in graph.edges:
        sx, sy = corner(graph.node(edge.source))
        tx, ty = corner(graph.node(edge.target))
        parts.append(
            f'<line x1="{sx + NODE_WIDTH:.1f}" y1="{sy + NODE_HEIGHT / 2:.1f}" '
            f'x2="{tx:.1f}" y2="{ty + NODE_HEIGHT / 2:.1f}" stroke="#5f6368" '
            'stroke-width="1.5" marker-end="url(#arrow)"/>'
        )
    for node in graph.nodes:
        x, y = corner(node)
        entry = CATALOG.get(node.type)
        fill = COLORS.get(entry.category if entry else "", DEFAULT_COLOR)
        parts.append(
            f'<g><rect x="{x:.1f}" y="{y:.1f}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" '
            f'rx="6" fill="{fill}" stroke="#3c4043"/>'
            f'<text x="{x + 8:.1f}" y="{y + 19:.1f}" font-size="13" font-weight="bold">'
            f"{escape(_clip(node.name))}</text>"
            f'<text x="{x + 8:.1f}" y="{y + 36:.1f}" font-size="11" fill="#5f6368">'
            f"{escape(_clip(node.type))}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _clip(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
