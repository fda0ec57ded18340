"""What an operator sees of a server process: its metrics and its access log.

:class:`Metrics` is one Prometheus registry per app (``GET /metrics``): requests by route and
status, their latency, the time a sound took to decode (its wait for a decoding process
included), the sound cache's hits and misses, and the decoding processes alive. Each worker
process of ``--workers N`` has its own; scrape each replica (one worker a replica, as the
Kubernetes manifests run it).

:class:`Observe` is the ASGI middleware that counts every request and writes its one
access-log line (``--access-log text|json|off``) to the ``web.access`` logger.
"""
import json
import logging
import sys
import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, generate_latest

ACCESS_LOG_MODES = ("text", "json", "off")
access_log = logging.getLogger("web.access")
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The app's Prometheus metrics, on a registry of their own."""

    def __init__(self, decoders_alive=None, decodes_waiting=None):
        self.registry = CollectorRegistry()
        self.requests = Counter("sample_generator_requests", "HTTP requests answered, by route and status",
                                ["route", "status"], registry=self.registry)
        self.latency = Histogram("sample_generator_request_seconds", "Time to answer a request, by route",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.decode = Histogram("sample_generator_decode_seconds",
                                "Time a sound took to decode, its wait for a decoding process included",
                                buckets=LATENCY_BUCKETS, registry=self.registry)
        self.cache = Counter("sample_generator_sound_cache", "Sound requests answered from the process's cache "
                             "(hit) or decoded (miss)", ["result"], registry=self.registry)
        self.refused = Counter("sample_generator_client_limited", "Sound requests refused 429: the client had "
                               "its most sounds decoding", registry=self.registry)
        self.alive = Gauge("sample_generator_decoders_alive", "Decoding processes (or threads) alive",
                           registry=self.registry)
        if decoders_alive is not None:
            self.alive.set_function(decoders_alive)
        self.waiting = Gauge("sample_generator_decodes_waiting", "Sounds submitted to the decoders and not yet "
                             "answered (past the queue's bound, requests are answered 503)", registry=self.registry)
        if decodes_waiting is not None:
            self.waiting.set_function(decodes_waiting)
        # the process's memory, CPU and open files (process_resident_memory_bytes,
        # process_cpu_seconds_total, process_open_fds, process_max_fds)
        ProcessCollector(registry=self.registry)
        from web.limits import GUARD_REFUSALS

        self.registry.register(GUARD_REFUSALS)
        self.shed = Counter("sample_generator_decodes_shed", "Sound requests answered 503 at once: every "
                            "decoder's queue was full", registry=self.registry)

    def exposition(self):
        """(body, content type) of ``GET /metrics``."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def configure_access_log(mode):
    """Send the ``web.access`` lines to stdout (``text`` or ``json``), or nowhere (``off``)."""
    if getattr(access_log, "mode", None) == mode:
        return
    for handler in list(access_log.handlers):
        access_log.removeHandler(handler)
    access_log.propagate = False
    access_log.mode = mode
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
        return json.dumps({"time": round(time.time(), 3), "client": address, "method": scope.get("method"),
                           "path": path, "status": status, "bytes": size, "ms": round(seconds * 1e3, 2)},
                          separators=(",", ":"))
    # The path as the client sent it (%0A stays %0A), with any other byte that could end or
    # forge a line escaped: the decoded path wrote a whole fake line for %0A, and a raw NUL.
    raw = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "surrogateescape")
    sent = _escaped(raw + (b"?" + scope["query_string"] if scope.get("query_string") else b""))
    return f'{address} "{scope.get("method")} {sent} HTTP/{scope.get("http_version", "1.1")}" {status} {size} ' \
           f'{seconds * 1e3:.1f}ms'


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
