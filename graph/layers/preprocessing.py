"""Preprocessing and augmentation layers for images (batch, height, width, channels).

The Random* layers change images only while training, so the model sees
varied copies of the same data; at prediction time they pass images through.
"""

from __future__ import annotations

from graph.layer_type import LayerType
from graph.layers._common import require_rank, seed, single
from graph.params import Param

IMAGE = "(None, 28, 28, 3) — (batch, height, width, channels)"
FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("bilinear", "nearest")


def _image(_params, inputs):
    require_rank(inputs[0], 4, IMAGE)
    return inputs[0]


def _sized_image(params, inputs):
    shape = inputs[0]
    require_rank(shape, 4, IMAGE)
    return (None, params["height"], params["width"], shape[-1])


def _size_params() -> tuple[Param, ...]:
    return (
        Param("height", "int", 24, minimum=1, help="Output height in pixels"),
        Param("width", "int", 24, minimum=1, help="Output width in pixels"),
    )


def _fill_params() -> tuple[Param, ...]:
    return (
        Param("fill_mode", "choice", "reflect", choices=FILL_MODES, help="How gaps are filled"),
        Param("interpolation", "choice", "bilinear", choices=INTERPOLATIONS, help="Pixel mixing"),
        seed(),
        Param("fill_value", "float", 0.0, help="Gap value when fill_mode is constant"),
    )


def _factor(default: float, help_text: str, minimum: float = 0.0) -> Param:
    return Param("factor", "float", default, minimum=minimum, maximum=1.0, help=help_text)


def _value_range() -> Param:
    return Param(
        "value_range",
        "floats",
        (0.0, 255.0),
        length=2,
        help="Smallest and largest pixel value of the input",
    )


def _range_from_keras(config: dict) -> dict:
    """Keras stores factor f as the range it samples, (-f, f) or (0, f)."""
    factor = config.get("factor")
    if isinstance(factor, (list, tuple)) and len(factor) == 2:
        low, high = factor
        if low in (0, -high):
            config = {**config, "factor": high}
    value_range = config.get("value_range")
    if isinstance(value_range, (list, tuple)):
        config = {**config, "value_range": tuple(value_range)}
    return config


LAYERS = (
    LayerType(
        "Rescaling",
        "Preprocessing",
        "Multiplies every value by scale and adds offset, e.g. pixels 0..255 to 0..1.",
        (
            Param("scale", "float", 1 / 255, help="Factor every value is multiplied by"),
            Param("offset", "float", 0.0, help="Added after scaling"),
        ),
        single,
        key_params=("scale",),
    ),
    LayerType(
        "Resizing",
        "Preprocessing",
        "Resizes images to a fixed height and width.",
        (
            *_size_params(),
            Param(
                "interpolation",
                "choice",
                "bilinear",
                choices=("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5"),
                help="How pixels are mixed",
            ),
            Param("crop_to_aspect_ratio", "bool", False, help="Crop rather than stretch"),
            Param("pad_to_aspect_ratio", "bool", False, help="Pad rather than stretch"),
            Param("antialias", "bool", False, help="Smooth when shrinking"),
        ),
        _sized_image,
        key_params=("height", "width"),
    ),
    LayerType(
        "CenterCrop",
        "Preprocessing",
        "Cuts the central part of each image to a fixed height and width.",
        _size_params(),
        _sized_image,
        key_params=("height", "width"),
    ),
    LayerType(
        "RandomCrop",
        "Preprocessing",
        "During training, cuts a random part of each image of the given size.",
        (*_size_params(), seed()),
        _sized_image,
        key_params=("height", "width"),
    ),
    LayerType(
        "RandomFlip",
        "Preprocessing",
        "During training, mirrors images at random, left-right and/or upside down.",
        (
            Param(
                "mode",
                "choice",
                "horizontal",
                choices=("horizontal", "vertical", "horizontal_and_vertical"),
                help="Which flips may happen",
            ),
            seed(),
        ),
        _image,
        key_params=("mode",),
    ),
    LayerType(
        "RandomRotation",
        "Preprocessing",
        "During training, turns images by a random angle.",
        (_factor(0.1, "Largest turn, as a fraction of a full circle"), *_fill_params()),
        _image,
        key_params=("factor",),
        from_keras=_range_from_keras,
    ),
    LayerType(
        "RandomZoom",
        "Preprocessing",
        "During training, zooms images in or out at random.",
        (
            Param(
                "height_factor",
                "float",
                0.1,
                minimum=-1.0,
                maximum=1.0,
                help="Largest zoom as a fraction of the height; negative zooms in",
            ),
            Param(
                "width_factor",
                "float",
                None,
                minimum=-1.0,
                maximum=1.0,
                nullable=True,
                help="Largest zoom of the width; empty: keep the aspect ratio",
            ),
            *_fill_params(),
        ),
        _image,
        key_params=("height_factor",),
    ),
    LayerType(
        "RandomTranslation",
        "Preprocessing",
        "During training, shifts images up, down, left or right at random.",
        (
            Param(
                "height_factor",
                "float",
                0.1,
                minimum=0.0,
                maximum=1.0,
                help="Largest vertical shift as a fraction of the height",
            ),
            Param(
                "width_factor",
                "float",
                0.1,
                minimum=0.0,
                maximum=1.0,
                help="Largest horizontal shift as a fraction of the width",
            ),
            *_fill_params(),
        ),
        _image,
        key_params=("height_factor", "width_factor"),
    ),
    LayerType(
        "RandomContrast",
        "Preprocessing",
        "During training, makes images more or less contrasted at random.",
        (_factor(0.2, "Largest contrast change, as a fraction"), _value_range(), seed()),
        _image,
        key_params=("factor",),
        from_keras=_range_from_keras,
    ),
    LayerType(
        "RandomBrightness",
        "Preprocessing",
        "During training, makes images brighter or darker at random.",
        (
            _factor(0.2, "Largest brightness change, as a fraction of the value range"),
            _value_range(),
            seed(),
        ),
        _image,
        key_params=("factor",),
        from_keras=_range_from_keras,
    ),
)
