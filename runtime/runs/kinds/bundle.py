"""The bundle run: a reproducibility bundle read back as a run to list in the history.

Option ``path``: the bundle (.zip, runtime.run_bundle). Returns (its
runtime.run_store.RunRecord, its weights or None). Light: a `model.keras`
member is read with Keras, so the app runs it on its runtime thread. The
request's graph is not used (send an empty text).
"""

from __future__ import annotations

from graph.cli.exit_codes import EXIT_BAD_FILE
from runtime.runs import RunContext, RunError, RunKind, RunRequest, register_run_kind


@register_run_kind
class BundleRun(RunKind):
    name = "bundle"
    title = "Reading a bundle"
    heavy = False

    def execute(self, request: RunRequest, context: RunContext):
        from runtime.run_bundle import BundleError, bundle_run

        path = request.options.get("path")
        if not path:
            raise RunError("bundle needs a bundle file (option path)")
        try:
            return bundle_run(path)
        except BundleError as error:
            raise RunError(str(error), exit_code=EXIT_BAD_FILE) from None
