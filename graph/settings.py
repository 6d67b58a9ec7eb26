"""The settings stored with a graph, so a file reproduces a run.

Each section (training, dataset, and one per kind of run that has settings of
its own) is declared once here, in `SECTIONS`, with the same :class:`Param` as
layer parameters: the graph model keeps one dict per section, graph files read
and write every section, and the panels generate their forms from the params.
Adding a section is declaring its params and registering it below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from graph.messages import excerpt
from graph.params import Param, ParamError, When

# NumPy and Keras take seeds up to 2**32 - 1; a larger one failed deep in a run.
MAX_SEED = 2**32 - 1


def _seed(help_text: str, explanation: str = "") -> Param:
    """A section's `seed` setting: 42 by default, within what NumPy and Keras take."""
    return Param(
        "seed", "int", 42, minimum=0, maximum=MAX_SEED, help=help_text, explanation=explanation
    )


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

_SCHEDULED = When("lr_schedule", ("exponential_decay", "cosine_decay"))

TRAINING_PARAMS: tuple[Param, ...] = (
    Param(
        "optimizer",
        "choice",
        "adam",
        choices=OPTIMIZERS,
        help="How weights are updated",
        explanation="The rule that turns the loss's gradient into weight changes. adam is a "
        "good first choice; sgd with momentum can generalise slightly better when tuned.",
    ),
    Param(
        "learning_rate",
        "float",
        0.001,
        minimum=1e-8,
        maximum=10.0,
        help="Step size",
        explanation="How big each weight update is. 0.001 suits adam, 0.01-0.1 suits sgd. "
        "Too high and the loss jumps around or becomes NaN; too low and learning crawls.",
    ),
    Param(
        "momentum",
        "float",
        0.0,
        minimum=0.0,
        maximum=1.0,
        help="SGD/RMSprop momentum",
        explanation="Keeps part of the previous update, so steps build up speed in a steady "
        "direction. 0.9 is usual; close to 1 can overshoot.",
        shown_when=When("optimizer", ("sgd", "rmsprop")),
    ),
    Param(
        "nesterov",
        "bool",
        False,
        help="Nesterov momentum (SGD)",
        explanation="A look-ahead variant of momentum that often converges a little faster.",
        shown_when=When("optimizer", ("sgd",)),
    ),
    Param(
        "weight_decay",
        "float",
        None,
        minimum=0.0,
        nullable=True,
        help="Decoupled decay",
        explanation="Shrinks every weight a little at each step, which fights overfitting. "
        "Try 1e-4 (with adamw); too large and the network underfits. Empty: none.",
    ),
    Param(
        "lr_schedule",
        "choice",
        "constant",
        choices=("constant", "exponential_decay", "cosine_decay"),
        help="How the learning rate changes over training",
        explanation="Lowering the learning rate as training goes on lets the network settle "
        "into a good solution: big steps first, fine steps at the end.",
    ),
    Param(
        "decay_steps",
        "int",
        1000,
        minimum=1,
        help="Schedule length in batches",
        explanation="How many batches the schedule takes to lower the rate (by decay_rate, "
        "or to 0 for cosine). About the total number of batches of the run is a good start.",
        shown_when=_SCHEDULED,
    ),
    Param(
        "decay_rate",
        "float",
        0.96,
        minimum=0.0,
        maximum=1.0,
        help="Exponential decay rate",
        explanation="What the learning rate is multiplied by every decay_steps batches. "
        "0.9-0.99 is usual; small values shrink the rate very fast.",
        shown_when=When("lr_schedule", ("exponential_decay",)),
    ),
    Param(
        "loss",
        "choice",
        "auto",
        choices=LOSSES,
        help="What training minimises",
        explanation="The number that says how wrong the predictions are; training lowers "
        "it. auto picks the right one from the data and the output layer.",
    ),
    Param(
        "metrics",
        "multichoice",
        ("accuracy",),
        choices=METRICS,
        help="Reported metrics",
        explanation="Numbers reported while training, for you to read; they do not change "
        "how the network learns.",
    ),
    Param(
        "batch_size",
        "int",
        32,
        minimum=1,
        maximum=65536,
        help="Samples per update",
        explanation="How many samples are averaged for each weight update. 16-256 is usual: "
        "small batches are noisy but often generalise well; large ones are fast per epoch but "
        "need more epochs and memory.",
    ),
    Param(
        "epochs",
        "int",
        20,
        minimum=1,
        maximum=100000,
        help="Passes over the data",
        explanation="How many times training goes through all the training data. Too few and "
        "the network underfits; too many and it memorises (watch the validation loss rise).",
    ),
    Param(
        "early_stopping",
        "bool",
        False,
        help="Stop when validation loss stops improving",
        explanation="Ends training once the validation loss has not improved for `patience` "
        "epochs, which saves time and avoids overfitting.",
    ),
    Param(
        "patience",
        "int",
        5,
        minimum=1,
        help="Epochs without improvement before stopping",
        explanation="How many epochs without a better validation loss early stopping waits. "
        "3-10 is usual; too small stops on a lucky bump.",
        shown_when=When("early_stopping", (True,)),
    ),
    Param(
        "reduce_lr_on_plateau",
        "bool",
        False,
        help="Lower the learning rate on a plateau",
        explanation="Lowers the learning rate when the validation loss stalls, so training "
        "can make finer progress.",
    ),
    Param(
        "reduce_lr_factor",
        "float",
        0.5,
        minimum=0.01,
        maximum=0.99,
        help="LR multiplier",
        explanation="What the learning rate is multiplied by on a plateau. 0.1-0.5 is usual.",
        shown_when=When("reduce_lr_on_plateau", (True,)),
    ),
    Param(
        "reduce_lr_patience",
        "int",
        3,
        minimum=1,
        help="Epochs before lowering the LR",
        explanation="How many epochs without improvement before the rate is lowered. Keep it "
        "below early stopping's patience.",
        shown_when=When("reduce_lr_on_plateau", (True,)),
    ),
    Param(
        "checkpoint_best",
        "bool",
        True,
        help="Keep the weights of the best epoch",
        explanation="At the end, the model gets back the weights of the epoch with the best "
        "validation loss, rather than those of the last epoch.",
    ),
    _seed(
        "Random seed for reproducible runs",
        "Fixes the random starting weights and shuffling, so the same settings "
        "give the same run. Change it to see how much results vary.",
    ),
    Param(
        "strategy",
        "choice",
        "default",
        choices=("default", "mirrored", "multi_worker"),
        help="tf.distribute strategy",
        explanation="How training is spread over devices: default uses one, mirrored all GPUs "
        "of this machine, multi_worker several machines.",
    ),
    Param(
        "tensorboard_dir",
        "str",
        "",
        help="TensorBoard log folder; empty: none",
        explanation="A folder where TensorBoard logs are written, to study the run in "
        "TensorBoard. Empty: no logs.",
    ),
)

