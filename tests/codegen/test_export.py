"""Code export: formatted, ruff-clean, deterministic, injection-proof and equivalent.

Equivalence: executing the exported `build_model()` gives the model the app's
builder gives (layer classes, names, output shapes, parameter counts, configs)
and, with the builder's weights copied in by name, identical outputs.
"""

import ast
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codegen.literals import identifier
from codegen.model_code import ExportError
from codegen.python_source import export_model_code, export_training_script
from graph.catalog import CATALOG
from graph.files import load_graph
from graph.generators import branched_graph, chain_graph
from graph.model import NetworkGraph
from graph.settings import dataset_path
from graph.shapes import ShapeAnalysis
from graph.wiring import model_name, topological_nodes
from runtime.builder import build_model

ROOT = Path(__file__).parents[2]
RUFF = str(Path(sys.executable).with_name("ruff"))
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
HOSTILE = [
    'a"b',
    "a'b",
    "x\ny",
    "back\\slash\\",
    "__import__('os').system('echo pwned')",
    '"); import os; os.system("x"); ("',
    "'''\n\"\"\"",
    "caf\u00e9 \u4e2d\u6587 \U0001f600",
    "\u202eevil\u202c",
    "\t tab\r\n",
    "x" * 150,
    "with spaces " * 12,
    "1leading digit",
    "class",
    "keras",
    "build_model",
]


def ruff_problems(source: str) -> str:
    """Ruff's complaints (format and lint, project config); empty when clean."""
    config = ["--config", str(ROOT / "pyproject.toml")]
    fmt = subprocess.run(
        [RUFF, "format", "--check", "--diff", *config, "--stdin-filename", "export.py", "-"],
        input=source,
        capture_output=True,
        text=True,
    )
    lint = subprocess.run(
        [RUFF, "check", "--no-cache", *config, "--stdin-filename", "export.py", "-"],
        input=source,
        capture_output=True,
        text=True,
    )
    problems = ""
    if fmt.returncode:
        problems += fmt.stdout + fmt.stderr
    if lint.returncode:
        problems += lint.stdout + lint.stderr
    return problems


def hostile_graph(names: list[str], model_name: str) -> NetworkGraph:
    """Input -> Dense -> ... -> Dense named `names` (the first is the Input)."""
    graph = NetworkGraph(model_name)
    previous = graph.add_node("Input", names[0], {"shape": [3]})
    for name in names[1:]:
        node = graph.add_node("Dense", name, {"units": 2})
        graph.connect(previous.id, node.id)
        previous = node
    return graph


def exported_model(source: str) -> keras.Model:
    namespace = {"__name__": "exported"}
    exec(compile(source, "<exported>", "exec"), namespace)
    return namespace["build_model"]()


# Formatting and determinism ----------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_export_ruff_clean(path):
    graph = load_graph(path)
    for source in (export_model_code(graph), export_training_script(graph)):
        ast.parse(source)
        assert ruff_problems(source) == ""


def test_generated_graphs_export_ruff_clean():
    for graph in (chain_graph(400), branched_graph(60)):
        assert ruff_problems(export_model_code(graph)) == ""


def test_export_is_deterministic():
    graph = branched_graph(30)
    first = export_model_code(graph)
    assert export_model_code(graph.copy()) == first
    assert export_model_code(load_graph(EXAMPLES[0])) == export_model_code(load_graph(EXAMPLES[0]))


def test_model_code_reads_like_hand_written_keras():
    graph = load_graph(ROOT / "examples" / "mlp_digits.yaml")
    source = export_model_code(graph)
    assert "import keras\n" in source
    assert "def build_model():" in source
    assert 'keras.Input(shape=(64,), name="input_1")' in source
    assert 'keras.layers.Dense(units=10, activation="softmax", name=' in source
    assert "return keras.Model(inputs=input_1, outputs=" in source


