"""The explain run: why a trained model predicts what it predicts, and what its nodes see.

Options (plain values):
    method: A name from runtime.explain.methods.METHODS, or None for node outputs only.
    weights: The trained weights as a list of arrays (`runtime.learned_state.
        trained_weights`), or
    weights_path: a saved .keras model (relative to the request's base_dir).
    sample: An index into the test split, or
    batch: a list of test-split indices (batch export: one explanation each), or
    input: one raw sample (as the data files hold it; a string for a text model), or
    input_path: a file holding one (image, CSV row, .npy; a UTF-8 text file for
        a text model); raw samples are preprocessed like the training data, texts
        are read as they are.
    target: The output unit (class) to explain; the predicted one by default.
    output: Which model output to explain (index), default 0.
    node: Grad-CAM's node (id or name); the last convolution by default.
    node_outputs: Node ids or names whose output for the sample to return.
    health: True to add each layer's training health (dead ReLU units,
        gradient norms) on one batch of the validation split, and its badges
        (runtime.explain.health_rules).
    steps, samples, noise, patch, stride, repeats, seed: the methods' settings
        (runtime.explain.explain.explain).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from graph.cli.exit_codes import EXIT_BAD_FILE
from graph.messages import excerpt
from runtime.events import Progress
from runtime.runs import RunContext, RunError, RunKind, RunRequest, register_run_kind

METHOD_OPTIONS = ("steps", "samples", "noise", "patch", "stride", "repeats", "seed")


@dataclass(frozen=True)
class ExplainResult:
    """What an explain run returns (plain, picklable).

    Attributes:
        explanation: The runtime.explain.result.Explanation, or None when only
            node outputs were asked for.
        batch: For a `batch` request: (test index, Explanation) per sample.
        node_outputs: Node id -> runtime.explain.activations.NodeOutput.
        sample: The preprocessed sample explained (None for permutation importance).
        sample_index: Its index in the test split, or None for a loaded sample.
        label: Its true class id or value when it comes from the test split.
        task: "classification" or "regression".
        class_names: The dataset's class names (empty for regression).
        feature_names: The dataset's names of the flattened features.
        images: True when samples are pictures.
        health: Node id -> runtime.explain.result.LayerHealth (when asked for).
        badges: runtime.explain.result.Badge list, with node ids (when asked for).
    """

    explanation: Any
    batch: list[tuple[int, Any]] = field(default_factory=list)
    node_outputs: dict[str, Any] = field(default_factory=dict)
    sample: np.ndarray | None = None
    sample_index: int | None = None
    label: Any = None
    task: str = "classification"
    class_names: tuple[str, ...] = ()
    feature_names: tuple[str, ...] = ()
    images: bool = False
    health: dict[str, Any] = field(default_factory=dict)
    badges: list[Any] = field(default_factory=list)


def _layer_name(graph, node: str | None) -> tuple[str | None, str | None]:
    """(layer name, node id) for a node given by id or name; the name as given if unknown."""
    if node is None:
        return None, None
    for candidate in graph.nodes:
        if node in (candidate.id, candidate.name):
            return candidate.name, candidate.id
    return node, None


def _node_id(graph, name: str | None) -> str | None:
    return next((n.id for n in graph.nodes if n.name == name), None) if name else None


def _load_model(graph, options: dict, base_dir: Path | None):
    import keras

    from runtime.builder import BuildError, build_model
    from runtime.learned_state import set_trained_weights

    if options.get("weights_path"):
        path = Path(options["weights_path"])
        path = path if path.is_absolute() or base_dir is None else base_dir / path
        if not path.is_file():
            raise RunError(
                f"{path}: no such model file; train the graph first and save it",
                exit_code=EXIT_BAD_FILE,
            )
        try:
            return keras.models.load_model(path, compile=False)
        except Exception as error:  # Keras raises many kinds for a bad file
            first = (str(error).strip().splitlines() or [""])[0][:200]
            raise RunError(
                f"{path}: not a Keras model file ({first})", exit_code=EXIT_BAD_FILE
            ) from None
    weights = options.get("weights")
    if weights is None:
        raise RunError(
            "There is no trained model to explain: train the graph first, or give the "
            "weights (a list of arrays) or a saved .keras file."
        )
    try:
        model = build_model(graph)
    except BuildError as error:
        node = error.problems[0].node_id if error.problems else None
        raise RunError(str(error), node) from None
    try:
        set_trained_weights(model, [np.asarray(w) for w in weights])
    except ValueError as error:
        first = (str(error).strip().splitlines() or [""])[0][:200]
        raise RunError(
            f"The weights do not fit this graph (was it edited after training?): {first}"
        ) from None
    return model


def _health(graph, model, dataset) -> tuple[dict, list]:
    """Layer health on one batch of the validation split (the training split without one)."""
    import dataclasses

    from runtime.compile import compile_model
    from runtime.explain.health import health_batch, layer_health
    from runtime.explain.health_rules import badges

    heads = compile_model(model, graph, dataset)
    shapes = [tuple(int(d) for d in t.shape[1:]) for t in model.inputs]
    report = layer_health(model, *health_batch(dataset, heads, shapes))
    ids = {node.name: node.id for node in graph.nodes}
    health = {ids.get(h.node, h.node): h for h in report}
    found = [dataclasses.replace(b, node=ids.get(b.node, b.node)) for b in badges(report)]
    return health, found


def _check_index(index: int, dataset) -> None:
    if not 0 <= index < len(dataset.x_test):
        raise RunError(
            f"The test split has {len(dataset.x_test)} samples; choose a sample from 0 "
            f"to {len(dataset.x_test) - 1}. Received: {index}"
        )


def _choose_sample(request: RunRequest, dataset) -> tuple[np.ndarray, int | None, Any]:
    from runtime.explain.errors import ExplainError
    from runtime.explain.inputs import preprocess_like_training, read_sample

    options = request.options
    if options.get("sample") is not None:
        index = int(options["sample"])
        _check_index(index, dataset)
        return dataset.x_test[index], index, dataset.y_test[index]
    if dataset.text:  # text is never imputed nor scaled: the model reads it as given
        return _chosen_text(request), None, None
    if isinstance(options.get("input"), str):
        raise ExplainError(
            "This model takes numbers, not text: give the sample as numbers or a file. "
            f"Received: {excerpt(options['input'])}"
        )
    if options.get("input_path"):
        path = Path(options["input_path"])
        if not path.is_absolute() and request.base_dir is not None:
            path = request.base_dir / path
        raw = read_sample(path, dataset.input_shape)
    elif options.get("input") is not None:
        raw = np.asarray(options["input"], "float32")
        if raw.size != np.prod(dataset.input_shape):
            raise ExplainError(
                f"The sample has the wrong shape: expected {dataset.input_shape}. "
                f"Received: {raw.shape}"
            )
        raw = raw.reshape(dataset.input_shape)
    else:
        raise RunError("Choose a sample to explain: an index into the test split or an input.")
    graph = request.graph()
    return preprocess_like_training(raw, graph.dataset, request.base_dir), None, None


def _chosen_text(request: RunRequest) -> np.ndarray:
    """The text to explain: `input` (a string) or the text of the file `input_path`."""
    from graph.input_files import InputFileError, read_limited
    from runtime.explain.errors import ExplainError
    from runtime.explain.text import MAX_TEXT_CHARS

    options = request.options
    if options.get("input_path"):
        path = Path(options["input_path"])
        if not path.is_absolute() and request.base_dir is not None:
            path = request.base_dir / path
        try:
            data = read_limited(path, "a text file")
        except InputFileError as error:
            raise RunError(str(error), exit_code=EXIT_BAD_FILE) from None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise RunError(
                f"{path}: not UTF-8 text (byte {error.start})", exit_code=EXIT_BAD_FILE
            ) from None
    elif options.get("input") is not None:
        text = options["input"]
        if isinstance(text, (list, tuple, np.ndarray)) and np.size(text) == 1:
            text = np.ravel(text)[0]
        if not isinstance(text, str):
            raise ExplainError(
                f"This model reads text: give the input as a string. Received: {excerpt(text)}"
            )
    else:
        raise RunError("Choose a sample to explain: an index into the test split or a text.")
    if len(text) > MAX_TEXT_CHARS:
        raise ExplainError(
            f"The text is too long to explain: {len(text):,} characters, at most "
            f"{MAX_TEXT_CHARS:,}. Explain a shorter part of it."
        )
    return np.array([text], dtype=str)


@register_run_kind
class ExplainRun(RunKind):
    name = "explain"
    title = "Explanation"
    heavy = True

    def execute(self, request: RunRequest, context: RunContext) -> ExplainResult:
        from runtime.explain.errors import ExplainError

        try:
            return self._execute(request, context)
        except ExplainError as error:
            graph = request.graph()
            raise RunError(error.message, _node_id(graph, error.node)) from None

    def _execute(self, request: RunRequest, context: RunContext) -> ExplainResult:
        from runtime.data import DataError, load_dataset
        from runtime.explain.activations import node_output
        from runtime.explain.explain import explain
        from runtime.explain.methods import GLOBAL, METHODS
        from runtime.explain.scoring import ModelScorer

        options = request.options
        graph = request.graph()
        method = options.get("method")
        if method is not None and method not in METHODS:
            raise RunError(
                f"Unknown explanation method {method!r}; choose one of {', '.join(METHODS)}."
            )
        context.emit(Progress(0.0, "Loading the data and the model"))
        try:
            dataset = load_dataset(graph.dataset, base_dir=request.base_dir)
        except DataError as error:
            raise RunError(f"dataset: {error}") from None
        model = _load_model(graph, options, request.base_dir)
        scorer = ModelScorer(model, dataset.input_shape, int(options.get("output", 0)))
        context.checkpoint()
        needs_sample = method is None or METHODS[method].scope != GLOBAL
        settings = {key: options[key] for key in METHOD_OPTIONS if key in options}
        node, _ = _layer_name(graph, options.get("node"))

        def run_method(sample, start: float, share: float):
            def progress(fraction: float) -> None:
                context.emit(Progress(start + share * fraction, METHODS[method].title))
                context.checkpoint()

            return explain(
                scorer,
                method,
                sample,
                options.get("target"),
                node=node,
                background=dataset.x_train,
                x_eval=dataset.x_test,
                y_eval=dataset.y_test,
                task=dataset.task,
                on_progress=progress,
                **settings,
            )

        if options.get("batch") is not None:
            if method is None or not needs_sample:
                raise RunError("A batch export needs a method that explains one sample.")
            indices = [int(i) for i in options["batch"]]
            batch = []
            for done, index in enumerate(indices):
                _check_index(index, dataset)
                context.emit(
                    Progress(done / max(len(indices), 1), f"Sample {done + 1} of {len(indices)}")
                )
                context.checkpoint()
                batch.append((index, run_method(dataset.x_test[index], 0.0, 0.0)))
            context.emit(Progress(1.0, "Done"))
            return ExplainResult(
                None,
                batch,
                task=dataset.task,
                class_names=tuple(dataset.class_names),
                feature_names=tuple(dataset.feature_names),
                images=dataset.images,
            )
        x, index, label = _choose_sample(request, dataset) if needs_sample else (None, None, None)
        explanation = None
        if method is not None:
            context.emit(Progress(0.2, f"Computing {METHODS[method].title}"))
            explanation = run_method(x, 0.2, 0.8)
        outputs = {}
        for requested in options.get("node_outputs") or ():
            name, node_id = _layer_name(graph, requested)
            outputs[node_id or requested] = node_output(scorer, scorer.check_sample(x), name)
        health, found = _health(graph, model, dataset) if options.get("health") else ({}, [])
        context.emit(Progress(1.0, "Done"))
        return ExplainResult(
            explanation,
            node_outputs=outputs,
            health=health,
            badges=found,
            sample=None if x is None else scorer.check_sample(x),
            sample_index=index,
            label=None if label is None else label.tolist(),
            task=dataset.task,
            class_names=tuple(dataset.class_names),
            feature_names=tuple(dataset.feature_names),
            images=dataset.images,
        )
