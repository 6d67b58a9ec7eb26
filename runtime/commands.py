"""Headless commands that need TensorFlow: import, train, tune, deploy.

Each command lives in its own module with `add_arguments(parser)` and
`run(args) -> int`; this module only routes to them.
"""

from __future__ import annotations

import argparse
import importlib

MODULES = {
    "import": "runtime.cli.import_model",
    "train": "runtime.cli.train",
    "tune": "runtime.cli.tune",
    "deploy": "runtime.cli.deploy",
}


def add_arguments(command: str, parser: argparse.ArgumentParser) -> None:
    importlib.import_module(MODULES[command]).add_arguments(parser)


def run(command: str, args: argparse.Namespace) -> int:
    return importlib.import_module(MODULES[command]).run(args)
