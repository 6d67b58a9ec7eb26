"""The full exported training script: data, model, compile, fit, evaluate, save.

Mirrors the app's trainer (runtime/trainer.py, runtime/compile.py): the same
optimizer, schedule, loss and metrics per output, Normalization layers
adapted on the training data, early stopping, reduce-LR-on-plateau, best
weights kept, and the strategy setting.
"""

from __future__ import annotations

from pathlib import Path

from codegen.layout_code import Call, Code, Keyword, Sequence, Value, statement
from codegen.literals import docstring_text
from codegen.recipe_code import construct_expr
from codegen.script_data import data_constants, data_imports, load_data_source
from graph import recipe
from graph.model import NetworkGraph
from graph.recipe import Ref
from graph.shapes import ShapeAnalysis
from graph.task import REGRESSION_DATASETS, LossChoice, output_activation, resolve_loss

HEADER = '''"""Training script exported from DeepWire.

Loads and preprocesses the dataset as DeepWire does, builds the model, trains
it, evaluates it on the test split and saves it.

Usage: python {script} [OUTPUT.keras]  (default: model.keras)
"""

'''

ADAPT_NORMALIZATION = '''

def adapt_normalization(model, x):
    """Adapts each layer that learns from the data (statistics, vocabulary, bins) to it."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.TextVectorization):
            learned = len(layer.get_vocabulary()) > 2  # more than padding and [UNK]
        elif isinstance(layer, (keras.layers.StringLookup, keras.layers.IntegerLookup)):
            learned = bool(layer.get_vocabulary(include_special_tokens=False))
        elif isinstance(layer, keras.layers.Discretization):
            learned = layer.bin_boundaries is not None
        elif isinstance(layer, keras.layers.Normalization):
            learned = getattr(layer, "input_mean", None) is not None
        else:
            continue
        if learned:
            continue
        reads = [id(t) for t in model.inputs]
        if id(layer.input) in reads and not isinstance(layer, keras.layers.Normalization):
            index = reads.index(id(layer.input))
            layer.adapt(x[index] if isinstance(x, list) else x)
            continue
        layer.adapt(flowing_into(keras.Model(model.inputs, layer.input), x))
'''

BEST_WEIGHTS = '''

class BestWeights(keras.callbacks.Callback):
    """Keeps the weights of the epoch with the lowest monitored loss."""

    def __init__(self, monitor):
        super().__init__()
        self.monitor = monitor
        self.best = float("inf")
        self.weights = None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is not None and value < self.best:
            self.best = value
            self.weights = self.model.get_weights()

    def restore(self):
        if self.weights is not None:
            self.model.set_weights(self.weights)
'''

# Layers whose statistics or vocabulary are learned from the training data.
ADAPTED = frozenset(
    {"Normalization", "TextVectorization", "StringLookup", "IntegerLookup", "Discretization"}
)


def training_script(
    graph: NetworkGraph,
    model_function: list[str],
    script_name: str = "train.py",
    data_dir: Path | None = None,
) -> str:
    """Assembles the script for a valid `graph`.

    Args:
        graph: The graph (dataset and training settings, output nodes).
        model_function: The lines of `def build_model():`.
        script_name: Shown in the usage line.
        data_dir: Folder a relative dataset path is relative to (the graph
            file's folder, as in the app); kept relative when None.
    """
    dataset, training = graph.dataset, graph.training
    standard, third = data_imports(dataset)
    if training["strategy"] in recipe.STRATEGIES and "import tensorflow as tf" not in third:
        third.insert(0, "import tensorflow as tf")
    imports = sorted({"import sys", *standard}, key=_import_key)
    third = sorted(["import keras", *third], key=_import_key)
    shapes = [tuple(node.params["shape"]) for node in graph.input_nodes()]
    constants = data_constants(dataset, data_dir)
    constants += statement(Value(shapes), 0, "INPUT_SHAPES = ")
    parts = [
        HEADER.replace("{script}", docstring_text(script_name)),
        "\n".join(imports) + "\n\n" + "\n".join(third) + "\n\n" + "\n".join(constants) + "\n",
        load_data_source(dataset),
        "\n\n" + "\n".join(model_function) + "\n",
        _compile_source(graph),
    ]
    if any(node.type in ADAPTED for node in graph.nodes):
        parts.append(ADAPT_NORMALIZATION)
    if training["checkpoint_best"]:
        parts.append(BEST_WEIGHTS)
    parts.append(_main_source(graph))
    parts.append('\n\nif __name__ == "__main__":\n    main(*sys.argv[1:2])\n')
    return "".join(parts)


def _import_key(line: str) -> tuple[int, str]:
    # isort (ruff I001) order within a section: `import x` lines first, then
    # `from x import y` lines, each group by module name.
    words = line.split()
    return (0 if words[0] == "import" else 1, words[1].lower())


def output_losses(graph: NetworkGraph, task: str) -> list[LossChoice]:
    """The resolved loss of each output node, as runtime.heads resolves it."""
    analysis = ShapeAnalysis(graph)
    try:
        losses = []
        for node in graph.output_nodes():
            shape = analysis.info(node.id).output_shape
            units = shape[-1] if shape else None
            activation = output_activation(node.type, node.params)
            losses.append(resolve_loss(graph.training["loss"], task, units, activation))
        return losses
    finally:
        analysis.close()


def _tasks(graph: NetworkGraph) -> list[str]:
    """The tasks the script must handle: known for built-ins, found at run time for files."""
    dataset = graph.dataset
    if dataset["target"] == "inputs":
        return ["regression"]
    if dataset["source"] == "builtin":
        return ["regression" if dataset["name"] in REGRESSION_DATASETS else "classification"]
    if dataset["source"] == "image_folder":
        return ["classification"]
    return ["classification", "regression"]


