"""Model import: real architectures round-trip exactly; anything else gets a clear message."""

import json
from pathlib import Path

import keras
import numpy as np
import pytest

from graph.catalog import CATALOG
from graph.layout import COLUMN_SPACING
from graph.validation import ERROR, validate
from runtime.builder import build_model
from runtime.importer import ImportModelError, import_model, transfer_weights


def missing_types(model: keras.Model) -> list[str]:
    """Layer classes of `model` (nested included) that the catalog lacks."""
    found = set()
    for layer in flat_layers(model):
        classes = [type(layer).__name__]
        if isinstance(layer, keras.layers.Wrapper):
            classes.append(type(layer.layer).__name__)
        found |= {name for name in classes if name not in CATALOG and name != "InputLayer"}
    return sorted(found)


def require_catalog(model: keras.Model) -> None:
    gaps = missing_types(model)
    if gaps:
        pytest.skip(f"catalog lacks {', '.join(gaps)} (reported to the lead)")


def comparable(config):
    """A layer config without its name and with lists and tuples alike."""
    if isinstance(config, dict):
        return {k: comparable(v) for k, v in config.items() if k != "name"}
    if isinstance(config, (list, tuple)):
        return [comparable(v) for v in config]
    return config


def flat_layers(model: keras.Model) -> list:
    layers = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            layers += [
                inner for inner in flat_layers(layer) if type(inner).__name__ != "InputLayer"
            ]
        else:
            layers.append(layer)
    return layers


def assert_round_trip(original: keras.Model, inputs) -> keras.Model:
    """import -> graph -> builder gives the same layers, configs, counts and outputs."""
    graph = import_model(original)
    assert not [p for p in validate(graph) if p.severity == ERROR]
    rebuilt = build_model(graph)
    expected = {layer.name: layer for layer in flat_layers(original)}
    actual = {layer.name: layer for layer in rebuilt.layers}
    assert set(actual) - {n.name for n in graph.input_nodes()} <= set(expected)
    for name, layer in actual.items():
        if name not in expected:
            continue  # a Sequential model's implicit input
        assert type(layer) is type(expected[name]), name
        assert comparable(layer.get_config()) == comparable(expected[name].get_config()), name
    assert rebuilt.count_params() == original.count_params()
    transfer_weights(original, rebuilt)
    # Eager calls: tracing predict's tf.function costs seconds on big models.
    numpy = keras.ops.convert_to_numpy
    want = keras.tree.map_structure(numpy, original(inputs, training=False))
    got = keras.tree.map_structure(numpy, rebuilt(inputs, training=False))
    for a, b in zip(_as_list(got), _as_list(want), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    return rebuilt


def _as_list(value):
    return value if isinstance(value, list) else [value]


def images(count=2, size=32, channels=3):
    return np.random.default_rng(0).normal(size=(count, size, size, channels)).astype("float32")


# Real architectures -----------------------------------------------------------------


def test_resnet50_round_trips():
    model = keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3), classes=10)
    require_catalog(model)
    assert_round_trip(model, images())


def test_mobilenet_v2_round_trips():
    model = keras.applications.MobileNetV2(
        weights=None, input_shape=(32, 32, 3), classes=10, alpha=0.35
    )
    require_catalog(model)
    assert_round_trip(model, images())


