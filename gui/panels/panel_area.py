"""The scroll area each bottom panel sits in: it scrolls only what cannot shrink to fit."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget


class PanelArea(QScrollArea):
    """Gives its panel the whole viewport, and scrolls only below the panel's minimum size.

    QScrollArea's own resizing (widgetResizable) gives a panel that holds word-wrapped
    text its *preferred* height for the width, so on a 720-pixel screen charts and
    tables that could have shrunk to fit were pushed out of sight instead. Here the
    panel is resized to its minimum height for the width when the viewport is shorter.
    """

    def __init__(self) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.NoFrame)
        # Panels fit the width of the smallest window (tests/gui/test_ux.py checks them).
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def setWidget(self, widget: QWidget) -> None:
        super().setWidget(widget)
        widget.installEventFilter(self)
        self.fit_widget()

    def fit_widget(self) -> None:
        """Resizes the panel to the viewport, or to its minimum where that is larger."""
        widget = self.widget()
        if widget is None:
            return
        minimum = widget.minimumSizeHint().expandedTo(widget.minimumSize())
        width = max(self.viewport().width(), minimum.width())
        height = minimum.height()
        layout = widget.layout()
        if layout is not None and layout.hasHeightForWidth():
            height = max(height, layout.totalMinimumHeightForWidth(width))
        widget.resize(width, max(self.viewport().height(), height))
        # A hidden panel's resize reaches QScrollArea only when shown, after its scroll
        # bars were laid out: they would stay for a panel that now fits. Update them now.
        QCoreApplication.sendEvent(self, QEvent(QEvent.Type.LayoutRequest))

    def resizeEvent(self, event: QResizeEvent) -> None:  # the viewport's, too
        super().resizeEvent(event)
        self.fit_widget()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.fit_widget()  # the panel's contents changed what it needs
        return super().eventFilter(watched, event)
