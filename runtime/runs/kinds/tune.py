"""The tuning run: an Optuna search over a graph's hyperparameters (runtime.tuning)."""

from __future__ import annotations

from runtime.runs.base import RunContext, RunError, RunKind, RunRequest
from runtime.runs.registry import register_run_kind


@register_run_kind
class TuneRun(RunKind):
    """Options: `space` (runtime.tuning.SearchSpace fields), `trials`, `epochs` (per trial).

    Emits TrialStarted, EpochEnd (of the running trial) and TrialFinished;
    returns runtime.events.TuningFinished.
    """

    name = "tune"
    title = "Tuning"

    def execute(self, request: RunRequest, context: RunContext):
        from runtime.data import DataError, load_dataset
        from runtime.events import TuningFinished
        from runtime.tuning import SearchSpace, Tuner

        graph = request.graph()
        options = request.options
        try:
            dataset = load_dataset(graph.dataset, request.base_dir)
        except DataError as error:
            raise RunError(f"Data: {error}") from None

        def forward(event: object) -> None:
            if not isinstance(event, TuningFinished):  # that one is the result
                context.emit(event)

        tuner = Tuner(
            graph,
            dataset,
            SearchSpace(**options.get("space", {})),
            trials=options.get("trials", 10),
            on_event=forward,
            epochs=options.get("epochs"),
        )
        context.on_control(tuner)
        return tuner.run()
