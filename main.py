"""DeepWire: design, check, train and export neural networks by drawing them.

`python main.py [FILE]` opens the editor; sub-commands do the same work
headless. Each command's implementation lives with the package that owns it,
imported only when that command runs, so none pays for TensorFlow or Qt
unless it needs them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

DEFAULT_EXAMPLE = Path(__file__).resolve().parent / "examples" / "mlp_digits.yaml"

# command -> (module with `add_arguments(parser)` and `run(args) -> int`, help)
COMMANDS = {
    "validate": ("graph.commands", "check a graph file; exit code 1 when it is invalid"),
    "summary": ("graph.commands", "print a Keras-style summary of a graph file"),
    "export": ("codegen.commands", "export a graph file as Python code"),
    "import": ("runtime.commands", "turn a saved Keras model into a graph file"),
    "train": ("runtime.commands", "train a graph file on its dataset"),
    "tune": ("runtime.commands", "search hyperparameters of a graph file"),
    "deploy": ("runtime.commands", "export a trained model for deployment"),
}


def build_command_parser(command: str) -> argparse.ArgumentParser:
    module_name, help_text = COMMANDS[command]
    parser = argparse.ArgumentParser(prog=f"deepwire {command}", description=help_text)
    importlib.import_module(module_name).add_arguments(command, parser)
    return parser


def build_app_parser() -> argparse.ArgumentParser:
    commands = "\n".join(f"  {name:<10} {help_text}" for name, (_, help_text) in COMMANDS.items())
    parser = argparse.ArgumentParser(
        prog="deepwire",
        description="Open the DeepWire editor, or run a command headless.",
        epilog=f"commands (deepwire COMMAND --help for details):\n{commands}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", nargs="?", type=Path, help="graph file to open")
    parser.add_argument(
        "--screenshot", type=Path, metavar="OUT.png", help="render the window to a PNG and exit"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in COMMANDS:
        command, rest = argv[0], argv[1:]
        args = build_command_parser(command).parse_args(rest)
        return importlib.import_module(COMMANDS[command][0]).run(command, args)
    args = build_app_parser().parse_args(argv)
    from gui.app import run_app

    return run_app(args.file, args.screenshot)


if __name__ == "__main__":
    sys.exit(main())