def test_regularizers_follow_the_factory_rule():
    graph = NetworkGraph()
    source = graph.add_node("Input", "x", {"shape": [4]})
    only_l2 = graph.add_node("Dense", "only_l2", {"kernel_regularizer": {"l1": 0, "l2": 0.01}})
    only_l1 = graph.add_node("Dense", "only_l1", {"kernel_regularizer": {"l1": 0.02}})
    both = graph.add_node("Dense", "both", {"bias_regularizer": {"l1": 0.1, "l2": 0.2}})
    for node in (only_l2, only_l1, both):
        graph.connect(source.id, node.id)
    code = export_model_code(graph)
    assert "kernel_regularizer=keras.regularizers.L2(0.01)" in code
    assert "kernel_regularizer=keras.regularizers.L1(0.02)" in code
    assert "bias_regularizer=keras.regularizers.L1L2(l1=0.1, l2=0.2)" in code


def test_invalid_graph_is_refused_with_its_problems():
    graph = NetworkGraph()
    graph.add_node("Dense", "lonely")
    with pytest.raises(ExportError) as caught:
        export_model_code(graph)
    assert "lonely (Dense): has no input" in str(caught.value)
    assert caught.value.problems


# Hostile names -------------------------------------------------------------------

names = st.one_of(st.sampled_from(HOSTILE), st.text(min_size=1, max_size=60)).filter(
    lambda name: name.strip() and "/" not in name
)


def allowed_strings(graph: NetworkGraph) -> set[str]:
    return {node.name for node in graph.nodes} | {model_name(graph), "__main__", "linear"}


def check_only_generated_statements(source: str, graph: NetworkGraph) -> None:
    """The module holds exactly the statements the exporter writes, nothing else."""
    tree = ast.parse(source)
    kinds = [type(statement).__name__ for statement in tree.body]
    assert kinds == ["Expr", "Import", "FunctionDef", "If"]
    function = tree.body[2]
    assert function.name == "build_model"
    body = function.body
    assert isinstance(body[0], ast.Expr) and isinstance(body[-1], ast.Return)
    assigns = body[1:-1]
    assert len(assigns) == len(graph) and all(isinstance(s, ast.Assign) for s in assigns)
    variables = {s.targets[0].id for s in assigns}
    strings = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            strings.add(node.value)
        if isinstance(node, ast.Name):
            assert node.id in variables or node.id == "keras", node.id
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            root = node.func
            while isinstance(root, ast.Attribute):
                root = root.value
            assert isinstance(root, ast.Name) and root.id == "keras"
    strings.discard(ast.get_docstring(function))
    assert strings <= allowed_strings(graph)
    for statement, node in zip(assigns, topological_nodes(graph), strict=True):
        call = statement.value
        constructor = call.func if isinstance(call.func, ast.Call) else call
        keywords = {k.arg: k.value for k in constructor.keywords}
        assert ast.literal_eval(keywords["name"]) == node.name


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(names, min_size=2, max_size=4, unique=True), names)
def test_hostile_names_cannot_inject_code(layer_names, model_name):
    graph = hostile_graph(layer_names, model_name)
    # The emitter's safety must not rely on validation, which refuses such names.
    source = export_model_code(graph, validate=False)
    check_only_generated_statements(source, graph)
    assert source.isascii()
    assert ruff_problems(source) == ""


@settings(max_examples=25, deadline=None)
@given(names, names, names)
def test_hostile_settings_in_the_script_stay_literals(path, column, log_dir):
    graph = hostile_graph(["x", "y"], "m")
    graph.dataset.update(source="csv", path=path, target_column=column)
    graph.training["tensorboard_dir"] = log_dir
    source = export_training_script(graph)
    tree = ast.parse(source)
    constants = {
        s.targets[0].id: s.value
        for s in tree.body
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)
    }
    dataset = {k.arg: ast.literal_eval(k.value) for k in constants["DATASET"].keywords}
    assert dataset["target_column"] == column
    assert ast.literal_eval(constants["DATA_PATH"].args[0]) == str(dataset_path(path, None))
    assert log_dir in _string_constants(tree)
    assert source.isascii()
    assert ruff_problems(source) == ""


def _string_constants(tree):
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}


def test_identifiers_are_valid_unique_and_readable():
    taken = []
    for name in [*HOSTILE, "dense_1", "Dense_1", "dense-1", ""]:
        result = identifier(name, taken)
        assert result.isidentifier() and result.isascii()
        assert result not in taken
        taken.append(result)
    assert identifier("dense_1") == "dense_1"
    assert identifier("class") == "class_layer"
    assert identifier("1st") == "layer_1st"