def _compile_source(graph: NetworkGraph) -> str:
    """`compile_model(model, task)` and `targets(y, num_classes, task)`."""
    tasks = _tasks(graph)
    compile_lines = [
        "",
        "",
        "def compile_model(model, task):",
        '    """Optimizer, loss and metrics from the graph\'s training settings."""',
    ]
    target_lines = [
        "",
        "",
        "def targets(y, num_classes, task):",
        '    """y as each output\'s loss wants it (one-hot for categorical_crossentropy)."""',
        "    if y is None:",
        "        return None",
    ]
    for index, task in enumerate(tasks):
        indent = 4 if len(tasks) == 1 else 8
        if len(tasks) > 1:
            keyword = "if" if index == 0 else "else"
            condition = f' task == "{task}"' if index == 0 else ""
            compile_lines.append(f"    {keyword}{condition}:")
            target_lines.append(f"    {keyword}{condition}:")
        losses = output_losses(graph, task)
        compile_lines += statement(_compile_call(graph, losses, task), indent)
        per_output = [
            'np.eye(num_classes, dtype="float32")[y]'
            if loss.name == "categorical_crossentropy"
            else "y"
            for loss in losses
        ]
        value = per_output[0] if len(per_output) == 1 else "[" + ", ".join(per_output) + "]"
        target_lines += statement(Code(value), indent, "return ")
    return "\n".join(compile_lines + target_lines) + "\n"


def _compile_call(graph: NetworkGraph, losses: list[LossChoice], task: str) -> Call:
    training = graph.training
    metrics = [construct_expr(recipe.metrics(loss, training["metrics"], task)) for loss in losses]
    loss_exprs = [construct_expr(recipe.loss(loss)) for loss in losses]
    single = len(losses) == 1
    return Call(
        Code("model.compile"),
        (
            Keyword("optimizer", construct_expr(recipe.optimizer(training))),
            Keyword("loss", loss_exprs[0] if single else Sequence(tuple(loss_exprs))),
            Keyword("metrics", metrics[0] if single else Sequence(tuple(metrics))),
        ),
    )


def _callback_lines(graph: NetworkGraph) -> list[str]:
    """`callbacks = [...]` as the trainer's setting callbacks, plus the best-weights keeper."""
    training = graph.training
    callbacks = [
        construct_expr(callback) for callback in recipe.setting_callbacks(training, Ref("monitor"))
    ]
    if training["checkpoint_best"]:
        callbacks.append(Code("best"))
    return statement(Sequence(tuple(callbacks)), 4, "callbacks = ")


def _main_source(graph: NetworkGraph) -> str:
    training = graph.training
    strategy = training["strategy"]
    lines = [
        "",
        "",
        'def main(output_path="model.keras"):',
        '    """Trains on the training split, evaluates on the test split, saves the model."""',
        "    (x_train, y_train), (x_val, y_val), (x_test, y_test), task = load_data()",
        '    num_classes = len(np.unique(y_train)) if task == "classification" else 0',
    ]
    if strategy in recipe.STRATEGIES:
        lines += [
            f"    strategy = {recipe.STRATEGIES[strategy]}()",
            "    with strategy.scope():",
            "        keras.utils.set_random_seed(SEED)",
            "        model = build_model()",
            "        compile_model(model, task)",
        ]
    else:
        lines += [
            "    keras.utils.set_random_seed(SEED)",
            "    model = build_model()",
            "    compile_model(model, task)",
        ]
    lines.append("    x = model_inputs(x_train, INPUT_SHAPES)")
    if any(node.type in ADAPTED for node in graph.nodes):
        lines.append("    adapt_normalization(model, x)")
    lines += [
        "    validation = None",
        "    if x_val is not None and len(x_val) > 0:",
        "        validation = validation_data(",
        "            model_inputs(x_val, INPUT_SHAPES),",
        "            targets(y_val, num_classes, task),",
        f"            {training['batch_size']!r},",
        "        )",
    ]
    if recipe.uses_monitor(training):
        lines.append('    monitor = "val_loss" if validation else "loss"')
    if training["checkpoint_best"]:
        lines.append("    best = BestWeights(monitor)")
    lines += _callback_lines(graph)
    data = Call(
        Code("feed"),
        (
            Code("x"),
            Code("targets(y_train, num_classes, task)"),
            Value(training["batch_size"]),
            Keyword("shuffle", Value(True)),
            Keyword("seed", Value(training["seed"])),
        ),
    )
    lines += statement(data, 4, "data = ")
    fit = Call(
        Code("model.fit"),
        (
            Code("**data"),
            Keyword("epochs", Value(training["epochs"])),
            Keyword("validation_data", Code("validation")),
            Keyword("callbacks", Code("callbacks")),
            Keyword("verbose", Value(2)),
        ),
    )
    lines += statement(fit, 4)
    if training["checkpoint_best"]:
        lines.append("    best.restore()")
    lines += [
        "    results = model.evaluate(",
        "        **feed(model_inputs(x_test, INPUT_SHAPES), targets(y_test, num_classes, task)),",
        "        return_dict=True,",
        "        verbose=0,",
        "    )",
        "    for name, value in results.items():",
        '        print(f"test {name}: {value:.4f}")',
        "    model.save(output_path)",
        '    print(f"saved {output_path}")',
    ]
    return "\n".join(lines) + "\n"