_FILE_SOURCES = When("source", ("csv", "numpy", "image_folder"))
_TABLES = When("source", ("csv", "numpy"))
_GENERATED = (
    When("source", ("builtin",)),
    When("name", ("moons", "circles", "blobs", "sine", "sequence_classification", "sentiment")),
)

DATASET_PARAMS: tuple[Param, ...] = (
    Param(
        "source",
        "choice",
        "builtin",
        choices=("builtin", "csv", "numpy", "image_folder"),
        help="Where the data comes from",
        explanation="A dataset that ships with DeepWire, or your own table (csv: a CSV or "
        "Parquet file), NumPy file or folder of images (one sub-folder per class).",
        hints=(("parquet", "a Parquet file is a table: choose 'csv' and give its path"),),
    ),
    Param(
        "name",
        "choice",
        "digits",
        choices=BUILTIN_DATASETS,
        help="Built-in dataset",
        explanation="Small datasets that need no download: digits (8x8 images of 0-9), iris, "
        "wine and breast_cancer tables, and generated shapes and sequences.",
        shown_when=When("source", ("builtin",)),
    ),
    Param(
        "path",
        "str",
        "",
        help="File or folder: a CSV or Parquet table, NumPy arrays or images",
        explanation="Relative paths start at the graph file's folder, so a graph beside its "
        "data opens anywhere.",
        shown_when=_FILE_SOURCES,
    ),
    Param(
        "target_column",
        "str",
        "",
        help="Table column to predict; empty: the last",
        explanation="The column holding what the model should predict; every other column is "
        "a feature.",
        shown_when=_TABLES,
    ),
    Param(
        "target",
        "choice",
        "labels",
        choices=("labels", "inputs"),
        help="What the model predicts: the labels, or its own input (autoencoder)",
        explanation="labels: learn to predict the answer. inputs: learn to rebuild the input "
        "(an autoencoder), e.g. to compress or denoise.",
    ),
    Param(
        "missing",
        "choice",
        "drop",
        choices=("drop", "mean", "median", "most_frequent"),
        help="What to do with missing values",
        explanation="Drop rows with gaps, or fill gaps with the column's mean, median or most "
        "frequent value (learned from the training split only).",
        shown_when=_TABLES,
    ),
    Param(
        "drop_duplicates",
        "bool",
        False,
        help="Remove repeated rows",
        explanation="Repeated rows can end up in both training and test data and make the "
        "test score look better than it is.",
        shown_when=_TABLES,
    ),
    Param(
        "normalization",
        "choice",
        "standard",
        choices=("none", "minmax", "standard"),
        help="Feature scaling, fitted on the training split",
        explanation="Brings features to similar ranges, which networks learn from much "
        "better: standard (mean 0, spread 1) is the usual choice, minmax maps to 0..1.",
    ),
    Param(
        "test_size",
        "float",
        0.2,
        minimum=0.05,
        maximum=0.9,
        help="Share held out for test",
        explanation="Data kept aside and only used to judge the finished model. 0.1-0.3 is "
        "usual; too small gives an unreliable score, too large leaves little to learn from.",
    ),
    Param(
        "validation_size",
        "float",
        0.1,
        minimum=0.0,
        maximum=0.9,
        help="Share of the rest for validation",
        explanation="Data checked after every epoch to spot overfitting (used by early "
        "stopping and checkpoints). 0.1-0.2 is usual; 0 turns it off.",
    ),
    Param(
        "stratify",
        "bool",
        True,
        help="Keep class proportions in every split",
        explanation="Every split gets the same share of each class, so a rare class is not "
        "missing from the test data.",
    ),
    Param(
        "samples",
        "int",
        1000,
        minimum=10,
        maximum=1_000_000,
        help="Generated samples",
        explanation="How many samples the generator makes. More data learns better but "
        "trains slower.",
        shown_when=_GENERATED,
    ),
    Param(
        "noise",
        "float",
        0.1,
        minimum=0.0,
        maximum=10.0,
        help="Noise of generated data",
        explanation="How much randomness blurs the generated data. 0 is perfectly clean; "
        "large values make the task hard or impossible.",
        shown_when=_GENERATED,
    ),
    Param(
        "image_size",
        "ints",
        (32, 32),
        minimum=1,
        length=2,
        help="Images resized to",
        explanation="Every image is resized to this height and width. Small sizes train fast "
        "but lose detail.",
        shown_when=When("source", ("image_folder",)),
    ),
    Param(
        "color_mode",
        "choice",
        "grayscale",
        choices=("grayscale", "rgb"),
        help="Image channels",
        explanation="grayscale gives 1 channel per pixel, rgb 3.",
        shown_when=When("source", ("image_folder",)),
    ),
    Param(
        "image_cache",
        "choice",
        "none",
        choices=("none", "memory", "disk"),
        help="Keep decoded images after the first epoch",
        explanation="Images are decoded from their files every epoch (none, least memory). "
        "memory keeps them in RAM after the first epoch, fastest for folders that fit; disk "
        "keeps them in a temporary file, fast without the memory.",
        shown_when=When("source", ("image_folder",)),
    ),
    _seed(
        "Seed of the split and generators",
        "Fixes which samples land in which split (and generated data), so runs compare fairly.",
    ),
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
    _seed("Seed of the split, client sampling and noise"),
)


