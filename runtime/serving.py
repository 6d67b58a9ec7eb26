"""A small HTTP prediction endpoint for a trained model (FastAPI, served by uvicorn).

``POST /predict`` takes ``{"instances": [sample, ...]}``: each sample is a
nested list of numbers shaped like one model input (texts for an input of
strings: ``["a dull plot"]``, or the bare string), or, for a model with
several inputs, an object ``{input_name: sample}``. It answers
``{"predictions": [...]}`` (and ``"classes"`` with the predicted class names
when the model's folder holds the metrics.json `deepwire train` writes).
Bad requests get a 4xx with ``{"error": "..."}`` naming what is wrong:
malformed JSON (400), a body over the size limit (413), samples of the wrong
shape or type (422). ``GET /metadata`` describes the inputs and outputs;
``GET /health`` says it is up.
"""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path
from typing import Any

import keras
import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from graph.input_files import InputFileError, check_model_file
from runtime.data_contract import takes_text

MAX_BODY_BYTES = 1_000_000
MAX_INSTANCES = 1024


class ServingError(ValueError):
    """A model folder that cannot be served; the message names the path and the reason."""


class RequestError(ValueError):
    """A request the endpoint refuses; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def find_model(path: Path) -> tuple[Path, list[str]]:
    """The .keras file in `path` (a folder from `deepwire train`, or the file) and class names.

    Raises:
        ServingError: when there is no single .keras model to serve.
    """
    path = Path(path)
    if path.is_file():
        model_path, folder = path, path.parent
    elif path.is_dir():
        candidates = [path / "model.keras"] if (path / "model.keras").is_file() else []
        candidates = candidates or sorted(path.glob("*.keras"))
        if len(candidates) != 1:
            found = ", ".join(p.name for p in candidates) or "none"
            raise ServingError(
                f"{path}: expected one .keras model (model.keras) in the folder. Found: {found}"
            )
        model_path, folder = candidates[0], path
    else:
        raise ServingError(f"{path}: no such file or folder")
    return model_path, _class_names(folder / "metrics.json")


def _class_names(metrics_path: Path) -> list[str]:
    try:
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
        return [str(name) for name in metrics["test"].get("class_names", [])]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return []


class Predictor:
    """Checks request samples against the model's inputs and predicts.

    Args:
        model: The model to serve.
        class_names: Class names in output order, or empty.
    """

    def __init__(self, model: keras.Model, class_names: list[str] | None = None) -> None:
        self.model = model
        self.class_names = list(class_names or [])
        self.inputs = [
            (tensor.name.split(":")[0], tuple(int(d) for d in tensor.shape[1:]))
            for tensor in model.inputs
        ]
        # Inputs of strings (raw text for a TextVectorization) take texts, not numbers.
        self.texts = {tensor.name.split(":")[0] for tensor in model.inputs if takes_text(tensor)}
        # One prediction at a time: Keras models are not meant to be called concurrently.
        self._lock = threading.Lock()

    def metadata(self) -> dict[str, Any]:
        outputs = [list(tensor.shape[1:]) for tensor in keras.tree.flatten(self.model.outputs)]
        return {
            "inputs": [
                {"name": name, "shape": list(shape), "dtype": self._dtype(name)}
                for name, shape in self.inputs
            ],
            "outputs": [{"shape": shape} for shape in outputs],
            "class_names": self.class_names,
            "max_instances": MAX_INSTANCES,
        }

    def _dtype(self, name: str) -> str:
        return "string" if name in self.texts else "float32"

    def arrays(self, payload: Any) -> list[np.ndarray]:
        """The request's samples as one array per model input (float32, or texts).

        Raises:
            RequestError: 422 naming the first bad sample and the expected shape.
        """
        if not isinstance(payload, dict) or "instances" not in payload:
            raise RequestError(422, 'expected a JSON object {"instances": [sample, ...]}')
        instances = payload["instances"]
        if not isinstance(instances, list) or not instances:
            raise RequestError(422, '"instances" must be a non-empty list of samples')
        if len(instances) > MAX_INSTANCES:
            raise RequestError(
                413, f"at most {MAX_INSTANCES} instances per request. Received: {len(instances)}"
            )
        if len(self.inputs) == 1:
            name, shape = self.inputs[0]
            return [self._array(instances, name, shape, None)]
        names = [name for name, _shape in self.inputs]
        for index, sample in enumerate(instances):
            if not isinstance(sample, dict) or set(sample) != set(names):
                raise RequestError(
                    422,
                    f"instance {index}: the model has inputs {', '.join(names)}; send each "
                    "sample as an object with exactly these keys",
                )
        return [
            self._array([sample[name] for sample in instances], name, shape, name)
            for name, shape in self.inputs
        ]

    def _array(self, samples: list, name: str, shape: tuple, key: str | None) -> np.ndarray:
        where = f" ({key})" if key else ""
        if name in self.texts:
            return self._texts(samples, name, shape, where)
        arrays = []
        for index, sample in enumerate(samples):
            try:
                array = np.asarray(sample, dtype="float32")
            except (ValueError, TypeError):
                raise RequestError(
                    422,
                    f"instance {index}{where}: not a rectangular list of numbers; input "
                    f"{name} takes shape {list(shape)}",
                ) from None
            if array.shape != shape:
                raise RequestError(
                    422,
                    f"instance {index}{where}: input {name} takes shape {list(shape)}. "
                    f"Received: shape {list(array.shape)}",
                )
            if not np.all(np.isfinite(array)):
                raise RequestError(422, f"instance {index}{where}: values must be finite numbers")
            arrays.append(array)
        return np.stack(arrays)

    def _texts(self, samples: list, name: str, shape: tuple, where: str) -> np.ndarray:
        """Texts for an input of strings: each sample a list of strings of `shape`, or,
        for shape [1], the string itself."""
        arrays = []
        for index, sample in enumerate(samples):
            if isinstance(sample, str) and shape == (1,):
                sample = [sample]
            array = np.empty(0)
            if isinstance(sample, list):
                # rectangular lists only (np.array would nest ragged ones as objects)
                with contextlib.suppress(ValueError):
                    array = np.array(sample, dtype=object)
            strings = all(isinstance(value, str) for value in array.ravel())
            if array.shape != shape or not strings:
                example = '["a text"]' if shape == (1,) else f"strings of shape {list(shape)}"
                raise RequestError(
                    422,
                    f"instance {index}{where}: input {name} takes text: send {example}",
                )
            arrays.append(array)
        return np.stack(arrays)

    def predict(self, arrays: list[np.ndarray]) -> dict[str, Any]:
        with self._lock:
            outputs = self.model(arrays[0] if len(arrays) == 1 else arrays, training=False)
        first = np.asarray(keras.tree.flatten(outputs)[0])
        answer: dict[str, Any] = {"predictions": first.tolist()}
        if self.class_names and first.ndim == 2:
            if first.shape[1] == len(self.class_names):
                answer["classes"] = [self.class_names[i] for i in first.argmax(axis=1)]
            elif first.shape[1] == 1 and len(self.class_names) == 2:
                answer["classes"] = [self.class_names[int(p > 0.5)] for p in first[:, 0]]
        return answer


def load_predictor(path: Path) -> Predictor:
    """A Predictor for the model at `path` (a folder from `deepwire train` or a .keras file).

    Raises:
        ServingError: when the model cannot be found or loaded.
    """
    model_path, class_names = find_model(path)
    try:  # a folder, a device, a zip bomb or no archive is refused unopened
        check_model_file(model_path)
    except InputFileError as error:
        raise ServingError(str(error)) from None
    try:
        model = keras.saving.load_model(model_path, compile=False, safe_mode=True)
    except Exception as error:
        lines = str(error).strip().splitlines()
        raise ServingError(
            f"{model_path}: not a Keras model ({lines[0][:200] if lines else type(error).__name__})"
        ) from None
    return Predictor(model, class_names)


def create_app(predictor: Predictor, max_body_bytes: int = MAX_BODY_BYTES) -> FastAPI:
    """The FastAPI application serving `predictor`."""
    app = FastAPI(title="DeepWire model", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metadata")
    async def metadata() -> dict[str, Any]:
        return predictor.metadata()

    @app.post("/predict")
    async def predict(request: Request) -> JSONResponse:
        try:
            payload = await _json_body(request, max_body_bytes)
            arrays = predictor.arrays(payload)
        except RequestError as error:
            return JSONResponse({"error": str(error)}, status_code=error.status)
        return JSONResponse(await run_in_threadpool(predictor.predict, arrays))

    return app


async def _json_body(request: Request, limit: int) -> Any:
    """The request's JSON, read no further than `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError(413, f"request body over {limit:,} bytes. Received: {int(declared):,}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise RequestError(413, f"request body over {limit:,} bytes")
    try:
        return json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as error:
        raise RequestError(400, f"malformed JSON: {error}") from None


def _refuse_constant(name: str) -> float:
    """NaN and Infinity are not JSON; Python's parser would accept them."""
    raise ValueError(f"{name} is not a JSON number")
