"""`main.py validate` and `main.py summary` in a subprocess: output, exit codes, no TensorFlow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
HEAVY_MODULES = ("tensorflow", "keras", "PySide6", "pyqtgraph")

INVALID = """\
format: deepwire-graph
version: 1
name: Broken
nodes:
- {id: n1, type: Input, name: input_1, params: {shape: [64]}}
- {id: n2, type: Dense, name: dense_1, params: {units: 32}}
- {id: n3, type: Dense, name: dense_2, params: {units: 16}}
- {id: n4, type: Add, name: add_1}
edges:
- {source: n1, target: n2}
- {source: n1, target: n3}
- {source: n2, target: n4, port: 0}
- {source: n3, target: n4, port: 1}
"""


def deepwire(*args: str, flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *flags, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_validate_a_valid_file():
    result = deepwire("validate", str(EXAMPLES / "mlp_digits.yaml"))
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "OK: 4 layers, 4,810 parameters\n",
        "",
    )


def test_validate_an_invalid_graph_lists_problems_and_exits_1(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(INVALID)
    result = deepwire("validate", str(path))
    assert result.returncode == 1
    assert result.stdout == "error: add_1 (Add): input shapes (None, 32) and (None, 16) differ\n"
    assert result.stderr == "INVALID: 1 error in 4 layers\n"


def test_validate_a_malformed_file_exits_2_with_its_location(tmp_path):
    path = tmp_path / "digits.yaml"
    path.write_text(INVALID.replace("units: 32", "units: sixty"))
    result = deepwire("validate", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"{path}:6:56: nodes[1].params.units must be an integer. Received: 'sixty'\n"
    )


def test_validate_a_missing_file_exits_2(tmp_path):
    result = deepwire("validate", str(tmp_path / "nothing.yaml"))
    assert result.returncode == 2
    assert "nothing.yaml: cannot be read: No such file or directory" in result.stderr


def test_summary_prints_a_keras_style_table():
    result = deepwire("summary", str(EXAMPLES / "mlp_digits.yaml"))
    assert result.returncode == 0
    assert result.stderr == ""
    assert result.stdout == (
        'Model: "MLP on digits"\n'
        "====================================================================================\n"
        "Layer      Type     Output Shape  Param #   MACs  Weights  Act./sample  Connected to\n"
        "====================================================================================\n"
        "input_1    Input    (None, 64)          0      0      0 B        256 B  -\n"
        "dense_1    Dense    (None, 64)      4,160  4,096  16.6 KB        256 B  input_1\n"
        "dropout_1  Dropout  (None, 64)          0      0      0 B        256 B  dense_1\n"
        "dense_2    Dense    (None, 10)        650    640   2.6 KB         40 B  dropout_1\n"
        "====================================================================================\n"
        "Total params: 4,810\n"
        "Trainable params: 4,810\n"
        "Non-trainable params: 0\n"
        "MACs per sample: 4,736\n"
        "Weights: 19.2 KB float32, 9.6 KB float16, 4.8 KB int8\n"
        "Activations per sample: 808 B\n"
        "Training memory (estimate): 269.4 KB (weights 19.2 KB, gradients 19.2 KB, "
        "adam state 38.5 KB, activations of a batch of 32 51.7 KB, the optimizer's update "
        "140.7 KB)\n"
    )


def test_summary_of_an_invalid_graph_shows_unknown_shapes_and_problems(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(INVALID)
    result = deepwire("summary", str(path))
    assert result.returncode == 0
    row = "add_1    Add    ?                   ?      ?        ?            ?  dense_1, dense_2\n"
    assert row in result.stdout
    assert result.stdout.endswith(
        "(?: shape unknown; the totals leave these layers out)\n"
        "\n"
        "Problems (1):\n"
        "  error: add_1 (Add): input shapes (None, 32) and (None, 16) differ\n"
    )


@pytest.mark.parametrize("command", ["validate", "summary"])
def test_commands_do_not_import_tensorflow_or_qt(command):
    result = deepwire(command, str(EXAMPLES / "cnn_digits.yaml"), flags=("-X", "importtime"))
    assert result.returncode == 0
    # -X importtime logs one line per module: "import time: self | cumulative | name".
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert "graph.files" in imported
    assert not {name for name in imported if name.split(".")[0] in HEAVY_MODULES}
