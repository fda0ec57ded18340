"""Garbage collection while the window is open: on the Tk thread only, full ones at rest.

A tkinter image or variable that dies in a worker's garbage collection calls into Tcl from
that thread, which waits for the Tk thread; if the Tk thread is drawing a figure meanwhile,
it waits for matplotlib's render lock, which that worker holds while it renders: a deadlock.
So automatic collection is off while the window is open, and the loop collects instead.
A full collection takes a good fraction of a second once TensorFlow and a few models are
loaded, so it waits for a quiet moment instead of interrupting a drag.
"""
import gc
import time

FULL_COLLECT_SECONDS = 120.0  # at most one full collection this often
QUIET_SECONDS = 5.0  # and only after this long without an event


class GuiThreadCollector:
    """Takes Python's garbage collection over for the window's lifetime."""

    def __init__(self):
        self._was_enabled = gc.isenabled()
        self._full_at = self._event_at = time.monotonic()

    def take_over(self):
        """Collect now and turn automatic collection off (call on the Tk thread)."""
        self._was_enabled = gc.isenabled()
        gc.collect()
        gc.disable()
        self._full_at = self._event_at = time.monotonic()

    def event_seen(self):
        """The user (or a worker) did something: not a quiet moment."""
        self._event_at = time.monotonic()

    def collect(self, idle):
        """Young-generation collections as Python would, a full one only while at rest."""
        now = time.monotonic()
        young, middle, _ = gc.get_count()
        young_limit, middle_limit, _ = gc.get_threshold()
        if (idle and now - self._event_at > QUIET_SECONDS
                and now - self._full_at > FULL_COLLECT_SECONDS):
            gc.collect()
            self._full_at = now
        elif middle >= middle_limit:
            gc.collect(1)
        elif young >= young_limit:
            gc.collect(0)

    def give_back(self):
        """The window is gone: collect its Tk objects here, then automatic collection again."""
        gc.collect()
        if self._was_enabled:
            gc.enable()
