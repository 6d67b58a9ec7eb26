"""The deployment report: a real page, parsed back, with every section and its values."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.files import graph_to_yaml, save_graph
from main import main
from runtime.compression import compress
from runtime.data import load_dataset
from runtime.evaluation import evaluate
from runtime.events import RunFailed, RunFinished
from runtime.report import PrivacyFigures, ReportInputError
from runtime.runs import RunRequest
from runtime.runs.local import run_inline
from runtime.trained_model import train_model
from tests.runtime.runtime_helpers import mlp

SECTIONS = (
    "graph",
    "data",
    "training",
    "metrics",
    "confusion",
    "cost",
    "exports",
    "quantized",
    "privacy",
)


class PageReader(HTMLParser):
    """Collects each <section id=...>'s text, the <img> sources and any external references."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, str] = {}
        self.current: str | None = None
        self.images: list[str] = []
        self.external: list[str] = []
        self.bad_cells: list[str] = []
        self._in_bad = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.current = attrs.get("id")
            self.sections[self.current] = ""
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        for key in ("src", "href"):
            value = attrs.get(key) or ""
            if value and not value.startswith("data:"):
                self.external.append(value)
        if tag in ("script", "link", "iframe"):
            self.external.append(tag)
        self._in_bad = tag == "td" and "bad" in (attrs.get("class") or "")

    def handle_endtag(self, tag):
        if tag == "section":
            self.current = None
        if tag == "td":
            self._in_bad = False

    def handle_data(self, data):
        if self.current:
            self.sections[self.current] += data + " "
        if self._in_bad:
            self.bad_cells.append(data)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("iris")
    graph = mlp(input_shape=(4,), units=3, hidden=16, dataset={"name": "iris"}, epochs=10)
    graph.training["learning_rate"] = 0.03
    dataset = load_dataset(graph.dataset)
    model = train_model(graph, dataset)
    model.save(folder / "model.keras")
    save_graph(graph, folder / "iris.yaml")
    return folder, graph, dataset, model


def test_the_report_page_has_every_section_with_its_figures(trained, tmp_path):
    folder, graph, dataset, model = trained
    compression = compress(model, graph, dataset, tmp_path / "c", variants=("tflite_dynamic",))
    privacy = {"dp_used": True, "epsilon": 2.5, "delta": 1e-5, "membership_auc": 0.53}
    options = {
        "output_path": str(tmp_path / "report.html"),
        "model_path": str(folder / "model.keras"),
        "formats": ["keras", "tflite"],
        "compression": compression.to_dict(),
        "privacy": privacy,
    }
    outcome = run_inline(RunRequest("report", graph_to_yaml(graph), None, options))
    assert isinstance(outcome, RunFinished), outcome
    page = (tmp_path / "report.html").read_text()
    reader = PageReader()
    reader.feed(page)
    assert tuple(reader.sections) == SECTIONS
    assert reader.external == []
    # The graph picture is an inline SVG naming every layer.
    (image,) = reader.images
    assert image.startswith("data:image/svg+xml;base64,")
    svg = base64.b64decode(image.split(",", 1)[1]).decode()
    assert all(node.name in svg for node in graph.nodes)
    text = reader.sections
    assert f"Training samples {len(dataset.x_train)}" in " ".join(text["data"].split())
    assert f"Test samples {len(dataset.x_test)}" in " ".join(text["data"].split())
    assert "Seed: 42" in " ".join(text["training"].split())
    accuracy = evaluate(model, dataset).metrics["accuracy"]
    assert f"accuracy {accuracy:.4f}" in " ".join(text["metrics"].split())
    for name in ("setosa", "versicolor", "virginica"):
        assert name in text["metrics"] and name in text["confusion"]
    assert "4,176" not in text["cost"] and f"{4 * 16 + 16 + 16 * 3 + 3:,}" in text["cost"]
    assert "MACs per sample" in text["cost"] and f"{4 * 16 + 16 * 3:,}" in text["cost"]
    assert "keras" in text["exports"] and "tflite" in text["exports"]
    assert "TFLite dynamic-range" in text["quantized"]
    privacy_text = " ".join(text["privacy"].split())
    assert "Differential privacy used yes" in privacy_text
    assert "Epsilon 2.5" in privacy_text and "Membership-inference AUC 0.530" in privacy_text
    assert "weights for" in privacy_text


