"""The deployment export run: model files in each format, loaded back, checked and timed."""

from __future__ import annotations

from pathlib import Path

from runtime.events import Progress
from runtime.runs import RunContext, RunError, RunKind, RunRequest, register_run_kind

# How many test samples the exported files are compared on.
COMPARED_SAMPLES = 8


@register_run_kind
class DeployRun(RunKind):
    """Options:

    - ``output_dir`` (required): the folder the files are written to.
    - ``formats``: keys of runtime.deploy_report.FORMATS (default: all).
    - ``name``: the files' stem (default "model": model.keras, model.onnx, ...).
    - ``weights`` or ``model_path``: the trained model (runtime.trained_model.model_for_run);
      without either the graph is trained first (``epochs`` overrides its
      epochs), or, with ``untrained``, its untrained model is exported.
    - ``keras_baseline``: also time the in-memory Keras model.

    Emits a runtime.deploy_report.FormatExported per format, as each is done.
    Returns a runtime.deploy_report.DeployResult; a format that fails is
    listed in its failures and the others still go.
    """

    name = "deploy"
    title = "Deployment export"
    heavy = True

    def execute(self, request: RunRequest, context: RunContext):
        from runtime.deploy_report import (
            TEXT_REFUSALS,
            chosen_formats,
            graph_reads_text,
            refusal_for_text,
        )

        if not request.options.get("output_dir"):
            raise RunError("deploy needs an output folder (option output_dir)")
        formats = chosen_formats(request.options)
        # Before training: a model that reads text fits none of these formats.
        if graph_reads_text(request.graph()) and all(f in TEXT_REFUSALS for f in formats):
            raise RunError(" ".join(f"{f}: {refusal_for_text(f)}." for f in formats))
        model, sample, source = _model_and_sample(request, context)
        return _export_all(model, sample, source, formats, request.options, context)


def _model_and_sample(request: RunRequest, context: RunContext):
    """(the model, test samples to compare outputs on or None, which model it is in words)."""
    from runtime.data import DataError, model_inputs
    from runtime.trained_model import dataset_for_run, model_for_run

    options = request.options
    graph = request.graph()
    given = options.get("weights") is not None or bool(options.get("model_path"))
    if options.get("untrained") and not given:
        # An untrained model needs no data: it is compared on random inputs.
        context.emit(Progress(None, "building the untrained model"))
        return _untrained(graph), None, "the untrained model built from the graph"
    dataset = dataset_for_run(graph, request.base_dir)
    model = model_for_run(graph, dataset, options, context)
    if options.get("model_path"):
        source = f"the model in {options['model_path']}"
    elif given:
        source = "the trained model"
    else:
        source = "the model trained just now"
    shapes = [tuple(int(d) for d in tensor.shape[1:]) for tensor in model.inputs]
    try:
        sample = model_inputs(dataset.x_test[:COMPARED_SAMPLES], shapes)
    except DataError as error:
        raise RunError(f"{source} does not fit the data: {error}") from None
    return model, sample if isinstance(sample, list) else [sample], source


def _untrained(graph):
    from runtime.builder import BuildError, build_model

    try:
        return build_model(graph)
    except BuildError as error:
        node = error.problems[0].node_id if error.problems else None
        raise RunError(str(error), node) from None


def _export_all(model, sample, source: str, formats, options: dict, context: RunContext):
    from runtime.deploy import DeployError, export_model, export_path, keras_latency
    from runtime.deploy_report import DeployResult, FormatExported

    folder = Path(options["output_dir"]).expanduser()
    name = options.get("name") or "model"
    baseline = None
    if options.get("keras_baseline"):
        context.emit(Progress(0.0, "timing the Keras model"))
        baseline = keras_latency(model)
    reports, failures = [], {}
    for done, fmt in enumerate(formats):
        context.checkpoint()
        context.emit(Progress(done / len(formats), f"exporting {fmt} and measuring it"))
        try:
            report = export_model(model, fmt, export_path(folder, name, fmt), sample)
        except DeployError as error:
            failures[fmt] = str(error)
            context.emit(FormatExported(fmt, None, str(error)))
            continue
        reports.append(report)
        context.emit(FormatExported(fmt, report))
    context.emit(Progress(1.0, f"exported to {folder}"))
    return DeployResult(tuple(reports), failures, baseline, source)
