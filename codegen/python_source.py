"""Graph -> Python source for Keras 3: the model alone, or a full training script.

Both outputs are deterministic, formatted as `ruff format` would format them
and ruff-clean; every value taken from the graph is an escaped literal.
"""

from __future__ import annotations

from pathlib import Path

from codegen.model_code import build_model_function, check_exportable, needs_deep_recursion
from codegen.training_script import training_script
from graph.model import NetworkGraph

MODEL_DOCSTRING = '''"""Keras model exported from DeepWire.

`build_model()` returns the model; its layer names are the graph's node names.
"""
'''
KERAS_IMPORT = "import keras\n"
# Deep graphs raise the recursion limit in the exported code too.
DEEP_IMPORTS = "import sys\n\n" + KERAS_IMPORT

MODEL_FOOTER = """

if __name__ == "__main__":
    build_model().summary()
"""


def export_model_code(graph: NetworkGraph, validate: bool = True) -> str:
    """A Python module defining `build_model()` for `graph` (Keras functional API).

    Args:
        graph: A graph that validates.
        validate: Refuse an invalid graph (the default). Emitting code is safe
            for any graph content, valid or not; only a valid graph's code runs.

    Raises:
        ExportError: listing the validator's errors when the graph is invalid.
    """
    if validate:
        check_exportable(graph)
    imports = DEEP_IMPORTS if needs_deep_recursion(graph) else KERAS_IMPORT
    header = MODEL_DOCSTRING + "\n" + imports
    return header + "\n\n" + "\n".join(build_model_function(graph)) + "\n" + MODEL_FOOTER


def export_training_script(
    graph: NetworkGraph, script_name: str = "train.py", data_dir: Path | None = None
) -> str:
    """A runnable script that loads the graph's dataset as the app does, trains and saves.

    Run as `python script.py [OUTPUT.keras]`; the model is saved to
    `model.keras` by default.

    Args:
        graph: A graph that validates.
        script_name: The script's file name, shown in its usage line.
        data_dir: Folder a relative dataset path is relative to (the graph
            file's folder, as in the app); the path is kept as written if None.

    Raises:
        ExportError: listing the validator's errors when the graph is invalid.
    """
    check_exportable(graph)
    return training_script(graph, build_model_function(graph), script_name, data_dir)