def test_unusual_names_survive_into_the_model():
    names = ["1st", "class", "keras", "build_model", "l", "a-b.c>d", "dense_1", "Dense_1"]
    graph = hostile_graph(names, "My model: v2 (final)")
    built = build_model(graph)
    exported = exported_model(export_model_code(graph))
    assert [layer.name for layer in exported.layers] == names
    assert exported.name == built.name == "My_model_v2_final"
    sample = np.ones((2, 3), dtype="float32")
    np.testing.assert_array_equal(
        exported.predict(sample, verbose=0).shape, built.predict(sample, verbose=0).shape
    )


def test_names_keras_cannot_run_are_refused():
    graph = hostile_graph(["x", "my layer"], "m")
    with pytest.raises(ExportError, match=r"my layer \(Dense\): layer names may contain only"):
        export_model_code(graph)


# Equivalence ---------------------------------------------------------------------


def assert_equivalent(graph: NetworkGraph, seed: int = 0) -> None:
    """Exported and built models agree in structure and, with shared weights, outputs."""
    built = build_model(graph)
    exported = exported_model(export_model_code(graph))
    assert [type(layer).__name__ for layer in exported.layers] == [
        type(layer).__name__ for layer in built.layers
    ]
    assert [layer.name for layer in exported.layers] == [layer.name for layer in built.layers]
    for mine, theirs in zip(exported.layers, built.layers, strict=True):
        assert tuple(mine.output.shape) == tuple(theirs.output.shape), mine.name
        config, expected = mine.get_config(), theirs.get_config()
        assert _without_names(config) == _without_names(expected), mine.name
    assert exported.count_params() == built.count_params()
    for layer in built.layers:
        exported.get_layer(layer.name).set_weights(layer.get_weights())
    rng = np.random.default_rng(seed)
    inputs = [_sample(rng, tensor) for tensor in built.inputs]
    inputs = inputs[0] if len(inputs) == 1 else inputs
    for layer in built.layers:
        if isinstance(layer, keras.layers.TextVectorization):  # reads the Input directly
            layer.adapt(inputs)
            exported.get_layer(layer.name).adapt(inputs)
    # Eager calls: tracing predict's tf.function costs seconds on deep models.
    expected = keras.tree.map_structure(np.asarray, built(inputs, training=False))
    actual = keras.tree.map_structure(np.asarray, exported(inputs, training=False))
    for a, b in zip(_as_list(actual), _as_list(expected), strict=True):
        np.testing.assert_array_equal(a, b)


def _without_names(config):
    if isinstance(config, dict):
        return {k: _without_names(v) for k, v in config.items() if k != "name"}
    if isinstance(config, list):
        return [_without_names(v) for v in config]
    return config


def _sample(rng, tensor):
    shape = (3, *tensor.shape[1:])
    if "string" in str(tensor.dtype):
        import tensorflow as tf

        words = rng.choice(["a good film", "the plot was dull", "fun", ""], size=shape)
        return tf.constant(words)
    if "int" in str(tensor.dtype):
        return rng.integers(0, 4, size=shape).astype(str(tensor.dtype))
    return rng.normal(size=shape).astype("float32")


def _as_list(value):
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_are_equivalent(path):
    assert_equivalent(load_graph(path))


@pytest.mark.parametrize(
    "graph", [chain_graph(400), branched_graph(33)], ids=["chain400", "branched33"]
)
def test_generated_graphs_are_equivalent(graph):
    assert_equivalent(graph)


CANDIDATE_SHAPES = [(6,), (6, 4), (8, 8, 3), (4, 4, 4, 2), (3, 4, 4, 4, 2), (64,)]


def single_layer_graph(type_name: str) -> NetworkGraph | None:
    """Input(s) -> one layer of `type_name` with default params, on a shape it accepts."""
    entry = CATALOG[type_name]
    for shape in CANDIDATE_SHAPES:
        graph = NetworkGraph(type_name)
        sources = [
            graph.add_node("Input", f"in_{i}", {"shape": list(shape)})
            for i in range(max(entry.min_inputs, 1))
        ]
        node = graph.add_node(type_name, "layer")
        for port, source in enumerate(sources):
            graph.connect(source.id, node.id, port)
        analysis = ShapeAnalysis(graph)
        error = analysis.info(node.id).error
        analysis.close()
        if error is None:
            return graph
    return None


