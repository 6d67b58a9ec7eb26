"""Graph -> a Flower app: the same model and data code as the exported script, run federated.

The app is a folder Flower's own tools run (`flwr run`, SuperLink and
SuperNodes; see its README.md):

- ``pyproject.toml``: the app's metadata, the versions of flwr, tensorflow
  and keras installed here pinned, and its run config (rounds, local epochs,
  batch size, strategy and privacy settings from the graph's `federated`
  section).
- ``<package>/task.py``: the exported training script itself
  (codegen.python_source.export_training_script): ``build_model``,
  ``compile_model``, ``targets``, ``model_inputs``, ``load_data``.
- ``<package>/client_app.py``: a ClientApp that trains and evaluates on the
  local data file named by its node config (``data-path``).
- ``<package>/server_app.py``: a ServerApp running FedAvg or FedProx, wrapped
  in server-side clipping and noise when the graph asks for privacy; it
  evaluates the global model on the graph's test split and saves it. Layers
  that learn from the data before training are adapted on the server's
  training split, as in the app's federated run; their vocabularies and bin
  edges (no weights) go to the nodes with every round's config.
- ``prepare_data.py``: splits the graph's dataset into one data file per
  client, for trying the app on one machine.

Nothing here imports Flower or TensorFlow: the app is printed as source.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from codegen.literals import literal
from codegen.python_source import export_training_script
from codegen.training_script import ADAPTED
from graph.model import NetworkGraph
from graph.settings import FEDERATED_PARAMS, coerce_section

PACKAGE = "deepwire_fl"
PINNED = ("flwr", "tensorflow", "keras")

CLIENT_APP = '''"""Flower ClientApp: trains the DeepWire model on this node's own data only.

The node's data file is given when its SuperNode starts:
`flower-supernode ... --node-config 'data-path="/path/to/client.npz"'`. It holds
`x_train`, `y_train` (features prepared as task.load_data prepares them),
optionally `x_val`, `y_val`, and `task` and `num_classes`.
"""

import io

import keras
import numpy as np
from flwr.app import ArrayRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from {package} import task as recipe

app = ClientApp()


def load_local_data(context: Context):
    """This node's data: (x_train, y_train), (x_val, y_val), task, num_classes."""
    with np.load(str(context.node_config["data-path"])) as data:
        x, y = data["x_train"], data["y_train"]
        x_val, y_val = data.get("x_val", x), data.get("y_val", y)
        return (x, y), (x_val, y_val), str(data["task"]), int(data["num_classes"])


def set_learned_state(model, message: Message):
    """Sets the vocabularies and bin edges the server learned from its data.

    They are no weights, so the arrays leave them out; the server sends them in
    the config (server_app.learned_state): every node then numbers words and
    bins alike, as the app's own federated run does.
    """
    learned = message.content["config"].get("learned-state", b"")
    if not learned:
        return
    with np.load(io.BytesIO(learned)) as states:
        for layer in model.layers:
            if layer.name not in states:
                continue
            values = states[layer.name].tolist()
            if isinstance(layer, keras.layers.Discretization):
                layer.bin_boundaries = values
            else:
                layer.set_vocabulary(values)


def global_model(message: Message, task: str):
    """The model as the server sent it: built from task.py, its learned state and weights set."""
    model = recipe.build_model()
    set_learned_state(model, message)
    recipe.compile_model(model, task)
    model.set_weights(message.content["arrays"].to_numpy_ndarrays())
    for layer in model.layers:
        if isinstance(layer, keras.layers.Normalization):
            layer.finalize_state()  # its mean and variance, from the weights just set
    return model


class ProximalStep(keras.callbacks.Callback):
    """FedProx: after each batch, w <- (w + c * w_global) / (1 + c), c = lr * mu."""

    def __init__(self, strength):
        super().__init__()
        self.strength = strength
        self.anchor = None

    def on_train_begin(self, logs=None):
        self.anchor = [keras.ops.copy(v) for v in self.model.trainable_variables]

    def on_train_batch_end(self, batch, logs=None):
        c = self.strength
        for variable, centre in zip(self.model.trainable_variables, self.anchor, strict=True):
            variable.assign((variable + c * centre) / (1.0 + c))


