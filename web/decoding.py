"""Where the server's sounds are decoded: threads of the server process, or processes of
their own.

Both offer ``await wav(served, request) -> (bytes, etag)`` and never decode on the event
loop. :class:`ProcessDecoding` is what ``app.py serve`` uses: a decode is hundreds of short
NumPy calls, each holding the GIL, so two threads of one process decode no faster than one
(ddsp_vae: 194 sounds/s with two threads against 212 with one; two processes, 450). Each
decoding process loads the models it is asked for from the zoo folder, once, so the server
process itself only answers HTTP. :class:`ThreadDecoding` decodes the catalogue's own model
objects in a thread pool: for tests and for models that exist only in memory.
"""

import asyncio
import gc
import logging
import math
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from threading import Lock
from typing import Any

from safeio import pid_alive
from web.sound import tagged_wav

log = logging.getLogger("web")
#: The most decoding processes or threads one server process starts.
MAX_DECODERS = 8
#: Sounds that may wait for each decoding process; past that a request is answered 503 at
#: once (at ~5 ms a sound, 32 waiting is 0.16 s): an unbounded queue turned load into
#: answers of 6 s and more.
QUEUE_PER_DECODER = 32
#: Seconds a decoding process waits at its start for the others to start too.
STARTED_WAIT_S = 120.0
#: The decoder count's override (``app.py serve --decoders``).
ENV_DECODERS = "SAMPLE_GENERATOR_DECODERS"


class DecodingFailed(Exception):
    """The decoding processes cannot answer; the message says why, in one line."""


class DecodingBusy(DecodingFailed):
    """Every decoder has its queue full: the request is turned away at once (503, Retry-After)."""


def cgroup_cpu_quota(cgroup_root="/sys/fs/cgroup", proc_self_cgroup="/proc/self/cgroup"):
    """The CPUs a cgroup v2 quota (``cpu.max``) allows this process, or None where none is set.

    A container's or a Kubernetes pod's CPU limit is such a quota; ``os.cpu_count()`` shows
    the node's cores instead. The smallest quota on the path from this process's cgroup up to
    the root is the one in force.
    """
    try:
        with open(proc_self_cgroup) as lines:
            path = next((line.split("::", 1)[1].strip() for line in lines if line.startswith("0::")), "/")
    except OSError:
        path = "/"
    quota = None
    folder = os.path.normpath(os.path.join(cgroup_root, path.lstrip("/")))
    root = os.path.normpath(cgroup_root)
    while True:
        try:
            with open(os.path.join(folder, "cpu.max")) as handle:
                limit, period = handle.read().split()[:2]
            if limit != "max" and int(period) > 0:
                cpus = int(limit) / int(period)
                quota = cpus if quota is None else min(quota, cpus)
        except (OSError, ValueError):
            pass
        if folder == root or not folder.startswith(root):
            return quota
        folder = os.path.dirname(folder)


def available_cpus():
    """CPUs this process may use: its affinity, under any cgroup v2 quota (at least one)."""
    if hasattr(os, "process_cpu_count"):  # Python 3.13
        count = os.process_cpu_count() or 1
    elif hasattr(os, "sched_getaffinity"):
        count = len(os.sched_getaffinity(0)) or 1
    else:
        count = os.cpu_count() or 1
    quota = cgroup_cpu_quota()
    if quota is not None:
        count = min(count, max(1, math.ceil(quota)))
    return count


