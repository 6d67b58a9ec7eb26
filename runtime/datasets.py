"""Built-in datasets: what scikit-learn ships, plus small generated tasks.

Nothing here downloads. Each loader follows the data contract shared with the
exported training script (see runtime/data.py), so the app and the script see
identical arrays for the same settings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn import datasets as sk

SEQUENCE_STEPS = 20


@dataclass(frozen=True)
class RawData:
    """Features and targets before splitting and scaling.

    Attributes:
        x: Features, float32, one sample per row (any trailing shape).
        y: Targets: int64 class ids, or float32 values for regression.
        task: "classification" or "regression".
        class_names: Names of the classes in id order (empty for regression).
        feature_names: Names of the flattened features.
        images: True when samples are images worth showing as pictures.
        target_name: What the targets are called (a CSV's target column); "" if unnamed.
    """

    x: np.ndarray
    y: np.ndarray
    task: str
    class_names: tuple[str, ...] = ()
    feature_names: tuple[str, ...] = ()
    images: bool = False
    target_name: str = ""


def _bundled(loader) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], tuple[str, ...]]:
    bunch = loader()
    names = tuple(str(name) for name in bunch.target_names)
    features = tuple(str(name) for name in bunch.feature_names)
    return bunch.data.astype("float32"), bunch.target.astype("int64"), names, features


def digits(settings: dict) -> RawData:
    x, y, names, features = _bundled(sk.load_digits)
    return RawData(x, y, "classification", names, features)


def digits_images(settings: dict) -> RawData:
    x, y, names, features = _bundled(sk.load_digits)
    return RawData(x.reshape(-1, 8, 8, 1), y, "classification", names, features, images=True)


def iris(settings: dict) -> RawData:
    x, y, names, features = _bundled(sk.load_iris)
    return RawData(x, y, "classification", names, features)


def wine(settings: dict) -> RawData:
    x, y, names, features = _bundled(sk.load_wine)
    return RawData(x, y, "classification", names, features)


def breast_cancer(settings: dict) -> RawData:
    x, y, names, features = _bundled(sk.load_breast_cancer)
    return RawData(x, y, "classification", names, features)


def _points(x: np.ndarray, y: np.ndarray, classes: int) -> RawData:
    return RawData(
        x.astype("float32"),
        y.astype("int64"),
        "classification",
        tuple(str(i) for i in range(classes)),
        ("x1", "x2"),
    )


def moons(settings: dict) -> RawData:
    x, y = sk.make_moons(
        n_samples=settings["samples"], noise=settings["noise"], random_state=settings["seed"]
    )
    return _points(x, y, 2)


def circles(settings: dict) -> RawData:
    x, y = sk.make_circles(
        n_samples=settings["samples"],
        noise=settings["noise"],
        factor=0.5,
        random_state=settings["seed"],
    )
    return _points(x, y, 2)


def blobs(settings: dict) -> RawData:
    x, y = sk.make_blobs(
        n_samples=settings["samples"],
        centers=3,
        n_features=2,
        cluster_std=1.0,
        random_state=settings["seed"],
    )
    return _points(x, y, 3)


def _step_names() -> tuple[str, ...]:
    return tuple(f"t{i}" for i in range(SEQUENCE_STEPS))


def sine(settings: dict) -> RawData:
    """Forecast the next value of a noisy sine wave from the previous 20."""
    samples, noise = settings["samples"], settings["noise"]
    rng = np.random.default_rng(settings["seed"])
    start = rng.uniform(0, 2 * np.pi, size=samples)
    t = start[:, None] + 0.25 * np.arange(SEQUENCE_STEPS + 1)
    wave = np.sin(t) + noise * rng.normal(size=t.shape)
    x = wave[:, :SEQUENCE_STEPS, None].astype("float32")
    y = wave[:, SEQUENCE_STEPS].astype("float32")
    return RawData(x, y, "regression", (), _step_names())


def sequence_classification(settings: dict) -> RawData:
    """Tell rising from falling noisy sequences of 20 steps."""
    samples, noise = settings["samples"], settings["noise"]
    rng = np.random.default_rng(settings["seed"])
    y = rng.integers(0, 2, size=samples)
    slope = np.where(y == 1, 1.0, -1.0) * rng.uniform(0.5, 1.5, size=samples)
    x = slope[:, None] * np.linspace(0.0, 1.0, SEQUENCE_STEPS) + noise * rng.normal(
        size=(samples, SEQUENCE_STEPS)
    )
    return RawData(
        x[..., None].astype("float32"),
        y.astype("int64"),
        "classification",
        ("falling", "rising"),
        _step_names(),
    )


LOADERS = {
    "digits": digits,
    "digits_images": digits_images,
    "iris": iris,
    "wine": wine,
    "breast_cancer": breast_cancer,
    "moons": moons,
    "circles": circles,
    "blobs": blobs,
    "sine": sine,
    "sequence_classification": sequence_classification,
}


def load_builtin(settings: dict) -> RawData:
    """The built-in dataset `settings["name"]` (a key of LOADERS)."""
    return LOADERS[settings["name"]](settings)
