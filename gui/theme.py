"""Colours and sizes shared by the canvas and the panels."""

from __future__ import annotations

from PySide6.QtGui import QColor

# One hue per palette category, muted enough for black text on top.
CATEGORY_COLORS = {
    "Core": "#5b8def",
    "Convolution": "#e0883a",
    "Pooling": "#d9b44a",
    "Recurrent": "#9b6bd6",
    "Attention": "#d65f9b",
    "Normalization": "#3fae8f",
    "Regularization": "#8a9aa8",
    "Merge": "#4bb0c8",
    "Reshaping": "#7c9c4a",
    "Activation": "#d96b5f",
    "Preprocessing": "#a88b6b",
    "Blocks": "#3c4a8c",
}
FALLBACK_COLOR = "#9aa0a6"

ERROR_COLOR = QColor("#d93025")
WARNING_COLOR = QColor("#e8a317")
SELECTION_COLOR = QColor("#1a73e8")
EDGE_COLOR = QColor("#6b7280")
PORT_COLOR = QColor("#f4f4f4")
COMPATIBLE_PORT_COLOR = QColor("#34a853")
NODE_BODY_COLOR = QColor("#ffffff")
NODE_TEXT_COLOR = QColor("#202124")
MUTED_TEXT_COLOR = QColor("#5f6368")
CANVAS_COLOR = QColor("#f3f4f6")
GRID_MINOR_COLOR = QColor("#e6e8eb")
GRID_MAJOR_COLOR = QColor("#d5d9de")

GRID_SIZE = 20


def category_color(category: str) -> QColor:
    """The header colour of nodes in `category`."""
    return QColor(CATEGORY_COLORS.get(category, FALLBACK_COLOR))


# The bars of a model's predicted probabilities (Explain panel).
PREDICTION_COLOR = "#1f77b4"

# A federated run's curves beside its centralized baseline's.
FEDERATED_COLOR = "#1f77b4"
BASELINE_COLOR = "#ff7f0e"
