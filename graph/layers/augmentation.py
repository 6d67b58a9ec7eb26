"""Image augmentation and colour layers for images (batch, height, width, channels).

Like the Random* layers of preprocessing.py, the random ones change images
only while training, so the model sees varied copies of the same data; at
prediction time they pass images through. AutoContrast and
ContrastLimitedAdaptiveHistogramEqualization always apply. Keras 3.15's
Equalization is left out: in a functional model it hands back its input
tensor, which Keras then refuses as a cycle.
"""

from __future__ import annotations

from graph.layer_type import LayerType, ShapeError
from graph.layers._common import fmt, seed
from graph.layers.preprocessing import FILL_MODES, INTERPOLATIONS, _image, _value_range
from graph.params import Param


def _rgb_image(params, inputs):
    shape = _image(params, inputs)
    if shape[-1] not in (3, None):
        raise ShapeError(f"works on colour (RGB) images with 3 channels. Received: {fmt(shape)}")
    return shape


def _blurred_image(params, inputs):
    even = [size for size in params["kernel_size"] if size % 2 == 0]
    if even:
        raise ShapeError(
            f"kernel_size must be odd, so the window has a centre. "
            f"Received: kernel_size={params['kernel_size']}"
        )
    return _image(params, inputs)


def _factor(default: float, help_text: str, maximum: float | None = 1.0) -> Param:
    return Param("factor", "float", default, minimum=0.0, maximum=maximum, help=help_text)


def _ranges(*keys: str):
    """A from_keras hook: Keras stores a factor f as the range it samples, (0, f) or (-f, f).

    Ranges of other shapes are left as they are, for the import to refuse by name.
    """

    def hook(config: dict) -> dict:
        config = dict(config)
        for key in keys:
            value = config.get(key)
            if isinstance(value, (list, tuple)) and len(value) == 2:
                low, high = value
                if low in (0, -high):
                    config[key] = high
        for key, value in config.items():
            if isinstance(value, list):
                config[key] = tuple(value)
        return config

    return hook


def _posterization_from_keras(config: dict) -> dict:
    """Keras stores the bit count b as the range (1, b)."""
    factor = config.get("factor")
    config = _ranges()(config)
    if isinstance(factor, (list, tuple)) and len(factor) == 2 and factor[0] == 1:
        config["factor"] = factor[1]
    return config


def _colour_layer(
    name: str, description: str, factor_help: str, default: float = 0.5, rule=_image
) -> LayerType:
    return LayerType(
        name,
        "Preprocessing",
        description,
        (_factor(default, factor_help), _value_range(), seed()),
        rule,
        key_params=("factor",),
        from_keras=_ranges("factor"),
    )


def _optional_factor(name: str, help_text: str) -> Param:
    return Param(name, "float", None, minimum=0.0, maximum=1.0, nullable=True, help=help_text)


