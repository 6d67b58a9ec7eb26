"""DeepWire: design, check, train and export neural networks by drawing them.

`python main.py [FILE]` opens the editor; sub-commands do the same work
headless. Commands are found, not wired: each is one module in `graph/cli/`,
`codegen/cli/` or `runtime/cli/` with `add_arguments(parser)` and
`run(args) -> int`; its name is the module's (or its `COMMAND = "..."`), its
help the first line of its docstring. Only the chosen command's module is
imported, so none pays for TensorFlow or Qt unless it needs them.
"""

import os
import signal
import sys

EXIT_INTERRUPTED = 130
# The terminal's stderr, kept apart: starting TensorFlow silences file descriptor 2.
_stderr = 2


def _exit_interrupted(_signum: int, _frame: object) -> None:
    """Ctrl-C outside a run (starting up, importing TensorFlow, saving atomically): just exit."""
    os.write(_stderr, b"\ninterrupted\n")
    os._exit(EXIT_INTERRUPTED)


if __name__ == "__main__":
    # Before anything slow is imported: a Ctrl-C at start-up is no traceback.
    _stderr = os.dup(2)
    signal.signal(signal.SIGINT, _exit_interrupted)

import argparse  # noqa: E402
import ast  # noqa: E402
import importlib  # noqa: E402
import pkgutil  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent
DEFAULT_EXAMPLE = ROOT / "examples" / "mlp_digits.yaml"

# The packages that hold commands, lightest first (the order of the help listing).
COMMAND_PACKAGES = ("graph.cli", "codegen.cli", "runtime.cli")


@dataclass(frozen=True)
class CommandInfo:
    name: str
    module: str
    help: str


def _declared(path: Path) -> tuple[bool, str | None, str]:
    """Whether a module is a command, its COMMAND override and docstring summary.

    Read from the source, without importing the module.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = {s.name for s in tree.body if isinstance(s, ast.FunctionDef)}
    name = None
    for statement in tree.body:
        if (
            isinstance(statement, ast.Assign)
            and [getattr(target, "id", None) for target in statement.targets] == ["COMMAND"]
            and isinstance(statement.value, ast.Constant)
        ):
            name = statement.value.value
    summary = (ast.get_docstring(tree) or "").strip().splitlines()
    is_command = {"add_arguments", "run"} <= functions
    return is_command, name, summary[0].rstrip(".") if summary else ""


def discover_commands() -> dict[str, CommandInfo]:
    """Every command module, by command name."""
    commands: dict[str, CommandInfo] = {}
    for package in COMMAND_PACKAGES:
        folder = ROOT.joinpath(*package.split("."))
        for module in pkgutil.iter_modules([str(folder)]):
            path = folder / f"{module.name}.py"
            if module.ispkg or not path.exists():
                continue
            is_command, name, summary = _declared(path)
            if not is_command:
                continue  # a helper the commands share
            name = name or module.name.replace("_", "-")
            commands[name] = CommandInfo(name, f"{package}.{module.name}", summary)
    return commands


def build_command_parser(command: CommandInfo) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"deepwire {command.name}", description=command.help + "."
    )
    importlib.import_module(command.module).add_arguments(parser)
    return parser


def build_app_parser(commands: dict[str, CommandInfo]) -> argparse.ArgumentParser:
    listing = "\n".join(f"  {info.name:<11} {info.help}" for info in commands.values())
    parser = argparse.ArgumentParser(
        prog="deepwire",
        description="Open the DeepWire editor, or run a command headless.",
        epilog=f"commands (deepwire COMMAND --help for details):\n{listing}\n\n"
        "exit codes: 0 done; 1 the input is invalid or the run failed; "
        "2 a bad file or argument",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", nargs="?", type=Path, help="graph file to open")
    parser.add_argument(
        "--screenshot", type=Path, metavar="OUT.png", help="render the window to a PNG and exit"
    )
    return parser


def _mistyped_command(file: Path | None) -> bool:
    """Whether the app's file argument is a word with no file behind it, e.g. `deepwire trian`."""
    return file is not None and not file.suffix and len(file.parts) == 1 and not file.exists()


def main(argv: list[str] | None = None) -> int:
    """Runs the app or a command. Run as a program, Ctrl-C outside a run exits with code 130."""
    argv = sys.argv[1:] if argv is None else argv
    commands = discover_commands()
    if argv and argv[0] in commands:
        command = commands[argv[0]]
        args = build_command_parser(command).parse_args(argv[1:])
        return importlib.import_module(command.module).run(args)
    parser = build_app_parser(commands)
    args = parser.parse_args(argv)
    if _mistyped_command(args.file):
        import difflib

        close = difflib.get_close_matches(str(args.file), list(commands), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else "; see deepwire --help"
        parser.error(f"'{args.file}' is neither a command nor a graph file{hint}")
    from gui.app import run_app

    return run_app(args.file, args.screenshot)


if __name__ == "__main__":
    sys.exit(main())
