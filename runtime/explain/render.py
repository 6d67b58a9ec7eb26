"""Explanations as RGB pictures (uint8 arrays): heatmaps over images, strips, bar charts.

Pure NumPy, so the command line and the panel's PNG export draw the same
picture. Colours: a dark-to-bright ramp for non-negative maps, blue-white-red
for signed values (blue lowered the score, red raised it).
"""

from __future__ import annotations

import numpy as np

from runtime.explain.result import Explanation

_RAMP = np.array(
    [[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]], "float64"
)
MAX_WORD_BARS = 400  # a long text's picture shows its first words; the CSV holds all
_BLUE, _WHITE, _RED = (
    np.array(c, "float64") for c in ([33, 102, 172], [247, 247, 247], [178, 24, 43])
)


def ramp(values: np.ndarray) -> np.ndarray:
    """Non-negative values in [0, 1] -> RGB floats in [0, 255] (an inferno-like ramp)."""
    scaled = np.clip(values, 0, 1) * (len(_RAMP) - 1)
    low = np.floor(scaled).astype(int).clip(0, len(_RAMP) - 2)
    weight = (scaled - low)[..., None]
    return _RAMP[low] * (1 - weight) + _RAMP[low + 1] * weight


def diverging(values: np.ndarray) -> np.ndarray:
    """Signed values -> RGB floats: blue (negative), white (zero), red (positive)."""
    peak = float(np.abs(values).max()) or 1.0
    scaled = np.clip(values / peak, -1, 1)[..., None]
    return np.where(
        scaled >= 0, _WHITE + scaled * (_RED - _WHITE), _WHITE - scaled * (_BLUE - _WHITE)
    )


def _grayscale(image: np.ndarray) -> np.ndarray:
    """An image sample (h, w, c) as RGB floats, its own range stretched to [0, 255]."""
    gray = image.mean(axis=-1) if image.shape[-1] != 3 else None
    rgb = np.repeat(gray[..., None], 3, axis=-1) if gray is not None else image
    low, high = float(rgb.min()), float(rgb.max())
    return (rgb - low) / ((high - low) or 1.0) * 255


def _enlarge(picture: np.ndarray, size: int) -> np.ndarray:
    """Nearest-neighbour enlargement so the longer side is about `size` pixels."""
    factor = max(1, size // max(picture.shape[:2]))
    return np.repeat(np.repeat(picture, factor, axis=0), factor, axis=1)


def overlay(image: np.ndarray, heatmap: np.ndarray, opacity: float = 0.5, size: int = 256):
    """The heatmap (h, w) in [0, 1] laid over the image sample (h, w, c) at `opacity`."""
    mixed = (1 - opacity) * _grayscale(image) + opacity * ramp(heatmap)
    return _enlarge(np.clip(mixed, 0, 255).astype(np.uint8), size)


def strip(values: np.ndarray, size: int = 256) -> np.ndarray:
    """A 2-D map (steps, features) as a picture: time runs left to right, one row per feature."""
    values = np.atleast_2d(values.T if values.ndim == 2 else values[None])
    colours = diverging(values) if values.min() < 0 else ramp(values)
    return _enlarge(np.clip(colours, 0, 255).astype(np.uint8), size)


def bar_chart(values: np.ndarray, bar: int = 10, width: int = 320) -> np.ndarray:
    """Signed values as horizontal bars around a centre line, one bar per value, in order."""
    values = np.asarray(values, "float64").ravel()
    peak = float(np.abs(values).max()) or 1.0
    picture = np.full((len(values) * bar + 2, width, 3), 255, np.uint8)
    centre = width // 2
    picture[:, centre] = 160
    for i, value in enumerate(values):
        length = int(round(abs(value) / peak * (centre - 2)))
        top = 1 + i * bar
        colour = _RED if value >= 0 else _BLUE
        left, right = (centre, centre + length) if value >= 0 else (centre - length, centre)
        picture[top : top + bar - 2, left:right] = colour.astype(np.uint8)
    return picture


def node_picture(values: np.ndarray, size: int = 320) -> np.ndarray:
    """A node's output as a picture: a grid of feature maps, a strip, or a signed bar strip.

    Feature maps (h, w, channels) are tiled in a near-square grid, each scaled
    to its own range (dark low, bright high) and separated by a grey line;
    sequences (steps, units) become a strip; vectors a one-row diverging strip.
    """
    values = np.asarray(values, "float64")
    if values.ndim == 3:
        height, width, channels = values.shape
        columns = int(np.ceil(np.sqrt(channels)))
        rows = int(np.ceil(channels / columns))
        grid = np.full((rows * (height + 1) + 1, columns * (width + 1) + 1, 3), 128.0)
        for channel in range(channels):
            plane = values[..., channel]
            low, high = plane.min(), plane.max()
            scaled = (plane - low) / ((high - low) or 1.0)
            top, left = (
                1 + (channel // columns) * (height + 1),
                1 + (channel % columns) * (width + 1),
            )
            grid[top : top + height, left : left + width] = ramp(scaled)
        return _enlarge(np.clip(grid, 0, 255).astype(np.uint8), size)
    if values.ndim == 2:
        return strip(values, size)
    vector = values.reshape(1, -1)
    colours = diverging(vector) if vector.min() < 0 else ramp(vector / (vector.max() or 1.0))
    width = max(1, size // vector.shape[1])
    row = np.repeat(np.clip(colours, 0, 255).astype(np.uint8), width, axis=1)
    return np.repeat(row, 24, axis=0)


def explanation_picture(explanation: Explanation, images: bool, opacity: float = 0.5):
    """The picture for an explanation: overlay for images, strip for sequences, else bars
    (for a text, a bar per word).

    Args:
        explanation: What to draw.
        images: True when the dataset's samples are pictures (h, w, channels).
        opacity: The heatmap's opacity over an image.
    """
    sample, heatmap = explanation.sample, explanation.heatmap
    if explanation.words is not None:  # a bar per word, in reading order (the first ones)
        return bar_chart(heatmap[:MAX_WORD_BARS])
    if sample is not None and images and sample.ndim == 3 and heatmap.ndim == 2:
        return overlay(sample, heatmap, opacity)
    if heatmap.ndim == 2 or (sample is not None and sample.ndim >= 2):
        return strip(heatmap)
    return bar_chart(heatmap)


MAX_HTML_WORDS = 2000  # a longer text is cut in the view; the saved CSV holds every word


def words_html(words: tuple[str, ...], scores: np.ndarray) -> str:
    """The text as HTML, each word's background shaded by its signed score.

    Red: the word pushed toward the explained class; blue: against it; white:
    no effect. Words are HTML-escaped (a text may hold markup such as `<b>`);
    the score is in each word's title.
    """
    import html

    scores = np.asarray(scores, "float64")
    colours = diverging(scores) if scores.size else np.zeros((0, 3))
    spans = []
    for word, score, colour in zip(words[:MAX_HTML_WORDS], scores, colours, strict=False):
        red, green, blue = (int(round(c)) for c in colour)
        ink = "white" if 0.299 * red + 0.587 * green + 0.114 * blue < 140 else "black"
        spans.append(
            f'<span style="background-color: rgb({red}, {green}, {blue}); color: {ink};" '
            f'title="{score:+.4f}">{html.escape(word)}</span>'
        )
    more = len(words) - MAX_HTML_WORDS
    tail = f" <i>… {more:,} more words (the saved CSV holds them all)</i>" if more > 0 else ""
    return "<p style='font-size: large; line-height: 160%;'>" + " ".join(spans) + tail + "</p>"
