"""Every string that reaches exported code is an escaped literal, whatever its source.

Sources: the output file name (in the script's docstring), the graph's name,
node names, the dataset path, the target column, the TensorBoard folder and,
at run time, the class names read from the data. Hostile strings for each
must leave the structure of the exported code unchanged, keep it compiling
and ASCII, and running it must create no file other than the model it saves.
"""

import ast
import csv
import functools
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from codegen.python_source import export_model_code, export_training_script
from graph.model import NetworkGraph

INJECTIONS = [
    'x""";__import__("os").system("touch pwned");"""y.py',
    "x''';__import__('os').system('touch pwned');'''y",
    "\\N",
    "\\N{DIGIT ONE}\\x41\\u0041",
    "end with a backslash\\",
    '"',
    '""',
    "{script}",
    "caf\u00e9 \u4e2d\U0001f600",
    "\u202eevil\u202c\u2066",
    "nul\x00and\x1bescape",
    "line\nbreak\r\n",
    "x" * 300,
]
hostile = st.one_of(st.sampled_from(INJECTIONS), st.text(min_size=1, max_size=80))
# What Keras accepts as a layer name (validation refuses the rest before export).
keras_names = st.from_regex(r"[A-Za-z][A-Za-z0-9_.\->]{0,20}", fullmatch=True)


def small_graph(graph_name: str, names: tuple[str, str] = ("x", "y")) -> NetworkGraph:
    graph = NetworkGraph(graph_name)
    first = graph.add_node("Input", names[0], {"shape": [4]})
    second = graph.add_node("Dense", names[1], {"units": 2, "activation": "softmax"})
    graph.connect(first.id, second.id)
    return graph


def skeleton(source: str) -> str:
    """The code's structure with every string constant blanked out."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = "S"
    return ast.dump(tree)


def csv_script(script_name: str, graph_name: str, path: str, column: str, log_dir: str) -> str:
    graph = small_graph(graph_name)
    graph.dataset.update(source="csv", path=path, target_column=column)
    graph.training["tensorboard_dir"] = log_dir
    return export_training_script(graph, script_name, Path("/data"))


@functools.cache
def plain_skeleton() -> str:
    """The structure of a script exported with plain names (built once: an export costs)."""
    return skeleton(csv_script("s.py", "g", "d.csv", "c", "logs"))


@settings(max_examples=40, deadline=None)
@given(hostile, hostile, hostile, hostile, hostile)
def test_hostile_strings_never_change_the_script_structure(
    script_name, graph_name, path, column, log_dir
):
    source = csv_script(script_name, graph_name, path, column, log_dir)
    compile(source, "<exported>", "exec")
    assert source.isascii()
    assert skeleton(source) == plain_skeleton()
    tree = ast.parse(source)
    assert script_name in ast.get_docstring(tree, clean=False)


@settings(max_examples=40, deadline=None)
@given(hostile)
def test_the_docstring_quotes_any_output_file_name_exactly(script_name):
    source = export_training_script(small_graph("g"), script_name)
    docstring = ast.get_docstring(ast.parse(source), clean=False)
    assert f"Usage: python {script_name} [OUTPUT.keras]" in docstring


@settings(max_examples=15, deadline=None)
@given(hostile, keras_names, keras_names)
def test_exported_model_code_runs_and_creates_no_file(tmp_path_factory, graph_name, a, b):
    folder = tmp_path_factory.mktemp("run")
    names = (a, b) if a != b else (a, b + "_2")
    source = export_model_code(small_graph(graph_name, names))
    assert source.isascii()
    namespace = {"__name__": "exported"}
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        exec(compile(source, "<exported>", "exec"), namespace)
        model = namespace["build_model"]()
    finally:
        os.chdir(cwd)
    assert [layer.name for layer in model.layers] == list(names)
    assert list(folder.iterdir()) == []


def test_a_script_fed_hostile_names_everywhere_runs_and_writes_only_its_model(tmp_path):
    """End to end: file, column, class and script names built to break out of a literal."""
    data_name = 'd""";__import__("os").system("touch pwned");"""\\N{x}\u00e9\u202e.csv'
    column = "t'''\"\"\";__import__('os').system('touch pwned')\\N"
    classes = ['a""";open("pwned","w")', "b\\N{x}\u202e"]
    with open(tmp_path / data_name, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["f1", "f2", "f3", "f4", column])
        for row in range(40):
            writer.writerow([row % 3, row % 5, row % 7, row % 2, classes[row % 2]])
    graph = small_graph('m"""\\N\u202e')
    graph.dataset.update(source="csv", path=data_name, target_column=column)
    graph.training.update(epochs=1, batch_size=8)
    script_name = 'x""";__import__("os").system("touch pwned");"""y\\N{x}\u00e9.py'
    script = tmp_path / script_name
    script.write_text(export_training_script(graph, script_name, tmp_path), encoding="utf-8")
    before = {p.name for p in tmp_path.iterdir()}
    result = subprocess.run(
        [sys.executable, script.name, "out.keras"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert {p.name for p in tmp_path.iterdir()} - before == {"out.keras"}
