"""The server ``bench web`` loads: started as ``app.py serve`` on a free port, waited for,
asked what it serves, and measured through ``/proc`` (CPU time, RSS and PSS of the server and
all its worker and decoding processes)."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench import memory_mb

ROOT = Path(__file__).resolve().parents[1]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(folder, port, *, workers=1, http_layer=None, decoders=None):
    """``app.py serve`` of ``folder`` on ``port``, its access log off (the Popen)."""
    command = [sys.executable, "app.py", "serve", "--port", str(port), "--models", folder, "--workers", str(workers)]
    command += ["--http-layer", http_layer] if http_layer else []
    command += ["--access-log", "off"] + (["--decoders", str(decoders)] if decoders else [])
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})


def start_replica(folder, log):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "app.py", "serve", "--port", str(port), "--models", folder, "--access-log", "off"],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        start_new_session=True,
    )
    return port, process


def catalogue_when_up(base, process, seconds=120):
    """The server's ``/api/models``, once it answers; None when it dies or takes too long."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return json.loads(urllib.request.urlopen(f"{base}/api/models", timeout=2).read())
        except OSError:
            if (process is not None and process.poll() is not None) or time.monotonic() > deadline:
                return None
            time.sleep(0.3)


def wait_ready(url, process, seconds=120):
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(f"{url}/readyz", timeout=2).read()
            return True
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.3)


def load_average():
    """The machine's load averages, as the benchmarks print them: ``0.52, 0.61, 0.70``."""
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def served_model(catalogue, name):
    """The catalogue's entry for ``name``; None (said on stdout) when it is not served."""
    model = next((m for m in catalogue["models"] if m["name"] == name), None)
    if model is None:
        print(f"app.py bench web: {name} is not served; served: " + ", ".join(m["name"] for m in catalogue["models"]))
    return model


def random_points(model, rng, sound_url=None):
    """A function giving paths of sounds of ``model`` (a catalogue entry) at uniform random
    points of its latent range, drawn from ``rng``; at ``sound_url`` when given."""
    xmin, xmax, ymin, ymax = model["latent_range"]
    url = sound_url or model["sound_url"]
    return lambda: f"{url}?x={rng.uniform(xmin, xmax):.4f}&y={rng.uniform(ymin, ymax):.4f}"


def metric(base, name):
    """A sample of the server's ``/metrics`` (None when it has none)."""
    for line in urllib.request.urlopen(f"{base}/metrics", timeout=5).read().decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def server_pids(pid):
    """The server's process and all its descendants (uvicorn's workers, decoding processes)."""
    pids, todo = [], [pid]
    while todo:
        each = todo.pop()
        pids.append(each)
        try:
            todo += [int(c) for c in Path(f"/proc/{each}/task/{each}/children").read_text().split()]
        except OSError:
            pass
    return pids


def server_processes(pid):
    """(name, pid) of the server process and its decoding processes (not the resource tracker)."""
    processes = [("server", pid)]
    for each in server_pids(pid)[1:]:
        try:
            if "resource_tracker" in Path(f"/proc/{each}/cmdline").read_text():
                continue
        except OSError:
            continue
        processes.append((f"decoder {len(processes)}", each))
    return processes


def cpu_seconds(pid):
    """CPU time (user + system) the server's processes have used so far."""
    ticks = 0
    for each in server_pids(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mb(pid):
    """Resident memory of a process and all its descendants, in MB."""
    total = 0.0
    for each in server_pids(pid):
        try:
            total += memory_mb(each)[0]
        except (OSError, KeyError):
            pass  # gone meanwhile, or a zombie without memory
    return total


def pss_mib(pid):
    """A process's proportional set size (its private pages and its share of shared ones), MiB."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return float("nan")
