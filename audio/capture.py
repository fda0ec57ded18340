"""A tap for tests and benchmarks: what a player's stream delivered, frame by frame."""

import numpy as np


class BlockCapture:
    """A test and benchmark tap: copies the first ``capacity`` frames the callback delivers.

    Pass one as ``Player(tap=...)``. The copy goes into an array allocated here, so the
    callback allocates nothing; :meth:`arm` starts a fresh capture.

    Parameters
    ----------
    capacity : int
        Frames to keep.
    """

    def __init__(self, capacity):
        self._samples = np.zeros(int(capacity), dtype=np.float32)
        self._armed = False
        self._count = 0
        self.start_frame = None

    def arm(self):
        """Forget what was captured and capture the next ``capacity`` frames."""
        self._armed = False
        self._count = 0
        self.start_frame = None
        self._armed = True

    def __call__(self, block, frame_index):
        if not self._armed:
            return
        if self.start_frame is None:
            self.start_frame = frame_index
        room = self._samples.shape[0] - self._count
        if room <= 0:
            return
        n = min(room, block.shape[0])
        self._samples[self._count : self._count + n] = block[:n]
        self._count += n

    @property
    def full(self):
        return self._count >= self._samples.shape[0]

    def samples(self):
        """The frames captured so far (a copy), starting at absolute frame ``start_frame``."""
        return self._samples[: self._count].copy()
