"""A picture that scales to the room its layout gives it."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPixmap, QResizeEvent
from PySide6.QtWidgets import QLabel


class FittedPicture(QLabel):
    """Shows a pixmap scaled to fit (proportions kept, pixels kept sharp), or text.

    A QLabel holding a pixmap will not shrink below it, so a 256-pixel heatmap made a
    short panel scroll; this one asks for the picture's size and takes down to MINIMUM.
    `source` is the picture as given; `pixmap()` what is drawn.
    """

    MINIMUM = 80

    def __init__(self, text: str = "") -> None:
        super().__init__(text)
        self.source: QPixmap | None = None
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)

    def set_picture(self, pixmap: QPixmap) -> None:
        self.source = pixmap
        self.updateGeometry()
        self._fit()

    def setText(self, text: str) -> None:
        self.source = None
        super().setText(text)

    def clear(self) -> None:
        self.source = None
        super().clear()

    def sizeHint(self) -> QSize:
        return self.source.size() if self.source is not None else super().sizeHint()

    def minimumSizeHint(self) -> QSize:
        if self.source is None:
            return super().minimumSizeHint()
        return QSize(self.MINIMUM, self.MINIMUM)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self.source is None or self.source.isNull():
            return
        room = self.contentsRect().size().boundedTo(QSize(4096, 4096))
        if room.width() < 1 or room.height() < 1:
            room = self.source.size()
        scaled = self.source.scaled(
            room, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
        )
        super().setPixmap(scaled)