def test_lstm_text_classifier_round_trips():
    tokens = keras.Input((12,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(50, 8, name="embedding")(tokens)
    x = keras.layers.Bidirectional(keras.layers.LSTM(6, return_sequences=True), name="bi")(x)
    x = keras.layers.GRU(4, name="gru")(x)
    out = keras.layers.Dense(1, activation="sigmoid", name="score")(x)
    model = keras.Model(tokens, out, name="sentiment")
    require_catalog(model)
    assert_round_trip(model, np.random.default_rng(1).integers(0, 50, (3, 12)).astype("int32"))


def test_masked_sequence_models_round_trip_without_keras_recorded_mask_operations():
    """Keras saves an Embedding's mask_zero mask and a Masking layer's mask as not_equal
    (and any) operations passed on as mask=; the rebuilt model makes them itself."""
    tokens = keras.Input((6,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(20, 4, mask_zero=True, name="embedding")(tokens)
    x = keras.layers.Dense(3, name="dense")(x)  # the mask passes through to the LSTM
    embedded = keras.Model(tokens, keras.layers.LSTM(5, name="lstm")(x))
    assert "NotEqual" in {layer["class_name"] for layer in embedded.get_config()["layers"]}
    padded = np.array([[3, 4, 0, 0, 0, 0], [5, 6, 7, 8, 9, 1]], dtype="int32")
    assert_round_trip(embedded, padded)
    steps = keras.Input((5, 3), name="steps")
    x = keras.layers.Masking(mask_value=-1.0, name="masking")(steps)
    masked = keras.Model(steps, keras.layers.GRU(4, name="gru")(x))
    series = np.random.default_rng(2).normal(size=(2, 5, 3)).astype("float32")
    series[0, 3:] = -1.0  # the last two steps of the first series are padding
    assert_round_trip(masked, series)


@pytest.mark.parametrize("compared", [1, None])
def test_a_mask_the_layers_would_not_make_again_is_still_refused(compared):
    tokens = keras.Input((6,), dtype="int32", name="tokens")
    mask_zero = compared is not None  # an Embedding that masks 0, or one that masks nothing
    x = keras.layers.Embedding(20, 4, mask_zero=mask_zero, name="embedding")(tokens)
    own = keras.ops.not_equal(tokens, compared if mask_zero else 0)
    model = keras.Model(tokens, keras.layers.LSTM(5, name="lstm")(x, mask=own))
    with pytest.raises(ImportModelError, match="keras.ops operation"):
        import_model(model)


def test_an_adapted_text_model_imports_from_its_file(tmp_path):
    from graph.files import load_graph
    from runtime.data import load_dataset
    from runtime.trainer import adapt_normalization

    examples = Path(__file__).resolve().parents[2] / "examples"
    graph = load_graph(examples / "text_sentiment.yaml")
    graph.settings["dataset"]["samples"] = 200
    model = build_model(graph)
    adapt_normalization(model, load_dataset(graph.dataset, examples).x_train)
    model.save(tmp_path / "text.keras")  # its config reports the vocabulary's size
    imported = import_model(tmp_path / "text.keras")
    by_name = {node.name: node for node in imported.nodes}
    assert [(n.name, n.type) for n in imported.nodes] == [(n.name, n.type) for n in graph.nodes]
    for node in graph.nodes:  # the Bidirectional's LSTM comes back with every default
        if node.type != "Bidirectional":
            assert by_name[node.name].params == node.params, node.name


def test_conv_autoencoder_round_trips():
    source = keras.Input((16, 16, 1), name="image")
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(source)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    x = keras.layers.UpSampling2D()(x)
    out = keras.layers.Conv2D(1, 3, padding="same", activation="sigmoid", name="restored")(x)
    model = keras.Model(source, out, name="autoencoder")
    require_catalog(model)
    assert_round_trip(model, images(size=16, channels=1))


def test_multi_input_multi_output_keeps_order():
    a = keras.Input((8,), name="a")
    b = keras.Input((4,), name="b")
    h = keras.layers.Concatenate(name="joined")([b, a])
    h = keras.layers.Dense(6, activation="relu", kernel_regularizer="l2", name="hidden")(h)
    second = keras.layers.Dense(1, name="second")(h)
    first = keras.layers.Dense(3, activation="softmax", name="first")(h)
    model = keras.Model([a, b], [first, second], name="two_heads")
    graph = import_model(model)
    assert [n.name for n in graph.input_nodes()] == ["a", "b"]
    assert [n.name for n in graph.output_nodes()] == ["first", "second"]
    assert graph.node(graph.find("hidden").id).params["kernel_regularizer"] == {
        "l1": 0.0,
        "l2": 0.01,
    }
    rng = np.random.default_rng(2)
    inputs = [rng.normal(size=(3, 8)).astype("float32"), rng.normal(size=(3, 4)).astype("float32")]
    assert_round_trip(model, inputs)


def test_sequential_model_gets_an_input_node():
    model = keras.Sequential(
        [keras.Input((10,)), keras.layers.Dense(5, activation="tanh"), keras.layers.Dense(2)],
        name="seq",
    )
    graph = import_model(model)
    assert [n.type for n in graph.nodes] == ["Input", "Dense", "Dense"]
    assert graph.name == "seq"
    assert_round_trip(model, np.ones((2, 10), dtype="float32"))


def test_nested_models_are_flattened():
    encoder = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(4, name="enc_dense")], name="encoder"
    )
    inner_in = keras.Input((4,), name="inner_in")
    inner = keras.Model(inner_in, keras.layers.Dense(3, name="inner_dense")(inner_in), name="head")
    source = keras.Input((6,), name="features")
    out = keras.layers.Activation("softmax", name="probabilities")(inner(encoder(source)))
    model = keras.Model(source, out, name="nested")
    graph = import_model(model)
    assert [n.name for n in graph.nodes] == [
        "features",
        "enc_dense",
        "inner_dense",
        "probabilities",
    ]
    assert_round_trip(model, np.ones((2, 6), dtype="float32"))


def test_layout_is_layered_left_to_right():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.Dense(1)])
    graph = import_model(model)
    assert [n.position[0] for n in graph.nodes] == [0, COLUMN_SPACING, 2 * COLUMN_SPACING]


