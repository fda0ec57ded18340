"""The decode thread: one "latest requested point" slot, so a drag never builds a backlog.

A point asked for replaces the one still waiting; the thread decodes the newest with the
model already loaded (a model not loaded yet is asked for again once it is ready) and posts
``events.Decoded`` with the time the decode took.
"""

import time

import numpy as np

from gui import events
from gui.model_jobs import family_options
from gui.threads import JobGroup, LatestWorker


def decode_recorded_variation(model, point, record, family=None):
    """The samples of the variation a sidecar recorded (``Variation.to_dict``) of ``point``."""
    from models.variation import Variation, decode_variation

    return decode_variation(model, point, Variation.from_dict(record), family=family)


class DecodeSlot(JobGroup):
    """The decode thread and its one slot.

    Parameters
    ----------
    backend : gui.backend.PackageBackend or a test double with its methods
    post : callable(record)
        Sends a result to the event loop (thread-safe).
    cache : gui.model_jobs.ModelCache
        Read only: the models thread loads.
    """

    def __init__(self, backend, post, cache):
        super().__init__(backend, post)
        self.cache = cache
        self.thread = LatestWorker("decode", self._decode)

    def decode(self, effect):
        self.thread.submit("point", (effect.name, tuple(effect.point), effect.variation, effect.family))

    def _decode(self, _slot, job):
        name, point, variation, family = job
        model = self.cache.peek(name)
        if model is None:
            return  # not loaded yet: its model-ready event asks for the decode again
        try:
            started = time.perf_counter()
            if variation is None:
                audio = model.decode(np.asarray([point], dtype=np.float32), **family_options(model, family))[0]
            else:
                audio = decode_recorded_variation(model, point, variation, family)
            ms = 1000 * (time.perf_counter() - started)
        except (*self.backend.user_errors, ValueError) as error:  # ValueError: a bad record
            self.post(events.JobFailed("decode", str(error)))
            return
        self.post(events.Decoded(name, point, audio, ms, variation, family))
