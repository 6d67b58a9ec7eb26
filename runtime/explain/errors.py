"""The one error explanations raise for input a user can fix."""

from __future__ import annotations


class ExplainError(Exception):
    """A request that cannot be explained, with a message that says why and what to try.

    Args:
        message: What is wrong, Keras-style ("Received: ...").
        node: The model layer (graph node name) at fault, when there is one.
    """

    def __init__(self, message: str, node: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.node = node
