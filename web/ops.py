"""What an operator sees of a server process: its metrics and its access log.

:class:`Metrics` is one Prometheus registry per app (``GET /metrics``): requests by route and
status, their latency, the time a sound took to decode (its wait for a decoding process
included), the sound cache's hits and misses, and the decoding processes alive. Under
``--workers N`` the worker processes share them through prometheus_client's multiprocess mode
(:func:`metrics_shared_by_workers`): any worker's ``/metrics`` answers the sum of all, so a
counter never goes back between scrapes (each worker's own alternated: 26, 24, 26...).

:class:`Observe` is the ASGI middleware that counts every request and writes its one
access-log line (``--access-log text|json|off``) to the ``web.access`` logger.
"""

import asyncio
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, generate_latest

ACCESS_LOG_MODES = ("text", "json", "off")
access_log = logging.getLogger("web.access")
#: The mode :func:`configure_access_log` last set (set once per process).
_access_mode: list[str] = []
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: prometheus_client's multiprocess mode: the folder where every process writes its values.
#: Read when prometheus_client is imported, so it is set before the worker processes start.
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: Seconds between a worker's writes of its gauges (decoders alive, sounds waiting, memory)
#: in multiprocess mode, where a scrape answered by one worker cannot ask the others.
SHARED_GAUGE_PERIOD_S = 1.0


@contextmanager
def metrics_shared_by_workers():
    """A private folder for prometheus_client's multiprocess mode, in the environment
    (:data:`MULTIPROCESS_ENV`) for the worker processes ``serve --workers N`` starts, and
    removed at the end (a folder from an earlier run would add its counts to this one's)."""
    folder = tempfile.mkdtemp(prefix="sample-generator-metrics-")
    before = os.environ.get(MULTIPROCESS_ENV)
    os.environ[MULTIPROCESS_ENV] = folder
    try:
        yield folder
    finally:
        if before is None:
            os.environ.pop(MULTIPROCESS_ENV, None)
        else:
            os.environ[MULTIPROCESS_ENV] = before
        shutil.rmtree(folder, ignore_errors=True)


def forget_dead_processes(folder):
    """Drop the live gauges of processes that are gone (a worker uvicorn replaced); their
    counters stay, so the sums never go back."""
    from prometheus_client import multiprocess

    pids = {name.stem.rsplit("_", 1)[1] for name in Path(folder).glob("gauge_live*_*.db")}
    for pid in pids:
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(int(pid), folder)
        except (PermissionError, ValueError):
            pass


