"""`deepwire explain`: files written, the run kind's numbers, clean failures with exit codes."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from graph.files import load_graph
from main import main
from runtime.builder import build_model
from runtime.explain.png import png_bytes
from runtime.runs import RunRequest
from runtime.runs.local import run_inline

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CNN = EXAMPLES / "cnn_digits.yaml"


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    keras.utils.set_random_seed(0)
    path = tmp_path_factory.mktemp("model") / "model.keras"
    build_model(load_graph(CNN)).save(path)
    return path


def kind_numbers(weights: Path, **options) -> np.ndarray:
    request = RunRequest(
        "explain", CNN.read_text(), EXAMPLES, {"weights_path": str(weights), **options}
    )
    return run_inline(request).result.explanation.attributions


@pytest.mark.parametrize(
    ("method", "extra", "options"),
    [
        ("gradcam", [], {}),
        ("ig", ["--steps", "16"], {"steps": 16}),
        ("occlusion", ["--patch", "3"], {"patch": 3}),
    ],
)
def test_cli_writes_the_run_kinds_numbers(weights, tmp_path, capsys, method, extra, options):
    out = tmp_path / "out"
    argv = ["explain", str(CNN), "--weights", str(weights), "--sample", "4", "--method", method]
    assert main([*argv, *extra, "-o", str(out)]) == 0
    expected = kind_numbers(weights, method=method, sample=4, **options)
    np.testing.assert_array_equal(np.load(out / f"{method}.npy"), expected)
    rows = (out / f"{method}.csv").read_text().splitlines()
    assert rows[0] == "feature,value" and len(rows) == 1 + expected.size
    assert (out / f"{method}.png").read_bytes().startswith(b"\x89PNG")
    assert "prediction:" in capsys.readouterr().out


def test_cli_permutation_importance_needs_no_sample(weights, tmp_path, capsys):
    argv = ["explain", str(CNN), "--weights", str(weights), "--method", "permutation"]
    assert main([*argv, "--repeats", "1", "-o", str(tmp_path)]) == 0
    rows = (tmp_path / "permutation.csv").read_text().splitlines()
    assert rows[0] == "feature,value,std" and rows[1].startswith("pixel_0_0,")
    assert "test score without shuffling" in capsys.readouterr().out


def test_cli_explains_an_image_file(weights, tmp_path, capsys):
    image = tmp_path / "digit.png"
    picture = np.zeros((8, 8, 3), np.uint8)
    picture[2:6, 3:5] = 255
    image.write_bytes(png_bytes(picture))
    argv = ["explain", str(CNN), "--weights", str(weights), "--input", str(image)]
    assert main([*argv, "--method", "ig", "-o", str(tmp_path / "o")]) == 0
    assert np.load(tmp_path / "o" / "ig.npy").shape == (8, 8, 1)


def test_cli_bad_inputs_get_one_clear_message_and_exit_code(weights, tmp_path, capsys):
    not_an_image = tmp_path / "cat.png"
    not_an_image.write_text("meow")
    wrong_shape = tmp_path / "row.npy"
    np.save(wrong_shape, np.zeros(5))
    base = ["explain", str(CNN), "--weights", str(weights), "-o", str(tmp_path / "o")]
    cases = [
        (["--input", str(not_an_image), "--method", "ig"], 2, "not a readable image"),
        (["--input", str(wrong_shape), "--method", "ig"], 2, "holds 5 values"),
        (["--input", str(tmp_path / "none.csv"), "--method", "ig"], 2, "no such file"),
        (["--sample", "9999", "--method", "ig"], 1, "choose a sample from 0 to 359"),
        (["--sample", "0", "--method", "gradcam", "--node", "dense_1"], 1, "spatial output"),
        (["--sample", "0", "--method", "gradcam", "--node", "ghost"], 1, "no node named 'ghost'"),
        (["--method", "ig"], 2, "give --sample N or --input PATH"),
        (["--input", str(tmp_path), "--method", "ig"], 2, "is a folder; give one sample file"),
        # one batch of 100,000,001 path points ran out of time and memory
        (["--sample", "0", "--method", "ig", "--steps", "100000000"], 2, "--steps must be"),
        (["--method", "permutation", "--repeats", "0"], 2, "--repeats must be between 1 and"),
        (["--sample", "0", "--method", "ig", "--target", "99"], 1, "The output dense_1 has 10"),
        (["--sample", "0", "--method", "ig", "--node", "conv2d_1"], 2, "does not use it"),
    ]
    for extra, code, message in cases:
        assert main([*base, *extra]) == code, extra
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, (extra, err)
    missing = ["explain", str(CNN), "--weights", str(tmp_path / "no.keras"), "--sample", "0"]
    assert main([*missing, "--method", "ig"]) == 2
    assert "no such model file" in capsys.readouterr().err
    assert (
        main(
            ["explain", str(CNN), "--weights", str(not_an_image), "--sample", "0", "--method", "ig"]
        )
        == 2
    )
    assert "not a readable Keras model file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["explain", str(CNN), "--sample", "0", "--method", "ig"])
    assert exit_info.value.code == 2
