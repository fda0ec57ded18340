"""Load on the web app: N concurrent clients on localhost, each asking a live ``app.py serve``
for sounds at random points of one model, for a fixed time; once per client count.

Prints per run: requests, throughput, latency p50/p95/p99, errors, the server's CPU time per
request (a figure the other jobs on a shared machine do not inflate, unlike latency), and its
resident memory at the start and end (all its processes), after a short warm-up that is not
counted (each decoding process loads the model on its first request). Targets of the web server, on
2 cores: no errors; p95 <= 100 ms at 20 clients for a dense model and ddsp_vae; RSS flat
within 50 MB.

Each client keeps one HTTP/1.1 keep-alive connection and waits for each answer before the
next request (a closed loop), so the server sees exactly N requests in flight. The client
is a few lines of asyncio streams, not an HTTP library, so that it costs the shared CPUs
as little as possible. Points are uniform over the model's latent range, so the server's
sound cache hardly ever answers.

    python app.py bench web --model ae_medium_tanh --clients 20 50 --seconds 30
    python app.py bench web --model ddsp_vae --clients 20 --http-layer guarded httptools h11

``--overload FACTOR`` loads the server past what its decoders can serve: a run at saturation
(as many closed-loop clients as the decoders' queues hold, so every request is accepted),
then requests sent at FACTOR times the throughput that run measured, on a schedule (open loop:
a new request does not wait for the answers), side by side. It prints the share shed (503), the
p95 of the answered requests against saturation's, the 503s' latency and whether each carried
``Retry-After``, and ``/readyz`` probed every 0.25 s on a new connection throughout. The client
keeps its connections below its own open-file limit, so it runs under ``ulimit -n 1024`` too.

    python app.py bench web --model ddsp_vae --overload 2 --seconds 20

``--memory`` measures what a replica needs: one server, every model it serves asked for
sounds until no decoding process's memory grows, then each process's PSS (its share of pages
shared with others: the sum is what the machine gives them) and RSS, and the memory request
and limit that deploy/kubernetes/deployment.yaml takes from them.

    python app.py bench web --memory --decoders 2

``--http-layer`` runs one server per HTTP layer, one after the other in the same run:
``guarded`` (the default, httptools with web/limits.py's guards), uvicorn's plain
``httptools`` (what served before the guards) and its pure-Python ``h11``; the CPU per request
column is what each costs. Sounds are asked at the model's versioned URL, as the page does.

The client is :mod:`bench.web_client`; starting and measuring the server is :mod:`bench.web_server`.
"""

import asyncio
import json
import os
import random
import resource
import urllib.request
from pathlib import Path

from bench import memory_mb
from bench.web_client import (
    ReadinessProbes,
    client_connections,
    closed_loop_answers,
    latency_percentiles_ms,
    open_loop,
    percentile,
    run_clients,
)
from bench.web_server import (
    catalogue_when_up,
    cpu_seconds,
    free_port,
    load_average,
    metric,
    pss_mib,
    random_points,
    rss_mb,
    served_model,
    server_processes,
    start_replica,
    start_server,
    wait_ready,
)

RSS_TARGET_MB = 50
P95_TARGET_MS = 100
#: The overload run's target for a 503: answered at once, not after a wait in the queue.
SHED_TARGET_MS = 50
#: A pod's memory limit over the processes' PSS with every model in use: a drop-in upload
#: (16 MB, read whole) in the server and its decoder at once for a few clients, the sound cache
#: (17 MB at most), NumPy's temporaries.
MEMORY_LIMIT_FACTOR = 1.5
#: Kubernetes memory values are rounded up to this many MiB.
MEMORY_STEP_MIB = 64