@app.train()
def train(message: Message, context: Context) -> Message:
    (x, y), _, task, num_classes = load_local_data(context)
    model = global_model(message, task)
    callbacks = []
    mu = float(message.content["config"].get("proximal-mu", 0.0))
    if mu > 0:
        rate = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        callbacks.append(ProximalStep(rate * mu))
    history = model.fit(
        recipe.model_inputs(x, recipe.INPUT_SHAPES),
        recipe.targets(y, num_classes, task),
        batch_size=int(context.run_config["batch-size"]),
        epochs=int(context.run_config["local-epochs"]),
        callbacks=callbacks,
        verbose=0,
    )
    metrics = {{f"train_{{k}}": float(v[-1]) for k, v in history.history.items()}}
    metrics["num-examples"] = len(x)
    content = RecordDict(
        {{"arrays": ArrayRecord(model.get_weights()), "metrics": MetricRecord(metrics)}}
    )
    return Message(content=content, reply_to=message)


@app.evaluate()
def evaluate(message: Message, context: Context) -> Message:
    _, (x_val, y_val), task, num_classes = load_local_data(context)
    model = global_model(message, task)
    results = model.evaluate(
        recipe.model_inputs(x_val, recipe.INPUT_SHAPES),
        recipe.targets(y_val, num_classes, task),
        return_dict=True,
        verbose=0,
    )
    metrics = {{f"eval_{{k}}": float(v) for k, v in results.items()}}
    metrics["num-examples"] = len(x_val)
    return Message(content=RecordDict({{"metrics": MetricRecord(metrics)}}), reply_to=message)
'''

SERVER_APP = '''"""Flower ServerApp: the graph's strategy, rounds and privacy settings.

Evaluates the global model on the test split of the graph's dataset after
every round (set `server-eval = false` when the server has no data), then
saves it as model.keras and the metrics as metrics.json in `output-dir`.
"""

import io
import json
from pathlib import Path

import keras
import numpy as np
from flwr.app import ArrayRecord, ConfigRecord, Context, MetricRecord
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import (
    DifferentialPrivacyServerSideFixedClipping,
    FedAvg,
    FedProx,
)

from {package} import task as recipe

app = ServerApp()


def make_strategy(config):
    """FedAvg or FedProx, wrapped in clipping and noise when noise-multiplier > 0."""
    common = {{
        "fraction_train": float(config["fraction-train"]),
        "fraction_evaluate": float(config["fraction-evaluate"]),
        "min_train_nodes": int(config["min-nodes"]),
        "min_evaluate_nodes": int(config["min-nodes"]),
        "min_available_nodes": int(config["min-nodes"]),
    }}
    if config["aggregation"] == "fedprox":
        strategy = FedProx(proximal_mu=float(config["proximal-mu"]), **common)
    else:
        strategy = FedAvg(**common)
    if float(config["noise-multiplier"]) > 0:
        strategy = DifferentialPrivacyServerSideFixedClipping(
            strategy,
            noise_multiplier=float(config["noise-multiplier"]),
            clipping_norm=float(config["clip-norm"]),
            num_sampled_clients=int(config["min-nodes"]),
        )
    return strategy


def learned_state(model):
    """The vocabularies and bin edges `model` learned from the server's data, as .npz bytes.

    Sent to the nodes with every round's config (client_app.set_learned_state);
    b"" when the model has none.
    """
    layers = keras.layers
    lookups = (layers.TextVectorization, layers.StringLookup, layers.IntegerLookup)
    states = {{}}
    for layer in model.layers:
        if isinstance(layer, lookups):
            vocabulary = layer.get_vocabulary(include_special_tokens=False)
            if vocabulary:
                states[layer.name] = np.asarray(vocabulary)
        elif isinstance(layer, keras.layers.Discretization) and layer.bin_boundaries is not None:
            states[layer.name] = np.asarray(layer.bin_boundaries, dtype="float64")
    if not states:
        return b""
    buffer = io.BytesIO()
    np.savez(buffer, **states)
    return buffer.getvalue()


