"""The data section of an exported training script: the data contract, embedded.

The script carries runtime/data_contract.py itself (read here as text, never
imported: codegen stays free of NumPy and TensorFlow), so its `load_data()`
produces exactly the arrays the app produces for the same dataset settings.
Only the settings and the resolved data path are written by the exporter.
"""

from __future__ import annotations

import ast
import sys
from functools import cache
from pathlib import Path

from codegen.layout_code import Call, Code, Keyword, Value, statement
from graph.settings import dataset_path

CONTRACT_PATH = Path(__file__).resolve().parents[1] / "runtime" / "data_contract.py"

BANNER = """

# The data contract, as DeepWire applies it (runtime/data_contract.py, verbatim).
"""

LOAD_DATA = '''

def load_data():
    """Loads, splits and scales the data as DeepWire does (statistics: train only)."""
    data = load_dataset(DATASET{path})
    return (
        (data.x_train, data.y_train),
        (data.x_val, data.y_val),
        (data.x_test, data.y_test),
        data.task,
    )
'''


@cache
def contract_parts() -> tuple[tuple[str, ...], tuple[str, ...], str]:
    """(standard-library imports, third-party imports, body) of the contract module.

    The body is the module's source after its docstring and import block.
    """
    source = CONTRACT_PATH.read_text(encoding="utf-8")
    module = ast.parse(source)
    standard, third, end = [], [], 0
    for node in module.body:
        if isinstance(node, ast.Expr) and end == 0:
            continue  # the module docstring
        if not isinstance(node, ast.Import | ast.ImportFrom):
            break
        line = ast.get_source_segment(source, node)
        root = (node.module if isinstance(node, ast.ImportFrom) else node.names[0].name) or ""
        (standard if root.split(".")[0] in sys.stdlib_module_names else third).append(line)
        end = node.end_lineno
    body = "\n".join(source.splitlines()[end:]).strip("\n")
    return tuple(standard), tuple(third), body + "\n"


def data_imports(dataset: dict) -> tuple[list[str], list[str]]:
    """(standard-library imports, third-party imports) the data section needs."""
    standard, third, _ = contract_parts()
    return list(standard), list(third)


def data_constants(dataset: dict, data_dir: Path | None) -> list[str]:
    """Module constants: the seed, the dataset settings and the resolved data path."""
    lines = statement(Value(dataset["seed"]), 0, "SEED = ")
    settings = tuple(Keyword(name, Value(value)) for name, value in dataset.items())
    lines += statement(Call(Code("dict"), settings), 0, "DATASET = ")
    if dataset["source"] != "builtin":
        path = dataset_path(dataset["path"], data_dir)
        lines += statement(Call(Code("Path"), (Value(str(path)),)), 0, "DATA_PATH = ")
    return lines


def load_data_source(dataset: dict) -> str:
    """The embedded contract and `load_data()`, which applies it to DATASET."""
    path = "" if dataset["source"] == "builtin" else ", DATA_PATH"
    return BANNER + contract_parts()[2] + LOAD_DATA.replace("{path}", path)
