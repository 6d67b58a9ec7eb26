"""The one error continual learning raises for input the user can fix."""


class ContinualError(ValueError):
    """Bad continual input (split, files, buffer, graph): a message naming what is wrong.

    Args:
        message: What is wrong and what to do, Keras-style ("Received: ...").
        node_id: The graph node at fault, when there is one.
    """

    def __init__(self, message: str, node_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.node_id = node_id
