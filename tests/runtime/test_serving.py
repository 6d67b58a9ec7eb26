"""`deepwire serve`: a real server on 127.0.0.1, real HTTP requests, clear 4xx answers."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import keras
import numpy as np
import pytest
import uvicorn
from hypothesis import given, settings
from hypothesis import strategies as st

from main import main
from runtime.serving import MAX_INSTANCES, Predictor, RequestError, create_app, load_predictor

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A folder like `deepwire train -o` writes: model.keras and metrics.json with class names."""
    folder = tmp_path_factory.mktemp("served")
    inputs = keras.Input((4,), name="features")
    outputs = keras.layers.Dense(3, activation="softmax")(keras.layers.Dense(8)(inputs))
    model = keras.Model(inputs, outputs)
    model.save(folder / "model.keras")
    metrics = {"test": {"class_names": ["setosa", "versicolor", "virginica"]}}
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(model_dir):
    """The app served by uvicorn on a random free port of 127.0.0.1, stopped at the end."""
    predictor = load_predictor(model_dir)
    port = free_port()
    config = uvicorn.Config(
        create_app(predictor, max_body_bytes=20_000), host="127.0.0.1", port=port, log_level="error"
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not instance.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert instance.started
    yield port, predictor
    instance.should_exit = True
    thread.join(10)


def request(port, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        connection.request(method, path, body=data, headers=headers or {})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def test_predictions_match_the_model_and_name_the_classes(server):
    port, predictor = server
    samples = np.random.default_rng(0).normal(size=(5, 4)).round(3)
    status, answer = request(port, "POST", "/predict", {"instances": samples.tolist()})
    assert status == 200
    expected = np.asarray(predictor.model(samples.astype("float32")))
    np.testing.assert_allclose(answer["predictions"], expected, rtol=1e-5, atol=1e-6)
    names = ["setosa", "versicolor", "virginica"]
    assert answer["classes"] == [names[i] for i in expected.argmax(axis=1)]


def test_health_and_metadata(server):
    port, _predictor = server
    assert request(port, "GET", "/health") == (200, {"status": "ok"})
    status, meta = request(port, "GET", "/metadata")
    assert status == 200
    assert meta["inputs"] == [{"name": "features", "shape": [4], "dtype": "float32"}]
    assert meta["outputs"] == [{"shape": [3]}]


@pytest.mark.parametrize(
    ("body", "status", "text"),
    [
        (b"{not json", 400, "malformed JSON"),
        (b'{"instances": [[NaN, 1, 2, 3]]}', 400, "NaN is not a JSON number"),
        (
            {"instances": [[1, 2, 3]]},
            422,
            "instance 0: input features takes shape [4]. Received: shape [3]",
        ),
        ({"instances": [[1, 2, 3, 4], [1, 2]]}, 422, "instance 1: input features takes shape [4]"),
        ({"instances": [[1, "a", 3, 4]]}, 422, "instance 0: not a rectangular list of numbers"),
        ({"instances": [[[1, 2], [3]]]}, 422, "not a rectangular list"),
        ({"instances": []}, 422, "non-empty list"),
        ({"samples": [[1, 2, 3, 4]]}, 422, '{"instances": [sample, ...]}'),
        ([1, 2, 3], 422, '{"instances": [sample, ...]}'),
        ({"instances": [[1e39, 0, 0, 0]]}, 422, "finite numbers"),
    ],
)
def test_bad_requests_get_a_clear_4xx(server, body, status, text):
    port, _predictor = server
    got, answer = request(port, "POST", "/predict", body, {"Content-Type": "application/json"})
    assert got == status
    assert text in answer["error"]


def test_oversized_bodies_are_refused_without_reading_them(server):
    port, _predictor = server
    body = json.dumps({"instances": [[0.0, 0.0, 0.0, 0.0]] * 2000}).encode()
    status, answer = request(port, "POST", "/predict", body)
    assert status == 413
    assert "request body over 20,000 bytes" in answer["error"]
    # A chunked body with no declared length is cut off at the limit too.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(
        "POST",
        "/predict",
        body=iter([body[i : i + 4096] for i in range(0, len(body), 4096)]),
        encode_chunked=True,
    )
    response = connection.getresponse()
    assert response.status == 413
    connection.close()


def test_too_many_instances_are_refused():
    inputs = keras.Input((1,))
    predictor = Predictor(keras.Model(inputs, keras.layers.Dense(1)(inputs)))
    with pytest.raises(RequestError) as caught:
        predictor.arrays({"instances": [[0.0]] * (MAX_INSTANCES + 1)})
    assert caught.value.status == 413


def test_a_model_with_two_inputs_takes_named_samples():
    left, right = keras.Input((2,), name="left"), keras.Input((3,), name="right")
    merged = keras.layers.Concatenate()([left, right])
    predictor = Predictor(keras.Model([left, right], keras.layers.Dense(1)(merged)))
    arrays = predictor.arrays({"instances": [{"left": [1, 2], "right": [3, 4, 5]}]})
    assert [a.shape for a in arrays] == [(1, 2), (1, 3)]
    assert len(predictor.predict(arrays)["predictions"]) == 1
    with pytest.raises(RequestError, match="exactly these keys"):
        predictor.arrays({"instances": [{"left": [1, 2]}]})


json_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.floats(allow_nan=False), st.integers(), st.text(max_size=3)
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=20,
)


