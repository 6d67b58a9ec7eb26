"""The evaluation run: a trained model's test-split metrics, ROC curves and misclassified samples.

Options: `weights` (a `runtime.learned_state.trained_weights` list for the request's graph) or
`model_path` (a saved .keras model); see runtime.trained_model.model_for_run.
Light: the app runs it on its runtime thread, right after a training run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runtime.events import Progress
from runtime.runs import RunContext, RunKind, RunRequest, register_run_kind


@dataclass
class EvaluationResult:
    """What an evaluation run returns (plain, picklable).

    Attributes:
        report: The runtime.evaluation.EvaluationReport.
        roc: runtime.evaluation_views.RocCurve list (classification with probabilities).
        gallery: (image HxW or HxWx3 in 0..255 uint8, caption) of misclassified samples.
        test_size: Samples in the test split.
        dataset_name: The dataset's name.
    """

    report: Any
    roc: list = field(default_factory=list)
    gallery: list = field(default_factory=list)
    test_size: int = 0
    dataset_name: str = ""


@register_run_kind
class EvaluateRun(RunKind):
    name = "evaluate"
    title = "Evaluation"
    heavy = False

    def execute(self, request: RunRequest, context: RunContext) -> EvaluationResult:
        from runtime.evaluation import evaluate
        from runtime.evaluation_views import misclassified_gallery, roc_curves
        from runtime.trained_model import dataset_for_run, model_for_run

        graph = request.graph()
        context.emit(Progress(0.0, "Loading the data and the model"))
        dataset = dataset_for_run(graph, request.base_dir)
        model = model_for_run(graph, dataset, request.options, context, train_first=False)
        context.checkpoint()
        context.emit(Progress(0.3, "Scoring the test split"))
        report = evaluate(model, dataset)
        result = EvaluationResult(report, test_size=len(dataset.x_test), dataset_name=dataset.name)
        if report.task == "classification" and report.probabilities is not None:
            result.roc = roc_curves(report.y_true, report.probabilities, report.class_names)
            if dataset.images:
                result.gallery = misclassified_gallery(dataset.x_test, report)
        return result
