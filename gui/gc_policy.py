"""Garbage collection while the window is open: on the Tk thread only, full ones at rest.

A tkinter image or variable that dies in a worker's garbage collection calls into Tcl from
that thread, which waits for the Tk thread; if the Tk thread is drawing a figure meanwhile,
it waits for matplotlib's render lock, which that worker holds while it renders: a deadlock.
So automatic collection is off while the window is open, and the loop collects instead.

A full collection is what frees the figures the window has replaced (matplotlib figures
are reference cycles), so one must come even while the user never pauses: a window kept
busy for ten minutes grew by 324 MB when they came only after five quiet seconds. One
takes tens of milliseconds in the window (no TensorFlow in it), so it comes at a quiet
moment when there is one, else between two events once Python's own count says one is due
and ``BUSY_FULL_COLLECT_SECONDS`` have passed, and at the latest every
``LONGEST_WITHOUT_FULL_SECONDS``.
"""

import gc
import time

FULL_COLLECT_SECONDS = 120.0  # at rest: at most one full collection this often
QUIET_SECONDS = 5.0  # "at rest": this long without an event
BUSY_FULL_COLLECT_SECONDS = 20.0  # while busy: at an idle tick, at most this often
LONGEST_WITHOUT_FULL_SECONDS = 60.0  # and never longer than this without one


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
        """Collections as Python would make them, a full one when it is due (see above).

        ``idle``: the loop's read timed out (no event came), a moment between gestures.
        """
        now = time.monotonic()
        young, middle, old = gc.get_count()
        young_limit, middle_limit, old_limit = gc.get_threshold()
        since_full = now - self._full_at
        at_rest = idle and now - self._event_at > QUIET_SECONDS and since_full > FULL_COLLECT_SECONDS
        busy_due = idle and old >= old_limit and since_full > BUSY_FULL_COLLECT_SECONDS
        if at_rest or busy_due or (old >= old_limit and since_full > LONGEST_WITHOUT_FULL_SECONDS):
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
