"""Previewing one panel alone: `python -m gui.panels.<module>` opens it on an example graph."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QApplication, QWidget

from graph.files import load_graph
from graph.model import SetSettings
from gui.document import EditorSession
from gui.panels.runs import RunHistory, TrainingRun

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example_session(name: str = "mlp_digits", **sections: dict) -> EditorSession:
    """An editing session on an example, with any settings sections changed as given."""
    graph = load_graph(EXAMPLES / f"{name}.yaml")
    for section, changes in sections.items():
        graph.apply(SetSettings(section, changes))
    session = EditorSession()
    session.replace_graph(graph)
    session.path = EXAMPLES / f"{name}.yaml"
    return session


def preview(make: Callable[[], QWidget], width: int, height: int) -> int:
    """Shows what `make` builds (called once the application exists); returns the exit code."""
    app = QApplication.instance() or QApplication(sys.argv)
    widget = make()
    widget.resize(width, height)
    widget.show()
    return app.exec()


def trained_runs(name: str = "cnn_digits", epochs: int = 3) -> tuple[RunHistory, TrainingRun]:
    """A run history holding one run that trained the example `name` briefly, in this process.

    For previews of panels that show a trained model; the run is started but not
    finished, so a panel created afterwards sees it finish (call `runs.finish(run)`).
    """
    from runtime.data import load_dataset
    from runtime.learned_state import trained_weights
    from runtime.trainer import Trainer

    session = example_session(name, training={"epochs": epochs})
    graph = session.graph.copy()
    dataset = load_dataset(graph.dataset, EXAMPLES)
    result = Trainer(graph, dataset).run()
    runs = RunHistory()
    run = runs.start(graph)
    run.dataset, run.model, run.history = dataset, result.model, result.history
    run.weights = trained_weights(result.model)
    return runs, run