@pytest.mark.parametrize("type_name", sorted(t for t in CATALOG if t != "Input"))
def test_every_catalog_type_exports_its_keras_layer(type_name):
    """Defaults left out of the code are Keras's defaults: configs equal the factory's."""
    graph = single_layer_graph(type_name)
    if graph is None:
        pytest.skip(f"{type_name}: no simple input shape fits its default params")
    built = build_model(graph)
    exported = exported_model(export_model_code(graph))
    mine = _without_names(exported.get_layer("layer").get_config())
    theirs = _without_names(built.get_layer("layer").get_config())
    # An unseeded random layer draws its own seed when constructed.
    if mine.get("seed") is not None and theirs.get("seed") is not None:
        mine["seed"] = theirs["seed"]
    assert mine == theirs


def text_attention_graph() -> NetworkGraph:
    """Embedding -> Bidirectional(LSTM) -> self-attention with a key -> TimeDistributed."""
    graph = NetworkGraph("text attention")
    tokens = graph.add_node("Input", "tokens", {"shape": [9], "dtype": "int32"})
    embed = graph.add_node("Embedding", "embed", {"input_dim": 30, "output_dim": 6})
    lstm = {"type": "LSTM", "params": {"units": 4, "return_sequences": True}}
    bi = graph.add_node("Bidirectional", "bi", {"layer": lstm, "merge_mode": "sum"})
    norm = graph.add_node("BatchNormalization", "norm", {"epsilon": 1e-5})
    mha = graph.add_node(
        "MultiHeadAttention",
        "mha",
        {"num_heads": 2, "key_dim": 3, "kernel_regularizer": {"l1": 0.001, "l2": 0.0}},
    )
    dense = {"type": "Dense", "params": {"units": 2, "activation": "softmax"}}
    per_step = graph.add_node("TimeDistributed", "per_step", {"layer": dense})
    graph.connect(tokens.id, embed.id)
    graph.connect(embed.id, bi.id)
    graph.connect(bi.id, norm.id)
    for port, source in enumerate((norm, bi, bi)):
        graph.connect(source.id, mha.id, port)
    graph.connect(mha.id, per_step.id)
    return graph


def test_wrappers_and_attention_are_equivalent():
    graph = text_attention_graph()
    source = export_model_code(graph)
    assert "layer=keras.layers.LSTM(" in source
    assert ")(norm, bi, bi)" in source
    assert ruff_problems(source) == ""
    assert_equivalent(graph)


def test_initializers_regularizers_and_constraints_with_arguments_export_exactly():
    graph = NetworkGraph("objects")
    source = graph.add_node("Input", params={"shape": [6, 6, 2]})
    conv = graph.add_node(
        "Conv2D",
        params={
            "filters": 3,
            "kernel_initializer": {"class": "RandomNormal", "config": {"stddev": 0.5, "seed": 1}},
            "bias_initializer": "constant",
            "kernel_constraint": {"class": "UnitNorm", "config": {"axis": [0, 1, 2]}},
        },
    )
    flat = graph.add_node("Flatten")
    dense = graph.add_node(
        "Dense",
        params={
            "units": 4,
            "kernel_initializer": {
                "class": "VarianceScaling",
                "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"},
            },
            "kernel_regularizer": {"class": "OrthogonalRegularizer", "config": {"factor": 0.1}},
            "bias_regularizer": {"l1": 0.01, "l2": 0.02},
            "kernel_constraint": {"class": "MaxNorm", "config": {"max_value": 3}},
            "bias_constraint": "non_neg",
        },
    )
    for a, b in ((source, conv), (conv, flat), (flat, dense)):
        graph.connect(a.id, b.id)
    source_code = export_model_code(graph)
    assert 'keras.initializers.VarianceScaling(scale=2.0, mode="fan_out")' in source_code
    assert "keras.constraints.MaxNorm(max_value=3.0)" in source_code
    assert_equivalent(graph)