def add_arguments(parser):
    parser.add_argument("--model", default="ae_medium_tanh", help="the model asked (default ae_medium_tanh)")
    parser.add_argument("--models", "--folder", dest="folder", default="trained", help="the zoo served")
    parser.add_argument("--clients", type=int, nargs="+", default=[20, 50], help="concurrent clients per run")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each run (default 30)")
    parser.add_argument(
        "--warmup",
        type=float,
        default=3.0,
        help="seconds of load before the runs, not counted (default 3): each decoding process "
        "loads the model on its first request and the sound cache fills",
    )
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (default 1)")
    parser.add_argument("--url", help="load a server that is already running instead of starting one")
    parser.add_argument(
        "--behind-nginx",
        type=int,
        default=0,
        metavar="N",
        help="run N replicas behind Debian's nginx (load balancer and proxy cache, bench/nginx.py) "
        "and load nginx: random points, then repeated points (from nginx's cache)",
    )
    parser.add_argument(
        "--kill-halfway", action="store_true", help="with --behind-nginx: SIGKILL one replica halfway through the random-points run"
    )
    parser.add_argument(
        "--http-layer",
        nargs="+",
        default=["guarded"],
        choices=("guarded", "httptools", "h11"),
        help="the server's HTTP layer; several: one server each, side by side (default guarded)",
    )
    parser.add_argument(
        "--overload",
        type=float,
        metavar="FACTOR",
        help="a run at saturation, then requests sent at FACTOR times its throughput (open loop): "
        "the share shed, p95s side by side, 503 latency and readiness throughout",
    )
    parser.add_argument(
        "--memory", action="store_true", help="every model in use: each process's PSS and RSS, and a pod's memory request and limit"
    )
    parser.add_argument(
        "--decoders", type=int, default=0, metavar="N", help="the server's decoding processes (default 0: its own default)"
    )


def main(args):
    if args.behind_nginx:
        return _bench_behind_nginx(args)
    if args.overload is not None:
        return _bench_overload(args)
    if args.memory:
        return _bench_memory(args)
    layers = [None] if args.url else args.http_layer
    for layer in layers:
        status = _bench_one(args, layer)
        if status:
            return status
    return 0


def _bench_one(args, layer):
    process = None
    if args.url:
        base = args.url.rstrip("/")
    else:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        process = start_server(args.folder, port, workers=args.workers, http_layer=layer)
    try:
        catalogue = catalogue_when_up(base, process)
        if catalogue is None:
            print(f"app.py bench web: the server at {base} did not answer")
            return 1
        model = served_model(catalogue, args.model)
        if model is None:
            return 2
        paths = random_points(model, random.Random(0), model.get("sound_url", f"/api/models/{args.model}/sound.wav"))

        host, port = base.split("//")[1].split(":")
        print(
            f"{args.model} ({model['kind']}), {args.workers} worker(s), HTTP layer {layer or 'of ' + base}, "
            f"{args.seconds:g} s per run; "
            f"load average {load_average()} on {os.cpu_count()} cores"
        )
        header = (
            f"{'clients':>7} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
            f"{'errors':>6} {'CPU ms/req':>10} {'RSS start MB':>12} {'RSS end MB':>10}"
        )
        if args.warmup > 0:
            rss_cold = rss_mb(process.pid) if process else float("nan")
            warm, _ = asyncio.run(run_clients(host, int(port), paths, args.clients[0], args.warmup))
            print(
                f"warm-up: {len(warm)} requests in {args.warmup:g} s; RSS {rss_cold:.1f} -> "
                f"{rss_mb(process.pid) if process else float('nan'):.1f} MB"
            )
        print(header)
        print("-" * len(header))
        for clients in args.clients:
            _client_row(args, process, host, port, paths, clients)
        print(
            f"targets: 0 errors, p95 <= {P95_TARGET_MS} ms at 20 clients, RSS within {RSS_TARGET_MB} MB; "
            f"load average after {load_average()}"
        )
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
    return 0


def _client_row(args, process, host, port, paths, clients):
    """Load the server with ``clients`` for ``args.seconds`` and print the row."""
    rss_start = rss_mb(process.pid) if process else float("nan")
    cpu_start = cpu_seconds(process.pid) if process else float("nan")
    latencies, errors = asyncio.run(run_clients(host, int(port), paths, clients, args.seconds))
    rss_end = rss_mb(process.pid) if process else float("nan")
    cpu_ms = (cpu_seconds(process.pid) - cpu_start) * 1e3 / max(len(latencies), 1) if process else float("nan")
    p50, p95, p99 = latency_percentiles_ms(latencies)
    print(
        f"{clients:>7} {len(latencies):>9} {len(latencies) / args.seconds:>8.1f} {p50:>8.1f} "
        f"{p95:>8.1f} {p99:>8.1f} {len(errors):>6} {cpu_ms:>10.2f} {rss_start:>12.1f} {rss_end:>10.1f}",
        flush=True,
    )


