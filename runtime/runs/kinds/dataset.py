"""The dataset run: the graph's dataset loaded as training would load it (the Data panel's preview).

Option ``settings``: the graph's dataset section (graph.settings); the
request's graph is not used (send an empty text), so a graph still being
drawn never stands in the way of its data. Light and free of TensorFlow: the
app runs it on a thread of its own, so a preview never waits behind
TensorFlow's import or another run. Returns the runtime.data.Dataset; a
dataset that cannot be loaded fails with its message.
"""

from __future__ import annotations

from runtime.runs import RunContext, RunError, RunKind, RunRequest, register_run_kind


@register_run_kind
class DatasetRun(RunKind):
    name = "dataset"
    title = "Loading the data"
    heavy = False
    uses_tensorflow = False

    def execute(self, request: RunRequest, context: RunContext):
        from runtime.data import DataError, load_dataset

        settings = request.options.get("settings")
        if settings is None:
            raise RunError("dataset needs the dataset settings (option settings)")
        try:
            return load_dataset(settings, request.base_dir)
        except DataError as error:
            raise RunError(str(error)) from None