@app.main()
def main(grid: Grid, context: Context) -> None:
    config = context.run_config
    keras.utils.set_random_seed(recipe.SEED)
    train, _, (x_test, y_test), task = recipe.load_data()
    num_classes = len(np.unique(train[1])) if task == "classification" else 0
    model = recipe.build_model()
    recipe.compile_model(model, task){adapt}
    learned = learned_state(model)
    node_config = ConfigRecord({{"learned-state": learned}} if learned else {{}})

    def evaluate(server_round: int, arrays: ArrayRecord) -> MetricRecord:
        model.set_weights(arrays.to_numpy_ndarrays())
        results = model.evaluate(
            recipe.model_inputs(x_test, recipe.INPUT_SHAPES),
            recipe.targets(y_test, num_classes, task),
            return_dict=True,
            verbose=0,
        )
        return MetricRecord({{f"test_{{k}}": float(v) for k, v in results.items()}})

    result = make_strategy(config).start(
        grid=grid,
        initial_arrays=ArrayRecord(model.get_weights()),
        num_rounds=int(config["num-server-rounds"]),
        train_config=node_config,
        evaluate_config=node_config,
        evaluate_fn=evaluate if config["server-eval"] else None,
    )
    output = Path(str(config["output-dir"]) or ".")
    output.mkdir(parents=True, exist_ok=True)
    model.set_weights(result.arrays.to_numpy_ndarrays())
    model.save(output / "model.keras")
    rounds = {{str(r): dict(metrics) for r, metrics in result.evaluate_metrics_serverapp.items()}}
    (output / "metrics.json").write_text(json.dumps({{"server": rounds}}, indent=2) + "\\n")
'''

PREPARE_DATA = '''"""Splits the graph's dataset into one data file per Flower client.

Usage: python prepare_data.py OUT_DIR [CLIENTS]  (default: {clients} clients)

Each client_N.npz holds that client's share of the training split (shuffled
and dealt out evenly), the validation split's share, the task and the number
of classes, prepared exactly as task.load_data prepares them.
"""

import sys
from pathlib import Path

import numpy as np

from {package}.task import SEED, load_data


def main(out_dir, clients={clients}):
    (x, y), (x_val, y_val), _, task = load_data()
    num_classes = len(np.unique(y)) if task == "classification" else 0
    rng = np.random.default_rng(SEED)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    train_parts = np.array_split(rng.permutation(len(x)), clients)
    val_parts = np.array_split(rng.permutation(0 if x_val is None else len(x_val)), clients)
    for number, (part, val_part) in enumerate(zip(train_parts, val_parts, strict=True), 1):
        arrays = {{"x_train": x[part], "y_train": y[part]}}
        if len(val_part):
            arrays.update(x_val=x_val[val_part], y_val=y_val[val_part])
        path = out / f"client_{{number}}.npz"
        np.savez(path, task=task, num_classes=num_classes, **arrays)
        print(f"wrote {{path}} ({{len(part)}} training samples)")


if __name__ == "__main__":
    main(sys.argv[1], *(int(n) for n in sys.argv[2:3]))
