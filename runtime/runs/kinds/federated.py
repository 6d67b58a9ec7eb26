"""The federated run: simulate clients training the graph on their own parts of the data.

Emits FederationPlanned once, BaselineEpochEnd per baseline epoch (when the
settings ask for the centralized baseline), and runtime.events.RoundEnd per
round: `logs` holds the global model's val_loss, val_accuracy, ... and
epsilon with privacy on; `details` holds each sampled client's metrics
(`clients`), the class counts per client (`class_counts`), the bytes a
client sends (`bytes_per_client`) and the round's wall time (`seconds`).
Stop and pause act at round boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runtime.runs.base import RunContext, RunError, RunKind, RunRequest, RunStopped
from runtime.runs.registry import register_run_kind


@dataclass(frozen=True)
class FederatedOutcome:
    """What a finished federated run hands back; read like a training outcome.

    Attributes:
        result: runtime.events.TrainingFinished whose history is per round
            (model None: see `weights`).
        dataset: The loaded runtime.data.Dataset.
        diagnosis: Empty (the under/overfitting reading is for epochs).
        weights: The final global model's weights and learned state
            (runtime.learned_state.trained_weights).
        federated: The runtime.federated.simulation.FederatedResult in full.
    """

    result: Any
    dataset: Any
    diagnosis: str
    weights: list
    federated: Any

    def final_test_metrics(self) -> dict[str, float]:
        """The final global model's scores on the test split (the run history keeps them)."""
        return dict(self.federated.test_logs)


@register_run_kind
class FederatedRun(RunKind):
    """Options: `federated` (dict, optional) overrides settings of the graph's federated section."""

    name = "federated"
    title = "Federated training"

    def execute(self, request: RunRequest, context: RunContext) -> FederatedOutcome:
        from graph.validation import ERROR, validate
        from runtime.data import DataError, load_dataset, skipped_images
        from runtime.data_check import check_data
        from runtime.events import LogLine, RoundEnd, TrainingFinished
        from runtime.federated.errors import FederatedSettingsError
        from runtime.federated.events import BaselineEpochEnd, FederationPlanned
        from runtime.federated.simulation import FederatedSimulation

        graph = request.graph()
        overrides = request.options.get("federated") or {}
        graph.settings["federated"] = {**graph.settings["federated"], **overrides}
        errors = [p for p in validate(graph) if p.severity == ERROR]
        if errors:
            raise RunError(f"The graph is not valid: {errors[0].message}", errors[0].node_id)
        try:
            dataset = load_dataset(graph.dataset, request.base_dir)
        except DataError as error:
            raise RunError(f"Data: {error}") from None
        misfits = [p for p in check_data(graph, dataset) if p.severity == ERROR]
        if misfits:
            raise RunError(
                f"The data does not fit the graph: {misfits[0].message}", misfits[0].node_id
            )
        if dataset.skipped:
            context.emit(LogLine(skipped_images(dataset.name, dataset.skipped)))
        plan_counts: list[list[int]] = []

        def on_round(report) -> None:
            context.emit(
                RoundEnd(
                    report.round,
                    report.rounds,
                    report.logs,
                    {
                        "clients": [
                            {
                                "client": c.client,
                                "samples": c.samples,
                                **c.logs,
                                "update_norm": c.update_norm,
                                "bytes_sent": c.bytes_sent,
                            }
                            for c in report.clients
                        ],
                        "class_counts": plan_counts,
                        "bytes_per_client": report.clients[0].bytes_sent,
                        "seconds": report.seconds,
                    },
                )
            )

        def should_stop() -> bool:
            try:
                context.checkpoint()
            except RunStopped:
                return True
            return False

        try:
            simulation = FederatedSimulation(
                graph,
                dataset,
                on_round=on_round,
                on_baseline_epoch=lambda *args: context.emit(BaselineEpochEnd(*args)),
                should_stop=should_stop,
            )
        except FederatedSettingsError as error:
            raise RunError(str(error)) from None
        plan = simulation.plan
        plan_counts.extend(plan.class_counts)
        context.emit(
            FederationPlanned(plan.class_counts, dataset.class_names, plan.settings["rounds"])
        )
        federated = simulation.run()
        if federated.rounds_done == 0:
            raise RunStopped
        finished = TrainingFinished(
            history=federated.history,
            stopped_early=federated.stopped,
            model=None,
            best_epoch=federated.rounds_done,
            stopped_by_user=federated.stopped,
        )
        return FederatedOutcome(finished, dataset, "", federated.weights, federated)
