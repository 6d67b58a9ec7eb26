"""tf.distribute strategies by their setting name: default, mirrored, multi_worker.

Multi-worker training reads the cluster from the TF_CONFIG environment
variable, as TensorFlow defines it; without TF_CONFIG it runs as a single
local worker. A process can create its multi-worker strategy only once, so
strategies are cached.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

import keras
import tensorflow as tf

from graph.recipe import STRATEGIES
from runtime.recipe import resolve


@functools.cache
def get_strategy(name: str) -> tf.distribute.Strategy:
    """The strategy for the training setting `strategy`.

    Args:
        name: "default" (one device), "mirrored" (all local GPUs, or the CPU)
            or "multi_worker" (the workers TF_CONFIG lists).
    """
    if name in STRATEGIES:
        return resolve(STRATEGIES[name])()
    if name == "default":
        return tf.distribute.get_strategy()
    raise ValueError(f"strategy must be one of default, mirrored, multi_worker. Received: {name!r}")


@contextlib.contextmanager
def fit_context(name: str, model: keras.Model, x, y) -> Iterator[None]:
    """Where `model.fit` runs under the strategy `name`; works around Keras 3 for multi-worker.

    Keras 3.15's fit does not run under MultiWorkerMirroredStrategy
    (keras-team/keras#20585): it averages a distributed batch across workers
    to learn its shapes, which fails for (x, y) batches, and it reduces each
    step's scalar logs along an axis they do not have. Within this context
    the model is built from a local batch instead (same shapes), and logs
    are averaged over the local replicas only, as under MirroredStrategy.
    Gradients are still all-reduced across every worker by the strategy, so
    training is synchronous data-parallel training as TensorFlow defines it.
    """
    if name != "multi_worker":
        yield
        return
    from keras.src.backend.tensorflow import trainer as tf_trainer

    strategy = get_strategy(name)

    def head(array):
        return array[:2]

    batch = (keras.tree.map_structure(head, x), keras.tree.map_structure(head, y))
    with strategy.scope():
        model._symbolic_build(data_batch=batch)
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None
    original = tf_trainer._collective_all_reduce_multi_worker
    tf_trainer._collective_all_reduce_multi_worker = lambda strategy: False
    try:
        yield
    finally:
        tf_trainer._collective_all_reduce_multi_worker = original
        del model._maybe_symbolic_build
