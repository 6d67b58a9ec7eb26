"""`main.py export` and `main.py import` on the command line: outputs and exit codes."""

import ast
import subprocess
import sys
from pathlib import Path

import keras

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "mlp_digits.yaml"


def deepwire(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_export_prints_model_code_without_tensorflow():
    check = (
        "import sys, runpy; sys.argv = ['main.py', 'export', sys.argv[1]];"
        "import main; code = main.main();"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules; sys.exit(code)"
    )
    result = subprocess.run(
        [sys.executable, "-c", check, str(EXAMPLE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "def build_model():" in result.stdout
    ast.parse(result.stdout)


def test_export_script_to_file(tmp_path):
    out = tmp_path / "train.py"
    result = deepwire("export", EXAMPLE, "-o", out, "--script")
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stderr
    source = out.read_text()
    assert "def load_data():" in source and "def main(" in source
    assert "Usage: python train.py" in source


def test_export_bad_parameter_in_file_exits_2(tmp_path):
    graph = tmp_path / "bad.yaml"
    graph.write_text(EXAMPLE.read_text().replace("units: 10, activation: softmax", "units: 0"))
    result = deepwire("export", graph)
    assert result.returncode == 2
    assert "units must be >= 1. Received: 0" in result.stderr
    assert "Traceback" not in result.stderr


def test_export_invalid_graph_exits_1_with_its_problems(tmp_path):
    from graph.files import save_graph
    from graph.model import NetworkGraph

    graph = NetworkGraph("mismatch")
    a = graph.add_node("Input", "a", {"shape": [4]})
    b = graph.add_node("Input", "b", {"shape": [3]})
    add = graph.add_node("Add", "add_1")
    graph.connect(a.id, add.id, 0)
    graph.connect(b.id, add.id, 1)
    path = tmp_path / "mismatch.yaml"
    save_graph(graph, path)
    result = deepwire("export", path, "--script")
    assert result.returncode == 1
    assert "add_1 (Add): input shapes (None, 4) and (None, 3) differ" in result.stderr
    assert "Traceback" not in result.stderr


def test_export_missing_file():
    result = deepwire("export", "no_such_graph.yaml")
    assert result.returncode == 2
    assert "no_such_graph.yaml" in result.stderr
    assert "Traceback" not in result.stderr


def test_import_writes_a_graph_file(tmp_path):
    source = keras.Input((4,), name="x")
    model = keras.Model(source, keras.layers.Dense(3, name="scores")(source), name="tiny")
    model_path = tmp_path / "tiny.keras"
    model.save(model_path)
    out = tmp_path / "tiny.yaml"
    result = deepwire("import", model_path, "-o", out)
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stderr and "2 layers" in result.stderr
    from graph.files import load_graph

    graph = load_graph(out)
    assert [n.name for n in graph.nodes] == ["x", "scores"]
    printed = deepwire("import", model_path)
    assert printed.returncode == 0
    assert "format: deepwire-graph" in printed.stdout


def test_import_unsupported_model_exits_1(tmp_path):
    source = keras.Input((3,), name="x")
    model = keras.Model(source, keras.layers.Lambda(lambda t: t + 1, name="plus_one")(source))
    path = tmp_path / "lambda.keras"
    model.save(path)
    result = deepwire("import", path)
    assert result.returncode == 1
    assert "plus_one (Lambda)" in result.stderr
    assert "Traceback" not in result.stderr


def test_import_of_a_missing_model_is_a_bad_file_and_answers_before_tensorflow(tmp_path, capsys):
    from main import main

    assert main(["import", str(tmp_path / "modle.keras")]) == 2
    assert "modle.keras: file not found" in capsys.readouterr().err
