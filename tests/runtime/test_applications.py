"""keras.applications round trip: import, export, run the exported code, compare.

Every architecture built only from standard layers imports (weights=None),
exports as code whose model has the same parameter count, the same layer
classes and, with the original weights copied by name, the same outputs.
Architectures with their own layer classes (or keras.ops calls between
layers) are refused with a message naming the layer and the class.

Building these models costs seconds each on a busy machine, so the default
run takes a representative few (marked slow); DEEPWIRE_ALL_APPLICATIONS=1
runs all of keras.applications.
"""

from __future__ import annotations

import os

import keras
import numpy as np
import pytest

from codegen.python_source import export_model_code
from runtime.importer import ImportModelError, import_model, transfer_weights

# The smallest input each architecture accepts (most take 32x32).
MIN_SIDE = {"InceptionV3": 75, "InceptionResNetV2": 75, "Xception": 71}
# Architectures refused, and what their message says: ConvNeXt has a layer class
# of its own; MobileNetV3 computes its hard sigmoid with keras.ops on tensors.
REFUSED = {
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
# The default run: dropout with a noise shape, Normalization and Rescaling inside,
# squeeze-and-excite blocks, depthwise convolutions; and a layer class of its own.
# MobileNetV3's refusal is checked on a small model of the same kind below.
REPRESENTATIVE = ("EfficientNetB0", "ConvNeXtTiny")
ALL = sorted(name for name in dir(keras.applications) if name[:1].isupper())
CHOSEN = ALL if os.environ.get("DEEPWIRE_ALL_APPLICATIONS") == "1" else REPRESENTATIVE


def make(name: str) -> keras.Model:
    side = MIN_SIDE.get(name, 32)
    keras.utils.set_random_seed(0)
    return getattr(keras.applications, name)(weights=None, input_shape=(side, side, 3), classes=3)


def layer_classes(model: keras.Model) -> dict[str, str]:
    return {layer.name: type(layer).__name__ for layer in model.layers}


def exported_model(graph) -> keras.Model:
    namespace = {"__name__": "exported_model"}
    exec(compile(export_model_code(graph), "exported_model.py", "exec"), namespace)
    return namespace["build_model"]()


def test_the_representative_few_are_real_applications():
    assert set(REPRESENTATIVE) <= set(ALL)
    assert set(REFUSED) <= set(ALL)


@pytest.mark.slow
@pytest.mark.parametrize("name", CHOSEN)
def test_application_round_trips_through_exported_code(name):
    original = make(name)
    if name in REFUSED:
        with pytest.raises(ImportModelError, match=REFUSED[name]):
            import_model(original)
        return
    rebuilt = exported_model(import_model(original))
    assert rebuilt.count_params() == original.count_params()
    assert layer_classes(rebuilt) == layer_classes(original)
    transfer_weights(original, rebuilt)
    side = MIN_SIDE.get(name, 32)
    images = np.random.default_rng(0).uniform(0, 255, (2, side, side, 3)).astype("float32")
    # Eager calls: tracing predict's tf.function costs seconds on big models.
    want = keras.ops.convert_to_numpy(original(images, training=False))
    got = keras.ops.convert_to_numpy(rebuilt(images, training=False))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_keras_ops_between_layers_are_refused_by_name():
    """MobileNetV3's hard sigmoid, relu6(x + 3) / 6, written with keras.ops on tensors."""
    images = keras.Input((8, 8, 3), name="images")
    gate = keras.layers.ReLU(6.0, name="relu6")(images + 3.0) * (1.0 / 6.0)
    with pytest.raises(ImportModelError, match=REFUSED["MobileNetV3Small"]):
        import_model(keras.Model(images, gate))
