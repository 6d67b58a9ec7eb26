"""Automatic layered layout: columns by longest path, few crossings, fast at scale."""

import time

from graph.generators import branched_graph, chain_graph
from graph.layout import COLUMN_SPACING, ROW_SPACING, layered_layout
from graph.model import NetworkGraph


def crossings(graph, positions):
    """Pairs of edges between the same two columns whose ends swap order."""
    spans = [
        (positions[e.source], positions[e.target])
        for e in graph.edges
        if positions[e.target][0] - positions[e.source][0] == COLUMN_SPACING
    ]
    count = 0
    for i, (a1, a2) in enumerate(spans):
        for b1, b2 in spans[i + 1 :]:
            if a1[0] == b1[0] and (a1[1] - b1[1]) * (a2[1] - b2[1]) < 0:
                count += 1
    return count


def test_columns_follow_the_longest_path():
    graph = NetworkGraph()
    source = graph.add_node("Input", "x", {"shape": [4]})
    short = graph.add_node("Dense", "short", {"units": 4})
    long_1 = graph.add_node("Dense", "long_1", {"units": 4})
    long_2 = graph.add_node("Dense", "long_2", {"units": 4})
    add = graph.add_node("Add", "add")
    graph.connect(source.id, short.id)
    graph.connect(source.id, long_1.id)
    graph.connect(long_1.id, long_2.id)
    graph.connect(short.id, add.id, 0)
    graph.connect(long_2.id, add.id, 1)
    positions = layered_layout(graph)
    columns = {node_id: x / COLUMN_SPACING for node_id, (x, _) in positions.items()}
    assert columns == {source.id: 0, short.id: 1, long_1.id: 1, long_2.id: 2, add.id: 3}
    assert {positions[short.id][1], positions[long_1.id][1]} == {-ROW_SPACING / 2, ROW_SPACING / 2}


def test_every_node_gets_a_distinct_position():
    graph = branched_graph(300)
    positions = layered_layout(graph)
    assert set(positions) == {node.id for node in graph.nodes}
    assert len(set(positions.values())) == len(graph)


def test_barycenter_untangles_crossed_branches():
    graph = NetworkGraph()
    a = graph.add_node("Input", "a", {"shape": [4]})
    b = graph.add_node("Input", "b", {"shape": [4]})
    # Added in crossed order: b's branch first, a's second.
    from_b = graph.add_node("Dense", "from_b", {"units": 4})
    from_a = graph.add_node("Dense", "from_a", {"units": 4})
    graph.connect(b.id, from_b.id)
    graph.connect(a.id, from_a.id)
    merged = graph.add_node("Concatenate", "merged")
    graph.connect(from_a.id, merged.id, 0)
    graph.connect(from_b.id, merged.id, 1)
    assert crossings(graph, layered_layout(graph)) == 0


def test_cycles_still_get_a_layout():
    graph = NetworkGraph()
    a = graph.add_node("Dense", "a", {"units": 4})
    b = graph.add_node("Dense", "b", {"units": 4})
    graph.connect(a.id, b.id)
    graph.connect(b.id, a.id)
    positions = layered_layout(graph)
    assert len(set(positions.values())) == 2


def test_empty_graph():
    assert layered_layout(NetworkGraph()) == {}


def test_large_graphs_lay_out_quickly():
    graph = chain_graph(1000)
    start = time.perf_counter()
    positions = layered_layout(graph)
    # A loose bound against accidental quadratic behaviour, not a benchmark.
    assert time.perf_counter() - start < 2.0
    assert max(x for x, _ in positions.values()) == 999 * COLUMN_SPACING


def test_free_offset_keeps_new_nodes_clear_of_existing_ones():
    from graph.layout import NODE_FOOTPRINT, NODE_GAP, free_offset, free_position

    graph = NetworkGraph()
    for index in range(5):
        graph.add_node("Dense", position=(index * 40.0, 0.0))
    placed = free_position(graph, (80.0, 0.0))
    width, height = NODE_FOOTPRINT
    for node in graph.nodes:
        x, y = node.position
        assert abs(placed[0] - x) >= width + NODE_GAP or abs(placed[1] - y) >= height + NODE_GAP
    assert free_position(NetworkGraph(), (10.0, 20.0)) == (10.0, 20.0)
    assert free_offset([(0.0, 0.0)], [(500.0, 500.0)]) == (0.0, 0.0)
    group = [(0.0, 0.0), (240.0, 0.0)]
    dx, dy = free_offset(group, group)
    assert (dx, dy) != (0.0, 0.0)
