"""Test-wide settings: Qt offscreen, quiet TensorFlow, no network."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import tempfile

# Commands record their runs in the per-user run store: keep tests out of the user's one.
if "DEEPWIRE_RUNS_DIR" not in os.environ:
    os.environ["DEEPWIRE_RUNS_DIR"] = tempfile.mkdtemp(prefix="deepwire-test-runs-")

# The app keeps its window layout (QSettings) and recovery files per user; an app the tests
# start, here or in a child process, must not leave a test-sized window for the user's next
# `make run`.
_user_dirs = tempfile.mkdtemp(prefix="deepwire-test-home-")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_user_dirs, "config")
os.environ["XDG_DATA_HOME"] = os.path.join(_user_dirs, "data")
# The time probe's cache (runtime.probe_cache, and Qt's cache folder in the app) too.
os.environ["XDG_CACHE_HOME"] = os.path.join(_user_dirs, "cache")
