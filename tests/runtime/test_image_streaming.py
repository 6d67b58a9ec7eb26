"""Image folders stream from their files (issue 18): same data as decoding it all, less memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.files import load_graph
from graph.validation import WARNING
from runtime.data import DataError, ImageFiles, feed, load_dataset
from runtime.data_check import check_data
from runtime.data_contract import image_pipeline, split_positions
from runtime.evaluation import evaluate
from runtime.evaluation_views import misclassified_gallery
from runtime.events import TrainingFinished
from runtime.trainer import Trainer
from tests.runtime.runtime_helpers import png_header

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CLASSES = ("circle", "cross", "square")
SETTINGS = {
    "source": "image_folder",
    "image_size": (8, 8),
    "color_mode": "rgb",
    "test_size": 0.25,
    "validation_size": 0.2,
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """3 classes x 12 PNG files of 10x12 pixels, and one broken and one truncated file."""
    root = tmp_path_factory.mktemp("images") / "shapes"
    rng = np.random.default_rng(0)
    for label, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True)
        for i in range(12):
            pixels = rng.integers(0, 90, size=(10, 12, 3), dtype=np.uint8)
            pixels[..., label] += 160  # each class is tinted, so a CNN can tell them apart
            (root / name / f"{i:02d}.png").write_bytes(tf.io.encode_png(pixels).numpy())
    return root


@pytest.fixture(scope="module")
def broken_folder(folder, tmp_path_factory):
    import shutil

    root = tmp_path_factory.mktemp("broken") / "shapes"
    shutil.copytree(folder, root)
    (root / "circle" / "broken.png").write_bytes(b"not a png")
    whole = (root / "cross" / "00.png").read_bytes()
    (root / "cross" / "truncated.png").write_bytes(whole[: len(whole) // 2])
    return root


def decoded_at_once(root, normalization):
    """The arrays as they were made before streaming: every file decoded, then scaled."""
    from runtime.data_contract import normalize

    files = sorted(root.glob("*/*.png"))
    x = np.stack(
        [
            tf.image.resize(
                tf.cast(tf.io.decode_image(tf.io.read_file(str(f)), channels=3), "float32"), (8, 8)
            ).numpy()
            for f in files
        ]
    )
    y = np.array([CLASSES.index(f.parent.name) for f in files])
    settings = {"test_size": 0.25, "validation_size": 0.2, "seed": 42, "stratify": True}
    train, val, test = split_positions(y, settings, True)
    parts = [x[train], x[val], x[test]]
    normalize(normalization, *parts)
    return parts, [y[train], y[val], y[test]]


@pytest.mark.parametrize("normalization", ["standard", "minmax", "none"])
def test_streaming_gives_the_arrays_and_labels_of_decoding_at_once(folder, normalization):
    dataset = load_dataset({**SETTINGS, "path": str(folder), "normalization": normalization})
    assert isinstance(dataset.x_train, ImageFiles) and dataset.images
    assert dataset.input_shape == (8, 8, 3) and dataset.skipped == ()
    (x_train, x_val, x_test), (y_train, y_val, y_test) = decoded_at_once(folder, normalization)
    np.testing.assert_array_equal(dataset.y_train, y_train)
    np.testing.assert_array_equal(dataset.y_val, y_val)
    np.testing.assert_array_equal(dataset.y_test, y_test)
    np.testing.assert_allclose(np.asarray(dataset.x_train), x_train, atol=1e-5)
    np.testing.assert_allclose(np.asarray(dataset.x_val), x_val, atol=1e-5)
    np.testing.assert_allclose(dataset.x_test[3], x_test[3], atol=1e-5)
    np.testing.assert_allclose(dataset.x_test[2:5], x_test[2:5], atol=1e-5)
    streamed = [b.numpy() for b, _ in image_pipeline(dataset.x_train, dataset.y_train, 5)]
    np.testing.assert_allclose(np.concatenate(streamed), x_train, atol=1e-5)


def test_unreadable_images_are_left_out_counted_and_named(broken_folder):
    dataset = load_dataset({**SETTINGS, "path": str(broken_folder)})
    assert len(dataset.skipped) == 2
    assert "broken.png (Unknown image file format" in dataset.skipped[0]
    assert "truncated.png (Invalid PNG data" in dataset.skipped[1]
    assert dataset.describe().endswith("2 unreadable images left out")
    total = len(dataset.x_train) + len(dataset.x_val) + len(dataset.x_test)
    assert total == 36
    every = np.concatenate([dataset.x_train.files, dataset.x_val.files, dataset.x_test.files])
    assert not any(name.endswith(("broken.png", "truncated.png")) for name in every)
    graph = load_graph(EXAMPLES / "cnn_digits.yaml")
    warnings = [p.message for p in check_data(graph, dataset) if p.severity == WARNING]
    message = next(m for m in warnings if "left out" in m)
    assert message.startswith("2 image files of shapes are left out, unreadable or too large: ")
    assert "circle/broken.png" in message and "cross/truncated.png" in message


def test_a_class_without_a_readable_image_is_refused_by_name(folder, tmp_path):
    """Its label was past the model's units: training failed in TensorFlow's own words."""
    import shutil

    root = tmp_path / "shapes"
    shutil.copytree(folder, root)
    (root / "blank").mkdir()  # sorted first: labels 1 to 3, num_classes 3
    with pytest.raises(DataError, match=r"shapes/blank: a class folder with no .*files"):
        load_dataset({**SETTINGS, "path": str(root)})
    for i in range(3):
        (root / "blank" / f"{i}.png").write_text("not a png")
    with pytest.raises(DataError, match=r"class 'blank': none of its images can be read, e.g. "):
        load_dataset({**SETTINGS, "path": str(root)})


def test_gif_images_are_read_in_grey_as_well(tmp_path):
    """TensorFlow decodes a GIF in colour only: every GIF was left out in grayscale."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for name in CLASSES[:2]:
        (tmp_path / "gifs" / name).mkdir(parents=True)
        for i in range(6):
            pixels = rng.integers(0, 255, size=(10, 12, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "gifs" / name / f"{i}.gif")
    settings = {**SETTINGS, "path": str(tmp_path / "gifs"), "normalization": "none"}
    grey = load_dataset({**settings, "color_mode": "grayscale"})
    assert grey.skipped == () and grey.input_shape == (8, 8, 1)
    colour = load_dataset(settings)
    expected = tf.image.rgb_to_grayscale(np.asarray(colour.x_train)).numpy()
    np.testing.assert_allclose(np.asarray(grey.x_train), expected, atol=1.0)


def test_reading_a_file_that_broke_after_loading_names_it(broken_folder):
    files = ImageFiles([str(broken_folder / "circle" / "broken.png")], (8, 8), 3)
    with pytest.raises(ValueError, match=r"broken.png: not a readable image \(Unknown image"):
        files[0]


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".gif", ".bmp", ".top-down.bmp"])
def test_each_image_format_declares_the_size_it_decodes_to(tmp_path, suffix):
    from PIL import Image

    from runtime.data_contract import _declared_size

    pixels = np.random.default_rng(0).integers(0, 255, size=(7, 13, 3), dtype=np.uint8)
    path = tmp_path / f"picture{suffix}"
    Image.fromarray(pixels).save(path, format=suffix.rsplit(".", 1)[1].replace("jpg", "jpeg"))
    if suffix == ".top-down.bmp":  # rows stored top first: a negative height
        data = bytearray(path.read_bytes())
        data[22:26] = (-7).to_bytes(4, "little", signed=True)
        path.write_bytes(bytes(data))
    decoded = tf.io.decode_image(tf.io.read_file(str(path)), expand_animations=False)
    assert decoded.shape[:2] == (7, 13)
    assert _declared_size(path) == (13, 7)


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_an_image_declaring_too_many_pixels_is_refused_before_it_is_decoded(tmp_path, suffix):
    bomb = tmp_path / f"bomb{suffix}"  # 20000 x 20000 would be 1.2 GB decoded
    if suffix == ".png":
        bomb.write_bytes(png_header(20_000, 20_000))
    else:  # a real 8 x 8 JPEG whose frame header is made to say 20000 x 20000
        data = bytearray(tf.io.encode_jpeg(np.zeros((8, 8, 3), np.uint8)).numpy())
        frame = data.index(b"\xff\xc0")
        data[frame + 5 : frame + 9] = (20_000).to_bytes(2, "big") * 2
        bomb.write_bytes(bytes(data))
    files = ImageFiles([str(bomb)], (8, 8), 3)
    with pytest.raises(ValueError, match=r"bomb\.\w+: not a readable image \(it declares 20,000 x"):
        files[0]


