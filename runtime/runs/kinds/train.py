"""The training run: load the graph's data, train it, and hand back the weights."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from runtime.runs.base import RunContext, RunError, RunKind, RunRequest
from runtime.runs.registry import register_run_kind


@dataclass(frozen=True)
class TrainingOutcome:
    """What a finished training run hands back.

    Attributes:
        result: runtime.events.TrainingFinished with `model` None (see `weights`).
        dataset: The loaded runtime.data.Dataset.
        diagnosis: The under/overfitting reading of the history.
        weights: The trained model's weights and learned state
            (runtime.learned_state.trained_weights).
    """

    result: Any
    dataset: Any = None
    diagnosis: str = ""
    weights: list | None = None


@register_run_kind
class TrainRun(RunKind):
    """Options (all optional).

    epochs: Overrides the graph's training epochs.
    health_every: Check every layer's health every this many epochs and after
        the last (HealthChecked events); 0 or absent: no checks.
    estimate_time: Before the first epoch, say how long an epoch will take (a
        LogLine; probed, or read from the probe cache in `cache_dir`).
    diagnose_on_test: Whether the diagnosis reads the test split's predictions
        (a classifier predicting one class for every sample says so first);
        default True. A caller that evaluates the model itself once the run
        has ended (the app, `deepwire train`) passes False and diagnoses with
        its own report: predicting here would cost every run a second
        evaluation (tracing `predict`) before its result is handed back.
    """

    name = "train"
    title = "Training"

    def execute(self, request: RunRequest, context: RunContext) -> TrainingOutcome:
        from runtime.data import DataError, load_dataset
        from runtime.diagnosis import diagnose
        from runtime.evaluation import diagnose_run
        from runtime.events import BatchEnd, EpochEnd, HealthChecked, LogLine, TrainingFailed
        from runtime.learned_state import trained_weights
        from runtime.trainer import Trainer

        graph = request.graph()
        try:
            dataset = load_dataset(graph.dataset, request.base_dir)
        except DataError as error:
            raise RunError(f"Data: {error}") from None
        context.emit(LogLine(dataset.describe()))
        if request.options.get("estimate_time"):
            _announce_epoch_time(graph, dataset, request.options.get("cache_dir"), context)

        def forward(event: object) -> None:
            # The trainer's own last event holds the Keras model: the outcome says it instead.
            if isinstance(event, (BatchEnd, EpochEnd, HealthChecked, LogLine)):
                context.emit(event)

        trainer = Trainer(
            graph,
            dataset,
            on_event=forward,
            epochs=request.options.get("epochs"),
            health_every=int(request.options.get("health_every") or 0),
        )
        context.on_control(trainer)
        result = trainer.run()
        if isinstance(result, TrainingFailed):
            raise RunError(result.message, result.node_id)
        if request.options.get("diagnose_on_test", True):
            diagnosis = diagnose_run(result.history, result.model, dataset)
        else:
            diagnosis = diagnose(result.history)
        return TrainingOutcome(
            replace(result, model=None), dataset, diagnosis, trained_weights(result.model)
        )


def _announce_epoch_time(graph, dataset, cache_dir: str | None, context: RunContext) -> None:
    from pathlib import Path

    from runtime.cost_estimate import estimate_epoch_time
    from runtime.events import LogLine
    from runtime.probe_cache import ProbeCache, describe_epoch_time

    cache = ProbeCache(Path(cache_dir) if cache_dir else None)
    found = estimate_epoch_time(graph, dataset, cache, context.checkpoint)
    if found is not None:  # otherwise the trainer refuses the run, and says why
        context.emit(LogLine(describe_epoch_time(*found)))