def test_a_lossy_variant_is_highlighted(trained, tmp_path):
    folder, graph, _dataset, _model = trained
    lossy = {
        "variants": [
            {
                "name": "pruned",
                "title": "Magnitude pruning to 90% (zip)",
                "metric_name": "accuracy",
                "metric": 0.5,
                "metric_change": -0.4,
                "size_bytes": 100,
                "p50_ms": 1.0,
                "p95_ms": 2.0,
                "note": "",
                "worse_than_tolerance": True,
            }
        ],
        "failures": {"tflite_int8": "tflite_int8: TFLite cannot convert layer lstm_1 (LSTM)"},
    }
    options = {
        "output_path": str(tmp_path / "r.html"),
        "model_path": str(folder / "model.keras"),
        "formats": ["keras"],
        "compression": lossy,
    }
    assert isinstance(
        run_inline(RunRequest("report", graph_to_yaml(graph), None, options)), RunFinished
    )
    reader = PageReader()
    reader.feed((tmp_path / "r.html").read_text())
    assert "-40.00 pt" in reader.bad_cells
    assert any("lstm_1 (LSTM)" in cell for cell in reader.bad_cells)
    # Not measured: the privacy section says so rather than inventing figures.
    assert "not measured" in reader.sections["privacy"]


@given(
    st.dictionaries(
        st.sampled_from(["dp_used", "epsilon", "delta", "membership_auc", "notes", "other"]),
        st.one_of(st.none(), st.booleans(), st.floats(allow_nan=True), st.integers(), st.text()),
        max_size=5,
    )
)
@settings(max_examples=150, deadline=None)
def test_privacy_figures_are_read_or_refused_with_a_message(data):
    try:
        figures = PrivacyFigures.from_dict(data)
    except ReportInputError as error:
        assert str(error)
    else:
        assert figures.membership_auc is None or 0 <= figures.membership_auc <= 1


def test_the_report_command_writes_the_page_and_refuses_bad_inputs(trained, tmp_path, capsys):
    folder = trained[0]
    graph_file = str(folder / "iris.yaml")
    weights = str(folder / "model.keras")
    page = tmp_path / "report.html"
    args = ["report", graph_file, "--weights", weights, "-o", str(page), "--formats", "keras"]
    assert main([*args, "--no-quantize"]) == 0
    assert page.read_text().startswith("<!DOCTYPE html>")
    bad = tmp_path / "privacy.json"
    bad.write_text("{not json")
    assert main([*args, "--privacy", str(bad)]) == 2
    assert "privacy.json: the privacy figures is not valid JSON" in capsys.readouterr().err
    bad.write_text(json.dumps({"epsilon": -1}))
    assert main([*args, "--privacy", str(bad)]) == 1
    assert "epsilon must be a finite number >= 0. Received: -1.0" in capsys.readouterr().err
    missing = ["report", graph_file, "--weights", str(tmp_path / "none.keras"), "-o", str(page)]
    assert main(missing) == 2  # a bad file, like deploy's --model
    assert "none.keras: model file not found" in capsys.readouterr().err
    # never over its inputs or a stranger's file, which the page would replace
    for target in (weights, graph_file, str(tmp_path / "notes.txt")):
        (tmp_path / "notes.txt").write_text("mine")
        before = Path(target).read_bytes()
        refused = ["report", graph_file, "--weights", weights, "-o", target, "--no-quantize"]
        assert main(refused) == 2
        assert "add --force to overwrite it" in capsys.readouterr().err
        assert Path(target).read_bytes() == before


def test_the_run_kind_refuses_an_unknown_format(trained, tmp_path):
    graph = trained[1]
    options = {"output_path": str(tmp_path / "r.html"), "formats": ["pdf"]}
    failed = run_inline(RunRequest("report", graph_to_yaml(graph), None, options))
    assert isinstance(failed, RunFailed) and "unknown format 'pdf'" in failed.message


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_a_real_browser_renders_the_page(trained, tmp_path):
    folder, graph, _dataset, _model = trained
    page = tmp_path / "report.html"
    options = {
        "output_path": str(page),
        "model_path": str(folder / "model.keras"),
        "formats": ["keras"],
        "quantize": False,
    }
    outcome = run_inline(RunRequest("report", graph_to_yaml(graph), None, options))
    assert isinstance(outcome, RunFinished)
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--window-size=1100,2000",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a drawn page, not a blank one
