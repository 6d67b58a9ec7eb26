"""The report run: measure a trained model and write the deployment report page."""

from __future__ import annotations

from pathlib import Path

from runtime.events import Progress
from runtime.runs import RunContext, RunError, RunKind, RunRequest, register_run_kind


@register_run_kind
class ReportRun(RunKind):
    """Options:

    - ``output_path`` (required): the .html file written (atomically).
    - ``weights`` or ``model_path``: the trained model (runtime.trained_model.model_for_run);
      the graph is trained first when both are absent.
    - ``formats``: export formats to measure (default keras, tflite, onnx).
    - ``compression``: an earlier compression result (dict); else quantized variants
      are measured unless ``quantize`` is false.
    - ``privacy``: privacy figures (dict, runtime.report.PrivacyFigures keys).

    Returns {"path": the page, "size_bytes": its size}.
    """

    name = "report"
    title = "Deployment report"
    heavy = True

    def execute(self, request: RunRequest, context: RunContext):
        from graph.atomic import write_text
        from runtime.deploy_report import chosen_formats
        from runtime.report import PrivacyFigures, ReportInputError, build_report, render_html
        from runtime.report.build import DEFAULT_FORMATS
        from runtime.trained_model import dataset_for_run, model_for_run

        options = request.options
        if not options.get("output_path"):
            raise RunError("report needs a file to write (option output_path)")
        formats = chosen_formats(options, DEFAULT_FORMATS)
        try:
            privacy = PrivacyFigures.from_dict(options.get("privacy") or {})
        except ReportInputError as error:
            raise RunError(f"privacy figures: {error}") from None
        graph = request.graph()
        dataset = dataset_for_run(graph, request.base_dir)
        model = model_for_run(graph, dataset, options, context)

        def progress(fraction: float, text: str) -> None:
            context.emit(Progress(fraction, text))
            context.checkpoint()

        report = build_report(
            graph,
            dataset,
            model,
            formats=formats,
            compression=options.get("compression"),
            quantize=options.get("quantize", True),
            privacy=privacy,
            on_progress=progress,
        )
        path = Path(options["output_path"])
        page = render_html(report)
        try:
            write_text(path, page)
        except OSError as error:
            raise RunError(f"{path}: cannot write ({error.strerror})") from None
        return {"path": str(path), "size_bytes": len(page.encode("utf-8"))}
