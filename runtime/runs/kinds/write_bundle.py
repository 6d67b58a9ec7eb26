"""The bundle-writing run: one recorded run saved as a reproducibility bundle.

Options: ``record``, the runtime.run_store.RunRecord; ``path``, the bundle to
write (.zip); ``weights``, the run's weight arrays when its journal keeps them
in memory (else its weights file is copied). Returns the message to show.
Light: it reads the run's data for its split, so the app runs it on its
runtime thread.
"""

from __future__ import annotations

from pathlib import Path

from runtime.runs import RunContext, RunError, RunKind, RunRequest, register_run_kind


@register_run_kind
class WriteBundleRun(RunKind):
    name = "write_bundle"
    title = "Saving a bundle"
    heavy = False

    def execute(self, request: RunRequest, context: RunContext) -> str:
        from runtime.run_bundle import BundleError, training_script, write_bundle

        record, path = request.options.get("record"), request.options.get("path")
        if record is None or not path:
            raise RunError("write_bundle needs the run's record and a path (options record, path)")
        try:
            write_bundle(record, path, training_script(record), request.options.get("weights"))
        except BundleError as error:
            raise RunError(str(error)) from None
        except OSError as error:
            raise RunError(f"{path}: cannot write the bundle ({error})") from None
        return f"Saved run {record.name!r} as {Path(path).name}."