def default_decoders(workers=1, environ=None):
    """Decoders per server process: ``SAMPLE_GENERATOR_DECODERS`` when set, else the CPUs this
    process may use shared among the ``workers``; from 1 to :data:`MAX_DECODERS`.

    Raises
    ------
    ValueError
        The variable is not a whole number from 1 to :data:`MAX_DECODERS` (the message says so).
    """
    value = (os.environ if environ is None else environ).get(ENV_DECODERS, "").strip()
    if value:
        if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_DECODERS:
            raise ValueError(f"{ENV_DECODERS}={value!r}: give a whole number from 1 to {MAX_DECODERS}")
        return int(value)
    return max(1, min(MAX_DECODERS, available_cpus() // max(1, workers)))


class ThreadDecoding:
    """Decode the catalogue's model objects on a thread pool of ``threads``."""

    def __init__(self, threads=None):
        self.threads = threads or default_decoders()
        self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="decode")

    def start(self):
        """Nothing to start: threads come on demand."""

    async def wav(self, served, request, version=None):
        """(WAV bytes, ETag) of ``request`` for a :class:`~web.catalogue.ServedModel` (its
        model object is in memory: ``version`` is not checked)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, tagged_wav, served.model, request)

    async def encode(self, served, data, version=None, family=None):
        """:func:`encode_model` of a file's bytes on this pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, encode_model, served.model, data, family)

    def alive(self):
        """Threads that can decode (they start on demand)."""
        return self.threads

    async def ready(self):
        """ "" : threads are always ready."""
        return ""

    def close(self):
        self._pool.shutdown(wait=True, cancel_futures=True)


class ProcessDecoding:
    """Decode in ``processes`` processes of their own, each loading models from ``folder``.

    Parameters
    ----------
    folder : str or Path
        The zoo the server's catalogue was loaded from.
    processes : int, optional
        How many (default: one per core, at most :data:`MAX_DECODERS`).
    preload : sequence of str
        Models every process loads as it starts (the default model: its first sound is not
        kept waiting); the others load on their first request.
    work : callable
        ``(name, request, version) -> (bytes, etag)``, run in the processes; tests may pass
        another importable function.

    A process that dies (killed, out of memory) breaks the pool: the next request starts a
    new pool and is tried once more there; if that fails too, :class:`DecodingFailed`.
    """

    def __init__(self, folder, processes=None, preload=(), *, work=None, queue_per_decoder=QUEUE_PER_DECODER):
        self.folder = str(folder)
        self.processes = processes or default_decoders()
        self.preload = tuple(preload)
        self.work = work or decode_in_process
        self.queue_limit = self.processes * queue_per_decoder
        self.waiting = 0  # sounds submitted and not yet answered (changed on the event loop only)
        self._pool = None
        self._lock = Lock()

    def _new_pool(self):
        # The processes meet at a barrier at the end of their start, so none runs a task (the
        # start's readiness checks included) until every one has started: one still importing
        # NumPy when start() returned printed a KeyboardInterrupt traceback at Ctrl+C.
        context = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(
            max_workers=self.processes,
            mp_context=context,
            initializer=start_process,
            initargs=(self.folder, self.preload, context.Barrier(self.processes)),
        )

    def start(self):
        """Start every process and wait until each has loaded the preloaded models (once).

        Raises
        ------
        DecodingFailed
            A process could not load one of them (the reason is the model's own), or died.
        """
        if self._pool is not None:
            return
        pool = self._new_pool()
        try:
            reasons = [f.result() for f in [pool.submit(process_ready) for _ in range(self.processes)]]
        except BrokenProcessPool:
            pool.shutdown(wait=True, cancel_futures=True)
            raise DecodingFailed("the decoding processes stopped while starting") from None
        failed = next((reason for reason in reasons if reason), None)
        if failed:
            pool.shutdown(wait=True, cancel_futures=True)
            raise DecodingFailed(failed)
        self._pool = pool

    def _replace(self, broken: ProcessPoolExecutor | ThreadPoolExecutor | None):
        """A working pool in place of ``broken`` (replaced once, however many requests saw it)."""
        with self._lock:
            if self._pool is broken and broken is not None:
                log.warning("a decoding process stopped; starting %d new ones", self.processes)
                broken.shutdown(wait=False, cancel_futures=True)
                pool = self._pool = self._new_pool()
                # its processes start now, not at the next sound: readiness looks at them
                for _ in range(self.processes):
                    pool.submit(process_ready)
            return self._pool

    async def wav(self, served, request, version=None):
        """(WAV bytes, ETag) of ``request`` (``served.name`` is looked up in the processes, which
        refuse it when the files they loaded are not ``version``).

        Raises
        ------
        DecodingBusy
            :attr:`queue_limit` sounds are waiting already.
        DecodingFailed
            The processes stopped twice on this request, or were never started.
        """
        return await self._queued(self.work, served.name, request, version)

    async def encode(self, served, data, version=None, family=None):
        """:func:`encode_model` of a file's bytes, in a decoding process, in the same bounded
        queue as the sounds (the bytes are sent to the process, used and dropped)."""
        return await self._queued(encode_in_process, served.name, data, version, family)

    async def _queued(self, work, *args):
        if self.waiting >= self.queue_limit:
            raise DecodingBusy(f"{self.waiting} sounds are waiting for {self.processes} decoders")
        self.waiting += 1
        try:
            return await self._run(work, *args)
        finally:
            self.waiting -= 1

    async def _run(self, work, *args):
        loop = asyncio.get_running_loop()
        pool = self._pool
        if pool is None:
            raise DecodingFailed("the decoding processes have not been started")
        try:
            return await loop.run_in_executor(pool, work, *args)
        except BrokenProcessPool:
            pool = self._replace(pool)
        try:
            return await loop.run_in_executor(pool, work, *args)
        except BrokenProcessPool:
            self._replace(pool)
            raise DecodingFailed("the decoding processes stopped twice on this request") from None

    async def ready(self):
        """ "" when every decoding process is alive, else why not (one line).

        Answered from the processes' liveness, not by a task in their queue: behind 400 waiting
        sounds that check took seconds and readiness said 503, so load became an outage. A
        broken pool is replaced here too, so the next check can find it ready.
        """
        pool = self._pool
        if pool is None:
            return "the decoding processes have not been started"
        processes = list((getattr(pool, "_processes", None) or {}).values())
        # is_alive() alone says True for a process the pool's own thread has just reaped (its
        # waitpid fails with ECHILD, read as "not started"): the pid is asked as well
        alive = sum(1 for process in processes if process.is_alive() and pid_alive(process.pid))
        # read after the count: the pool's thread marks it broken before it reaps the processes
        if getattr(pool, "_broken", False):
            self._replace(pool)
            return "a decoding process stopped; new ones are starting"
        if alive < self.processes:
            if len(processes) > alive:
                # one died before the pool's own thread noticed: the same answer as when it has
                # (under load a check came first, and said "0 of 2 ... starting" instead)
                self._replace(pool)
                return "a decoding process stopped; new ones are starting"
            return f"{alive} of {self.processes} decoding processes are running; the others are starting"
        return ""

    def alive(self):
        """How many decoding processes are running."""
        return len(self.pids())

    def pids(self):
        """The process ids of the decoding processes running now."""
        pool = self._pool
        return sorted(getattr(pool, "_processes", None) or {}) if pool is not None else []

    def close(self):
        """Stop the processes and let go of the pool: its start barrier's semaphores are removed
        now, not left to the resource tracker (with ``--workers N`` a worker ends by its
        re-raised SIGTERM, and the tracker warned of each one "leaked")."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
            del pool
            gc.collect()


# What runs in a decoding process: its zoo folder, the models it has loaded, and any reason
# a preloaded model could not be.
_process: dict[str, Any] = {"folder": None, "models": {}, "failed": ""}


def start_process(folder, preload, started=None):
    """A decoding process's start: BLAS on one thread, then the preloaded models.

    Ctrl+C reaches every process of the terminal's group, and a service manager's stop sends
    SIGTERM to every process of the service's (systemd's KillMode=control-group): the server
    drains and then stops its decoding processes itself, so they ignore both (no traceback
    from each, and the requests in flight are answered by them, not by new ones started in
    the middle of the drain). A server killed outright (SIGKILL) cannot stop them: each
    leaves on its own once its parent is gone (:func:`_leave_with_parent`).
    """
    import signal

    from models.engine import limit_blas_threads
    from models.errors import ModelError

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _leave_with_parent()
    limit_blas_threads()
    _process["folder"] = folder
    for name in preload:
        try:
            _process["models"][name] = _load_with_version(name, folder)
        except ModelError as error:
            _process["failed"] = f"{name}: {error}"
    if started is not None:
        try:
            started.wait(STARTED_WAIT_S)
        except threading.BrokenBarrierError:
            pass  # another process never started: the pool breaks, and says so, without this one


#: How often a decoding process looks for its server (a killed one leaves it orphaned).
PARENT_CHECK_S = 1.0


def _leave_with_parent():
    """Exit once the server that started this process is gone: every process of the pool holds
    the task queue's write end too, so a killed server's decoders would wait on it for ever."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(0)

    threading.Thread(target=watch, name="leave-with-parent", daemon=True).start()


