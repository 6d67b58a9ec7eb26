"""The membership-inference check of any trained model (central or federated).

Options: `weights` (a runtime.learned_state.trained_weights list for the request's graph) or
`model_path` (a saved .keras model). Returns a MembershipReport.
"""

from __future__ import annotations

from dataclasses import dataclass

from runtime.runs.base import RunContext, RunError, RunKind, RunRequest
from runtime.runs.registry import register_run_kind


@dataclass(frozen=True)
class MembershipReport:
    """The loss-threshold attack's result.

    Attributes:
        auc: The attack's AUC on training vs test samples (0.5: no leak).
        samples: Samples scored in each group.
        explanation: One line for learners.
        skipped: Unreadable image files left out of the data, as "file (reason)".
    """

    auc: float
    samples: int
    explanation: str
    skipped: tuple[str, ...] = ()


@register_run_kind
class MembershipRun(RunKind):
    name = "membership"
    title = "Membership inference"

    def execute(self, request: RunRequest, context: RunContext) -> MembershipReport:
        from graph.settings import PRIVACY_MEASURES
        from runtime.data import DataError, load_dataset, model_inputs, skipped_images
        from runtime.events import LogLine, Progress
        from runtime.heads import input_shapes, output_heads
        from runtime.privacy.membership import membership_inference_auc

        graph = request.graph()
        try:
            dataset = load_dataset(graph.dataset, request.base_dir)
        except DataError as error:
            raise RunError(f"Data: {error}") from None
        if dataset.task != "classification" or dataset.target != "labels":
            raise RunError(
                f"Membership inference scores class probabilities, but {dataset.name} is a "
                f"{dataset.task} task"
            )
        if dataset.skipped:
            context.emit(LogLine(skipped_images(dataset.name, dataset.skipped)))
        context.emit(Progress(0.2, "Loading the model"))
        model = _model(graph, dataset, request.options)
        context.checkpoint()
        context.emit(Progress(0.5, "Scoring training and test samples"))
        shapes = input_shapes(graph)
        heads = output_heads(graph, dataset.task)
        from_logits = bool(heads) and heads[0].loss.from_logits
        try:
            auc = membership_inference_auc(
                model,
                model_inputs(dataset.x_train, shapes),
                dataset.y_train,
                model_inputs(dataset.x_test, shapes),
                dataset.y_test,
                seed=graph.dataset["seed"],
                from_logits=from_logits,
            )
        except (ValueError, IndexError) as error:
            raise RunError(f"The model's outputs are not class probabilities: {error}") from None
        samples = min(len(dataset.y_train), len(dataset.y_test), 2000)
        explanation = PRIVACY_MEASURES["membership_auc"][1]
        return MembershipReport(auc, samples, explanation, tuple(dataset.skipped))


def _model(graph, dataset, options: dict):
    if options.get("weights") is not None:
        from runtime.training_process import rebuild_model

        try:
            return rebuild_model(graph, dataset, options["weights"])
        except ValueError as error:
            raise RunError(f"The weights do not fit the graph: {error}") from None
    path = options.get("model_path")
    if not path:
        raise RunError("Membership inference needs a trained model (weights or a model file)")
    from runtime.trained_model import ModelLoadError, load_trained_model

    try:  # checked unopened first; then whether it takes the dataset's samples
        return load_trained_model(path, dataset)
    except ModelLoadError as error:
        raise RunError(str(error), exit_code=error.exit_code) from None
