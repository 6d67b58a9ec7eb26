"""Federated parts without training: partitions, aggregation, clipping, privacy accounting."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.data import load_dataset
from runtime.federated import aggregation
from runtime.federated.accounting import epsilon
from runtime.federated.errors import FederatedSettingsError
from runtime.federated.partition import column_groups, partition_dirichlet, partition_iid
from runtime.federated.plan import plan_federation
from tests.runtime.runtime_helpers import HOSPITALS, tiny_dataset, write_patients_csv


@pytest.fixture(scope="module")
def digits():
    return load_dataset({"source": "builtin", "name": "digits"})


def test_weighted_average_weights_clients_by_their_samples():
    first = [np.array([0.0, 10.0], dtype="float32"), np.array([[1.0]], dtype="float32")]
    second = [np.array([4.0, 2.0], dtype="float32"), np.array([[5.0]], dtype="float32")]
    average = aggregation.weighted_average([first, second], [3, 1])
    np.testing.assert_allclose(average[0], [1.0, 8.0])
    np.testing.assert_allclose(average[1], [[2.0]])
    assert average[0].dtype == np.float32


def test_weighted_average_refuses_mismatched_counts():
    with pytest.raises(ValueError, match="one sample count per model. Received: 1 models, 2"):
        aggregation.weighted_average([[np.zeros(2)]], [1, 2])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=12),
    st.floats(1e-3, 100.0),
)
def test_clipping_bounds_the_update_norm_and_keeps_small_ones(values, clip):
    update = [np.array(values, dtype="float64"), np.array([[3.0, -4.0]])]
    clipped = aggregation.clip_update(update, clip)
    norm = aggregation.global_norm(update)
    assert aggregation.global_norm(clipped) <= clip * (1 + 1e-9)
    if norm <= clip:
        assert all(np.array_equal(a, b) for a, b in zip(clipped, update, strict=True))
    else:
        # Clipping scales the whole update: its direction is kept.
        ratio = clipped[1] / update[1]
        np.testing.assert_allclose(ratio, ratio.flat[0])


def test_noisy_mean_without_noise_is_the_mean_of_clipped_updates():
    rng = np.random.default_rng(0)
    big, small = [np.array([30.0, 40.0])], [np.array([0.3, 0.4])]
    mean = aggregation.noisy_mean([big, small], clip_norm=1.0, noise_multiplier=0.0, rng=rng)
    np.testing.assert_allclose(mean[0], [(0.6 + 0.3) / 2, (0.8 + 0.4) / 2])
    noisy = aggregation.noisy_mean([big, small], 1.0, 5.0, np.random.default_rng(0))
    assert not np.allclose(noisy[0], mean[0])


def test_epsilon_grows_with_rounds_and_shrinks_with_noise():
    for accountant in ("rdp", "pld"):
        by_round = [epsilon(1.0, 0.2, rounds, 1e-5, accountant) for rounds in (1, 5, 20)]
        assert by_round[0] < by_round[1] < by_round[2]
        by_noise = [epsilon(noise, 0.2, 10, 1e-5, accountant) for noise in (0.8, 1.5, 4.0)]
        assert by_noise[0] > by_noise[1] > by_noise[2]
    assert epsilon(0.0, 0.2, 10, 1e-5) == float("inf")


def test_iid_parts_cover_every_sample_once():
    parts = partition_iid(103, 4, np.random.default_rng(1))
    assert sorted(np.concatenate(parts).tolist()) == list(range(103))
    assert {len(p) for p in parts} <= {25, 26}


def test_dirichlet_small_alpha_skews_class_counts(digits):
    plan = plan_federation(
        {"clients": 10, "partition": "dirichlet", "alpha": 0.1, "seed": 3}, digits
    )
    counts = np.array(plan.class_counts)
    iid = np.array(plan_federation({"clients": 10, "partition": "iid"}, digits).class_counts)
    assert counts.sum() == len(digits.x_train)

    def dominant_share(table):
        return float(np.mean(table.max(axis=1) / table.sum(axis=1)))

    # With alpha=0.1 a client's largest class is most of its data; iid stays near 1/10.
    assert dominant_share(counts) > 0.4
    assert dominant_share(iid) < 0.2
    assert (counts == 0).sum() > 20


def test_dirichlet_refuses_alpha_zero():
    with pytest.raises(FederatedSettingsError, match="alpha must be > 0. Received: 0"):
        partition_dirichlet(np.array([0, 1, 0, 1]), 2, 0.0, np.random.default_rng(0))


def test_column_partition_keeps_groups_together():
    x = np.array([[0.5, 1], [0.1, 2], [0.7, 1], [0.2, 3], [0.9, 2]], dtype="float32")
    data = tiny_dataset(x, [0, 1, 0, 1, 0])
    data.feature_names = ("score", "hospital")
    plan = plan_federation(
        {"clients": 3, "partition": "column", "partition_column": "hospital"}, data
    )
    assert [p.tolist() for p in plan.parts] == [[0, 2], [1, 4], [3]]


def test_column_groups_read_one_hot_text_columns():
    x = np.array([[1, 0, 5], [0, 1, 6], [1, 0, 7]], dtype="float32")
    names = ("site=a", "site=b", "age")
    assert column_groups(x, names, "site").tolist() == [0, 1, 0]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"clients": 5000}, "clients is 5000 but the training split has only 1293 samples"),
        (
            {"clients": 4, "clients_per_round": 5},
            r"clients_per_round \(5\) is more than federated.clients \(4\)",
        ),
        ({"alpha": 0.0, "partition": "dirichlet"}, "federated: alpha must be >= 1e-06"),
        (
            {"partition": "column", "partition_column": "hospital"},
            "partition_column 'hospital' is not a column of the data. Feature columns: pixel",
        ),
        ({"partition": "column"}, "partition_column is empty"),
        (
            {"noise_multiplier": 1.0},
            "noise_multiplier is 1 but clip_norm is not set",
        ),
        (
            {"clients": 100, "partition": "dirichlet", "alpha": 0.01},
            "a client has no data after a Dirichlet split with alpha=0.01",
        ),
    ],
)
def test_bad_settings_get_clear_messages(digits, settings, message):
    with pytest.raises(FederatedSettingsError, match=message):
        plan_federation(settings, digits)


def test_column_partition_with_too_few_values_names_the_empty_client():
    data = tiny_dataset(np.array([[0, 1], [1, 1], [2, 2]]), [0, 1, 0])
    data.feature_names = ("x", "site")
    with pytest.raises(FederatedSettingsError, match="client 3 would have no data"):
        plan_federation(
            {
                "clients": 3,
                "clients_per_round": 3,
                "partition": "column",
                "partition_column": "site",
            },
            data,
        )


@settings(max_examples=30, deadline=None)
@given(
    clients=st.integers(-3, 40),
    per_round=st.integers(-3, 40),
    partition=st.sampled_from(["iid", "dirichlet", "column", "other"]),
    alpha=st.one_of(st.floats(-1, 5), st.just(float("nan"))),
    noise=st.floats(-1, 3),
    clip=st.one_of(st.none(), st.floats(-1, 3)),
)
def test_fuzzed_settings_give_a_plan_or_a_clear_error(
    clients, per_round, partition, alpha, noise, clip
):
    data = tiny_dataset(np.arange(60).reshape(30, 2), [0, 1, 2] * 10, classes=3)
    settings_ = {
        "clients": clients,
        "clients_per_round": per_round,
        "partition": partition,
        "alpha": alpha,
        "noise_multiplier": noise,
        "clip_norm": clip,
        "partition_column": "f1",
    }
    try:
        plan = plan_federation(settings_, data)
    except FederatedSettingsError as error:
        assert str(error) and "Traceback" not in str(error)
        return
    assert sorted(np.concatenate(plan.parts).tolist()) == list(range(30))
    assert all(len(part) for part in plan.parts)


@pytest.mark.parametrize(
    ("column", "clients", "group_of"),
    [
        # a text feature (one-hot encoded), a numeric feature, and the target (not a feature)
        ("hospital", 3, lambda data: np.argmax(data.x_train[:, 2:5], axis=1)),
        ("site", 2, lambda data: data.x_train[:, 5]),
        ("outcome", 2, lambda data: data.y_train),
    ],
)
def test_a_csv_column_keeps_its_rows_together_feature_or_target(
    tmp_path, column, clients, group_of
):
    write_patients_csv(tmp_path / "patients.csv")
    data = load_dataset(
        {"source": "csv", "path": "patients.csv", "target_column": "outcome"}, tmp_path
    )
    assert data.feature_names[:6] == (
        "age",
        "pressure",
        *(f"hospital={h}" for h in HOSPITALS),
        "site",
    )
    plan = plan_federation(
        {"clients": clients, "partition": "column", "partition_column": column}, data
    )
    groups = group_of(data)
    owners = [set(groups[part].tolist()) for part in plan.parts]
    assert all(owners) and sum(len(o) for o in owners) == len(np.unique(groups))
    assert set.union(*owners) == set(groups.tolist())  # each value with exactly one client
    if column == "outcome":  # each client holds one whole class
        assert all(sum(1 for n in counts if n) == 1 for counts in plan.class_counts)


def test_a_missing_csv_column_is_named_with_the_columns_there_are(tmp_path):
    write_patients_csv(tmp_path / "patients.csv")
    data = load_dataset(
        {"source": "csv", "path": "patients.csv", "target_column": "outcome"}, tmp_path
    )
    with pytest.raises(FederatedSettingsError) as error:
        plan_federation({"partition": "column", "partition_column": "clinic"}, data)
    assert str(error.value) == (
        "partition_column 'clinic' is not a column of the data. Feature columns: age, "
        "pressure, hospital, site; target column: outcome"
    )
