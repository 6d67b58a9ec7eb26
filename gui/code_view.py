"""Python source shown highlighted: the editor the export dialog previews code in."""

from __future__ import annotations

import keyword
import re

from PySide6.QtCore import QRegularExpression
from PySide6.QtGui import QColor, QFont, QFontDatabase, QSyntaxHighlighter, QTextCharFormat
from PySide6.QtWidgets import (
    QPlainTextEdit,
)


def _format(color: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    text_format = QTextCharFormat()
    text_format.setForeground(QColor(color))
    if bold:
        text_format.setFontWeight(QFont.Weight.Bold)
    text_format.setFontItalic(italic)
    return text_format


class PythonHighlighter(QSyntaxHighlighter):
    """Keywords, builtins, strings, numbers, decorators and comments of Python."""

    _RULES = (
        (r"\b(?:" + "|".join(keyword.kwlist) + r")\b", _format("#8959a8", bold=True)),
        (
            r"\b(?:print|len|range|list|dict|tuple|int|float|str|super|isinstance)\b",
            _format("#3e999f"),
        ),
        (r"\b(?:self|cls)\b", _format("#c82829", italic=True)),
        (r"\b[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?\b", _format("#f5871f")),
        (r"@\w+(?:\.\w+)*", _format("#4271ae")),
        (r"\bdef\s+(\w+)", _format("#4271ae", bold=True)),
        (r"'[^'\\\n]*(?:\\.[^'\\\n]*)*'", _format("#718c00")),
        (r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"', _format("#718c00")),
        (r"#[^\n]*", _format("#8e908c", italic=True)),
    )
    _TRIPLE = re.compile(r'"""|\'\'\'')
    _STRING_FORMAT = _format("#718c00")

    def __init__(self, document) -> None:
        super().__init__(document)
        self._rules = [(QRegularExpression(pattern), fmt) for pattern, fmt in self._RULES]

    def highlightBlock(self, text: str) -> None:
        for expression, text_format in self._rules:
            matches = expression.globalMatch(text)
            while matches.hasNext():
                match = matches.next()
                # A rule with a group colours only the group (the name after `def`).
                group = 1 if match.lastCapturedIndex() >= 1 else 0
                self.setFormat(match.capturedStart(group), match.capturedLength(group), text_format)
        self._highlight_docstrings(text)

    def _highlight_docstrings(self, text: str) -> None:
        # State 1: inside a triple-quoted string that began on an earlier line.
        inside = self.previousBlockState() == 1
        start = 0
        for match in self._TRIPLE.finditer(text):
            if inside:
                self.setFormat(start, match.end() - start, self._STRING_FORMAT)
                inside = False
            else:
                start = match.start()
                inside = True
        if inside:
            self.setFormat(start, len(text) - start, self._STRING_FORMAT)
        self.setCurrentBlockState(1 if inside else 0)


def code_editor(text: str) -> QPlainTextEdit:
    """A read-only, monospaced, highlighted view of Python source."""
    editor = QPlainTextEdit()
    editor.setReadOnly(True)
    editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    editor.setPlainText(text)
    editor.highlighter = PythonHighlighter(editor.document())
    editor.highlighter.rehighlight()
    return editor