@settings(max_examples=200, deadline=None)
@given(
    magic=st.sampled_from([b"\x89PNG", b"GIF8", b"BM", b"\xff\xd8\xff\xc0", b""]),
    rest=st.binary(max_size=64),
)
def test_any_file_header_gives_a_size_or_none_and_never_an_error(tmp_path_factory, magic, rest):
    from runtime.data_contract import _declared_size, oversized_image

    path = tmp_path_factory.mktemp("fuzz") / "image"
    path.write_bytes(magic + rest)
    size = _declared_size(path)
    assert size is None or (len(size) == 2 and all(isinstance(n, int) for n in size))
    reason = oversized_image(path)
    assert reason is None or reason.startswith("it declares ")


def test_a_folder_leaves_out_images_over_the_pixel_limit_and_names_them(
    folder, tmp_path, monkeypatch
):
    import shutil

    from runtime import data_contract

    root = tmp_path / "shapes"
    shutil.copytree(folder, root)
    big = np.zeros((40, 40, 3), dtype=np.uint8)
    (root / "square" / "big.png").write_bytes(tf.io.encode_png(big).numpy())
    (root / "cross" / "bomb.png").write_bytes(png_header(30_000, 30_000))
    monkeypatch.setattr(data_contract, "MAX_IMAGE_PIXELS", 1000)  # 40 x 40 is over, 10 x 12 not
    dataset = load_dataset({**SETTINGS, "path": str(root)})
    assert dataset.skipped == (
        f"{root / 'cross' / 'bomb.png'} (it declares 30,000 x 30,000 pixels, over the limit "
        "of 1,000; shrink it)",
        f"{root / 'square' / 'big.png'} (it declares 40 x 40 pixels, over the limit of 1,000; "
        "shrink it)",
    )
    assert len(dataset.x_train) + len(dataset.x_val) + len(dataset.x_test) == 36


