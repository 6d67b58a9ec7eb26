"""Does the data fit the graph? Checked before training, each mismatch with its fix.

Compares the dataset's sample shape with the Input nodes, the targets
(classes or values) with the output nodes, and the loss and output
activation with the task, and warns of table columns whose categories are
numbers written with a comma ("1,000", "2,5"). Problems reuse graph.validation.Problem, with
`node_id` set to the node the user should change and, where the remedy is
known, a structured fix (graph.fixes) that views offer as an action.
"""

from __future__ import annotations

import math
import re

import numpy as np

from graph.fixes import Fix, InsertAfter, set_params_fix, set_settings_fix
from graph.messages import printable
from graph.model import NetworkGraph, Node
from graph.validation import ERROR, WARNING, Problem
from runtime.data import Dataset, skipped_images
from runtime.data_contract import shape_fits
from runtime.heads import OutputHead, input_shapes, output_heads

CLASSIFICATION_LOSSES = {
    "sparse_categorical_crossentropy",
    "categorical_crossentropy",
    "binary_crossentropy",
}
CLASSIFICATION_METRICS = {"accuracy", "precision", "recall", "auc"}
FLOAT_DTYPES = {"float16", "bfloat16", "float32", "float64"}


def check_data(graph: NetworkGraph, dataset: Dataset) -> list[Problem]:
    """Every way `dataset` does not fit `graph`; errors block training.

    Args:
        graph: A graph that validates (shapes are known).
        dataset: The loaded dataset.
    """
    problems = _input_problems(graph, dataset)
    for head in output_heads(graph, dataset.task):
        if head.shape is None:
            continue
        if dataset.target == "inputs":
            problems += _reconstruction_problems(head, dataset)
        elif dataset.task == "classification":
            problems += _classification_problems(graph, head, dataset)
        else:
            problems += _regression_problems(graph, head, dataset)
    problems += _settings_problems(graph, dataset)
    problems += _numbers_read_as_categories(dataset)
    return problems


# "1,000" or "1,5": numbers as spreadsheets of some languages write them. A CSV reader
# cannot tell them from words, so they are read as categories.
COMMA_NUMBER = re.compile(r"[+-]?\d+(?:,\d+)+(?:\.\d+)?")
# Share of a column's categories that must look like numbers before the check speaks up.
NUMBER_SHARE = 0.8
# Non-numbers named in the message at most.
STRAY_EXAMPLES = 3


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _numbers_read_as_categories(dataset: Dataset) -> list[Problem]:
    """Table columns whose categories are mostly numbers: written with a comma, or among
    a few words (a typo in one cell turns a whole column of numbers into categories)."""
    if dataset.images:
        return []
    columns: dict[str, list[str]] = {}
    for feature in dataset.feature_names:  # one-hot features are named "column=value"
        column, equals, value = feature.rpartition("=")
        if equals:
            columns.setdefault(column, []).append(value)
    problems = [p for column, values in columns.items() if (p := _stray_words(column, values))]
    if dataset.task == "classification" and dataset.target_name:
        columns[""] = [str(name) for name in dataset.class_names]  # "": the target
    remedy = "write them with '.' for decimals and without thousands separators"
    for column, values in columns.items():
        commas = [value for value in values if COMMA_NUMBER.fullmatch(value)]
        if len(commas) < 2 or len(commas) < NUMBER_SHARE * len(values):
            continue
        example = printable(commas[0], 40)
        if column:
            message = (
                f"column '{printable(column, 60)}' holds numbers written with a comma (e.g. "
                f"'{example}'): they are read as {len(values)} categories, not as numbers; "
                f"{remedy}"
            )
        else:
            message = (
                f"target column '{printable(dataset.target_name, 60)}' holds numbers written "
                f"with a comma (e.g. '{example}'): they are read as {len(values)} classes, not "
                f"as values to predict; {remedy}"
            )
        problems.append(Problem(WARNING, message))
    return problems


def _stray_words(column: str, values: list[str]) -> Problem | None:
    """The warning for a column of numbers that a few words made categories, or None."""
    numbers = sum(_is_number(value) for value in values)
    words = [value for value in values if not _is_number(value)]
    if numbers < 2 or not words or numbers < NUMBER_SHARE * len(values):
        return None
    shown = ", ".join(f"'{printable(word, 40)}'" for word in words[:STRAY_EXAMPLES])
    more = f" and {len(words) - STRAY_EXAMPLES} more" if len(words) > STRAY_EXAMPLES else ""
    return Problem(
        WARNING,
        f"column '{printable(column, 60)}' is read as {len(values)} categories, not as "
        f"numbers, because {len(words)} of its values {'is' if len(words) == 1 else 'are'} "
        f"not a number ({shown}{more}); correct them, or empty those cells to mark them "
        "missing",
    )