class Metrics:
    """The app's Prometheus metrics, on a registry of their own (in multiprocess mode, in
    files that every worker's ``/metrics`` reads)."""

    def __init__(self, decoders_alive=None, decodes_waiting=None):
        self.shared = os.environ.get(MULTIPROCESS_ENV) or None
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "sample_generator_requests", "HTTP requests answered, by route and status", ["route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "sample_generator_request_seconds",
            "Time to answer a request, by route",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.decode = Histogram(
            "sample_generator_decode_seconds",
            "Time a sound took to decode, its wait for a decoding process included",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.cache = Counter(
            "sample_generator_sound_cache",
            "Sound requests answered from the process's cache (hit) or decoded (miss)",
            ["result"],
            registry=self.registry,
        )
        self.refused = Counter(
            "sample_generator_client_limited",
            "Sound requests refused 429: the client had its most sounds decoding",
            registry=self.registry,
        )
        # in multiprocess mode each worker writes its own value and a scrape shows their sum
        self.alive = Gauge(
            "sample_generator_decoders_alive",
            "Decoding processes (or threads) alive",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.waiting = Gauge(
            "sample_generator_decodes_waiting",
            "Sounds submitted to the decoders and not yet answered (past the queue's bound, requests are answered 503)",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self._sources = [
            (gauge, source) for gauge, source in ((self.alive, decoders_alive), (self.waiting, decodes_waiting)) if source is not None
        ]
        if self.shared:
            # the scraped worker's process_* alone would alternate between workers: each
            # worker's, labelled by its pid, instead
            self.process = {
                name: Gauge(f"sample_generator_worker_{name}", words, registry=self.registry, multiprocess_mode="liveall")
                for name, words in (
                    ("resident_memory_bytes", "A worker process's resident memory"),
                    ("cpu_seconds", "CPU time a worker process has used"),
                    ("open_fds", "Files and sockets a worker process has open"),
                )
            }
        else:
            for gauge, source in self._sources:
                gauge.set_function(source)
            # the process's memory, CPU and open files (process_resident_memory_bytes,
            # process_cpu_seconds_total, process_open_fds, process_max_fds)
            ProcessCollector(registry=self.registry)
        from web.limits import GUARD_REFUSALS

        self.registry.register(GUARD_REFUSALS)
        self.shed = Counter(
            "sample_generator_decodes_shed",
            "Sound requests answered 503 at once: every decoder's queue was full",
            registry=self.registry,
        )

    def exposition(self):
        """(body, content type) of ``GET /metrics``: in multiprocess mode, every worker's."""
        if not self.shared:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        from prometheus_client import multiprocess

        self.write_shared_gauges()
        forget_dead_processes(self.shared)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=self.shared)
        return generate_latest(registry), CONTENT_TYPE_LATEST

    def write_shared_gauges(self):
        """This worker's gauges, into the shared files (multiprocess mode)."""
        for gauge, source in self._sources:
            gauge.set(source())
        own = {sample.name: sample.value for metric in ProcessCollector(registry=None).collect() for sample in metric.samples}
        for name, key in (
            ("resident_memory_bytes", "process_resident_memory_bytes"),
            ("cpu_seconds", "process_cpu_seconds_total"),
            ("open_fds", "process_open_fds"),
        ):
            if key in own:
                self.process[name].set(own[key])

    async def keep_shared_gauges(self):
        """Write this worker's gauges every :data:`SHARED_GAUGE_PERIOD_S` until cancelled
        (nothing in single-process mode)."""
        while self.shared:
            self.write_shared_gauges()
            await asyncio.sleep(SHARED_GAUGE_PERIOD_S)

    def stop_sharing(self):
        """Drop this worker's gauges from the shared files: it is stopping (its counters stay)."""
        if self.shared:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(os.getpid(), self.shared)


def configure_access_log(mode):
    """Send the ``web.access`` lines to stdout (``text`` or ``json``), or nowhere (``off``)."""
    if _access_mode == [mode]:
        return
    for handler in list(access_log.handlers):
        access_log.removeHandler(handler)
    access_log.propagate = False
    _access_mode[:] = [mode]
    if mode == "off":
        access_log.setLevel(logging.CRITICAL + 1)
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)


def access_line(mode, scope, status, size, seconds):
    """One request's line: ``text`` (like a web server's common log) or one JSON object."""
    client = scope.get("client")
    address = client[0] if client else "-"
    query = scope.get("query_string", b"").decode("latin-1")
    path = scope.get("path", "") + (f"?{query}" if query else "")
    if mode == "json":
        return json.dumps(
            {
                "time": round(time.time(), 3),
                "client": address,
                "method": scope.get("method"),
                "path": path,
                "status": status,
                "bytes": size,
                "ms": round(seconds * 1e3, 2),
            },
            separators=(",", ":"),
        )
    # The path as the client sent it (%0A stays %0A), with any other byte that could end or
    # forge a line escaped: the decoded path wrote a whole fake line for %0A, and a raw NUL.
    raw = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "surrogateescape")
    sent = _escaped(raw + (b"?" + scope["query_string"] if scope.get("query_string") else b""))
    return f'{address} "{scope.get("method")} {sent} HTTP/{scope.get("http_version", "1.1")}" {status} {size} {seconds * 1e3:.1f}ms'


def _escaped(data):
    """``data`` as printable ASCII: bytes outside ``!``..``~``, and ``"`` and ``\\``, as ``\\xHH``
    (as nginx writes its access log)."""
    return "".join(chr(b) if 0x21 <= b <= 0x7E and b not in (0x22, 0x5C) else f"\\x{b:02X}" for b in data)


class Observe:
    """ASGI middleware: time each request, count it in :class:`Metrics` by its route (the
    endpoint's name) and status, and write its access-log line."""

    def __init__(self, app, metrics, mode="off"):
        self.app = app
        self.metrics = metrics
        self.mode = mode

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        seen = {"status": 500, "bytes": 0}

        async def observed(message):
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
            elif message["type"] == "http.response.body":
                seen["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            seconds = time.perf_counter() - start
            endpoint = scope.get("endpoint")
            route = getattr(endpoint, "__name__", None) or "other"
            self.metrics.requests.labels(route, str(seen["status"])).inc()
            self.metrics.latency.labels(route).observe(seconds)
            if self.mode != "off":
                access_log.info(access_line(self.mode, scope, seen["status"], seen["bytes"], seconds))
