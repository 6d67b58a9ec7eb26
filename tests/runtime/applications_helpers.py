"""keras.applications round trip: import, export, run the exported code, compare.

Every architecture built only from standard layers imports (weights=None),
exports as code whose model has the same parameter count, the same layer
classes and, with the original weights copied by name, the same outputs.
Architectures with their own layer classes (or keras.ops calls between
layers) are refused with a message naming the layer and the class.

All of keras.applications runs in the default test command, split over the
`test_applications_*.py` files in `GROUPS` so the workers share them (a file
stays on one worker). Each case builds its Keras model once, at the smallest
input side the architecture takes. Every architecture is imported and
exported, and its graph must count the original's parameters (from the
catalog's rules, no second Keras build) and name the same layer classes. The
exported code is run, the weights copied and one sample compared for the
smallest of each family (`REBUILT`: the larger members repeat the same blocks,
and building a second 1,000-layer model costs up to 35 s); for all of them
with DEEPWIRE_ALL_APPLICATIONS=1.
"""

from __future__ import annotations

import functools
import os

import keras
import numpy as np
import pytest

from codegen.python_source import export_model_code
from graph.summary import summary_totals
from runtime.importer import ImportModelError, import_model, transfer_weights

# The smallest input each architecture accepts (most take 32x32).
MIN_SIDE = {"InceptionV3": 75, "InceptionResNetV2": 75, "Xception": 71}
# Architectures refused, and what their message says: ConvNeXt and InceptionResNetV2
# have layer classes of their own; MobileNetV3 computes its hard sigmoid with keras.ops.
REFUSED = {
    "InceptionResNetV2": r"\(CustomScaleLayer\): layer type CustomScaleLayer is not in the "
    r"catalog \(custom class from keras",
    **{
        f"ConvNeXt{size}": r"\(LayerScale\): layer type LayerScale is not in the catalog "
        r"\(custom class from keras"
        for size in ("Tiny", "Small", "Base", "Large", "XLarge")
    },
    **{
        f"MobileNetV3{size}": r"\((Add|Multiply)\): a keras.ops operation"
        for size in ("Small", "Large")
    },
}
ALL = sorted(name for name in dir(keras.applications) if name[:1].isupper())
# Which test file runs which architectures, balanced by their measured cost.
GROUPS = {
    "refused": (
        *(f"ConvNeXt{s}" for s in ("Tiny", "Small", "Base", "Large", "XLarge")),
        "MobileNetV3Small",
        "MobileNetV3Large",
    ),
    "efficientnet": tuple(f"EfficientNetB{n}" for n in range(8)),
    "efficientnet_v2": tuple(f"EfficientNetV2{s}" for s in ("B0", "B1", "B2", "B3", "S", "M", "L")),
    "resnet": ("ResNet101", "ResNet101V2", "ResNet152", "ResNet152V2", "ResNet50V2", "ResNet50"),
    "inception": (
        "DenseNet121",
        "DenseNet169",
        "DenseNet201",
        "InceptionV3",
        "InceptionResNetV2",
        "Xception",
    ),
    "mobile": ("MobileNet", "MobileNetV2", "NASNetMobile", "NASNetLarge", "VGG16", "VGG19"),
}
# The smallest of each family: rebuilt from the exported code in the default run.
REBUILT = (
    "EfficientNetB0",
    "EfficientNetV2B0",
    "ResNet50",
    "ResNet50V2",
    "DenseNet121",
    "InceptionV3",
    "Xception",
    "MobileNet",
    "MobileNetV2",
    "NASNetMobile",
    "VGG16",
)
REBUILD_ALL = os.environ.get("DEEPWIRE_ALL_APPLICATIONS") == "1"


@functools.lru_cache(maxsize=1)
def make(name: str) -> keras.Model:
    """The architecture with random weights; the last one is kept for a test that follows."""
    side = MIN_SIDE.get(name, 32)
    keras.utils.set_random_seed(0)
    return getattr(keras.applications, name)(weights=None, input_shape=(side, side, 3), classes=3)


def sample(name: str) -> np.ndarray:
    side = MIN_SIDE.get(name, 32)
    return np.random.default_rng(0).uniform(0, 255, (1, side, side, 3)).astype("float32")


def outputs(model: keras.Model, images: np.ndarray) -> np.ndarray:
    # Eager calls: tracing predict's tf.function costs seconds on big models.
    return keras.ops.convert_to_numpy(model(images, training=False))


def layer_classes(model: keras.Model) -> dict[str, str]:
    return {layer.name: type(layer).__name__ for layer in model.layers}


def exported_model(source: str) -> keras.Model:
    namespace = {"__name__": "exported_model"}
    exec(compile(source, "exported_model.py", "exec"), namespace)
    return namespace["build_model"]()


def check_application(name: str) -> None:
    """Imports and exports `name` and rebuilds it where chosen, or checks its refusal."""
    original = make(name)
    if name in REFUSED:
        with pytest.raises(ImportModelError, match=REFUSED[name]):
            import_model(original)
        return
    graph = import_model(original)
    source = export_model_code(graph)
    if not (REBUILD_ALL or name in REBUILT):
        compile(source, "exported_model.py", "exec")
        assert summary_totals(graph).total == original.count_params()
        # The catalog calls Keras's InputLayer "Input", after keras.Input.
        classes = {n.name: "InputLayer" if n.type == "Input" else n.type for n in graph.nodes}
        assert classes == layer_classes(original)
        return
    rebuilt = exported_model(source)
    assert rebuilt.count_params() == original.count_params()
    assert layer_classes(rebuilt) == layer_classes(original)
    transfer_weights(original, rebuilt)
    images = sample(name)
    np.testing.assert_allclose(
        outputs(rebuilt, images), outputs(original, images), rtol=1e-5, atol=1e-6
    )