LAYERS = (
    LayerType(
        "RandomGrayscale",
        "Preprocessing",
        "During training, turns some images grey, so colour is not all the model relies on.",
        # Keras leaves the seed out of its config, so a graph could not keep it.
        (_factor(0.5, "Chance that an image turns grey"),),
        _image,
        key_params=("factor",),
        from_keras=_ranges("factor"),
    ),
    _colour_layer(
        "RandomHue",
        "During training, shifts the colours of images around the colour wheel at random.",
        "Largest hue shift, as a fraction of the full wheel",
    ),
    _colour_layer(
        "RandomSaturation",
        "During training, makes colours more vivid or more faded at random.",
        "Largest saturation change, as a fraction",
    ),
    _colour_layer(
        "RandomSharpness",
        "During training, makes images sharper or blurrier at random.",
        "Largest sharpness change, as a fraction",
    ),
    _colour_layer(
        "RandomColorDegeneration",
        "During training, blends images toward their grey version at random.",
        "Largest blend toward grey, as a fraction",
        rule=_rgb_image,
    ),
    _colour_layer(
        "RandomInvert",
        "During training, turns some images into their negative.",
        "Chance that an image is inverted",
        default=1.0,
    ),
    LayerType(
        "RandomPosterization",
        "Preprocessing",
        "During training, reduces the number of colour levels at random, like a poster.",
        (
            Param("factor", "int", 4, minimum=1, maximum=8, help="Fewest bits per colour kept"),
            _value_range(),
            seed(),
        ),
        _image,
        key_params=("factor",),
        from_keras=_posterization_from_keras,
    ),
    LayerType(
        "RandomShear",
        "Preprocessing",
        "During training, slants images sideways or up and down at random.",
        (
            Param(
                "x_factor", "float", 0.1, minimum=0.0, maximum=1.0, help="Largest sideways slant"
            ),
            Param("y_factor", "float", 0.0, minimum=0.0, maximum=1.0, help="Largest upward slant"),
            Param("interpolation", "choice", "bilinear", choices=INTERPOLATIONS, help="Mixing"),
            Param("fill_mode", "choice", "reflect", choices=FILL_MODES, help="How gaps are filled"),
            Param("fill_value", "float", 0.0, help="Gap value when fill_mode is constant"),
            seed(),
        ),
        _image,
        key_params=("x_factor", "y_factor"),
        from_keras=_ranges("x_factor", "y_factor"),
    ),
    LayerType(
        "RandomColorJitter",
        "Preprocessing",
        "During training, changes brightness, contrast, saturation and hue together at random.",
        (
            _value_range(),
            _optional_factor("brightness_factor", "Largest brightness change; empty: none"),
            _optional_factor("contrast_factor", "Largest contrast change; empty: none"),
            _optional_factor("saturation_factor", "Largest saturation change; empty: none"),
            _optional_factor("hue_factor", "Largest hue shift; empty: none"),
            seed(),
        ),
        _image,
        key_params=("brightness_factor",),
        from_keras=_ranges(),
    ),
    LayerType(
        "RandomErasing",
        "Preprocessing",
        "During training, blanks out a random rectangle of some images, so no single part "
        "of an image is relied on.",
        (
            _factor(1.0, "Chance that an image gets a rectangle erased"),
            Param(
                "scale",
                "floats",
                (0.02, 0.33),
                length=2,
                minimum=0.0,
                maximum=1.0,
                help="Smallest and largest erased area, as a fraction of the image",
            ),
            Param(
                "fill_value",
                "float",
                None,
                nullable=True,
                help="Value of erased pixels; empty: random noise",
            ),
            _value_range(),
            seed(),
        ),
        _image,
        key_params=("factor",),
        from_keras=_ranges("factor"),
    ),
    LayerType(
        "RandomGaussianBlur",
        "Preprocessing",
        "During training, blurs some images by a random amount.",
        (
            _factor(1.0, "Chance that an image is blurred"),
            Param("kernel_size", "ints", (3, 3), length=2, minimum=1, help="Blur window size"),
            Param("sigma", "float", 1.0, minimum=0.0, maximum=1.0, help="Largest blur strength"),
            _value_range(),
            seed(),
        ),
        _blurred_image,
        key_params=("factor",),
        from_keras=_ranges("factor", "sigma"),
    ),
    LayerType(
        "RandomPerspective",
        "Preprocessing",
        "During training, tilts images as if seen from a different angle.",
        (
            _factor(1.0, "Chance that an image is tilted"),
            Param("scale", "float", 1.0, minimum=0.0, maximum=1.0, help="Largest tilt"),
            Param("interpolation", "choice", "bilinear", choices=INTERPOLATIONS, help="Mixing"),
            Param("fill_value", "float", 0.0, help="Value of pixels outside the image"),
            seed(),
        ),
        _image,
        key_params=("factor",),
        from_keras=_ranges("factor"),
    ),
    LayerType(
        "RandomElasticTransform",
        "Preprocessing",
        "During training, warps images smoothly like rubber, as handwriting varies.",
        (
            _factor(1.0, "Chance that an image is warped"),
            Param("scale", "float", 1.0, minimum=0.0, maximum=1.0, help="Largest warp"),
            Param("interpolation", "choice", "bilinear", choices=INTERPOLATIONS, help="Mixing"),
            Param("fill_mode", "choice", "reflect", choices=FILL_MODES, help="How gaps are filled"),
            Param("fill_value", "float", 0.0, help="Gap value when fill_mode is constant"),
            _value_range(),
            seed(),
        ),
        _image,
        key_params=("factor",),
        from_keras=_ranges("factor", "scale"),
    ),
    LayerType(
        "AutoContrast",
        "Preprocessing",
        "Stretches each image's values to fill the whole value range.",
        (_value_range(),),
        _image,
        key_params=("value_range",),
        from_keras=_ranges(),
    ),
    LayerType(
        "ContrastLimitedAdaptiveHistogramEqualization",
        "Preprocessing",
        "Evens out brightness tile by tile (CLAHE), bringing out detail in dark and bright areas.",
        (
            _value_range(),
            Param("clip_limit", "float", 4.0, minimum=0.0, help="Limit on contrast boosting"),
            Param("tile_grid_size", "ints", (8, 8), length=2, minimum=1, help="Tiles per side"),
        ),
        _image,
        key_params=("clip_limit",),
        from_keras=_ranges(),
    ),
    LayerType(
        "Solarization",
        "Preprocessing",
        "During training, inverts the brightest pixels of images at random, like overexposure.",
        (
            Param(
                "addition_factor",
                "float",
                0.0,
                minimum=0.0,
                maximum=1.0,
                help="Largest brightness added before the threshold",
            ),
            Param(
                "threshold_factor",
                "float",
                0.0,
                minimum=0.0,
                maximum=1.0,
                help="Largest threshold above which pixels are inverted",
            ),
            _value_range(),
            seed(),
        ),
        _image,
        key_params=("threshold_factor",),
        from_keras=_ranges("addition_factor", "threshold_factor"),
    ),
    LayerType(
        "MixUp",
        "Preprocessing",
        "During training, blends pairs of images of a batch into one.",
        (
            Param("alpha", "float", 0.2, minimum=0.0, help="How strongly images are blended"),
            seed(),
        ),
        _image,
        key_params=("alpha",),
    ),
    LayerType(
        "CutMix",
        "Preprocessing",
        "During training, pastes a patch of one image of a batch onto another.",
        (_factor(1.0, "How large patches may be"), seed()),
        _image,
        key_params=("factor",),
        from_keras=_ranges("factor"),
    ),
    LayerType(
        "AugMix",
        "Preprocessing",
        "During training, mixes several randomly augmented copies of each image.",
        (
            _value_range(),
            Param("num_chains", "int", 3, minimum=1, help="Augmented copies mixed"),
            Param("chain_depth", "int", 3, minimum=1, help="Augmentations per copy"),
            _factor(0.3, "Strength of each augmentation"),
            Param("alpha", "float", 1.0, minimum=0.0, help="How evenly copies are mixed"),
            Param("all_ops", "bool", True, help="Use colour operations too"),
            Param("interpolation", "choice", "bilinear", choices=INTERPOLATIONS, help="Mixing"),
            seed(),
        ),
        _image,
        key_params=("num_chains",),
        from_keras=_ranges("factor"),
    ),
    LayerType(
        "RandAugment",
        "Preprocessing",
        "During training, applies a few augmentations picked at random to each image.",
        (
            _value_range(),
            Param("num_ops", "int", 2, minimum=1, help="Augmentations applied per image"),
            _factor(0.5, "Strength of each augmentation"),
            Param("interpolation", "choice", "bilinear", choices=INTERPOLATIONS, help="Mixing"),
            seed(),
        ),
        _image,
        key_params=("num_ops",),
        from_keras=_ranges("factor"),
    ),
)