def two_feature_predictor() -> Predictor:
    inputs = keras.Input((2,))
    return Predictor(keras.Model(inputs, keras.layers.Dense(1)(inputs)))


FUZZ_PREDICTOR = two_feature_predictor()


def text_predictor() -> Predictor:
    """A model that reads raw text: a string Input into a TextVectorization."""
    texts = keras.Input((1,), dtype="string", name="review")
    words = keras.layers.TextVectorization(vocabulary=["dull", "great"], output_mode="count")
    return Predictor(keras.Model(texts, keras.layers.Dense(2)(words(texts))), ["bad", "good"])


TEXT_PREDICTOR = text_predictor()


def test_a_model_that_reads_text_takes_texts_and_refuses_numbers():
    predictor = TEXT_PREDICTOR
    assert predictor.metadata()["inputs"] == [{"name": "review", "shape": [1], "dtype": "string"}]
    arrays = predictor.arrays({"instances": [["a dull plot"], "a great film"]})  # or bare
    expected = predictor.model(np.array([["a dull plot"], ["a great film"]], dtype=object))
    answer = predictor.predict(arrays)
    np.testing.assert_allclose(answer["predictions"], np.asarray(expected), rtol=1e-6)
    assert len(answer["classes"]) == 2
    for sample in ([1.5], [None], ["a", "b"], [["a"]], 3, {"review": "a"}):
        with pytest.raises(RequestError, match=r'input review takes text: send \["a text"\]'):
            predictor.arrays({"instances": [["fine"], sample]})


@pytest.mark.parametrize(
    ("predictor", "sample_shape"), [(FUZZ_PREDICTOR, (2,)), (TEXT_PREDICTOR, (1,))]
)
@given(payload=st.one_of(json_values, st.fixed_dictionaries({"instances": json_values})))
@settings(max_examples=200, deadline=None)
def test_any_json_is_predicted_or_refused_with_a_4xx(predictor, sample_shape, payload):
    try:
        arrays = predictor.arrays(payload)
    except RequestError as error:
        assert 400 <= error.status < 500 and str(error)
    else:
        assert arrays[0].shape[1:] == sample_shape
        assert len(predictor.predict(arrays)["predictions"]) == len(arrays[0])


def test_the_serve_command_refuses_a_folder_without_a_model(tmp_path, capsys):
    assert main(["serve", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "expected one .keras model (model.keras) in the folder. Found: none" in err
    assert main(["serve", str(tmp_path / "missing")]) == 2
    assert "missing: no such file or folder" in capsys.readouterr().err
    (tmp_path / "garbage.keras").write_bytes(b"\x00 not a zip" * 100)
    assert main(["serve", str(tmp_path / "garbage.keras")]) == 2
    assert "garbage.keras: not a readable Keras model file" in capsys.readouterr().err


def test_the_serve_command_listens_on_loopback(model_dir):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "serve", str(model_dir), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                status, answer = request(port, "GET", "/health")
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("the server did not start")
        assert (status, answer) == (200, {"status": "ok"})
        status, answer = request(port, "POST", "/predict", {"instances": [[0, 0, 0, 0]]})
        assert status == 200 and len(answer["predictions"][0]) == 3
    finally:
        process.terminate()
        process.wait(30)
