"""The import flow offers to fold repeated structure into blocks, naming what it found."""

from __future__ import annotations

from graph.block_type import BLOCK
from tests.graph.test_block_folding import model_with_units


def test_importing_a_model_with_repeats_asks_and_folds(qtbot, window, prompts, tmp_path):
    from tests.runtime.test_block_folding import unit_model

    path, model = tmp_path / "units.keras", unit_model()
    model.save(path)
    with qtbot.waitSignal(window.model_imported, timeout=60_000) as imported:
        assert window.import_keras_model(path)
    assert imported.args == [True]
    assert prompts.asked == [
        "resnet_mini: 3 repeated blocks of 1 kind found; fold them into blocks?"
    ]
    graph = window.session.graph
    assert list(graph.blocks) == ["unit"]
    assert [n.name for n in graph.nodes if n.type == BLOCK] == ["unit1", "unit2", "unit3"]
    assert window.params_label.text() == f"Total params: {model.count_params()}"


def test_answering_no_keeps_the_graph_flat(window, prompts):
    prompts.confirm_answer = False
    graph = model_with_units(2)
    assert window._offer_folding(graph) is graph and not graph.blocks
    assert prompts.asked == [
        "resnet_mini: 2 repeated blocks of 1 kind found; fold them into blocks?"
    ]
    prompts.asked.clear()
    flat = model_with_units(1)
    assert window._offer_folding(flat) is flat and prompts.asked == [], "nothing found: no question"