def _shape_text(shape: tuple[int, ...]) -> str:
    return str(tuple(shape))


TEXT_CHAIN = "TextVectorization -> Embedding -> LSTM, Conv1D or attention"
# Texts read to size the chain the fix inserts: enough to see the data's words.
TEXT_SAMPLE = 5_000
# The chain's vocabulary and text length stay within these (TextVectorization's
# default vocabulary; a few sentences of words).
MAX_VOCABULARY, MAX_SEQUENCE = 10_000, 200
# What TextVectorization's default standardization removes before splitting on spaces.
_PUNCTUATION = re.compile(r"[^\w\s]")


def _text_chain_fix(node: Node, dataset: Dataset) -> Fix:
    """Inserts TextVectorization -> Embedding -> LSTM after `node`, sized to the texts.

    The vocabulary holds every word of the training texts read (plus padding and
    unknown words); texts are cut after the length 95 in 100 of them fit in.
    """
    texts = dataset.x_train.reshape(-1)[:TEXT_SAMPLE]
    words = [_PUNCTUATION.sub("", str(text).lower()).split() for text in texts]
    vocabulary = min(len({word for text in words for word in text}) + 2, MAX_VOCABULARY)
    lengths = [len(text) for text in words] or [1]
    sequence = int(min(max(np.ceil(np.percentile(lengths, 95)), 1), MAX_SEQUENCE))
    layers = (
        ("TextVectorization", {"max_tokens": vocabulary, "output_sequence_length": sequence}),
        ("Embedding", {"input_dim": vocabulary, "output_dim": 16, "mask_zero": True}),
        ("LSTM", {"units": 16}),
    )
    text = (
        f"after {node.name}: TextVectorization(max_tokens={vocabulary}, "
        f"output_sequence_length={sequence}) -> Embedding(16) -> LSTM(16)"
    )
    return Fix(text, (InsertAfter(node.id, layers),))


def _text_problems(graph: NetworkGraph, dataset: Dataset) -> list[Problem]:
    """A text dataset needs one string Input of shape (1,) read by TextVectorization."""
    nodes = graph.input_nodes()
    if len(nodes) != 1:
        return [
            Problem(
                ERROR,
                f"{nodes[0].label}: {dataset.name} samples are texts, one per sample: use a "
                f"single Input (dtype=string, shape=[1]) followed by {TEXT_CHAIN}",
                nodes[0].id,
            )
        ]
    node, problems = nodes[0], []
    if node.params.get("dtype") != "string":
        problems.append(
            Problem(
                ERROR,
                f"{node.label}: {dataset.name} samples are texts: set dtype=string and "
                f"follow the Input with {TEXT_CHAIN}",
                node.id,
                fixes=(set_params_fix(node.id, node.name, {"dtype": "string"}),),
            )
        )
    if tuple(node.params["shape"]) != (1,):
        problems.append(
            Problem(
                ERROR,
                f"{node.label}: shape {_shape_text(node.params['shape'])} does not fit "
                f"{dataset.name}, one text per sample: set shape=[1]",
                node.id,
                fixes=(set_params_fix(node.id, node.name, {"shape": (1,)}),),
            )
        )
    readers = [graph.node(edge.target) for edge in graph.out_edges(node.id)]
    vectorizers = [n for n in readers if n.type == "TextVectorization"]
    if not vectorizers:
        problems.append(
            Problem(
                ERROR,
                f"{node.label}: texts must become word ids inside the model: add "
                f"{TEXT_CHAIN} right after the Input",
                node.id,
                fixes=(_text_chain_fix(node, dataset),),
            )
        )
    for vectorizer in vectorizers:
        for edge in graph.out_edges(vectorizer.id):
            embedding = graph.node(edge.target)
            tokens = vectorizer.params["max_tokens"]
            if embedding.type == "Embedding" and embedding.params["input_dim"] < tokens:
                problems.append(
                    Problem(
                        ERROR,
                        f"{embedding.label}: input_dim {embedding.params['input_dim']} is "
                        f"smaller than the {tokens} word ids {vectorizer.name} gives: set "
                        f"input_dim={tokens}",
                        embedding.id,
                        fixes=(
                            set_params_fix(embedding.id, embedding.name, {"input_dim": tokens}),
                        ),
                    )
                )
    return problems


