"""Checking federated settings against the data and dividing it, before anything trains."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from graph.params import ParamError
from graph.settings import FEDERATED_PARAMS, coerce_section
from runtime.data import Dataset
from runtime.federated.errors import FederatedSettingsError
from runtime.federated.partition import (
    class_counts,
    column_groups,
    partition_by_groups,
    partition_dirichlet,
    partition_iid,
)


@dataclass(frozen=True)
class FederatedPlan:
    """Checked settings and the training split's division among clients.

    Attributes:
        settings: The complete `federated` settings.
        parts: Each client's training-sample indices.
        class_counts: Samples of each class per client ([[n]] per client for regression).
    """

    settings: dict[str, Any]
    parts: list[np.ndarray]
    class_counts: list[list[int]]

    @property
    def clients_per_round(self) -> int:
        """Clients sampled each round (every client when the setting is empty)."""
        return self.settings["clients_per_round"] or self.settings["clients"]

    @property
    def client_sizes(self) -> list[int]:
        return [len(part) for part in self.parts]


def plan_federation(settings: Mapping[str, Any], dataset: Dataset) -> FederatedPlan:
    """Checks `settings` (a graph's `federated` section) and divides `dataset`'s training split.

    Raises:
        FederatedSettingsError: naming the setting to change, before any training.
    """
    try:
        settings = coerce_section(FEDERATED_PARAMS, settings, "federated")
    except ParamError as error:
        raise FederatedSettingsError(str(error)) from None
    clients, samples = settings["clients"], len(dataset.x_train)
    if clients > samples:
        raise FederatedSettingsError(
            f"federated.clients is {clients} but the training split has only {samples} "
            "samples: every client needs at least one; use fewer clients"
        )
    if (settings["clients_per_round"] or clients) > clients:
        raise FederatedSettingsError(
            f"federated.clients_per_round ({settings['clients_per_round']}) is more than "
            f"federated.clients ({clients})"
        )
    if settings["noise_multiplier"] > 0 and settings["clip_norm"] is None:
        raise FederatedSettingsError(
            f"federated.noise_multiplier is {settings['noise_multiplier']:g} but clip_norm is "
            "not set: noise is scaled to the clip norm, so set clip_norm (e.g. 1.0)"
        )
    rng = np.random.default_rng(settings["seed"])
    classification = dataset.task == "classification" and dataset.target == "labels"
    partition = settings["partition"]
    if partition == "iid":
        parts = partition_iid(samples, clients, rng)
    elif partition == "dirichlet":
        if not classification:
            raise FederatedSettingsError(
                "federated.partition 'dirichlet' shares classes out among clients, but "
                f"{dataset.name} is a {dataset.task} task: use 'iid' or 'column'"
            )
        parts = partition_dirichlet(dataset.y_train, clients, settings["alpha"], rng)
    else:
        column = settings["partition_column"]
        if not column:
            raise FederatedSettingsError(
                "federated.partition is 'column' but partition_column is empty: name the "
                "CSV column whose values say which client owns a row"
            )
        target = dataset.target_name if dataset.target == "labels" else ""
        groups = column_groups(
            dataset.x_train, dataset.feature_names, column, dataset.y_train, target
        )
        parts = partition_by_groups(groups, clients, column)
    for client, part in enumerate(parts, start=1):
        if len(part) == 0:
            raise FederatedSettingsError(
                f"client {client} has no data after the {partition} split: use fewer clients"
            )
    if classification:
        classes = max(len(dataset.class_names), dataset.num_classes, 1)
        counts = class_counts(dataset.y_train, parts, classes)
    else:
        counts = [[len(part)] for part in parts]
    return FederatedPlan(settings, parts, counts)