def _load_with_version(name, folder):
    """(model, version of the files it was loaded from); ModelError if they changed meanwhile."""
    from models.errors import ModelUnavailableError
    from web.caching import model_version
    from web.catalogue import load_model

    before = model_version(folder, name)
    model = load_model(name, folder)
    if model_version(folder, name) != before:
        raise ModelUnavailableError("its files changed while it was loading; try again")
    return model, before


def process_ready():
    """ "" when this process is ready, else why not."""
    return _process["failed"]


def decode_in_process(name, request, version=None):
    """(WAV bytes, ETag) of ``request`` for the model ``name`` (loaded on first use).

    Raises
    ------
    models.errors.ModelUnavailableError
        The files this process loaded (now, or when it started) are not the ``version`` the
        server serves: a model replaced on disk without a restart would otherwise answer its
        old versioned URLs, kept ``immutable`` by every cache, with another model's sounds.
    """
    return tagged_wav(_model_in_process(name, version), request)


def encode_in_process(name, data, version=None, family=None):
    """:func:`encode_model` with the model ``name`` of this process (loaded on first use)."""
    return encode_model(_model_in_process(name, version), data, family)


def encode_model(model, data, family=None):
    """Where a user's own sample sits in ``model``'s latent plane.

    The file is made the way the model's training sounds were (its card's preprocessing) and
    encoded; nothing of it is kept.

    Parameters
    ----------
    model : object
        A loaded model with an encoder.
    data : bytes
        The whole file.
    family : str, optional
        A family-frame model's family (canonical text): the frame its code is given in;
        None: the frame of the family its code is likeliest under (``"family"``).

    Returns
    -------
    dict
        ``{"point": [x, y]}`` (a wide latent's also ``"vector"``, its D numbers, the point
        being its pad axes'; a family frame's the code in a family's frame, and
        ``"family"``, that family's canonical text), or
        ``{"refused": reason}`` (one line) for a file that cannot become a sample (the
        reason crosses the process boundary as text).
    """
    from preprocessing.errors import AudioInputError, SettingsError
    from preprocessing.reader import prepare_bytes
    from preprocessing.settings import settings_of_model

    try:
        audio = prepare_bytes(data, settings_of_model(model))
    except (AudioInputError, SettingsError) as error:
        return {"refused": str(error)}
    if model.family_frame:  # its whole code in a family's frame: what the pad and sliders show
        code = model.encode_code(audio[None, :])
        family = family or model.family_pads.likeliest(code)[0]
        vector = [float(v) for v in model.family_pads.to_frame(code, family)[0]]
        return {"point": vector[:2], "vector": vector, "family": family}
    code = [float(v) for v in model.encode(audio[None, :])[0]]
    if len(code) > 2:  # an imported model's whole vector: the pad shows two of its axes
        return {"point": [code[axis] for axis in model.pad_axes], "vector": code}
    return {"point": code}


def _model_in_process(name, version):
    """This process's model ``name`` (loaded on first use), checked against ``version``."""
    from models.errors import ModelUnavailableError

    loaded = _process["models"].get(name)
    if loaded is None:
        loaded = _process["models"][name] = _load_with_version(name, _process["folder"])
    model, loaded_version = loaded
    if version is not None and loaded_version != version:
        from web.caching import model_version

        if model_version(_process["folder"], name) == version:  # the served files are back
            model, loaded_version = _process["models"][name] = _load_with_version(name, _process["folder"])
    if version is not None and loaded_version != version:
        raise ModelUnavailableError(
            f"its files changed on disk since the server started (serving version "
            f"{version}, the files are {loaded_version}); restart the server to serve them"
        )
    return model
