"""The evaluation package's one error type."""


class EvaluationError(Exception):
    """A model or a dataset cannot be evaluated; ``str(error)`` is a one-line reason for the user."""