# Files ----------------------------------------------------------------------------------


def small_model():
    source = keras.Input((5,), name="x")
    hidden = keras.layers.Dense(4, activation="relu", name="hidden")(source)
    return keras.Model(source, keras.layers.Dense(2, name="out")(hidden), name="small")


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_saved_files_import_with_their_weights(tmp_path, suffix):
    model = small_model()
    path = tmp_path / f"small{suffix}"
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False)
    graph = import_model(path)
    assert [n.name for n in graph.nodes] == ["x", "hidden", "out"]
    assert_round_trip(loaded, np.ones((2, 5), dtype="float32"))


def test_json_config_imports(tmp_path):
    path = tmp_path / "small.json"
    path.write_text(small_model().to_json())
    graph = import_model(path)
    assert [n.type for n in graph.nodes] == ["Input", "Dense", "Dense"]
    assert graph.find("hidden").params["activation"] == "relu"


# Clear refusals -----------------------------------------------------------------------


def test_lambda_layer_is_refused_before_loading(tmp_path):
    source = keras.Input((3,), name="x")
    out = keras.layers.Lambda(lambda t: t * 2, name="doubler")(source)
    model = keras.Model(source, out)
    with pytest.raises(ImportModelError, match=r"doubler \(Lambda\): Lambda layers hold Python"):
        import_model(model)
    path = tmp_path / "lambda.keras"
    model.save(path)
    with pytest.raises(ImportModelError, match=r"lambda.keras: doubler \(Lambda\)"):
        import_model(path)


@keras.saving.register_keras_serializable(package="tests")
class Doubler(keras.layers.Layer):
    def call(self, inputs):
        return inputs * 2


def test_custom_layer_class_is_refused(tmp_path):
    source = keras.Input((3,), name="x")
    model = keras.Model(source, Doubler(name="twice")(source))
    with pytest.raises(ImportModelError, match=r"twice \(Doubler\): layer type Doubler is not in"):
        import_model(model)
    path = tmp_path / "custom.keras"
    model.save(path)
    with pytest.raises(ImportModelError, match=r"custom class from"):
        import_model(path)


def test_unsupported_parameter_is_named():
    source = keras.Input((3,), name="x")
    layer = keras.layers.Dense(2, kernel_initializer=keras.initializers.Identity(), name="odd")
    model = keras.Model(source, layer(source))
    with pytest.raises(
        ImportModelError, match=r"odd \(Dense\): kernel_initializer: initializer Identity"
    ):
        import_model(model)


