"""What the workers send back to the loop: small, typed records.

A worker posts one of these as the payload of a ``(WORKER, kind)`` event; the handlers read
their fields by name, so a renamed field fails a test instead of a user.
"""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ZooListed:
    """The model list: every registry name's entry, and the cached evaluation of each.

    Attributes
    ----------
    entries : tuple of gui.state.ModelEntry
        In display order.
    metrics : dict of str -> dict
        The evaluation's metrics (``metrics.json``) of the models that have them.
    """

    entries: tuple
    metrics: dict = field(default_factory=dict, compare=False, hash=False)
