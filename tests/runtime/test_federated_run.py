"""The federated run kind end to end, and `deepwire federate` giving the same numbers."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import keras
import numpy as np
import pytest

from main import main
from runtime.events import RoundEnd, RunFailed, RunFinished
from runtime.federated.events import FederationPlanned
from runtime.runs import RunContext, RunRequest
from runtime.runs.local import execute_run, run_inline

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SMALL = "federated:\n  clients: 3\n  rounds: 2\n  centralized_baseline: false\n  seed: 7\n"


def graph_file(tmp_path: Path, extra: str = SMALL) -> Path:
    path = tmp_path / "fed.yaml"
    path.write_text((EXAMPLES / "mlp_digits.yaml").read_text() + extra)
    return path


def test_the_run_emits_rounds_and_returns_the_global_model(tmp_path):
    path = graph_file(tmp_path)
    events = []
    request = RunRequest("federated", path.read_text(), tmp_path)
    ended = run_inline(request, events.append)
    assert isinstance(ended, RunFinished), ended
    planned = [e for e in events if isinstance(e, FederationPlanned)]
    rounds = [e for e in events if isinstance(e, RoundEnd)]
    assert len(planned) == 1 and len(planned[0].class_counts) == 3
    assert [r.round for r in rounds] == [1, 2] and rounds[0].rounds == 2
    assert {"val_loss", "val_accuracy"} <= set(rounds[-1].logs)
    details = rounds[-1].details
    assert [c["client"] for c in details["clients"]] == [1, 2, 3]
    assert {"samples", "loss", "accuracy", "update_norm", "bytes_sent"} <= set(
        details["clients"][0]
    )
    assert details["class_counts"] == planned[0].class_counts
    outcome = ended.result
    assert outcome.result.history["val_loss"] == [r.logs["val_loss"] for r in rounds]
    from runtime.training_process import rebuild_model

    graph = request.graph()
    model = rebuild_model(graph, outcome.dataset, outcome.weights)
    accuracy = np.mean(
        np.argmax(model.predict(outcome.dataset.x_test, verbose=0), 1) == outcome.dataset.y_test
    )
    assert accuracy == pytest.approx(outcome.federated.test_logs["accuracy"], abs=1e-6)

    # The command line runs the same kind: same seed, same numbers.
    out = tmp_path / "cli"
    assert main(["federate", str(path), "-q", "-o", str(out)]) == 0
    report = json.loads((out / "federated.json").read_text())
    assert report["history"]["val_loss"] == pytest.approx(outcome.result.history["val_loss"])
    assert report["summary"]["test_accuracy"] == pytest.approx(
        outcome.federated.test_logs["accuracy"]
    )
    saved = keras.models.load_model(out / "model.keras")
    for mine, theirs in zip(saved.get_weights(), outcome.weights, strict=True):
        np.testing.assert_allclose(mine, theirs)
    # ... and records it in the run history, per round, with the global model's weights.
    # Its final metrics are the global model's test-split scores, said to be so.
    from runtime.run_store import (
        FINISHED,
        TEST_SPLIT,
        RunStore,
        default_store_folder,
        graph_key_for,
    )

    with RunStore.open(default_store_folder()) as store:
        (run,) = store.runs_of(graph_key_for(path))
    assert (run.kind, run.status) == ("federated", FINISHED)
    assert run.epochs["val_loss"] == pytest.approx(outcome.result.history["val_loss"])
    assert run.metrics_split == TEST_SPLIT
    assert run.final_metrics == pytest.approx(outcome.federated.test_logs)
    assert run.weights is not None


def test_bad_settings_fail_with_a_message_before_training(tmp_path):
    path = graph_file(tmp_path, "federated:\n  noise_multiplier: 1.0\n")
    events = []
    ended = run_inline(RunRequest("federated", path.read_text(), tmp_path), events.append)
    assert isinstance(ended, RunFailed)
    assert "noise_multiplier is 1 but clip_norm is not set" in ended.message
    assert not any(isinstance(e, (RoundEnd, FederationPlanned)) for e in events)


def test_cli_reports_bad_settings_in_one_line(tmp_path, capsys):
    path = graph_file(tmp_path)
    assert main(["federate", str(path), "--clients", "5000", "-o", str(tmp_path / "o")]) == 1
    error = capsys.readouterr().err
    assert "federated.clients is 5000 but the training split has only 1293 samples" in error
    assert "Traceback" not in error
    assert main(["federate", str(tmp_path / "missing.yaml")]) == 2
    mine = tmp_path / "mine"  # the user's own file where the model would go
    mine.mkdir()
    (mine / "model.keras").write_text("my notes")
    assert main(["federate", str(path), "-q", "-o", str(mine)]) == 2
    assert "model.keras: is a file this command did not write" in capsys.readouterr().err
    assert (mine / "model.keras").read_text() == "my notes"


def test_stop_after_the_first_round_keeps_that_round(tmp_path):
    path = graph_file(tmp_path, SMALL.replace("rounds: 2", "rounds: 4"))
    rounds = []
    first_round = threading.Event()

    def on_event(event):
        if isinstance(event, RoundEnd):
            rounds.append(event)
            context.pause()
            first_round.set()

    context = RunContext(on_event)
    request = RunRequest("federated", path.read_text(), tmp_path)
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(execute_run(request, context)))
    worker.start()
    assert first_round.wait(120)
    # Paused at the round boundary: nothing more happens until stop.
    worker.join(0.5)
    assert worker.is_alive() and len(rounds) == 1
    context.stop()
    worker.join(60)
    ended = outcome[0]
    assert isinstance(ended, RunFinished) and ended.stopped_by_user
    assert ended.result.federated.rounds_done == 1


def test_membership_command_scores_a_saved_model(tmp_path, capsys):
    path = graph_file(tmp_path)
    out = tmp_path / "cli"
    assert main(["federate", str(path), "-q", "-o", str(out)]) == 0
    capsys.readouterr()
    assert main(["membership", str(path), "--model", str(out / "model.keras")]) == 0
    printed = capsys.readouterr().out
    auc = float(printed.split("AUC: ")[1].split()[0])
    assert 0.3 < auc < 0.7  # two rounds of FedAvg do not memorise
    assert "coin flip" in printed
    assert main(["membership", str(path), "--model", str(tmp_path / "none.keras")]) == 2
    capsys.readouterr()
    garbage = tmp_path / "garbage.keras"
    garbage.write_bytes(b"\x00 not a zip" * 100)
    assert main(["membership", str(path), "--model", str(garbage)]) == 2
    assert "garbage.keras: not a readable Keras model file" in capsys.readouterr().err
    # a model of other samples is named as such, not as "not class probabilities"
    other = keras.Sequential([keras.Input((4,)), keras.layers.Dense(10, activation="softmax")])
    other.save(tmp_path / "other.keras")
    assert main(["membership", str(path), "--model", str(tmp_path / "other.keras")]) == 1
    assert "other.keras: the model does not fit the dataset" in capsys.readouterr().err


def test_membership_run_takes_weights_of_any_trained_model(tmp_path):
    path = graph_file(tmp_path)
    trained = run_inline(RunRequest("train", path.read_text(), tmp_path, {"epochs": 1}))
    assert isinstance(trained, RunFinished), trained
    ended = run_inline(
        RunRequest("membership", path.read_text(), tmp_path, {"weights": trained.result.weights})
    )
    assert isinstance(ended, RunFinished), ended
    assert 0.0 <= ended.result.auc <= 1.0 and ended.result.samples == 360


def test_the_command_partitions_a_csv_by_a_feature_column_or_by_its_target(tmp_path, capsys):
    from graph.files import graph_to_yaml
    from graph.model import SetSettings
    from runtime.data import load_dataset
    from tests.runtime.runtime_helpers import HOSPITALS, mlp, write_patients_csv

    write_patients_csv(tmp_path / "patients.csv")
    dataset = {"source": "csv", "path": "patients.csv", "target_column": "outcome"}
    graph = mlp(input_shape=(6,), units=2, hidden=8, dataset=dataset, epochs=1)
    federated = {"rounds": 1, "partition": "column", "centralized_baseline": False}
    train = load_dataset(graph.dataset, tmp_path)
    for column, clients in (("hospital", 3), ("outcome", 2), ("clinic", 2)):
        graph.apply(
            SetSettings("federated", {**federated, "clients": clients, "partition_column": column})
        )
        path = tmp_path / f"by_{column}.yaml"
        path.write_text(graph_to_yaml(graph))
        code = main(["federate", str(path), "-q", "-o", str(tmp_path / column)])
        if column == "clinic":
            assert code == 1
            error = capsys.readouterr().err
            assert "partition_column 'clinic' is not a column of the data" in error
            assert "Traceback" not in error
            continue
        assert code == 0, capsys.readouterr().err
        report = json.loads((tmp_path / column / "federated.json").read_text())
        if column == "hospital":  # one hospital per client, in sorted order
            hospital = np.argmax(train.x_train[:, 2:5], axis=1)
            assert report["client_sizes"] == [int(np.sum(hospital == i)) for i in range(3)]
            assert train.feature_names[2:5] == tuple(f"hospital={h}" for h in HOSPITALS)
        else:  # one class per client
            assert [sum(1 for n in c if n) for c in report["class_counts"]] == [1, 1]
        assert 0.0 <= report["summary"]["test_accuracy"] <= 1.0
