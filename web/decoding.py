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
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from threading import Lock

from web.sound import tagged_wav

log = logging.getLogger("web")
#: The most decoding processes or threads one server process starts.
MAX_DECODERS = 8
#: Seconds a readiness check waits for a decoding process to answer.
READY_TIMEOUT_S = 5.0


class DecodingFailed(Exception):
    """The decoding processes cannot answer; the message says why, in one line."""


def default_decoders(workers=1):
    """Decoders per server process: the cores shared among the ``workers``, at least one."""
    return max(1, min(MAX_DECODERS, (os.cpu_count() or 1) // max(1, workers)))


class ThreadDecoding:
    """Decode the catalogue's model objects on a thread pool of ``threads``."""

    def __init__(self, threads=None):
        self.threads = threads or default_decoders()
        self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="decode")

    def start(self):
        """Nothing to start: threads come on demand."""

    async def wav(self, served, request):
        """(WAV bytes, ETag) of ``request`` for a :class:`~web.catalogue.ServedModel`."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, tagged_wav, served.model, request)

    def alive(self):
        """Threads that can decode (they start on demand)."""
        return self.threads

    async def ready(self):
        """"" : threads are always ready."""
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
        ``(name, request) -> (bytes, etag)``, run in the processes; tests may pass another
        importable function.

    A process that dies (killed, out of memory) breaks the pool: the next request starts a
    new pool and is tried once more there; if that fails too, :class:`DecodingFailed`.
    """

    def __init__(self, folder, processes=None, preload=(), *, work=None):
        self.folder = str(folder)
        self.processes = processes or default_decoders()
        self.preload = tuple(preload)
        self.work = work or decode_in_process
        self._pool = None
        self._lock = Lock()

    def _new_pool(self):
        return ProcessPoolExecutor(max_workers=self.processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=start_process, initargs=(self.folder, self.preload))

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

    def _replace(self, broken):
        """A working pool in place of ``broken`` (replaced once, however many requests saw it)."""
        with self._lock:
            if self._pool is broken:
                log.warning("a decoding process stopped; starting %d new ones", self.processes)
                broken.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()
            return self._pool

    async def wav(self, served, request):
        """(WAV bytes, ETag) of ``request`` (``served.name`` is looked up in the processes)."""
        loop = asyncio.get_running_loop()
        pool = self._pool
        if pool is None:
            raise DecodingFailed("the decoding processes have not been started")
        try:
            return await loop.run_in_executor(pool, self.work, served.name, request)
        except BrokenProcessPool:
            pool = self._replace(pool)
        try:
            return await loop.run_in_executor(pool, self.work, served.name, request)
        except BrokenProcessPool:
            self._replace(pool)
            raise DecodingFailed("the decoding processes stopped twice on this request") from None

    async def ready(self, timeout_s=READY_TIMEOUT_S):
        """"" when a decoding process answers within ``timeout_s``, else why not (one line).

        A broken pool is replaced here too, so the next check can find it ready.
        """
        pool = self._pool
        if pool is None:
            return "the decoding processes have not been started"
        loop = asyncio.get_running_loop()
        try:
            reason = await asyncio.wait_for(loop.run_in_executor(pool, process_ready), timeout_s)
        except BrokenProcessPool:
            self._replace(pool)
            return "a decoding process stopped; new ones are starting"
        except asyncio.TimeoutError:
            return f"no decoding process answered within {timeout_s:g} s"
        return reason

    def alive(self):
        """How many decoding processes are running."""
        return len(self.pids())

    def pids(self):
        """The process ids of the decoding processes running now."""
        pool = self._pool
        return sorted(getattr(pool, "_processes", None) or {}) if pool is not None else []

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


# What runs in a decoding process: its zoo folder, the models it has loaded, and any reason
# a preloaded model could not be.
_process = {"folder": None, "models": {}, "failed": ""}


def start_process(folder, preload):
    """A decoding process's start: BLAS on one thread, then the preloaded models.

    Ctrl+C reaches every process of the terminal's group: the server stops its decoding
    processes itself, so they ignore it (no traceback from each).
    """
    import signal

    from models.engine import limit_blas_threads
    from models.errors import ModelError
    from web.catalogue import load_model

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit_blas_threads()
    _process["folder"] = folder
    for name in preload:
        try:
            _process["models"][name] = load_model(name, folder)
        except ModelError as error:
            _process["failed"] = f"{name}: {error}"


def process_ready():
    """"" when this process is ready, else why not."""
    return _process["failed"]


def decode_in_process(name, request):
    """(WAV bytes, ETag) of ``request`` for the model ``name`` (loaded on first use)."""
    model = _process["models"].get(name)
    if model is None:
        from web.catalogue import load_model

        model = _process["models"][name] = load_model(name, _process["folder"])
    return tagged_wav(model, request)