# The privacy measures (runtime.federated.accounting and runtime.privacy.membership
# compute them): key -> (title, one line for learners).
PRIVACY_MEASURES = {
    "epsilon": (
        "Privacy budget epsilon",
        "Bounds how much the model can reveal about any one client: lower is more private, "
        "and it grows with every round the client's update is used.",
    ),
    "membership_auc": (
        "Membership inference AUC",
        "How well an attacker tells training samples from unseen ones by the model's loss "
        "alone: 0.5 is a coin flip, near 1.0 means the model remembers its training data.",
    ),
}


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
    _seed("Seed of the weights, batches and memory"),
)


def _explained(params: tuple[Param, ...], texts: dict[str, str]) -> tuple[Param, ...]:
    """`params` with their learner explanations, written beside the declarations."""
    return tuple(replace(param, explanation=texts[param.name]) for param in params)


FEDERATED_PARAMS = _explained(
    FEDERATED_PARAMS,
    {
        "clients": "How many devices or sites each keep their own part of the training data. "
        "More clients means less data each and slower agreement.",
        "partition": "How the training data is shared out: iid gives every client a similar "
        "mix; dirichlet gives each client a lopsided mix of labels, as real sites often have.",
        "alpha": "How lopsided the dirichlet split is: below 1 most clients see only a few "
        "classes; 10 or more looks like an even split.",
        "partition_column": "The CSV column whose value says which client a row belongs to, "
        "such as a hospital id.",
        "clients_per_round": "How many clients train in each round, picked at random; leave "
        "empty for all of them. Fewer is cheaper but noisier.",
        "rounds": "How many times the server sends out the model and averages what comes "
        "back. More rounds, more learning.",
        "local_epochs": "How many passes each client makes over its own data per round; many "
        "passes on lopsided data pull clients apart.",
        "batch_size": "How many of a client's samples go into each weight update on that client.",
        "aggregation": "How the server combines the clients' updates: FedAvg weights them by "
        "sample count; FedProx also keeps clients near the shared model.",
        "mu": "How strongly FedProx pulls each client back toward the shared model; 0 is "
        "plain FedAvg, around 0.01 to 1 is typical.",
        "clip_norm": "For privacy, the largest change any one client may send; bigger changes "
        "are scaled down. Leave empty for no clipping.",
        "noise_multiplier": "For privacy, how much random noise the server adds, relative to "
        "the clip norm. More noise: more privacy, lower accuracy.",
        "delta": "The small chance that the privacy promise (epsilon) does not hold; keep it "
        "well below one over the number of clients.",
        "accountant": "How the privacy budget epsilon is computed: rdp is quick, pld is "
        "slower but gives a tighter, smaller epsilon.",
        "centralized_baseline": "Also trains the same graph on all the data in one place, so "
        "the charts show what federation costs in accuracy.",
        "seed": "Fixes the random split, the client picks and the noise, so a run can be "
        "repeated exactly.",
    },
)

