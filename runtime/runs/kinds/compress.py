"""The compression run: quantized and pruned variants of a trained model, measured."""

from __future__ import annotations

from pathlib import Path

from graph.cli.exit_codes import EXIT_BAD_FILE
from runtime.events import Progress
from runtime.runs import RunContext, RunError, RunKind, RunRequest, register_run_kind


@register_run_kind
class CompressRun(RunKind):
    """Options:

    - ``output_dir`` (required): folder the variants are written to.
    - ``weights`` or ``model_path``: the trained model (runtime.trained_model.model_for_run);
      the graph is trained first when both are absent.
    - ``variants``: keys of runtime.compression.ALL_VARIANTS (default: all).
    - ``sparsity``: target of magnitude pruning, in (0, 1) (default 0.5).
    - ``fine_tune_epochs``: epochs of fine-tuning while pruning (default 2).
    - ``representative_path``: a .npy of samples calibrating tflite_int8 (default:
      drawn from the training split).

    Returns the CompressionReport as a dict (runtime.compression.CompressionReport.to_dict).
    """

    name = "compress"
    title = "Compression"
    heavy = True

    def execute(self, request: RunRequest, context: RunContext):
        import numpy as np

        from runtime.compression import (
            ALL_VARIANTS,
            CompressionError,
            check_request,
            compress,
            representative_inputs,
        )
        from runtime.trained_model import dataset_for_run, model_for_run

        options = request.options
        if not options.get("output_dir"):
            raise RunError("compress needs an output folder (option output_dir)")
        variants = tuple(options.get("variants") or ALL_VARIANTS)
        sparsity = options.get("sparsity", 0.5)
        try:
            check_request(variants, sparsity)
        except CompressionError as error:
            raise RunError(str(error)) from None
        graph = request.graph()
        dataset = dataset_for_run(graph, request.base_dir)
        model = model_for_run(graph, dataset, options, context)
        representative = None
        if options.get("representative_path"):
            samples = _load_samples(np, Path(options["representative_path"]))
            try:
                representative = representative_inputs(model, samples)
            except CompressionError as error:
                raise RunError(str(error)) from None

        def progress(fraction: float, text: str) -> None:
            context.emit(Progress(fraction, text))
            context.checkpoint()

        try:
            report = compress(
                model,
                graph,
                dataset,
                Path(options["output_dir"]),
                variants=variants,
                sparsity=sparsity,
                fine_tune_epochs=int(options.get("fine_tune_epochs", 2)),
                on_progress=progress,
                representative=representative,
            )
        except CompressionError as error:
            raise RunError(str(error)) from None
        except OSError as error:
            raise RunError(f"{options['output_dir']}: cannot write ({error.strerror})") from None
        return report.to_dict()


def _load_samples(np, path: Path):
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise RunError(
            f"{path}: not a NumPy .npy array of samples ({error})", exit_code=EXIT_BAD_FILE
        ) from None