@pytest.mark.parametrize("cache", ["memory", "disk"])
def test_cached_pipelines_give_the_same_images(folder, cache):
    dataset = load_dataset({**SETTINGS, "path": str(folder), "image_cache": cache})
    expected = np.asarray(dataset.x_val)
    for _ in range(2):  # the second pass reads the cache
        batches = [b.numpy() for b, _ in image_pipeline(dataset.x_val, dataset.y_val, 4)]
        np.testing.assert_allclose(np.concatenate(batches), expected, atol=1e-6)
    if cache == "disk":
        assert Path(dataset.x_val.describe_cache() + ".index").exists()
    shuffled = image_pipeline(dataset.x_train, dataset.y_train, 64, shuffle=True, seed=1)
    images, labels = next(iter(shuffled))
    order = np.lexsort(np.asarray(images).reshape(len(images), -1).T)
    reference = np.asarray(dataset.x_train).reshape(len(images), -1)
    np.testing.assert_allclose(
        np.asarray(images).reshape(len(images), -1)[order],
        reference[np.lexsort(reference.T)],
        atol=1e-6,
    )
    assert sorted(labels.numpy()) == sorted(dataset.y_train)


def test_autoencoder_targets_are_the_streamed_images(folder):
    dataset = load_dataset({**SETTINGS, "path": str(folder), "target": "inputs"})
    assert dataset.y_train is dataset.x_train
    images, targets = next(iter(feed(dataset.x_train, dataset.y_train, 8)["x"]))
    np.testing.assert_array_equal(images.numpy(), targets.numpy())