CONTINUAL_PARAMS = _explained(
    CONTINUAL_PARAMS,
    {
        "split": "How the data becomes a sequence of tasks learned one after another: by "
        "groups of classes, by a CSV column, or one file per task.",
        "classes_per_task": "How many classes each task holds when the data is split by "
        "class, such as digits 0-1, then 2-3.",
        "scenario": "Class-incremental: the model must tell apart every class seen so far. "
        "Task-incremental: it is told the task and picks among its classes.",
        "column": "The CSV column whose values name the tasks, such as a month; rows are "
        "learned in the order of its values.",
        "files": "The data files, one task each, in the order they are learned, separated by "
        "semicolons.",
        "strategy": "How the network protects what it learned: naive does not, replay "
        "rehearses old samples, EWC stiffens important weights, LwF keeps old answers.",
        "buffer_size": "How many past samples the replay memory keeps; bigger remembers more "
        "but costs memory and time.",
        "buffer_selection": "Which past samples stay in memory: a random sample, or the same "
        "number of each class.",
        "ewc_lambda": "How stiff EWC makes the weights that mattered for earlier tasks; too "
        "high and new tasks cannot be learned.",
        "fisher_samples": "How many samples of a finished task are used to measure which "
        "weights mattered for it (EWC).",
        "lwf_alpha": "How much LwF values keeping the old model's answers compared with "
        "learning the new task's labels.",
        "lwf_temperature": "Softens the old model's answers so that its second guesses count "
        "too; 2 is a common choice.",
        "epochs_per_task": "How many passes the network makes over each task before moving "
        "on to the next.",
        "seed": "Fixes the starting weights, the batches and the replay memory, so a run can "
        "be repeated exactly.",
    },
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

BLOCK_BUILDS = ("nested", "flatten")
BUILD_PARAMS = (
    Param(
        "blocks",
        "choice",
        "nested",
        choices=BLOCK_BUILDS,
        help="How blocks become Keras layers",
        explanation=(
            "nested makes each block a small Keras model inside the big one, so the summary "
            "shows the blocks; flatten puts every layer of every block side by side. The "
            "numbers they compute are the same."
        ),
    ),
)
register_section(SettingsSection("build", "Build", BUILD_PARAMS))


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


def path_text_for(chosen: str, base_dir: Path | None) -> str:
    """How to store a path chosen in a file dialog: relative when inside `base_dir`.

    A graph file beside its data then keeps working when the folder moves.
    """
    inside = base_dir is not None and Path(chosen).is_relative_to(base_dir)
    return str(Path(chosen).relative_to(base_dir)) if inside else chosen


def data_settings_at(path_text: str, base_dir: Path | None) -> dict[str, str]:
    """Dataset settings for the data at `path_text`, its source told by what is there.

    A folder is an image folder, a .npz or .npy file NumPy arrays, anything else a
    table (CSV or Parquet). Relative paths are read from `base_dir`, as
    `dataset_path` reads them; the settings keep the text as given.
    """
    path = dataset_path(path_text, base_dir)
    if path.is_dir():
        return {"source": "image_folder", "path": path_text}
    if path.suffix.lower() in (".npz", ".npy"):
        return {"source": "numpy", "path": path_text}
    return {"source": "csv", "path": path_text}


def continual_files(files_text: str) -> list[str]:
    """The `files` setting of the continual section as a list of paths, in order."""
    return [part.strip() for part in files_text.split(";") if part.strip()]
