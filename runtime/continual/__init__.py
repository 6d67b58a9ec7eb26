"""Continual learning: a network learns a sequence of tasks and should not forget the old ones.

Written on Keras (no Keras continual-learning library exists); each strategy is
implemented from its paper, cited where it lives:

- `tasks`: the sequence of tasks (a dataset split by class, by a CSV column, or files in order).
- `buffer`: the replay memory (reservoir or class-balanced reservoir sampling).
- `strategies`: EWC's Fisher penalty and LwF's distillation loss.
- `learner`: trains the graph's model task after task with a strategy and fills the
  accuracy matrix; also "continue training" a trained model on new data.
- `metrics`: average accuracy, backward and forward transfer from the matrix.

Only `learner` and `strategies` import TensorFlow; the rest needs NumPy alone.
"""

from runtime.continual.errors import ContinualError

__all__ = ["ContinualError"]
