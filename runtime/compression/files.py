"""The file each variant is saved as in the output folder: one list for writers and checks."""

from __future__ import annotations

FLOAT_MODEL = "model_float.keras"
KERAS_VARIANTS = ("pruned", "keras_int8")


def variant_file(variant: str) -> str:
    """The file name of `variant` ("pruned", "keras_int8" or a tflite variant)."""
    suffix = "keras" if variant in KERAS_VARIANTS else "tflite"
    return f"model_{variant}.{suffix}"


def zipped(name: str) -> str:
    """The zip archive a Keras model is measured as (its size as shipped compressed)."""
    return f"{name}.zip"