'''

README = """# {title}: a Flower app exported from DeepWire

The model, data preparation and training settings are those of the graph;
`{package}/task.py` is DeepWire's exported training script.

## Try it on one machine

```
pip install -e .
python prepare_data.py data {clients}
flower-superlink --insecure --disable-runtime-dependency-installation
flower-supernode --insecure --superlink 127.0.0.1:8000 --port 9094 \\
    --node-config 'data-path="data/client_1.npz"'
flower-supernode --insecure --superlink 127.0.0.1:8000 --port 9095 \\
    --node-config 'data-path="data/client_2.npz"'
flwr run . local --stream
```

`local` is a SuperLink connection in Flower's config (`~/.flwr/config.toml`):

```
[superlink.local]
address = "127.0.0.1:8000"
insecure = true
```

The global model is saved as `model.keras` and the server's metrics per round
as `metrics.json` in `output-dir` (run config). On real devices, start one
SuperNode per device with its own `data-path`.
"""


def installed_version(package: str) -> str:
    """The version of `package` installed here (read from its metadata, not imported)."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        raise ValueError(f"{package} is not installed: cannot pin its version") from None


def flower_app_files(graph: NetworkGraph, data_dir: Path | None = None) -> dict[str, str]:
    """The Flower app of `graph`, as {relative path: text}.

    Args:
        graph: A graph that validates.
        data_dir: Folder a relative dataset path is relative to (the graph file's folder).

    Raises:
        ExportError: listing the validator's errors when the graph is invalid.
        ValueError: when flwr, tensorflow or keras is not installed.
    """
    federated = coerce_section(FEDERATED_PARAMS, graph.settings["federated"], "federated")
    adapt = ""
    if any(node.type in ADAPTED for node in graph.nodes):
        adapt = (
            "\n    recipe.adapt_normalization("
            "model, recipe.model_inputs(train[0], recipe.INPUT_SHAPES))"
        )
    server = SERVER_APP.format(package=PACKAGE, adapt=adapt)
    clients = federated["clients"]
    return {
        "pyproject.toml": _pyproject(graph, federated),
        "README.md": README.format(title=graph.name or "Model", package=PACKAGE, clients=clients),
        f"{PACKAGE}/__init__.py": '"""A Flower app exported from DeepWire."""\n',
        f"{PACKAGE}/task.py": export_training_script(graph, "task.py", data_dir),
        f"{PACKAGE}/client_app.py": CLIENT_APP.format(package=PACKAGE),
        f"{PACKAGE}/server_app.py": server,
        "prepare_data.py": PREPARE_DATA.format(package=PACKAGE, clients=clients),
    }


def _project_name(graph: NetworkGraph) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", (graph.name or "model").lower()).strip("-")
    return f"deepwire-{slug or 'model'}"


def _pyproject(graph: NetworkGraph, federated: dict) -> str:
    pins = ",\n".join(f'    "{name}=={installed_version(name)}"' for name in PINNED)
    share = (federated["clients_per_round"] or federated["clients"]) / federated["clients"]
    config = {
        "num-server-rounds": federated["rounds"],
        "local-epochs": federated["local_epochs"],
        "batch-size": federated["batch_size"],
        "fraction-train": share,
        "fraction-evaluate": 1.0,
        "min-nodes": 2,
        "aggregation": federated["aggregation"],
        "proximal-mu": federated["mu"],
        "clip-norm": federated["clip_norm"] or 0.0,
        "noise-multiplier": federated["noise_multiplier"],
        "server-eval": True,
        "output-dir": "",
    }
    lines = [f"{key} = {_toml(value)}" for key, value in config.items()]
    description = f"{graph.name or 'Model'}, exported from DeepWire as a Flower app"
    return (
        "[build-system]\n"
        'requires = ["hatchling"]\n'
        'build-backend = "hatchling.build"\n\n'
        "[project]\n"
        f"name = {_toml(_project_name(graph))}\n"
        'version = "1.0.0"\n'
        f"description = {_toml(description)}\n"
        "dependencies = [\n"
        f"{pins},\n"
        '    "numpy",\n'
        '    "scikit-learn",\n'
        "]\n\n"
        "[tool.hatch.build.targets.wheel]\n"
        f'packages = ["{PACKAGE}"]\n\n'
        "[tool.ruff]\n"
        "line-length = 100\n\n"
        "[tool.ruff.lint]\n"
        'select = ["E", "F", "W"]\n\n'
        "[tool.flwr.app]\n"
        'publisher = "deepwire"\n\n'
        "[tool.flwr.app.components]\n"
        f'serverapp = "{PACKAGE}.server_app:app"\n'
        f'clientapp = "{PACKAGE}.client_app:app"\n\n'
        "[tool.flwr.app.config]\n" + "\n".join(lines) + "\n"
    )


def _toml(value: object) -> str:
    """A TOML value: booleans lower-case, strings as JSON-style escaped basic strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        escaped = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped)
        return f'"{escaped}"'
    return literal(value)
