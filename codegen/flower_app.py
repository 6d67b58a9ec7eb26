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

Nothing here imports Flower or TensorFlow: the app is printed as source, its
modules kept as text in flower_templates/.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from codegen.literals import literal
from codegen.python_source import KERAS_IMPORT, export_training_script
from codegen.training_script import ADAPTED
from graph.model import NetworkGraph
from graph.settings import FEDERATED_PARAMS, coerce_section

PACKAGE = "deepwire_fl"
PINNED = ("flwr", "tensorflow", "keras")

# The app's modules, kept as text beside this file (codegen/flower_templates/*.py.txt):
# they import Flower and Keras, which codegen itself never does. Their Keras import is
# a placeholder, filled as every exported module's is (KERAS_IMPORT).
TEMPLATES = Path(__file__).resolve().parent / "flower_templates"


def _template(name: str) -> str:
    return (TEMPLATES / f"{name}.py.txt").read_text(encoding="utf-8")


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
    server = _template("server_app").format(package=PACKAGE, adapt=adapt, keras_import=KERAS_IMPORT)
    clients = federated["clients"]
    return {
        "pyproject.toml": _pyproject(graph, federated),
        "README.md": README.format(title=graph.name or "Model", package=PACKAGE, clients=clients),
        f"{PACKAGE}/__init__.py": '"""A Flower app exported from DeepWire."""\n',
        f"{PACKAGE}/task.py": export_training_script(graph, "task.py", data_dir),
        f"{PACKAGE}/client_app.py": _template("client_app").format(
            package=PACKAGE, keras_import=KERAS_IMPORT
        ),
        f"{PACKAGE}/server_app.py": server,
        "prepare_data.py": _template("prepare_data").format(package=PACKAGE, clients=clients),
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
