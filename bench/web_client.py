"""The load ``bench web`` puts on a server: a few lines of asyncio streams, not an HTTP
library, so that the client costs the shared CPUs as little as possible. Closed-loop clients
each keep one keep-alive connection and wait for each answer; the open loop sends on a
schedule whatever the answers; :class:`ReadinessProbes` asks ``/readyz`` as a kubelet does."""

import asyncio
import resource
import socket
import threading
import time

#: Seconds between readiness probes (a kubelet's are seconds apart: this is denser).
PROBE_PERIOD_S = 0.25
#: Files the client keeps free beside its connections (its own, Python's, the probes').
CLIENT_RESERVED_FILES = 64


async def exchange(reader, writer, host, path):
    """One GET on a keep-alive connection: (status, headers with lower-case names)."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict((name.strip().lower(), value.strip()) for name, _, value in (line.partition(":") for line in lines[1:] if line))
    await reader.readexactly(int(headers["content-length"]))
    return int(lines[0].split(" ", 2)[1]), headers


EXCHANGE_ERRORS = (OSError, asyncio.IncompleteReadError, ValueError, KeyError, IndexError)


async def closed_loop_client(host, port, paths, stop_at, latencies, errors, answers=None):
    """A closed-loop client; ``answers`` (if given) gets (status, seconds, Retry-After) of each."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop_at:
            path = paths()
            start = time.perf_counter()
            status, headers = await exchange(reader, writer, host, path)
            latencies.append(time.perf_counter() - start)
            if answers is not None:
                answers.append((status, latencies[-1], headers.get("retry-after")))
            if status != 200:
                errors.append(status)
    except EXCHANGE_ERRORS as error:
        errors.append(type(error).__name__)
    finally:
        writer.close()


async def run_clients(host, port, paths, clients, seconds):
    latencies, errors = [], []
    stop_at = time.perf_counter() + seconds
    await asyncio.gather(*(closed_loop_client(host, port, paths, stop_at, latencies, errors) for _ in range(clients)))
    return latencies, errors


async def closed_loop_answers(host, port, paths, clients, seconds):
    answers = []
    stop_at = time.perf_counter() + seconds
    await asyncio.gather(*(closed_loop_client(host, port, paths, stop_at, [], [], answers) for _ in range(clients)))
    return answers


async def open_loop(host, port, paths, rate, seconds, most_connections):
    """Send a request every 1/``rate`` s for ``seconds``, whatever the answers (open loop), on
    keep-alive connections reused when free: ([(status or error, seconds, Retry-After)],
    requests scheduled, requests not sent because every connection the client may hold was busy)."""
    loop = asyncio.get_running_loop()
    idle, answers, running = [], [], set()
    held = [0]
    skipped = 0

    async def one(path):
        if idle:
            reader, writer = idle.pop()
        else:
            held[0] += 1
            try:
                reader, writer = await asyncio.open_connection(host, port)
            except OSError as error:
                held[0] -= 1
                answers.append((type(error).__name__, 0.0, None))
                return
        start = time.perf_counter()
        try:
            status, headers = await exchange(reader, writer, host, path)
        except EXCHANGE_ERRORS as error:
            answers.append((type(error).__name__, time.perf_counter() - start, None))
            writer.close()
            held[0] -= 1
            return
        answers.append((status, time.perf_counter() - start, headers.get("retry-after")))
        if headers.get("connection") == "close":
            writer.close()
            held[0] -= 1
        else:
            idle.append((reader, writer))

    start = loop.time()
    scheduled = 0
    while scheduled < rate * seconds:
        delay = start + scheduled / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        scheduled += 1
        if held[0] >= most_connections and not idle:
            skipped += 1
            continue
        task = loop.create_task(one(paths()))
        running.add(task)
        task.add_done_callback(running.discard)
    if running:
        await asyncio.gather(*running)
    for _, writer in idle:
        writer.close()
    return answers, scheduled, skipped


def client_connections():
    """How many connections the client may hold: its open-file limit, less what it keeps free."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return 100000 if soft == resource.RLIM_INFINITY else max(8, soft - CLIENT_RESERVED_FILES)


class ReadinessProbes(threading.Thread):
    """``GET /readyz`` every :data:`PROBE_PERIOD_S` on a new connection, as a kubelet probes,
    with a 1 s timeout: ``samples`` holds (status or the error's name, seconds) of each."""

    def __init__(self, host, port):
        super().__init__(daemon=True)
        self.address = (host, port)
        self.samples = []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            start = time.perf_counter()
            try:
                with socket.create_connection(self.address, timeout=1) as probe:
                    probe.sendall(b"GET /readyz HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n")
                    head = probe.recv(65536)
                status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else "no answer"
            except OSError as error:
                status = type(error).__name__
            self.samples.append((status, time.perf_counter() - start))
            self.stopping.wait(PROBE_PERIOD_S)

    def stop(self):
        self.stopping.set()
        self.join()


def percentile(sorted_values, fraction):
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def latency_percentiles_ms(latencies, fractions=(0.5, 0.95, 0.99)):
    """The latencies' percentiles (s in, ms out); NaN for none."""
    ordered = sorted(latencies) or [float("nan")]
    return tuple(percentile(ordered, f) * 1e3 for f in fractions)
