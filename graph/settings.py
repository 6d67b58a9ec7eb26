"""The settings stored with a graph, so a file reproduces a run.

Each section (training, dataset, and one per kind of run that has settings of
its own) is declared once here, in `SECTIONS`, with the same :class:`Param` as
layer parameters: the graph model keeps one dict per section, graph files read
and write every section, and the panels generate their forms from the params.
Adding a section is declaring its params and registering it below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graph.messages import excerpt
from graph.params import Param, ParamError

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad", "nadam")
LOSSES = (
    "auto",
    "sparse_categorical_crossentropy",
    "categorical_crossentropy",
    "binary_crossentropy",
    "mean_squared_error",
    "mean_absolute_error",
    "huber",
)
METRICS = ("accuracy", "precision", "recall", "auc", "mae", "mse")
BUILTIN_DATASETS = (
    "digits",
    "digits_images",
    "iris",
    "wine",
    "breast_cancer",
    "moons",
    "circles",
    "blobs",
    "sine",
    "sequence_classification",
    "sentiment",
)

TRAINING_PARAMS: tuple[Param, ...] = (
    Param("optimizer", "choice", "adam", choices=OPTIMIZERS, help="How weights are updated"),
    Param("learning_rate", "float", 0.001, minimum=1e-8, maximum=10.0, help="Step size"),
    Param("momentum", "float", 0.0, minimum=0.0, maximum=1.0, help="SGD/RMSprop momentum"),
    Param("nesterov", "bool", False, help="Nesterov momentum (SGD)"),
    Param("weight_decay", "float", None, minimum=0.0, nullable=True, help="Decoupled decay"),
    Param(
        "lr_schedule",
        "choice",
        "constant",
        choices=("constant", "exponential_decay", "cosine_decay"),
        help="How the learning rate changes over training",
    ),
    Param("decay_steps", "int", 1000, minimum=1, help="Schedule length in batches"),
    Param("decay_rate", "float", 0.96, minimum=0.0, maximum=1.0, help="Exponential decay rate"),
    Param("loss", "choice", "auto", choices=LOSSES, help="What training minimises"),
    Param("metrics", "multichoice", ("accuracy",), choices=METRICS, help="Reported metrics"),
    Param("batch_size", "int", 32, minimum=1, maximum=65536, help="Samples per update"),
    Param("epochs", "int", 20, minimum=1, maximum=100000, help="Passes over the data"),
    Param("early_stopping", "bool", False, help="Stop when validation loss stops improving"),
    Param("patience", "int", 5, minimum=1, help="Epochs without improvement before stopping"),
    Param("reduce_lr_on_plateau", "bool", False, help="Lower the learning rate on a plateau"),
    Param("reduce_lr_factor", "float", 0.5, minimum=0.01, maximum=0.99, help="LR multiplier"),
    Param("reduce_lr_patience", "int", 3, minimum=1, help="Epochs before lowering the LR"),
    Param("checkpoint_best", "bool", True, help="Keep the weights of the best epoch"),
    Param("seed", "int", 42, minimum=0, help="Random seed for reproducible runs"),
    Param(
        "strategy",
        "choice",
        "default",
        choices=("default", "mirrored", "multi_worker"),
        help="tf.distribute strategy",
    ),
    Param("tensorboard_dir", "str", "", help="TensorBoard log folder; empty: none"),
)

DATASET_PARAMS: tuple[Param, ...] = (
    Param(
        "source",
        "choice",
        "builtin",
        choices=("builtin", "csv", "numpy", "image_folder"),
        help="Where the data comes from",
    ),
    Param("name", "choice", "digits", choices=BUILTIN_DATASETS, help="Built-in dataset"),
    Param("path", "str", "", help="File or folder for CSV, NumPy or images"),
    Param("target_column", "str", "", help="CSV column to predict; empty: the last"),
    Param(
        "target",
        "choice",
        "labels",
        choices=("labels", "inputs"),
        help="What the model predicts: the labels, or its own input (autoencoder)",
    ),
    Param(
        "missing",
        "choice",
        "drop",
        choices=("drop", "mean", "median", "most_frequent"),
        help="What to do with missing values",
    ),
    Param("drop_duplicates", "bool", False, help="Remove repeated rows"),
    Param(
        "normalization",
        "choice",
        "standard",
        choices=("none", "minmax", "standard"),
        help="Feature scaling, fitted on the training split",
    ),
    Param("test_size", "float", 0.2, minimum=0.05, maximum=0.9, help="Share held out for test"),
    Param(
        "validation_size",
        "float",
        0.1,
        minimum=0.0,
        maximum=0.9,
        help="Share of the rest for validation",
    ),
    Param("stratify", "bool", True, help="Keep class proportions in every split"),
    Param("samples", "int", 1000, minimum=10, maximum=1_000_000, help="Generated samples"),
    Param("noise", "float", 0.1, minimum=0.0, maximum=10.0, help="Noise of generated data"),
    Param("image_size", "ints", (32, 32), minimum=1, length=2, help="Images resized to"),
    Param("color_mode", "choice", "grayscale", choices=("grayscale", "rgb"), help="Image channels"),
    Param("seed", "int", 42, minimum=0, help="Seed of the split and generators"),
)


FEDERATED_PARAMS: tuple[Param, ...] = (
    Param(
        "clients",
        "int",
        10,
        minimum=2,
        maximum=10000,
        help="How many devices hold a part of the training data; none shares its part",
    ),
    Param(
        "partition",
        "choice",
        "iid",
        choices=("iid", "dirichlet", "column"),
        help="How the data is divided: evenly at random (iid), skewed by label "
        "(dirichlet), or by a CSV column such as a hospital id",
    ),
    Param(
        "alpha",
        "float",
        0.5,
        minimum=1e-6,
        maximum=1e6,
        help="Dirichlet skew: small values give each client few classes, large values look iid",
    ),
    Param(
        "partition_column",
        "str",
        "",
        help="CSV column whose values say which client owns a row (partition: column)",
    ),
    Param(
        "clients_per_round",
        "int",
        None,
        minimum=1,
        maximum=10000,
        nullable=True,
        help="Clients picked at random to train in each round; empty: every client, every round",
    ),
    Param("rounds", "int", 10, minimum=1, maximum=100000, help="Rounds of train-then-average"),
    Param(
        "local_epochs",
        "int",
        1,
        minimum=1,
        maximum=1000,
        help="Passes each client makes over its own data before sending its update",
    ),
    Param(
        "batch_size",
        "int",
        32,
        minimum=1,
        maximum=65536,
        help="Samples per update on a client",
    ),
    Param(
        "aggregation",
        "choice",
        "fedavg",
        choices=("fedavg", "fedprox"),
        help="How the server combines updates: FedAvg averages them by sample count; "
        "FedProx also pulls clients toward the global model",
    ),
    Param(
        "mu",
        "float",
        0.01,
        minimum=0.0,
        maximum=1000.0,
        help="FedProx strength: how hard a client is pulled back to the global weights",
    ),
    Param(
        "clip_norm",
        "float",
        None,
        minimum=1e-9,
        nullable=True,
        help="Privacy: the largest update a client may send (its length); empty: no clipping",
    ),
    Param(
        "noise_multiplier",
        "float",
        0.0,
        minimum=0.0,
        maximum=1000.0,
        help="Privacy: noise the server adds, as a multiple of the clip norm; 0: none",
    ),
    Param(
        "delta",
        "float",
        1e-5,
        minimum=1e-12,
        maximum=0.1,
        help="Privacy: the small chance the epsilon guarantee may fail; keep it below 1/clients",
    ),
    Param(
        "accountant",
        "choice",
        "rdp",
        choices=("rdp", "pld"),
        help="How epsilon is computed: Renyi DP (fast) or privacy loss distributions (tighter)",
    ),
    Param(
        "centralized_baseline",
        "bool",
        True,
        help="Also train the same graph on all the data at once, to see what federation costs",
    ),
    Param("seed", "int", 42, minimum=0, help="Seed of the split, client sampling and noise"),
)


CONTINUAL_STRATEGIES = ("naive", "replay", "ewc", "lwf")

# One line per strategy, for learners (the panel and the CLI show them).
STRATEGY_EXPLANATIONS = {
    "naive": "Trains on each new task as if it were the only one: the baseline that forgets.",
    "replay": "Keeps a small memory of past samples and mixes them into every new batch.",
    "ewc": "Makes the weights that mattered for old tasks stiff, so new learning moves others.",
    "lwf": "Asks the network to keep giving the old answers on new data while it learns.",
}

# The summary metrics of continual learning (runtime.continual.metrics computes them):
# key -> (title, one line for learners).
CONTINUAL_METRICS = {
    "average_accuracy": (
        "Average accuracy",
        "Accuracy over every task seen so far, measured after the last one.",
    ),
    "backward_transfer": (
        "Backward transfer",
        "How learning later tasks changed accuracy on earlier ones; negative means forgetting.",
    ),
    "forward_transfer": (
        "Forward transfer",
        "How much earlier tasks helped a task before the network trained on it.",
    ),
}

CONTINUAL_PARAMS: tuple[Param, ...] = (
    Param(
        "split",
        "choice",
        "classes",
        choices=("classes", "column", "files"),
        help="How the data becomes a sequence of tasks: by class, by a CSV column, or by file",
    ),
    Param(
        "classes_per_task",
        "int",
        2,
        minimum=2,
        maximum=1000,
        help="Classes in each task when splitting by class (digits 0-1, 2-3, ...)",
    ),
    Param(
        "scenario",
        "choice",
        "class_incremental",
        choices=("class_incremental", "task_incremental"),
        help="Class-incremental: pick among every class seen; task-incremental: "
        "the task is told, pick among its classes",
    ),
    Param("column", "str", "", help="CSV column whose values name the tasks (e.g. a month)"),
    Param(
        "files",
        "str",
        "",
        help="Data files, one task each, in order, separated by ';'",
    ),
    Param(
        "strategy",
        "choice",
        "naive",
        choices=CONTINUAL_STRATEGIES,
        help="How the network protects what it learned: none, replay, EWC or LwF",
    ),
    Param(
        "buffer_size",
        "int",
        200,
        minimum=1,
        maximum=1_000_000,
        help="Past samples the replay memory keeps",
    ),
    Param(
        "buffer_selection",
        "choice",
        "random",
        choices=("random", "class_balanced"),
        help="Which samples stay in memory: a random sample, or as many of each class",
    ),
    Param(
        "ewc_lambda",
        "float",
        1000.0,
        minimum=0.0,
        maximum=1e9,
        help="How stiff EWC makes the weights that mattered before",
    ),
    Param(
        "fisher_samples",
        "int",
        500,
        minimum=1,
        maximum=1_000_000,
        help="Samples of the finished task used to measure which weights mattered (EWC)",
    ),
    Param(
        "lwf_alpha",
        "float",
        1.0,
        minimum=0.0,
        maximum=1000.0,
        help="How much keeping the old answers counts against learning the new ones (LwF)",
    ),
    Param(
        "lwf_temperature",
        "float",
        2.0,
        minimum=0.1,
        maximum=100.0,
        help="Softens the old answers so that their second choices count too (LwF)",
    ),
    Param("epochs_per_task", "int", 5, minimum=1, maximum=100000, help="Passes over each task"),
    Param("seed", "int", 42, minimum=0, help="Seed of the weights, batches and memory"),
)


@dataclass(frozen=True)
class SettingsSection:
    """One section of a graph's settings.

    Args:
        name: Its key in graph files ("training").
        title: How the user sees it ("Training").
        params: Its settings, in the order forms show them.
        always_saved: Whether files always write it in full; other sections are
            written only when some value differs from its default, so files of
            graphs that never used a feature do not mention it.
    """

    name: str
    title: str
    params: tuple[Param, ...]
    always_saved: bool = False


SECTIONS: dict[str, SettingsSection] = {}


def register_section(section: SettingsSection) -> SettingsSection:
    if section.name in SECTIONS:
        raise ValueError(f"settings section {section.name!r} is declared twice")
    SECTIONS[section.name] = section
    return section


register_section(SettingsSection("training", "Training", TRAINING_PARAMS, always_saved=True))
register_section(SettingsSection("dataset", "Dataset", DATASET_PARAMS, always_saved=True))
register_section(SettingsSection("federated", "Federated", FEDERATED_PARAMS))
register_section(SettingsSection("continual", "Continual", CONTINUAL_PARAMS))


def default_settings() -> dict[str, dict[str, Any]]:
    """Every registered section at its defaults."""
    return {name: default_section(section.params) for name, section in SECTIONS.items()}


def default_section(params: tuple[Param, ...]) -> dict[str, Any]:
    return {p.name: p.default for p in params}


def coerce_section(
    params: tuple[Param, ...], values: Mapping[str, Any], section: str
) -> dict[str, Any]:
    """Returns complete, canonical settings; raises ParamError naming the bad key."""
    known = {p.name: p for p in params}
    for name in values:
        if name not in known:
            raise ParamError(
                f"{section} has no setting {excerpt(name)} (its settings: {', '.join(known)})"
            )
    result = {}
    for param in params:
        value = values.get(param.name, param.default)
        try:
            result[param.name] = param.coerce(value)
        except ParamError as error:
            raise ParamError(f"{section}: {error}") from None
    return result


def dataset_path(path_text: str, base_dir: Path | None) -> Path:
    """Where a dataset's `path` setting points: `~` expanded, relative to `base_dir`.

    The app and exported scripts resolve paths alike, so a graph file that sits
    beside its data opens anywhere.
    """
    path = Path(path_text)
    try:
        path = path.expanduser()
    except RuntimeError:
        # "~someone" for a user this machine does not know: keep it literal.
        pass
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path


def continual_files(files_text: str) -> list[str]:
    """The `files` setting of the continual section as a list of paths, in order."""
    return [part.strip() for part in files_text.split(";") if part.strip()]