def _nginx_row(args, replicas, nginx, label, paths, kill):
    """One row behind nginx: load it for ``args.seconds`` (SIGKILLing the first replica
    half-way when ``kill``) and print the row."""
    import signal
    import threading

    alive = [process for _, process in replicas if process.poll() is None]
    cpu_start = sum(cpu_seconds(p.pid) for p in alive)
    timer = None
    if kill:
        timer = threading.Timer(args.seconds / 2, os.killpg, (replicas[0][1].pid, signal.SIGKILL))
        timer.start()
    latencies, errors = asyncio.run(run_clients("127.0.0.1", nginx.port, paths, args.clients[0], args.seconds))
    if timer is not None:
        timer.join()
    cpu = sum(cpu_seconds(p.pid) for p in alive) - cpu_start
    p50, p95, p99 = latency_percentiles_ms(latencies)
    print(
        f"{label:>28} {len(latencies):>9} {len(latencies) / args.seconds:>8.1f} {p50:>8.1f} {p95:>8.1f} "
        f"{p99:>8.1f} {len(errors):>6} {cpu * 1e3 / max(len(latencies), 1):>18.2f}",
        flush=True,
    )


def _nginx_header(args, model, nginx, random_points):
    """Print what is measured, warm the replicas up, and print the table's header."""
    clients = args.clients[0]
    print(
        f"{args.model} ({model['kind']}) on {args.behind_nginx} replicas behind nginx, {clients} clients, "
        f"{args.seconds:g} s per run; load average {load_average()} "
        f"on {os.cpu_count()} cores"
    )
    if args.warmup > 0:
        asyncio.run(run_clients("127.0.0.1", nginx.port, random_points, clients, args.warmup))
    header = (
        f"{'points':>28} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'errors':>6} {'replica CPU ms/req':>18}"
    )
    print(header)
    print("-" * len(header))


def _bench_behind_nginx(args):
    """N replicas behind nginx: a row of random points (one replica SIGKILLed halfway when
    asked) and a row of points repeated from a set of 64 that nginx has cached."""
    import signal
    import tempfile

    from bench.nginx import Nginx

    folder = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
    replicas = []
    nginx = None
    try:
        with open(os.devnull, "w") as log:
            replicas = [start_replica(args.folder, log) for _ in range(args.behind_nginx)]
        for port, process in replicas:
            if not wait_ready(f"http://127.0.0.1:{port}", process):
                print(f"app.py bench web: the replica on port {port} did not become ready")
                return 1
        nginx = Nginx(folder / "nginx", free_port(), [port for port, _ in replicas])
        catalogue = json.loads(urllib.request.urlopen(f"{nginx.url}/api/models", timeout=5).read())
        model = served_model(catalogue, args.model)
        if model is None:
            return 2
        rng = random.Random(0)
        random_paths = random_points(model, rng)
        repeated = [random_paths() for _ in range(64)]
        for path in repeated:  # into nginx's cache
            urllib.request.urlopen(nginx.url + path, timeout=30).read()

        def repeated_points():
            return rng.choice(repeated)

        _nginx_header(args, model, nginx, random_paths)
        runs = [
            ("random" + (" (1 replica SIGKILLed)" if args.kill_halfway else ""), random_paths, args.kill_halfway),
            ("repeated (nginx cache)", repeated_points, False),
        ]
        for label, paths, kill in runs:
            _nginx_row(args, replicas, nginx, label, paths, kill)
        print("targets: 0 failed requests and p95 <= 150 ms with a replica SIGKILLed; repeated points >= 10x the req/s of random ones")
    finally:
        if nginx is not None:
            nginx.stop()
        for _, process in replicas:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    return 0


