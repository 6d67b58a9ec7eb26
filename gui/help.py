"""The Help menu: a getting-started page, the keyboard shortcuts, the shipped docs, About.

Nothing here imports TensorFlow: versions are read from the installed
packages' metadata.
"""

from __future__ import annotations

import platform
from html import escape
from importlib import metadata
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QUrl, qVersion
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMainWindow, QTextBrowser, QVBoxLayout

DOCS_DIR = Path(__file__).resolve().parent.parent / "docs"
README = Path(__file__).resolve().parent.parent / "README.md"

GETTING_STARTED = """
<h2>Getting started with DeepWire</h2>
<p>DeepWire lets you build a neural network by drawing it, then train, evaluate and export
it. A network is a chain (or graph) of <b>layers</b>: data enters at an <b>Input</b> layer,
each layer transforms it, and the last layer gives the prediction.</p>
<ol>
<li><b>Start from an example</b>: <i>File &gt; New from Template</i> opens a ready network,
such as a small network that recognises hand-written digits.</li>
<li><b>Add layers</b>: double-click a layer in the <i>Layers</i> list (it is placed after
the selected layer and wired to it) or drag it onto the canvas. Connect layers by dragging
from the right-hand port of one to the left-hand port of another.</li>
<li><b>Read the shapes</b>: every edge shows the shape of the data it carries, e.g.
<code>(None, 64)</code>: any number of samples, 64 values each. A red layer does not fit;
the <i>Problems</i> panel says why, and offers a <b>Fix</b> button when the remedy is
known.</li>
<li><b>Set parameters</b>: select a layer and edit it in the <i>Inspector</i>. Hover any
parameter for what it does and a sensible range.</li>
<li><b>Choose the data</b>: the <i>Data</i> panel picks a built-in dataset or your own
CSV, NumPy or image files, and checks that the data fits the network.</li>
<li><b>Train</b>: press <b>F5</b> (<i>Run &gt; Train</i>). The <i>Training</i> panel draws
the loss (lower is better) and metrics as the network learns; <i>Training settings</i>
beside the inspector hold the optimizer, learning rate, epochs and more. If the validation
loss rises while the training loss falls, the network is memorising: add Dropout, use
fewer epochs or turn on early stopping.</li>
<li><b>Evaluate</b> the trained model on the test data, <b>tune</b> its settings, and
<b>export</b> it as a Python script or a model file (<i>File &gt; Export</i>).</li>
</ol>
<p>Every edit can be undone with Ctrl+Z, and unsaved work is kept if the app closes.</p>
"""


class HelpPage(QDialog):
    """A page of help text in a window of its own.

    Args:
        title: The window title.
        html: The page.
        parent: The main window.
    """

    def __init__(self, title: str, html: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setHtml(html)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(620, 560)


def shortcuts_html(window: QMainWindow) -> str:
    """A table of every action of `window` that has a keyboard shortcut."""
    rows = []
    seen = set()
    for action in window.findChildren(QAction):
        keys = ", ".join(s.toString() for s in action.shortcuts() if not s.isEmpty())
        name = action.text().replace("&", "").rstrip("…").strip()
        if keys and name and (name, keys) not in seen:
            seen.add((name, keys))
            rows.append((name, keys))
    body = "".join(
        f"<tr><td>{escape(name)}</td><td><b>{escape(keys)}</b></td></tr>"
        for name, keys in sorted(rows)
    )
    return (
        "<h2>Keyboard shortcuts</h2><table cellpadding='4'>"
        f"<tr><th align='left'>Action</th><th align='left'>Keys</th></tr>{body}</table>"
    )


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions() -> dict[str, str]:
    """DeepWire's version and those of what it runs on, without importing TensorFlow."""
    return {
        "DeepWire": _version("deepwire"),
        "Python": platform.python_version(),
        "Qt": qVersion(),
        "PySide6": pyside_version,
        "TensorFlow": _version("tensorflow"),
        "Keras": _version("keras"),
        "scikit-learn": _version("scikit-learn"),
    }


def about_html() -> str:
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>{escape(version)}</td></tr>"
        for name, version in versions().items()
    )
    return (
        "<h2>DeepWire</h2><p>Design, check, train and export neural networks by drawing "
        f"them.</p><table cellpadding='3'>{rows}</table>"
    )


def docs_url() -> QUrl:
    """The documentation shipped with the app (the docs folder, else the README)."""
    guide = DOCS_DIR / "README-gui.md"
    return QUrl.fromLocalFile(str(guide if guide.is_file() else README))


def add_help_menu(window: QMainWindow) -> dict[str, QAction]:
    """Adds the Help menu to `window`; returns its actions by name."""
    menu = window.menuBar().addMenu("&Help")
    pages = {
        "getting_started": ("&Getting Started", "Getting started", lambda: GETTING_STARTED),
        "shortcuts": ("&Keyboard Shortcuts", "Keyboard shortcuts", lambda: shortcuts_html(window)),
    }
    actions: dict[str, QAction] = {}
    for key, (text, title, html) in pages.items():
        action = menu.addAction(text)
        action.triggered.connect(
            lambda _checked=False, title=title, html=html: HelpPage(title, html(), window).show()
        )
        actions[key] = action
    docs = menu.addAction("&Documentation")
    docs.setToolTip(str(DOCS_DIR))
    docs.triggered.connect(lambda _checked=False: QDesktopServices.openUrl(docs_url()))
    actions["docs"] = docs
    menu.addSeparator()
    about = menu.addAction("&About DeepWire")
    about.triggered.connect(
        lambda _checked=False: HelpPage("About DeepWire", about_html(), window).show()
    )
    actions["about"] = about
    return actions
