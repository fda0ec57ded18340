"""The callbacks a training run adds to Keras' ``fit``:

- :class:`NaNGuard` stops at the first batch whose losses are not finite (Keras'
  ``TerminateOnNaN`` for every loss, not only ``loss``: the GAN has ``d_loss``/``g_loss``);
- :class:`EpochCheckpoint` writes the checkpoint (:mod:`models.checkpoint`) after every epoch
  whose losses are finite: a NaN epoch is never saved over the last good one;
- :class:`EpochTimer` adds the epoch's wall time to the logs (``epoch_seconds``).
"""

import time

import keras
import numpy as np

from models.checkpoint import save_checkpoint


class NaNGuard(keras.callbacks.Callback):
    """Stop training at the first batch with a loss that is NaN or infinite, and remember
    where (``tripped_at = (epoch, batch, key)``)."""

    def __init__(self):
        super().__init__()
        self.tripped_at = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        for key, value in (logs or {}).items():
            if not np.all(np.isfinite(value)):
                self.tripped_at = (self._epoch, batch, key)
                self.model.stop_training = True
                return


class EpochTimer(keras.callbacks.Callback):
    """Add ``epoch_seconds`` (the epoch's wall time) to the logs, so the CSV has it."""

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["epoch_seconds"] = time.perf_counter() - self._start


class EpochCheckpoint(keras.callbacks.Callback):
    """Save a checkpoint after every epoch whose losses are all finite."""

    def __init__(self, path, nets, state, guard, seconds_before=0.0):
        super().__init__()
        self.path = path
        self.nets = nets
        self.state = state
        self.guard = guard
        self.seconds_before = seconds_before
        self.last_saved_epoch = None

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        finite = all(np.all(np.isfinite(v)) for v in (logs or {}).values())
        if self.guard.tripped_at is not None or not finite:
            return
        seconds = self.seconds_before + time.perf_counter() - self._start
        save_checkpoint(self.path, self.nets, {**self.state, "epoch": epoch + 1, "seconds": seconds})
        self.last_saved_epoch = epoch + 1
