"""Hostile model files for `import` and `deploy --model`: refused with one clear message.

Devices, FIFOs and folders named like models; `.keras` zip bombs; model
configs nested 100,000 levels deep; a fuzz pass over mutated model configs
(hypothesis) in which every failure must be an ImportModelError with a short,
escaped message.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import keras
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.files import save_graph
from graph.input_files import MAX_FILE_MB_VARIABLE
from main import main
from runtime.importer import ImportModelError, import_model
from runtime.saving import save_keras_model
from tests.graph.test_input_files import zip_bomb
from tests.graph.test_messages import assert_quotes_briefly
from tests.runtime.runtime_helpers import mlp

ROOT = Path(__file__).resolve().parents[2]


def model_config() -> dict:
    inputs = keras.Input((4,), name="x")
    hidden = keras.layers.Dense(3, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.Dense(2, name="out")(hidden)
    model = keras.Model(inputs, outputs, name="small")
    return {"class_name": "Functional", "config": model.get_config()}


CONFIG = model_config()


def masked_model_config() -> dict:
    """A config holding the not_equal mask operation Keras records for mask_zero."""
    tokens = keras.Input((4,), dtype="int32", name="tokens")
    vectors = keras.layers.Embedding(10, 3, mask_zero=True, name="embedding")(tokens)
    model = keras.Model(tokens, keras.layers.LSTM(2, name="lstm")(vectors), name="masked")
    return {"class_name": "Functional", "config": model.get_config()}


MASKED_CONFIG = masked_model_config()


def special_models(folder: Path) -> dict[str, Path]:
    fifo = folder / "pipe.keras"
    os.mkfifo(fifo)
    (folder / "folder.keras").mkdir()
    (folder / "zero.keras").symlink_to("/dev/zero")
    (folder / "random.json").symlink_to("/dev/urandom")
    (folder / "zero.h5").symlink_to("/dev/zero")
    return {
        "a named pipe (FIFO)": fifo,
        "a folder": folder / "folder.keras",
        "a device": folder / "zero.keras",
        "a device ": folder / "random.json",
        "a device  ": folder / "zero.h5",
    }


def test_special_files_are_refused_by_import(tmp_path):
    for kind, path in special_models(tmp_path).items():
        started = time.monotonic()
        with pytest.raises(ImportModelError) as caught:
            import_model(path)
        assert f"is {kind.strip()}; expected a model" in str(caught.value)
        assert time.monotonic() - started < 5


def test_special_files_are_refused_by_deploy_without_hanging(tmp_path, capsys):
    graph = mlp(input_shape=(4,), units=3, hidden=8, dataset={"name": "iris"})
    save_graph(graph, tmp_path / "g.yaml")
    for kind, path in special_models(tmp_path).items():
        assert main(["deploy", str(tmp_path / "g.yaml"), "--model", str(path)]) == 2
        assert f"is {kind.strip()}; expected a model file" in capsys.readouterr().err


def test_a_keras_zip_bomb_is_refused_before_unpacking(tmp_path):
    bomb = tmp_path / "bomb.keras"
    zip_bomb(bomb, "config.json", 200)
    with pytest.raises(ImportModelError) as caught:
        import_model(bomb)
    message = str(caught.value)
    assert "config.json unpacked is 200.0 MB" in message and MAX_FILE_MB_VARIABLE in message


def nested(levels: int) -> str:
    return '{"class_name": "Sequential", "config": ' + '{"a": ' * levels + "1" + "}" * levels + "}"


def test_configs_nested_100000_levels_get_a_message(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text(nested(100_000))
    with pytest.raises(ImportModelError, match="nested too deeply"):
        import_model(deep)
    archive = tmp_path / "deep.keras"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as stream:
        stream.writestr("config.json", nested(100_000))
    with pytest.raises(ImportModelError, match="nested too deeply"):
        import_model(archive)


def test_models_nested_inside_models_hundreds_deep_get_a_message(tmp_path):
    config = CONFIG
    for level in range(250):
        config = {
            "class_name": "Sequential",
            "config": {"name": f"s{level}", "layers": [config], "build_input_shape": [None, 4]},
        }
    path = tmp_path / "russian_doll.json"
    path.write_text(json.dumps(config))
    started = time.monotonic()
    with pytest.raises(ImportModelError) as caught:
        import_model(path)
    assert_quotes_briefly(str(caught.value))
    assert time.monotonic() - started < 60


def test_import_command_reports_hostile_files_in_one_line(tmp_path, capsys):
    paths = list(special_models(tmp_path).values())
    deep = tmp_path / "deep.json"
    deep.write_text(nested(100_000))
    for path in paths:
        assert main(["import", str(path)]) == 1
        err = capsys.readouterr().err
        assert "Traceback" not in err
        assert err.startswith("error: ") and err.count("\n") == 1
    # One real process too: what a terminal shows, with nothing printed on the way out.
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "import", str(deep)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


# Fuzzing model configs ---------------------------------------------------------

HOSTILE_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(["\u202eevil", "x" * 100_000, "Lambda", "Dense", "__keras_tensor__"]),
    st.lists(st.integers(), max_size=4),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def _paths(value, prefix=()):
    """Every (path, value) in a JSON-like tree."""
    yield prefix, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


PATHS = [path for path, _ in _paths(CONFIG) if path]
MASKED_PATHS = [path for path, _ in _paths(MASKED_CONFIG) if path]


def _replaced(config, path, value):
    copy = json.loads(json.dumps(config))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.sampled_from(PATHS), HOSTILE_VALUES, st.sampled_from([".json", ".keras"]))
def test_mutated_model_configs_fail_only_with_short_import_errors(tmp_path, path, value, suffix):
    config = _replaced(CONFIG, path, value)
    text = json.dumps(config, allow_nan=True)
    model_path = tmp_path / f"fuzz{suffix}"
    if suffix == ".json":
        model_path.write_text(text)
    else:
        with zipfile.ZipFile(model_path, "w") as archive:
            archive.writestr("config.json", text)
            archive.writestr("metadata.json", json.dumps({"keras_version": keras.__version__}))
    try:
        import_model(model_path)
    except ImportModelError as error:
        assert_quotes_briefly(str(error).replace(str(model_path), "FILE"))


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.sampled_from(MASKED_PATHS), HOSTILE_VALUES)
def test_mutated_mask_operations_fail_only_with_short_import_errors(tmp_path, path, value):
    model_path = tmp_path / "masked.json"
    model_path.write_text(json.dumps(_replaced(MASKED_CONFIG, path, value), allow_nan=True))
    try:
        import_model(model_path)
    except ImportModelError as error:
        assert_quotes_briefly(str(error).replace(str(model_path), "FILE"))


def _without(config, path):
    copy = json.loads(json.dumps(config))
    target = copy
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    return copy


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(st.sampled_from(PATHS), min_size=1, max_size=3, unique=True))
def test_configs_missing_fields_fail_only_with_short_import_errors(tmp_path, paths):
    config = CONFIG
    for path in sorted(paths, key=len, reverse=True):
        try:
            config = _without(config, path)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier deletion removed its parent
    model_path = tmp_path / "missing.json"
    model_path.write_text(json.dumps(config))
    try:
        import_model(model_path)
    except ImportModelError as error:
        assert_quotes_briefly(str(error).replace(str(model_path), "FILE"))


def test_a_saved_model_still_imports(tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="d")])
    save_keras_model(model, tmp_path / "ok.keras")
    assert [node.name for node in import_model(tmp_path / "ok.keras").nodes][-1] == "d"
