"""The two kinds of worker thread the window runs its jobs on, and the guard around a job.

:class:`LatestWorker` runs only the newest job of each slot (a drag asks for many points and
gets the last one); :class:`JobWorker` runs every job it is given, the user's before the
background's. :func:`guarded` turns a job's failure into an ``events.JobFailed`` record, and
:class:`JobGroup` is the base of the job groups that hand such guarded jobs to a thread.
"""

import itertools
import logging
import os
import queue
import sys
import threading
import traceback

from gui import events

USER, BACKGROUND = 0, 10  # job priorities


class LatestWorker:
    """A thread that runs only the newest job of each slot.

    ``submit(slot, job)`` replaces a job of that slot that has not started yet, so a burst
    of requests (a drag) costs one job per slot, not one per request.
    """

    def __init__(self, name, run):
        self._run = run
        self._pending = {}
        self._condition = threading.Condition()
        self._stopped = False
        self._running = False
        self._thread = threading.Thread(target=self._loop, name=f"gui-{name}", daemon=True)
        self._thread.start()

    def submit(self, slot, job):
        with self._condition:
            self._pending[slot] = job
            self._condition.notify()

    def stop(self, timeout=2.0):
        self.request_stop()
        self._thread.join(timeout)

    def request_stop(self):
        with self._condition:
            self._stopped = True
            self._condition.notify()

    @property
    def alive(self):
        return self._thread.is_alive()

    @property
    def idle(self):
        """Nothing running and nothing waiting."""
        with self._condition:
            return not self._running and not self._pending

    def _loop(self):
        while True:
            with self._condition:
                while not self._pending and not self._stopped:
                    self._condition.wait()
                if self._stopped:
                    return
                slot = next(iter(self._pending))
                job = self._pending.pop(slot)
                self._running = True
            try:
                self._run(slot, job)
            finally:
                with self._condition:
                    self._running = False


class JobWorker:
    """A thread that runs submitted callables, lowest priority number first, then in order."""

    def __init__(self, name):
        self._queue = queue.PriorityQueue()
        self._order = itertools.count()
        self._thread = threading.Thread(target=self._loop, name=f"gui-{name}", daemon=True)
        self._thread.start()

    def submit(self, func, priority=USER):
        self._queue.put((priority, next(self._order), func))

    def stop(self, timeout=2.0):
        self.request_stop()
        self._thread.join(timeout)

    def request_stop(self):
        """Stop after the jobs the user asked for (background jobs are dropped)."""
        self._queue.put((BACKGROUND - 1, -1, None))

    @property
    def alive(self):
        return self._thread.is_alive()

    @property
    def idle(self):
        """Nothing running and nothing waiting."""
        return self._queue.unfinished_tasks == 0

    def _loop(self):
        while True:
            _, _, func = self._queue.get()
            if func is None:
                return
            try:
                func()
            finally:
                self._queue.task_done()


def guarded(what, func, post, user_errors):
    """``func`` as a job whose failure becomes a ``JobFailed`` record, never a dead thread."""

    def job():
        try:
            func()
        except user_errors as error:
            post(events.JobFailed(what, str(error)))
        except Exception as error:  # noqa: BLE001 - a bug must not kill the worker thread
            traceback.print_exc(file=sys.stderr)
            post(events.JobFailed(what, f"internal error: {error!r}"))

    return job


class JobGroup:
    """What every group of jobs has: the backend it works through, and where results go.

    Parameters
    ----------
    backend : gui.backend.PackageBackend or a test double with its methods
    post : callable(record)
        Sends a result to the event loop (thread-safe).
    """

    def __init__(self, backend, post):
        self.backend = backend
        self.post = post

    def _guard(self, what, func):
        """``func`` as a job whose failure becomes a "failed" event, never a dead thread."""
        return guarded(what, func, self.post, self.backend.user_errors)


def leave_if_busy(status):
    """End the process now, with ``status``, when a worker thread still runs a job once the
    window has closed (and has waited for them); return otherwise.

    A daemon thread that is inside a C++ extension when the interpreter finalises is ended by
    a forced unwind that C++ does not allow there: python-soxr's resampling, for one, then
    aborts the whole process ("terminate called without an active exception", status -6),
    which a loaded machine met at the window's quit. Everything the user keeps (settings,
    favourites) is written by the time this is called; only the interpreter's own teardown is
    skipped.
    """
    busy = [thread for thread in threading.enumerate() if thread.daemon and thread.name.startswith("gui-") and thread.is_alive()]
    if not busy:
        return
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed or broken pipe: nothing more to say there
            pass
    os._exit(status)