def _input_problems(graph: NetworkGraph, dataset: Dataset) -> list[Problem]:
    if dataset.text:
        return _text_problems(graph, dataset)
    nodes = graph.input_nodes()
    shapes = input_shapes(graph)
    sample = dataset.input_shape
    values = math.prod(sample)
    problems = []
    for node in nodes:
        if node.params.get("dtype") == "string":
            problems.append(
                Problem(
                    ERROR,
                    f"{node.label}: dtype string but {dataset.name} samples are numbers: "
                    "set dtype=float32",
                    node.id,
                )
            )
        elif node.params.get("dtype", "float32") not in FLOAT_DTYPES:
            problems.append(
                Problem(
                    WARNING,
                    f"{node.label}: dtype {node.params['dtype']} but {dataset.name} features "
                    "are float32; set dtype=float32 unless the data holds whole-number ids",
                    node.id,
                    fixes=(set_params_fix(node.id, node.name, {"dtype": "float32"}),),
                )
            )
    if len(nodes) == 1:
        node, shape = nodes[0], shapes[0]
        if shape_fits(tuple(sample), tuple(shape)):
            return problems
        if None in shape:
            problems.append(
                Problem(
                    ERROR,
                    f"{node.label}: shape {_shape_text(shape)} leaves sizes open but "
                    f"{dataset.name} samples of shape {_shape_text(sample)} do not fit it: "
                    f"an open shape needs samples of its rank ({len(shape)} dimensions) "
                    "whose other sizes match",
                    node.id,
                )
            )
            return problems
        if math.prod(shape) == values:
            problems.append(
                Problem(
                    WARNING,
                    f"{node.label}: shape {_shape_text(shape)} differs from {dataset.name} "
                    f"samples of shape {_shape_text(sample)}; samples will be reshaped",
                    node.id,
                )
            )
            return problems
        problems.append(
            Problem(
                ERROR,
                f"{node.label}: shape {_shape_text(shape)} does not fit {dataset.name} samples "
                f"of shape {_shape_text(sample)}: set shape={list(sample)}",
                node.id,
                fixes=(set_params_fix(node.id, node.name, {"shape": tuple(sample)}),),
            )
        )
        return problems
    open_nodes = [node for node, shape in zip(nodes, shapes, strict=True) if None in shape]
    if open_nodes:
        problems.append(
            Problem(
                ERROR,
                f"{open_nodes[0].label}: leaves sizes open (None) but the graph has "
                f"{len(nodes)} Input nodes, among which {dataset.name} features are split "
                "by size: give every Input a fixed shape, or use one Input",
                open_nodes[0].id,
            )
        )
        return problems
    sizes = [math.prod(shape) for shape in shapes]
    if sum(sizes) != values:
        names = ", ".join(
            f"{printable(n.name)} {_shape_text(s)}" for n, s in zip(nodes, shapes, strict=True)
        )
        problems.append(
            Problem(
                ERROR,
                f"{nodes[0].label}: the Input nodes ({names}) take {sum(sizes)} values per "
                f"sample together but {dataset.name} samples hold {values} "
                f"(shape {_shape_text(sample)}); features are split across the Inputs in "
                f"order: make their sizes add up to {values}",
                nodes[0].id,
            )
        )
    return problems


def _unit_fix(node: Node, units: int, activation: str) -> str:
    if "units" in node.params:
        return f"set units={units} and activation={activation}"
    return f"end the model with Dense(units={units}, activation={activation!r})"


def _unit_fixes(node: Node, units: int, activation: str) -> tuple[Fix, ...]:
    """The structured form of `_unit_fix`, when it is a change of this node."""
    if "units" not in node.params:
        return ()
    return (set_params_fix(node.id, node.name, {"units": units, "activation": activation}),)


def _loss_fixes(loss: str) -> tuple[Fix, ...]:
    return (set_settings_fix("training", {"loss": loss}),)


def _activation_fixes(node: Node, activation: str) -> tuple[Fix, ...]:
    return (set_params_fix(node.id, node.name, {"activation": activation}),)


