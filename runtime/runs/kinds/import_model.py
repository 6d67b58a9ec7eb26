"""The import run: a saved Keras model (.keras, .h5, or a JSON config) as a graph.

Options: `path`, the model file. Returns the graph in DeepWire's YAML format
(plain text, laid out). Light: the app runs it on its runtime thread. The
request's graph is not used (send an empty text).
"""

from __future__ import annotations

from runtime.events import Progress
from runtime.runs import RunContext, RunError, RunKind, RunRequest, register_run_kind


@register_run_kind
class ImportRun(RunKind):
    name = "import"
    title = "Model import"
    heavy = False

    def execute(self, request: RunRequest, context: RunContext) -> str:
        from graph.files import graph_to_yaml
        from runtime.importer import ImportModelError, import_model

        path = request.options.get("path")
        if not path:
            raise RunError("import needs a model file (option path)")
        context.emit(Progress(None, f"Reading {path}"))
        try:
            graph = import_model(path)
        except (ImportModelError, OSError, ValueError) as error:
            raise RunError(str(error)) from None
        return graph_to_yaml(graph)