def test_initializers_regularizers_and_constraints_with_arguments_import(tmp_path):
    source = keras.Input((3,), name="x")
    layer = keras.layers.Dense(
        2,
        kernel_initializer=keras.initializers.VarianceScaling(2.0, "fan_out", "uniform", seed=5),
        kernel_regularizer=keras.regularizers.L1L2(l1=0.01, l2=0.001),
        kernel_constraint=keras.constraints.MaxNorm(2.5, axis=[0, 1]),
        bias_constraint=keras.constraints.NonNeg(),
        name="capped",
    )
    model = keras.Model(source, layer(source))
    path = tmp_path / "capped.keras"
    model.save(path)
    graph = import_model(path)
    params = graph.find("capped").params
    assert params["kernel_initializer"] == {
        "class": "VarianceScaling",
        "config": {"scale": 2.0, "mode": "fan_out", "distribution": "uniform", "seed": 5},
    }
    assert params["kernel_regularizer"] == {"l1": 0.01, "l2": 0.001}
    assert params["kernel_constraint"] == {
        "class": "MaxNorm",
        "config": {"max_value": 2.5, "axis": (0, 1)},
    }
    assert params["bias_constraint"] == "non_neg"
    assert_round_trip(model, np.ones((2, 3), dtype="float32"))


def test_shared_layer_is_refused():
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    shared = keras.layers.Dense(2, name="shared")
    model = keras.Model([a, b], keras.layers.Add()([shared(a), shared(b)]))
    with pytest.raises(ImportModelError, match=r"shared \(Dense\): the layer is called 2 times"):
        import_model(model)


def test_subclassed_model_is_refused():
    class Tiny(keras.Model):
        def __init__(self):
            super().__init__(name="tiny")
            self.dense = keras.layers.Dense(2)

        def call(self, inputs):
            return self.dense(inputs)

    with pytest.raises(ImportModelError, match=r"tiny \(Tiny\): a subclassed model"):
        import_model(Tiny())


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("model.txt", b"", r"expected a \.keras, \.h5 or \.json model file"),
        ("broken.keras", b"not a zip", r"broken.keras: not a readable Keras model file"),
        ("broken.json", b"{nope", r"broken.json: not a readable Keras model file"),
        ("list.json", json.dumps([1, 2]).encode(), r"list.json: not a Keras model config"),
        ("broken.h5", b"\x89HDF junk", r"broken.h5: not a readable Keras model file"),
    ],
)
def test_bad_files_get_clear_messages(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportModelError, match=message):
        import_model(path)


def test_missing_file(tmp_path):
    with pytest.raises(ImportModelError, match="file not found"):
        import_model(tmp_path / "absent.keras")


def test_densenet121_with_400_layers_round_trips():
    model = keras.applications.DenseNet121(weights=None, input_shape=(32, 32, 3), classes=10)
    assert len(model.layers) > 400
    require_catalog(model)
    graph_model = assert_round_trip(model, images())
    assert len(graph_model.layers) == len(model.layers)


def test_attention_model_keeps_query_value_key_ports():
    query = keras.Input((5, 8), name="query")
    value = keras.Input((7, 8), name="value")
    with_key = keras.layers.MultiHeadAttention(2, 4, name="mha")(query, value, key=value)
    by_keyword = keras.layers.MultiHeadAttention(2, 4, name="mha_kw")(value=value, query=query)
    scored = keras.layers.Attention(name="dot_attention")([query, value])
    summed = keras.layers.Add(name="sum")([with_key, by_keyword, scored])
    per_step = keras.layers.TimeDistributed(keras.layers.Dense(3), name="per_step")(summed)
    model = keras.Model([query, value], per_step, name="attention")
    require_catalog(model)
    graph = import_model(model)
    sources = {
        node.name: [graph.node(edge.source).name for edge in graph.in_edges(node.id)]
        for node in graph.nodes
    }
    assert sources["mha"] == ["query", "value", "value"]
    assert sources["mha_kw"] == ["query", "value"]
    assert sources["dot_attention"] == ["query", "value"]
    rng = np.random.default_rng(3)
    inputs = [rng.normal(size=(2, 5, 8)).astype("float32"), rng.normal(size=(2, 7, 8))]
    assert_round_trip(model, [inputs[0], inputs[1].astype("float32")])
