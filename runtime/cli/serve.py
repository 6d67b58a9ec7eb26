"""Serve a trained model over HTTP: JSON in, predictions out (FastAPI + uvicorn).

`deepwire serve MODEL_DIR [--port 8000] [--host 127.0.0.1]`.

MODEL_DIR is a folder `deepwire train -o` wrote (model.keras, metrics.json)
or a .keras file. POST /predict with {"instances": [sample, ...]}; GET
/metadata lists the input shapes; GET /health. Binds 127.0.0.1 unless
--host says otherwise. Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from runtime.cli.common import EXIT_FILE, CommandError, tensorflow_command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=Path, help="folder with model.keras, or a .keras file")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine)"
    )
    parser.add_argument(
        "--max-body-bytes", type=int, default=1_000_000, help="largest request accepted"
    )


@tensorflow_command
def run(args: argparse.Namespace) -> int:
    import uvicorn

    from runtime.serving import ServingError, create_app, load_predictor

    if not 0 <= args.port <= 65535:
        raise CommandError(f"--port must be between 0 and 65535. Received: {args.port}", EXIT_FILE)
    if args.max_body_bytes < 1:
        raise CommandError(
            f"--max-body-bytes must be at least 1. Received: {args.max_body_bytes}", EXIT_FILE
        )
    try:
        predictor = load_predictor(args.model)
    except ServingError as error:
        raise CommandError(str(error), EXIT_FILE) from None
    app = create_app(predictor, args.max_body_bytes)
    shapes = ", ".join(f"{name} {list(shape)}" for name, shape in predictor.inputs)
    print(
        f"serving {args.model} (inputs: {shapes}) on http://{args.host}:{args.port}/predict",
        file=sys.stderr,
    )
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning")
    server = uvicorn.Server(config)
    try:
        server.run()
    except OSError as error:
        raise CommandError(f"cannot listen on {args.host}:{args.port} ({error.strerror})") from None
    if not server.started:
        raise CommandError(f"cannot listen on {args.host}:{args.port}")
    return 0
