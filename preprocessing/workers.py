"""Preparing the batch's files over all cores: each task reads one source, prepares it and
writes its WAV into the run's staging folder, in this process or in a pool of forked workers.
A bad source is a ``failed`` result with its reason, never a raise; an output that cannot be
written stops the run (:class:`OutputNotWritten`)."""

import contextlib
import io
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import soundfile as sf

from preprocessing import manifest as mf
from preprocessing.errors import AudioInputError
from preprocessing.reader import prepare_file_with_info
from preprocessing.settings import PreprocessSettings
from safeio import WriteFailed, atomic_write_bytes

#: A result's status for an output that could not be written (never a manifest status).
_NOT_WRITTEN = "not written"


@dataclass(frozen=True)
class Task:
    """One source to prepare, and where its WAV goes."""

    source: str
    output: str  # a path in the run's own staging folder
    settings: PreprocessSettings


@dataclass(frozen=True)
class _Result:
    """What became of one task: its manifest status and what the source was."""

    status: str
    kind: str = ""
    reason: str = ""
    sample_rate: int | None = None
    channels: int | None = None
    frames: int | None = None
    audio: object = None  # the prepared sample, sent back so the cache needs no re-reading


def _process(task):
    """Prepare one file and write its WAV; a bad file is a failed result, never a raise."""
    try:
        audio, info = prepare_file_with_info(task.source, task.settings)
    except AudioInputError as error:
        info = error.info
        return _Result(
            mf.FAILED,
            error.kind,
            str(error),
            info.sample_rate if info else None,
            info.channels if info else None,
            info.frames if info else None,
        )
    # Encoded in memory, then written by the one atomic write (one fsync per file).
    encoded = io.BytesIO()
    sf.write(encoded, audio, task.settings.sample_rate, subtype="FLOAT", format="WAV")
    try:
        atomic_write_bytes(task.output, encoded.getvalue(), overwrite=False)
    except WriteFailed as error:  # the disk's fault, not the source's: the run stops
        return _Result(_NOT_WRITTEN, reason=os.strerror(error.errno) if error.errno else str(error))
    return _Result(mf.OK, sample_rate=info.sample_rate, channels=info.channels, frames=info.frames, audio=audio)


def default_jobs():
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


class OutputNotWritten(Exception):
    """An output could not be written; ``reason`` is the system's ("No space left on device")."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def _checked(result):
    if result.status == _NOT_WRITTEN:
        raise OutputNotWritten(result.reason)
    return result


def run_tasks(tasks, jobs, progress):
    """Results in task order, from this process (jobs=1) or a pool of ``jobs`` processes.

    Raises
    ------
    OutputNotWritten
        At the first output that could not be written; the files still queued are dropped.
    """
    from tqdm import tqdm

    if jobs <= 1 or len(tasks) <= 1:
        with tqdm(total=len(tasks), disable=not progress, unit="file", file=sys.stderr) as bar:
            results = []
            for task in tasks:
                results.append(_checked(_process(task)))
                bar.update()
            return results
    # Forked workers start with everything this process has imported, at no cost.
    context = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None
    jobs = min(jobs, len(tasks))
    # Small chunks: the 12-second cymbals of one kit sit together and must not all land
    # on one worker at the end.
    chunk = max(1, min(16, len(tasks) // (jobs * 4)))
    results = []
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_start_worker, initargs=(os.getpid(),))
    try:
        iterator = pool.map(_process, tasks, chunksize=chunk)
        # The bar starts after the workers are forked: its monitor thread is not forked.
        with tqdm(total=len(tasks), disable=not progress, unit="file", file=sys.stderr) as bar:
            for result in iterator:
                results.append(_checked(result))
                bar.update()
    except BaseException:
        # Ctrl-C (or a full disk): drop the queued files instead of waiting for them all.
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return results


def _start_worker(parent):
    """Workers leave Ctrl-C to the main process, which stops the batch in one place, and end
    with it: a main process killed with kill -9 leaves no worker waiting for work for good."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(AttributeError, OSError):  # Linux only
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the main process died before the line above
        os._exit(1)
