"""Dividing the training split among simulated clients.

Three ways, as the `federated.partition` setting names them:

- ``iid``: samples shuffled and dealt out evenly, so every client sees the
  same mix of classes (the friendly case).
- ``dirichlet``: for each class, the shares of its samples going to each
  client are drawn from Dirichlet(alpha) (Hsu et al. 2019, "Measuring the
  Effects of Non-Identical Data Distribution for Federated Visual
  Classification"): small alpha gives each client a few classes only.
- ``column``: rows with the same value in a column of the user's table (a
  hospital id) stay together; the distinct values, sorted, are dealt out to
  clients in turn. The column is a feature column (then the model sees it
  too), or the target column (each client then holds whole classes).
"""

from __future__ import annotations

import numpy as np

from runtime.federated.errors import FederatedSettingsError

DIRICHLET_TRIES = 100


def partition_iid(samples: int, clients: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled sample indices cut into `clients` parts whose sizes differ by at most one."""
    return [np.sort(part) for part in np.array_split(rng.permutation(samples), clients)]


def partition_dirichlet(
    labels: np.ndarray, clients: int, alpha: float, rng: np.random.Generator
) -> list[np.ndarray]:
    """Sample indices per client, each class shared out by Dirichlet(alpha) proportions.

    Draws again (up to DIRICHLET_TRIES times) when a client would get no
    sample at all, as small alphas often do.

    Raises:
        FederatedSettingsError: alpha <= 0, or every draw leaves a client empty.
    """
    if not alpha > 0:
        raise FederatedSettingsError(f"federated.alpha must be > 0. Received: {alpha}")
    classes = np.unique(labels)
    for _ in range(DIRICHLET_TRIES):
        parts: list[list[np.ndarray]] = [[] for _ in range(clients)]
        for label in classes:
            members = rng.permutation(np.flatnonzero(labels == label))
            shares = rng.dirichlet(np.full(clients, alpha))
            cuts = (np.cumsum(shares)[:-1] * len(members)).astype(int)
            for client, piece in enumerate(np.split(members, cuts)):
                parts[client].append(piece)
        result = [np.sort(np.concatenate(part)) for part in parts]
        if all(len(part) for part in result):
            return result
    raise FederatedSettingsError(
        f"a client has no data after a Dirichlet split with alpha={alpha:g} over "
        f"{clients} clients and {len(labels)} samples (tried {DIRICHLET_TRIES} draws): "
        "raise alpha or use fewer clients"
    )


def partition_by_groups(groups: np.ndarray, clients: int, column: str) -> list[np.ndarray]:
    """Sample indices per client, keeping rows of one group (column value) together.

    Raises:
        FederatedSettingsError: fewer distinct values than clients (a client would be empty).
    """
    values = np.unique(groups)
    if len(values) < clients:
        raise FederatedSettingsError(
            f"partition_column {column!r} has {len(values)} distinct values but clients is "
            f"{clients}: client {len(values) + 1} would have no data; set clients to at most "
            f"{len(values)}"
        )
    owner = {value: index % clients for index, value in enumerate(values)}
    client_of_sample = np.array([owner[value] for value in groups])
    return [np.flatnonzero(client_of_sample == client) for client in range(clients)]


def column_groups(
    x: np.ndarray,
    feature_names: tuple[str, ...],
    column: str,
    y: np.ndarray | None = None,
    target_name: str = "",
) -> np.ndarray:
    """Each sample's group in the column `column`: a feature of the (scaled) `x`, or the target.

    Scaling is affine per feature, so equal raw values stay equal; a text
    column one-hot encoded as "column=value" features is grouped by the
    value that is set; the target column `target_name` groups by `y`.

    Raises:
        FederatedSettingsError: when `column` is neither a feature column nor the target.
    """
    flat = x.reshape(len(x), -1)
    if column in feature_names:
        return flat[:, feature_names.index(column)]
    one_hot = [i for i, name in enumerate(feature_names) if name.startswith(f"{column}=")]
    if one_hot:
        return np.argmax(flat[:, one_hot], axis=1)
    if y is not None and target_name and column == target_name:
        return y.reshape(len(y), -1)[:, 0]
    shown = ", ".join(_column_names(feature_names))
    target = f"; target column: {target_name}" if target_name and y is not None else ""
    raise FederatedSettingsError(
        f"partition_column {column!r} is not a column of the data. Feature columns: {shown}{target}"
    )


def _column_names(feature_names: tuple[str, ...]) -> list[str]:
    names: list[str] = []
    for name in feature_names:
        column = name.split("=", 1)[0]
        if column not in names:
            names.append(column)
    if len(names) > 20:
        names = [*names[:20], f"... ({len(names) - 20} more)"]
    return names


def class_counts(labels: np.ndarray, parts: list[np.ndarray], num_classes: int) -> list[list[int]]:
    """How many samples of each class every client holds (one list per client)."""
    return [np.bincount(labels[part], minlength=num_classes).tolist() for part in parts]
