"""Test-wide settings: Qt offscreen, quiet TensorFlow, no network."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

# Commands record their runs in the per-user run store: keep tests out of the user's one.
if "DEEPWIRE_RUNS_DIR" not in os.environ:
    import tempfile

    os.environ["DEEPWIRE_RUNS_DIR"] = tempfile.mkdtemp(prefix="deepwire-test-runs-")
