"""The time estimate: how long an epoch of the graph takes here, probed once and cached.

Options: `cache_dir` (the folder of the probe cache; runtime.probe_cache's
default if absent). Heavy: the app probes in the training process, where the
training it predicts will run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime.events import Progress
from runtime.runs.base import RunContext, RunError, RunKind, RunRequest
from runtime.runs.registry import register_run_kind


@dataclass(frozen=True)
class EpochTimeResult:
    """What a time estimate run returns.

    Attributes:
        estimate: The runtime.probe_cache.TimeEstimate, or None when training would
            not fit in memory (`message` says so).
        cached: Whether it came from the cache rather than a probe just now.
        message: The estimate as one line for the user, or why there is none.
    """

    estimate: Any
    cached: bool
    message: str


@register_run_kind
class EstimateTimeRun(RunKind):
    name = "estimate_time"
    title = "Time estimate"
    heavy = True

    def execute(self, request: RunRequest, context: RunContext) -> EpochTimeResult:
        from runtime.cost_estimate import estimate_epoch_time
        from runtime.data import DataError, load_dataset
        from runtime.probe_cache import ProbeCache, describe_epoch_time

        graph = request.graph()
        folder = request.options.get("cache_dir")
        cache = ProbeCache(Path(folder) if folder else None)
        cached = cache.lookup(graph)
        if cached is not None:
            return EpochTimeResult(cached, True, describe_epoch_time(cached, True))
        context.emit(Progress(None, "Timing a few training steps…"))
        try:
            dataset = load_dataset(graph.dataset, request.base_dir)
        except DataError as error:
            raise RunError(f"Data: {error}") from None
        context.checkpoint()
        found = estimate_epoch_time(graph, dataset, cache, context.checkpoint)
        if found is None:
            return EpochTimeResult(
                None, False, "no time estimate: training would not fit in memory"
            )
        estimate, was_cached = found
        return EpochTimeResult(estimate, was_cached, describe_epoch_time(estimate, was_cached))