def _overload_row(label, load, offered, answers, probes, skipped=0):
    """Print one row of the overload table; (p95 of the 200s in ms, readiness all 200, the
    503s' p95 in ms, 503s without Retry-After)."""
    answered = sorted(seconds for status, seconds, _ in answers if status == 200)
    shed = sorted(seconds for status, seconds, _ in answers if status == 503)
    without_retry = sum(1 for status, _, retry in answers if status == 503 and not retry)
    errors = len(answers) - len(answered) - len(shed) + skipped
    p50, p95 = latency_percentiles_ms(answered, (0.5, 0.95))
    shed_p95, shed_max = (percentile(shed, 0.95) * 1e3, shed[-1] * 1e3) if shed else (float("nan"),) * 2
    ready = sum(1 for status, _ in probes if status == 200)
    worst = max((seconds for _, seconds in probes), default=float("nan")) * 1e3
    share = 100 * len(shed) / max(1, len(answers))
    print(
        f"{label:<10} {load:>12} {offered:>9.1f} {len(answers):>8} {len(answered):>7} {len(shed):>7} "
        f"{share:>6.1f} {p50:>9.1f} {p95:>9.1f} {shed_p95:>9.1f} {shed_max:>9.1f} {without_retry:>8} {errors:>6} "
        f"{ready:>5}/{len(probes):<5} {worst:>8.1f}",
        flush=True,
    )
    if errors:
        kinds = {}
        for status, _, _ in answers:
            if status not in (200, 503):
                kinds[str(status)] = kinds.get(str(status), 0) + 1
        if skipped:
            kinds["not sent: every connection the client may hold was busy"] = skipped
        print(f"{'':<10} errors: " + ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items())))
    return p95, ready == len(probes), shed_p95, without_retry


def _bench_overload(args):
    """Saturation, then FACTOR times its throughput sent open loop; readiness probed throughout."""
    from web.decoding import QUEUE_PER_DECODER

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start_server(args.folder, port, decoders=args.decoders)
    try:
        catalogue = catalogue_when_up(base, process)
        if catalogue is None:
            print(f"app.py bench web: the server at {base} did not answer")
            return 1
        model = served_model(catalogue, args.model)
        if model is None:
            return 2
        paths = random_points(model, random.Random(0))

        decoders = int(metric(base, "sample_generator_decoders_alive") or 1)
        queue = decoders * QUEUE_PER_DECODER
        most = client_connections()
        print(
            f"{args.model} ({model['kind']}), 1 worker, {decoders} decoders (at most {queue} sounds waiting, then "
            f"503), {args.seconds:g} s per run; the client holds at most {most} connections (open-file limit "
            f"{resource.getrlimit(resource.RLIMIT_NOFILE)[0]}); load average "
            f"{load_average()} on {os.cpu_count()} cores"
        )
        if args.warmup > 0:
            asyncio.run(closed_loop_answers("127.0.0.1", port, paths, queue, args.warmup))
        header = (
            f"{'run':<10} {'load':>12} {'offered/s':>9} {'requests':>8} {'200':>7} {'503':>7} {'shed %':>6} "
            f"{'p50 200 ms':>9} {'p95 200 ms':>9} {'p95 503 ms':>9} {'max 503 ms':>9} {'no Retry':>8} "
            f"{'errors':>6} {'readyz 200':>11} {'worst ms':>8}"
        )
        print(header)
        print("-" * len(header))
        probes = ReadinessProbes("127.0.0.1", port)
        probes.start()
        saturated = asyncio.run(closed_loop_answers("127.0.0.1", port, paths, queue, args.seconds))
        throughput = len(saturated) / args.seconds
        at_saturation = list(probes.samples)
        saturation_p95, _, _, _ = _overload_row("saturation", f"{queue} clients", throughput, saturated, at_saturation)
        rate = args.overload * throughput
        overloaded, scheduled, skipped = asyncio.run(open_loop("127.0.0.1", port, paths, rate, args.seconds, most))
        probes.stop()
        over_p95, ready, shed_p95, without_retry = _overload_row(
            "overload", f"{args.overload:g}x open", scheduled / args.seconds, overloaded, probes.samples[len(at_saturation) :], skipped
        )
        every = probes.samples
        print(
            f"readiness: {sum(1 for status, _ in every if status == 200)} of {len(every)} probes answered 200 "
            f"(others: {sorted({str(status) for status, _ in every if status != 200}) or 'none'})"
        )
        print(
            f"overload: {'every' if not without_retry else f'{without_retry} without'} 503 with Retry-After; "
            f"p95 of the answered {over_p95:.1f} ms against {saturation_p95:.1f} ms at saturation "
            f"({'no worse' if over_p95 <= saturation_p95 else 'worse'}); 503 p95 {shed_p95:.1f} ms"
        )
        print(
            f"targets: readiness 200 throughout, 503 with Retry-After in under {SHED_TARGET_MS} ms, p95 of the "
            f"answered no worse than at saturation; load average after "
            f"{load_average()}"
        )
    finally:
        process.terminate()
        process.wait(timeout=30)
    return 0


