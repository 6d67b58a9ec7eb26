"""What a graph's training task is, and which loss "auto" stands for.

Shared by the runtime trainer and the code exporter, so the app and the
exported script always compile with the same loss.
"""

from __future__ import annotations

from dataclasses import dataclass

# Built-in datasets whose targets are real numbers; all others are classes.
REGRESSION_DATASETS = frozenset({"sine"})

_PROBABILITY_ACTIVATIONS = {"softmax": "softmax", "sigmoid": "sigmoid"}


@dataclass(frozen=True)
class LossChoice:
    """A Keras loss by name, and whether the model outputs logits.

    Attributes:
        name: Keras loss identifier, e.g. "sparse_categorical_crossentropy".
        from_logits: True when the output layer applies no softmax/sigmoid, so
            the loss must apply it (numerically safer than a linear output).
    """

    name: str
    from_logits: bool = False


def output_activation(node_type: str, params: dict) -> str:
    """The activation an output node applies last ("linear" when none)."""
    if node_type == "Softmax":
        return "softmax"
    return params.get("activation", "linear")


def resolve_loss(loss: str, task: str, units: int | None, activation: str) -> LossChoice:
    """Picks the loss for `loss` ("auto" or a Keras name).

    Args:
        loss: The training setting.
        task: "classification" or "regression".
        units: The output's last dimension.
        activation: The output's final activation.
    """
    logits = activation not in _PROBABILITY_ACTIVATIONS
    if loss == "auto":
        if task == "regression":
            return LossChoice("mean_squared_error")
        if units == 1:
            return LossChoice("binary_crossentropy", from_logits=logits)
        return LossChoice("sparse_categorical_crossentropy", from_logits=logits)
    if loss.endswith("crossentropy"):
        return LossChoice(loss, from_logits=logits)
    return LossChoice(loss)
