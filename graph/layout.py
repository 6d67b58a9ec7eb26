"""Automatic layout: layers left to right, few crossings, readable at 1,000+ nodes.

Used by the GUI's "auto layout" and after a model import. Columns come from
longest-path layering (every node one column right of its furthest input),
order within a column from a few barycenter sweeps (each node placed near the
average row of its neighbours), which untangles most crossings in linear time
per sweep.
"""

from __future__ import annotations

from graph.model import NetworkGraph, Position

# Wide enough that an edge between columns shows its shape label, e.g. "(None, 28, 28, 32)".
COLUMN_SPACING = 280.0
ROW_SPACING = 120.0
SWEEPS = 4


def layered_layout(graph: NetworkGraph) -> dict[str, Position]:
    """Positions for every node of `graph`, inputs on the left.

    Args:
        graph: The graph to lay out; it may contain cycles (an invalid graph
            still gets a readable layout: cycle edges are ignored for layering).

    Returns:
        `{node_id: (x, y)}`, columns `COLUMN_SPACING` apart and rows
        `ROW_SPACING` apart, each column centred on y = 0.
    """
    nx_graph = graph.nx_graph
    order = list(nx_graph.nodes)
    predecessors = {n: _unique(u for u, _ in nx_graph.in_edges(n)) for n in order}
    successors = {n: _unique(v for _, v in nx_graph.out_edges(n)) for n in order}
    columns = _columns(order, predecessors, successors)
    rank = _order_columns(columns, predecessors, successors)
    positions = {}
    for x_index, column in enumerate(columns):
        middle = (len(column) - 1) / 2
        for node_id in column:
            positions[node_id] = (
                x_index * COLUMN_SPACING,
                (rank[node_id] - middle) * ROW_SPACING,
            )
    return positions


def _unique(items) -> list[str]:
    return list(dict.fromkeys(items))


def _columns(
    order: list[str], predecessors: dict[str, list[str]], successors: dict[str, list[str]]
) -> list[list[str]]:
    """Longest-path layering (Kahn's order); nodes left on cycles go last."""
    waiting = {n: len(predecessors[n]) for n in order}
    layer = dict.fromkeys(order, 0)
    ready = [n for n in order if waiting[n] == 0]
    placed = []
    while ready:
        next_ready = []
        for node_id in ready:
            placed.append(node_id)
            for successor in successors[node_id]:
                layer[successor] = max(layer[successor], layer[node_id] + 1)
                waiting[successor] -= 1
                if waiting[successor] == 0:
                    next_ready.append(successor)
        ready = next_ready
    done = set(placed)
    last = max((layer[n] for n in placed), default=-1)
    for node_id in order:
        if node_id not in done:
            last += 1
            layer[node_id] = last
    columns: list[list[str]] = [[] for _ in range(max(layer.values(), default=-1) + 1)]
    for node_id in order:
        columns[layer[node_id]].append(node_id)
    return columns


def _order_columns(
    columns: list[list[str]],
    predecessors: dict[str, list[str]],
    successors: dict[str, list[str]],
) -> dict[str, int]:
    """Row of each node within its column after barycenter sweeps."""
    rank = {node_id: index for column in columns for index, node_id in enumerate(column)}
    # Columns are centred, so rows compare across columns relative to the middle.
    middle = {node_id: (len(column) - 1) / 2 for column in columns for node_id in column}
    for sweep in range(SWEEPS):
        forward = sweep % 2 == 0
        neighbours = predecessors if forward else successors
        for column in columns if forward else reversed(columns):
            if len(column) < 2:
                continue
            column.sort(key=lambda n: (_barycenter(n, neighbours, rank, middle), rank[n]))
            for index, node_id in enumerate(column):
                rank[node_id] = index
    return rank


def _barycenter(
    node_id: str,
    neighbours: dict[str, list[str]],
    rank: dict[str, int],
    middle: dict[str, float],
) -> float:
    """Mean centred row of the node's neighbours; its own row when it has none."""
    linked = neighbours[node_id]
    if not linked:
        return rank[node_id] - middle[node_id]
    return sum(rank[n] - middle[n] for n in linked) / len(linked)


# The space a node takes on the canvas, with a gap around it (gui.canvas.node_item).
NODE_FOOTPRINT = (160.0, 104.0)
NODE_GAP = 30.0
_STEP = 40.0
_MAX_RINGS = 30


def _overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    width, height = NODE_FOOTPRINT
    return abs(a[0] - b[0]) < width + NODE_GAP and abs(a[1] - b[1]) < height + NODE_GAP


def _ring(ring: int) -> list[tuple[float, float]]:
    """Grid offsets at Chebyshev distance `ring`, the nearest first."""
    if ring == 0:
        return [(0.0, 0.0)]
    cells = [
        (dx * _STEP, dy * _STEP)
        for dx in range(-ring, ring + 1)
        for dy in range(-ring, ring + 1)
        if max(abs(dx), abs(dy)) == ring
    ]
    return sorted(cells, key=lambda cell: (cell[0] ** 2 + cell[1] ** 2, -cell[0], cell[1]))


def free_offset(
    occupied: list[tuple[float, float]], placing: list[tuple[float, float]]
) -> tuple[float, float]:
    """The smallest shift that puts every node at `placing` clear of every node at `occupied`.

    Args:
        occupied: Top-left positions of the nodes already on the canvas.
        placing: Top-left positions wanted for new nodes (moved together).

    Returns:
        (dx, dy); (0, 0) when they fit as they are (or no free spot is near).
    """
    if not occupied or not placing:
        return (0.0, 0.0)
    reach = (_MAX_RINGS + 1) * _STEP + max(NODE_FOOTPRINT) + NODE_GAP
    nearby = [
        q
        for q in occupied
        if any(abs(q[0] - p[0]) < reach and abs(q[1] - p[1]) < reach for p in placing)
    ]
    for ring in range(_MAX_RINGS + 1):
        for dx, dy in _ring(ring):
            moved = [(x + dx, y + dy) for x, y in placing]
            if not any(_overlaps(p, q) for p in moved for q in nearby):
                return (dx, dy)
    return (0.0, 0.0)


def free_position(graph: NetworkGraph, wanted: tuple[float, float]) -> tuple[float, float]:
    """The free spot for one new node nearest to `wanted` (a top-left position)."""
    dx, dy = free_offset([node.position for node in graph.nodes], [wanted])
    return (wanted[0] + dx, wanted[1] + dy)
