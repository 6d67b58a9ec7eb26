"""The restore run: a recorded run's data and trained model, loaded again without training.

Options: ``record``, the runtime.run_store.RunRecord; ``weights``, its weights
when its journal keeps them in memory (else its weights file is read). The
request's graph is the record's. Light: the result holds the rebuilt Keras
model (runtime.runs.restoring.RestoredRun), so the app runs it on its runtime
thread.
"""

from __future__ import annotations

from runtime.runs import RunContext, RunError, RunKind, RunRequest, register_run_kind


@register_run_kind
class RestoreRun(RunKind):
    name = "restore"
    title = "Restoring a run"
    heavy = False

    def execute(self, request: RunRequest, context: RunContext):
        from runtime.runs.restoring import RestoreError, load_restored_run

        record = request.options.get("record")
        if record is None:
            raise RunError("restore needs the run's record (option record)")
        try:
            return load_restored_run(record, request.base_dir, request.options.get("weights"))
        except RestoreError as error:
            raise RunError(str(error)) from None
