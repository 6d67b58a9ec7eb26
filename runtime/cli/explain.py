"""Explain a trained model's prediction for one sample, or its feature importance.

`deepwire explain FILE --weights model.keras (--sample N | --input PATH | --text TEXT)
--method gradcam|ig|smoothgrad|occlusion|shap|permutation [-o DIR]`.

Runs the same explain run as the app, prints the prediction and the
strongest attributions, and writes DIR/<method>.png (the heatmap or bar
chart), DIR/<method>.csv and DIR/<method>.npy (the numbers). For a model
that reads text, the sample is a text (`--text`, or `--input` a UTF-8 text
file) and each word is scored: the words and their scores are printed and
written to the CSV.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from runtime.cli.common import (
    EXIT_FILE,
    CommandError,
    drive_to_end,
    load,
    make_output_dir,
    tensorflow_command,
)
from runtime.explain.methods import GLOBAL, METHODS

SUMMARY_WORDS = 60  # a longer text's words are in the CSV; the summary names the strongest
_TUNING = {
    "steps": "integrated gradients: steps along the path (default 32)",
    "samples": "SmoothGrad: noisy copies (default 32)",
    "patch": "occlusion: patch side in positions (default 2)",
    "repeats": "permutation importance: shuffles per feature (default 3)",
    "seed": "seed of every random draw (default 0)",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="graph file (.yaml)")
    parser.add_argument(
        "--weights",
        type=Path,
        required=True,
        metavar="MODEL.keras",
        help="the trained model (deepwire train saves DIR/model.keras)",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--sample", type=int, metavar="N", help="index into the test split")
    source.add_argument(
        "--input",
        type=Path,
        metavar="PATH",
        help="a sample file: an image, a CSV row or a .npy (a text model: a UTF-8 text file)",
    )
    source.add_argument("--text", metavar="TEXT", help="a text of your own, for a text model")
    parser.add_argument("--method", required=True, choices=list(METHODS))
    parser.add_argument("--node", help="Grad-CAM's node (name or id; default: last convolution)")
    parser.add_argument("--target", type=int, help="class to explain (default: the predicted one)")
    parser.add_argument("--output-index", type=int, default=0, help="model output to explain")
    for name, text in _TUNING.items():
        parser.add_argument(f"--{name}", type=int, help=text)
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="DIR",
        help="folder for the picture and numbers (default: FILE's name + _explain)",
    )


def _check_model_file(path: Path) -> None:
    import keras

    from graph.input_files import InputFileError, check_model_file

    if not path.is_file():
        raise CommandError(
            f"{path}: no such model file (train first: deepwire train FILE)", EXIT_FILE
        )
    try:
        check_model_file(path)  # a folder, a device, a zip bomb or no archive, unopened
        keras.models.load_model(path, compile=False)
    except InputFileError as error:
        raise CommandError(str(error), EXIT_FILE) from None
    except Exception as error:  # Keras raises many kinds for a bad file
        first = (str(error).strip().splitlines() or [""])[0][:200]
        raise CommandError(
            f"{path}: not a readable Keras model file ({first})", EXIT_FILE
        ) from None


def _options(args: argparse.Namespace, input_shape: tuple[int, ...], text: bool) -> dict:
    from runtime.explain.errors import ExplainError
    from runtime.explain.explain import check_options
    from runtime.explain.inputs import read_sample

    options = {
        "method": args.method,
        "weights_path": str(args.weights.resolve()),
        "node": args.node,
        "target": args.target,
        "output": args.output_index,
    }
    options.update(
        {name: getattr(args, name) for name in _TUNING if getattr(args, name) is not None}
    )
    try:
        check_options(options)
    except ExplainError as error:
        raise CommandError(f"--{error.message}", EXIT_FILE) from None
    if args.node is not None and args.method != "gradcam":  # it would be ignored
        raise CommandError(
            f"--node chooses Grad-CAM's layer; --method {args.method} does not use it", EXIT_FILE
        )
    if METHODS[args.method].scope == GLOBAL:
        return options
    if args.text is not None:
        if not text:
            raise CommandError(
                "--text is for a model that reads text; this one takes numbers: "
                "give --sample N or --input PATH",
                EXIT_FILE,
            )
        options["input"] = args.text
    elif args.input is not None and text:
        options["input_path"] = str(args.input.resolve())  # the run reads the text file
    elif args.input is not None:
        try:
            options["input"] = read_sample(args.input, input_shape)
        except ExplainError as error:
            raise CommandError(error.message, EXIT_FILE) from None
    elif args.sample is not None:
        options["sample"] = args.sample
    else:
        raise CommandError(
            f"--method {args.method} explains one sample: give --sample N or --input PATH"
            + (" or --text TEXT" if text else ""),
            EXIT_FILE,
        )
    return options


def _summary(result) -> str:
    explanation = result.explanation
    names = result.feature_names
    lines = []
    if explanation.sample is not None:
        prediction = explanation.prediction
        if result.class_names and len(prediction) == len(result.class_names):
            best = int(np.argmax(prediction))
            lines.append(f"prediction: {result.class_names[best]} ({prediction[best]:.3f})")
        else:
            lines.append(f"prediction: {', '.join(f'{v:.4g}' for v in prediction)}")
        if explanation.target >= 0 and result.class_names:
            lines.append(f"explained class: {result.class_names[explanation.target]}")
    else:
        lines.append(f"test score without shuffling: {explanation.prediction[0]:.4f}")
    values = explanation.attributions.ravel()
    if explanation.words is not None:
        names = explanation.words
        if len(names) <= SUMMARY_WORDS:
            scored = zip(names, values, strict=True)
            lines.append("words: " + " ".join(f"{w}({v:+.3f})" for w, v in scored))
    if len(names) == values.size:
        top = np.argsort(-np.abs(values))[:5]
        lines.append("strongest: " + ", ".join(f"{names[i]} {values[i]:+.4g}" for i in top))
    if explanation.node:
        lines.append(f"node: {explanation.node}")
    return "\n".join(lines)


@tensorflow_command
def run(args: argparse.Namespace) -> int:
    from runtime.explain.export import write_explanation
    from runtime.runs import RunRequest

    graph_path = args.file
    _, dataset = load(graph_path)
    _check_model_file(args.weights)
    options = _options(args, dataset.input_shape, dataset.text)
    request = RunRequest(
        "explain", graph_path.read_text(encoding="utf-8"), graph_path.resolve().parent, options
    )
    outcome = drive_to_end(request, quiet=True)
    result = outcome.result
    output = make_output_dir(args.output or Path(f"{graph_path.stem}_explain"))
    try:
        paths = write_explanation(
            result.explanation, output, args.method, result.feature_names, result.images
        )
    except OSError as error:
        raise CommandError(f"{output}: cannot save the explanation ({error})", EXIT_FILE) from None
    print(_summary(result))
    print(f"saved {', '.join(str(p) for p in paths)}", file=sys.stderr)
    return 0