def test_a_cnn_trains_on_streamed_images_then_evaluates_and_shows_mistakes(broken_folder):
    graph = load_graph(EXAMPLES / "cnn_digits.yaml")
    graph.set_params("n1", shape=[8, 8, 3])
    graph.set_params("n5", units=3)
    graph.dataset = {**SETTINGS, "path": str(broken_folder)}
    graph.training = {**graph.training, "epochs": 2, "batch_size": 8}
    dataset = load_dataset(graph.dataset)
    result = Trainer(graph, dataset).run()
    assert isinstance(result, TrainingFinished), result
    assert len(result.history["loss"]) == 2 and "val_loss" in result.history
    report = evaluate(result.model, dataset)
    assert len(report.y_true) == len(dataset.x_test)
    gallery = misclassified_gallery(dataset.x_test, report)
    assert len(gallery) == len(report.misclassified[:12])
    assert all(picture.shape[:2] == (8, 8) for picture, _ in gallery)


def test_augmentation_layers_change_images_in_training_only(folder):
    from graph.model import NetworkGraph
    from runtime.builder import build_model

    graph = NetworkGraph()
    previous = graph.add_node("Input", params={"shape": [8, 8, 3]})
    for kind, params in (
        ("RandomFlip", {"mode": "horizontal_and_vertical"}),
        ("RandomRotation", {"factor": 0.5}),
        ("RandomContrast", {"factor": 0.5}),
    ):
        node = graph.add_node(kind, params=params)
        graph.connect(previous.id, node.id)
        previous = node
    model = build_model(graph)
    dataset = load_dataset({**SETTINGS, "path": str(folder), "normalization": "minmax"})
    images = np.asarray(dataset.x_test)
    inference = model.predict(**feed(dataset.x_test, batch_size=4), verbose=0)
    np.testing.assert_allclose(inference, images, atol=1e-6)
    training = model(images, training=True).numpy()
    assert np.abs(training - images).max() > 0.1


def test_images_feed_a_flat_input_still_streamed(folder):
    from runtime.data import model_inputs

    dataset = load_dataset({**SETTINGS, "path": str(folder), "target": "inputs"})
    flat = model_inputs(dataset.x_train, [(192,)])
    assert isinstance(flat, ImageFiles) and flat.shape == (len(dataset.x_train), 192)
    np.testing.assert_array_equal(flat[:3], np.asarray(dataset.x_train)[:3].reshape(3, 192))
    images, targets = next(iter(feed(flat, dataset.y_train, 8)["x"]))
    assert images.shape == (8, 192) and targets.shape == (8, 8, 8, 3)
    np.testing.assert_array_equal(images.numpy(), targets.numpy().reshape(8, 192))


def test_training_order_is_new_every_epoch_and_the_same_for_a_seed(folder):
    dataset = load_dataset({**SETTINGS, "path": str(folder), "normalization": "none"})
    x, y = dataset.x_train, dataset.y_train
    pixels = np.asarray(x).reshape(len(x), -1)

    def epochs(seed):
        data = image_pipeline(x, y, 5, shuffle=True, seed=seed)
        return [[(b.reshape(len(b), -1), t) for b, t in data.as_numpy_iterator()] for _ in "ab"]

    first, second = epochs(seed=3)
    orders = []
    for epoch in (first, second):
        images = np.concatenate([b for b, _ in epoch])
        targets = np.concatenate([t for _, t in epoch])
        # Each image once, with its own target: rows gathered together, not shuffled apart.
        matches = [int(np.flatnonzero((pixels == row).all(axis=1))[0]) for row in images]
        assert sorted(matches) == list(range(len(x)))
        np.testing.assert_array_equal(targets, y[matches])
        orders.append(matches)
    assert orders[0] != orders[1]
    again, _ = epochs(seed=3)
    np.testing.assert_array_equal(
        np.concatenate([b for b, _ in again]), np.concatenate([b for b, _ in first])
    )