def _drop_in(base, model, count):
    """``count`` drop-ins of a short noise burst at once, so the encoders load in the
    decoders as a page's users would make them (nothing for a model without an encoder)."""
    import io
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    import soundfile

    if not model.get("encode_url"):
        return
    rate = 22050
    burst = np.random.default_rng(0).standard_normal(rate // 2) * np.exp(-np.arange(rate // 2) / (0.05 * rate))
    buffer = io.BytesIO()
    soundfile.write(buffer, (0.5 * burst).astype(np.float32), rate, format="WAV", subtype="PCM_16")

    def post(_):
        request = urllib.request.Request(
            base + model["encode_url"], data=buffer.getvalue(), method="POST", headers={"Content-Type": "audio/wav"}
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            answer.read()

    with ThreadPoolExecutor(count) as pool:
        list(pool.map(post, range(count)))


def _rounded_up(mib):
    return int(-(-mib // MEMORY_STEP_MIB) * MEMORY_STEP_MIB)


def _bench_memory(args):
    """Every served model in use in every decoding process; each process's PSS and RSS, the sum,
    and the memory request and limit of a pod running this server."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start_server(args.folder, port, decoders=args.decoders)
    try:
        catalogue = catalogue_when_up(base, process)
        if catalogue is None:
            print(f"app.py bench web: the server at {base} did not answer")
            return 1
        decoders = int(metric(base, "sample_generator_decoders_alive") or 1)
        models = catalogue["models"]
        rng = random.Random(0)

        print(f"{len(models)} models, 1 worker, {decoders} decoders; load average {load_average()} on {os.cpu_count()} cores")
        before = 0.0
        for round_ in range(1, 9):  # the pool gives each request to any process: ask until none grows
            for model in models:
                asyncio.run(run_clients("127.0.0.1", port, random_points(model, rng), 4 * decoders, 0.3))
                _drop_in(base, model, 2 * decoders)  # a drop-in loads the model's encoder too
            total = sum(pss_mib(pid) for _, pid in server_processes(process.pid))
            if round_ > 1 and total - before < 0.01 * before:
                break
            before = total
        print(
            f"every model asked for sounds in {round_} rounds (each {4 * decoders} clients for 0.3 s per model, "
            f"and {2 * decoders} drop-ins per model with an encoder), until no process grew by 1 %"
        )
        print(f"{'process':<10} {'pid':>8} {'PSS MiB':>9} {'RSS MiB':>9}")
        rows = [(name, pid, pss_mib(pid), memory_mb(pid)[0]) for name, pid in server_processes(process.pid)]
        for name, pid, pss, rss in rows:
            print(f"{name:<10} {pid:>8} {pss:>9.1f} {rss:>9.1f}")
        pss = sum(row[2] for row in rows)
        print(f"{'all':<10} {'':>8} {pss:>9.1f} {sum(row[3] for row in rows):>9.1f}")
        decoder_pss = [row[2] for row in rows[1:]]
        print(f"per decoder: {sum(decoder_pss) / max(1, len(decoder_pss)):.1f} MiB PSS; the server process {rows[0][2]:.1f} MiB")
        print(
            f"suggested for a pod of this server ({decoders} decoders): memory request {_rounded_up(pss)}Mi "
            f"(the PSS, rounded up to {MEMORY_STEP_MIB} MiB), limit {_rounded_up(pss * MEMORY_LIMIT_FACTOR)}Mi "
            f"({MEMORY_LIMIT_FACTOR:g} x the PSS)"
        )
    finally:
        process.terminate()
        process.wait(timeout=30)
    return 0