def _classification_problems(graph, head: OutputHead, dataset: Dataset) -> list[Problem]:
    node, units, classes = head.node, head.units, dataset.num_classes
    label, loss = node.label, head.loss.name
    if len(head.shape) != 2:
        return [
            Problem(
                ERROR,
                f"output {label} has shape {head.shape} but {dataset.name} needs one prediction "
                f"per sample of shape (None, {classes}): add a Flatten or global pooling layer "
                f"and {_unit_fix(node, classes, 'softmax')}",
                node.id,
            )
        ]
    if loss not in CLASSIFICATION_LOSSES:
        return [
            Problem(
                ERROR,
                f"loss {loss} is for regression but {dataset.name} is a classification task "
                f"with {classes} classes: set loss=auto (or a crossentropy)",
                node.id,
                fixes=_loss_fixes("auto"),
            )
        ]
    binary = units == 1
    if binary and classes > 2:
        return [
            Problem(
                ERROR,
                f"output {label} has 1 unit but {dataset.name} has {classes} classes: "
                f"{_unit_fix(node, classes, 'softmax')}",
                node.id,
                fixes=_unit_fixes(node, classes, "softmax"),
            )
        ]
    if not binary and units != classes:
        return [
            Problem(
                ERROR,
                f"output {label} has {units} units but {dataset.name} has {classes} classes: "
                f"{_unit_fix(node, classes, 'softmax')}",
                node.id,
                fixes=_unit_fixes(node, classes, "softmax"),
            )
        ]
    if binary and loss != "binary_crossentropy":
        return [
            Problem(
                ERROR,
                f"loss {loss} needs one output unit per class but output {label} has 1 unit: "
                "set loss=binary_crossentropy (or auto)",
                node.id,
                fixes=_loss_fixes("binary_crossentropy"),
            )
        ]
    if not binary and loss == "binary_crossentropy":
        return [
            Problem(
                ERROR,
                f"loss binary_crossentropy expects 1 output unit but output {label} has "
                f"{units}: set loss=sparse_categorical_crossentropy (or auto)",
                node.id,
                fixes=_loss_fixes("sparse_categorical_crossentropy"),
            )
        ]
    activation = head.activation
    wanted = "sigmoid" if binary else "softmax"
    if activation in ("linear", wanted):
        return []
    return [
        Problem(
            WARNING,
            f"output {label} uses activation {activation}; a classifier with {units} "
            f"unit{'s' if units > 1 else ''} should use activation={wanted} (or linear: "
            "the loss then applies it)",
            node.id,
            fixes=_activation_fixes(node, wanted),
        )
    ]


def _regression_problems(graph, head: OutputHead, dataset: Dataset) -> list[Problem]:
    node, label = head.node, head.node.label
    expected = dataset.target_shape or (1,)
    if tuple(head.shape[1:]) != tuple(expected):
        return [
            Problem(
                ERROR,
                f"output {label} has shape {head.shape} but {dataset.name} targets have shape "
                f"(None, {', '.join(map(str, expected))}): "
                f"{_unit_fix(node, expected[-1], 'linear')}",
                node.id,
                fixes=_unit_fixes(node, expected[-1], "linear") if len(expected) == 1 else (),
            )
        ]
    if head.loss.name in CLASSIFICATION_LOSSES:
        return [
            Problem(
                ERROR,
                f"loss {head.loss.name} is for classification but {dataset.name} is a "
                "regression task: set loss=auto (mean_squared_error)",
                node.id,
                fixes=_loss_fixes("auto"),
            )
        ]
    if head.activation == "softmax" and head.units == 1:
        return [
            Problem(
                ERROR,
                f"output {label} applies softmax to 1 unit, which always outputs 1: "
                "set activation=linear",
                node.id,
                fixes=_activation_fixes(node, "linear"),
            )
        ]
    if head.activation in ("softmax", "sigmoid", "relu"):
        return [
            Problem(
                WARNING,
                f"output {label} uses activation {head.activation}, which limits the values "
                "it can predict; regression usually ends with activation=linear",
                node.id,
                fixes=_activation_fixes(node, "linear"),
            )
        ]
    return []


def _reconstruction_problems(head: OutputHead, dataset: Dataset) -> list[Problem]:
    node = head.node
    if tuple(head.shape[1:]) == tuple(dataset.input_shape):
        if head.loss.name in CLASSIFICATION_LOSSES:
            return [
                Problem(
                    ERROR,
                    f"loss {head.loss.name} does not fit reconstructing the input: "
                    "set loss=auto (mean_squared_error)",
                    node.id,
                    fixes=_loss_fixes("auto"),
                )
            ]
        return []
    return [
        Problem(
            ERROR,
            f"output {node.label} has shape {head.shape} but reconstructing {dataset.name} "
            f"needs the input's shape (None, {', '.join(map(str, dataset.input_shape))})",
            node.id,
        )
    ]


def _settings_problems(graph: NetworkGraph, dataset: Dataset) -> list[Problem]:
    problems = []
    training = graph.training
    if dataset.task == "regression":
        wrong = sorted(set(training["metrics"]) & CLASSIFICATION_METRICS)
        if wrong:
            problems.append(
                Problem(
                    WARNING,
                    f"metrics {', '.join(wrong)} apply to classification; {dataset.name} is "
                    "a regression task, so they are skipped (use mae or mse)",
                )
            )
    if training["batch_size"] > len(dataset.x_train):
        problems.append(
            Problem(
                WARNING,
                f"batch_size {training['batch_size']} is larger than the "
                f"{len(dataset.x_train)} training samples: each epoch is a single update",
            )
        )
    if dataset.skipped:
        problems.append(Problem(WARNING, skipped_images(dataset.name, dataset.skipped)))
    if training["early_stopping"] and not dataset.has_validation:
        problems.append(
            Problem(
                WARNING,
                "early_stopping watches the validation loss but validation_size is 0: "
                "it watches the training loss instead",
            )
        )
    return problems
