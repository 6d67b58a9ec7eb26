"""Pictures of explanations and the PNG encoder (decoded back with TensorFlow)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.explain.export import batch_csv, samples_per_class
from runtime.explain.png import png_bytes
from runtime.explain.render import bar_chart, explanation_picture, node_picture, overlay
from runtime.explain.result import Explanation


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(0, 2**32 - 1))
def test_png_round_trips_through_a_real_decoder(height, width, seed):
    rgb = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    decoded = tf.io.decode_png(png_bytes(rgb), channels=3).numpy()
    np.testing.assert_array_equal(decoded, rgb)


def test_png_refuses_what_is_not_an_rgb_image():
    with pytest.raises(ValueError, match=r"Received: \(4, 4\) uint8"):
        png_bytes(np.zeros((4, 4), np.uint8))


def test_overlay_bright_where_the_heatmap_is_hot():
    image = np.zeros((8, 8, 1), "float32")
    heatmap = np.zeros((8, 8), "float32")
    heatmap[:2, :2] = 1.0
    picture = overlay(image, heatmap, opacity=1.0, size=64)
    assert picture.shape == (64, 64, 3)
    assert picture[:16, :16].mean() > 100 > picture[32:, 32:].mean()


def test_bar_chart_draws_positive_bars_right_in_red_and_negative_left_in_blue():
    picture = bar_chart(np.array([1.0, -0.5]), bar=10, width=100)
    assert tuple(picture[5, 60]) == (178, 24, 43)
    assert tuple(picture[15, 40]) == (33, 102, 172) and tuple(picture[15, 10]) == (255,) * 3


def test_explanation_picture_picks_the_drawing_by_sample_layout():
    def explanation(sample, heatmap):
        return Explanation("ig", heatmap, heatmap, 0, np.zeros(2), sample)

    image = explanation_picture(explanation(np.zeros((8, 8, 1)), np.zeros((8, 8))), images=True)
    sequence = explanation_picture(explanation(np.zeros((5, 2)), np.zeros((5, 2))), images=False)
    bars = explanation_picture(explanation(np.zeros(4), np.array([1.0, -1, 0, 0])), images=False)
    assert image.shape == (256, 256, 3)
    assert sequence.shape[:2] == (2 * 51, 5 * 51)
    assert bars.shape == (42, 320, 3)


def test_node_pictures_tile_feature_maps_and_stretch_vectors():
    maps = np.random.default_rng(0).normal(size=(6, 6, 16))
    grid = node_picture(maps, size=320)
    assert grid.shape[0] == grid.shape[1] and grid.shape[0] >= 4 * 7
    vector = node_picture(np.array([-2.0, 0.0, 2.0]), size=300)
    assert vector.shape == (24, 300, 3)
    assert tuple(vector[0, 0]) == (33, 102, 172) and tuple(vector[0, 299]) == (178, 24, 43)


def test_batch_helpers_pick_samples_per_class_and_write_one_row_each():
    assert samples_per_class(np.array([1, 0, 1, 1, 0, 2]), 2) == [1, 4, 0, 2, 5]
    explanation = Explanation("ig", np.array([0.5, -1.0]), np.zeros(2), 0, np.zeros(2), np.zeros(2))
    text = batch_csv([(3, "a,b", "c", explanation)], ("x", "y"))
    assert text.splitlines() == ["sample,true,explained,x,y", '3,"a,b",c,0.5,-1']


def test_what_the_window_imports_to_draw_results_needs_no_tensorflow():
    import subprocess
    import sys

    code = (
        "import sys; import runtime.explain.export, runtime.explain.methods, "
        "runtime.explain.result, runtime.runs.kinds.explain; "
        "print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
