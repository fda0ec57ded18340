"""Serve the web app: a page where anyone can pick a model, drag on its map, hear a drum
and download it as a WAV, and the HTTP API behind it.

``app.py serve`` binds 127.0.0.1:8000 on the models in trained/. Models are loaded once per
worker process, which decodes in processes of its own, one per core (its share of them with
several workers); decoding uses no TensorFlow. For many users: ``--workers N`` on a machine with
many cores, and a reverse proxy in front for TLS (see docs/web.md and docs/deploy.md).

Every option may also come from the environment, ``SAMPLE_GENERATOR_<OPTION>`` (e.g.
``SAMPLE_GENERATOR_PORT=8080``; a flag wins over the variable), as a container sets them.
The limits that keep it up on the open internet are web/limits.py's. SIGTERM drains: the
server stops accepting, finishes the requests in flight (at most ``--drain-seconds``), stops
its decoding processes and exits 0.
"""

import os

from commands import CommandFailed, UsageError
from commands.options import DEFAULT_ZOO, add_zoo_argument

MAX_WORKERS = 64
ENV = "SAMPLE_GENERATOR_"
ACCESS_LOG_MODES = ("text", "json", "off")
#: The HTTP layers: httptools with this app's guards (web.limits), and, to measure what
#: the guards cost, uvicorn's plain httptools and its pure-Python h11.
HTTP_LAYERS = ("guarded", "httptools", "h11")
# (option, dest, type, default, low, high, help): the limits, each also SAMPLE_GENERATOR_<DEST>
LIMIT_OPTIONS = (
    (
        "--header-bytes",
        "header_bytes",
        int,
        16384,
        1024,
        1 << 20,
        "largest request head accepted, in bytes; more is answered 431 at once (default 16384)",
    ),
    (
        "--header-timeout",
        "header_timeout_s",
        float,
        5.0,
        0.5,
        300.0,
        "seconds a connection has to send a whole request head, else it is closed (default 5)",
    ),
    (
        "--max-connections",
        "max_connections",
        int,
        1000,
        4,
        100000,
        "connections open at once; past it the longest-idle one is closed to make room (default 1000)",
    ),
    (
        "--connections-per-client",
        "connections_per_client",
        int,
        64,
        1,
        100000,
        "connections one client address may hold; more are answered 429 (default 64)",
    ),
    (
        "--decodes-per-client",
        "decodes_per_client",
        int,
        4,
        1,
        10000,
        "sounds one client address may have decoding at once; more are answered 429 (default 4)",
    ),
)


def env(dest, default):
    """The option's default: ``SAMPLE_GENERATOR_<DEST>`` when set (a string: argparse converts
    it with the option's type), else ``default``."""
    value = os.environ.get(ENV + dest.upper())
    return default if value in (None, "") else value


def add_arguments(parser):
    parser.add_argument(
        "--host", default=env("host", "127.0.0.1"), help="address to bind (default 127.0.0.1: this machine only; 0.0.0.0 for all)"
    )
    parser.add_argument("--port", type=int, default=env("port", 8000), help="port (default 8000)")
    add_zoo_argument(parser, default=env("models", DEFAULT_ZOO), help=f"the zoo folder (default: {DEFAULT_ZOO})")
    parser.add_argument(
        "--workers",
        type=int,
        default=env("workers", 1),
        metavar="N",
        help="worker processes, each with its own copy of the models and its share of the cores "
        "for decoding (default 1, which decodes on every core)",
    )
    parser.add_argument(
        "--cors-origin",
        action="append",
        metavar="ORIGIN",
        default=[o for o in env("cors", "").split(",") if o],
        help="let pages from ORIGIN (e.g. https://example.org) call the API; repeatable (SAMPLE_GENERATOR_CORS: comma-separated)",
    )
    parser.add_argument(
        "--access-log",
        choices=ACCESS_LOG_MODES,
        default=env("access_log", "text"),
        help="one line per request on stdout, as text (default), JSON, or off",
    )
    parser.add_argument(
        "--decoders",
        type=int,
        default=env("decoders", 0),
        metavar="N",
        help="decoding processes per worker (default 0: the CPUs this process may use, under any "
        "container CPU limit, shared among the workers; at most 8)",
    )
    parser.add_argument(
        "--drain-seconds",
        type=float,
        default=env("drain_seconds", 10.0),
        metavar="S",
        help="on SIGTERM, how long requests in flight may take to finish (default 10)",
    )
    parser.add_argument(
        "--proxies",
        default=env("proxies", "127.0.0.1,::1"),
        metavar="ADDRS",
        help="comma-separated addresses of trusted reverse proxies: the client's address is taken "
        "from their X-Forwarded-For, and they are not limited as one client "
        "(default 127.0.0.1,::1)",
    )
    for option, dest, kind, default, _, _, words in LIMIT_OPTIONS:
        parser.add_argument(option, dest=dest, type=kind, default=env(dest, default), help=words)
    parser.add_argument(
        "--http-layer",
        choices=HTTP_LAYERS,
        default=env("http_layer", "guarded"),
        help="guarded (default): httptools with the limits above; httptools and h11 are uvicorn's "
        "own, without them, for measuring what they cost (bench web --http-layer)",
    )


def limits_of(args):
    """The web.limits.Limits the options ask for; UsageError naming one out of range."""
    from web.limits import Limits

    for option, dest, _, _, low, high, _ in LIMIT_OPTIONS:
        value = getattr(args, dest)
        if not low <= value <= high:
            raise UsageError(f"{option}: must be between {low:g} and {high:g} (got {value:g})")
    return Limits(proxies=args.proxies, **{dest: getattr(args, dest) for _, dest, *_ in LIMIT_OPTIONS})


def uvicorn_options(args, limits):
    """uvicorn's settings for the chosen HTTP layer: the guarded one keeps its own connection
    limit; uvicorn's own layers get its 503-past-the-limit instead."""
    options = {
        "host": args.host,
        "port": args.port,
        "log_level": "warning",
        "server_header": False,
        "timeout_keep_alive": 5,
        "timeout_graceful_shutdown": args.drain_seconds,
        "forwarded_allow_ips": limits.proxies,
        "access_log": False,
    }
    if args.http_layer == "guarded":
        options.update(http="web.limits:GuardedHttpTools", limit_concurrency=None)
    else:
        options.update(
            http=args.http_layer, limit_concurrency=limits.max_connections, h11_max_incomplete_event_size=limits.header_bytes
        )
    return options


def exit_quietly_on(*signal_numbers):
    """SIGTERM and Ctrl+C (SIGINT) end ``app.py serve`` with status 0 once uvicorn has drained.

    uvicorn catches both, drains, puts back the handlers it found and raises each signal it
    caught again. Python's SIGTERM default would then kill the process (status -15); for SIGINT,
    asyncio's runner would cancel its task at the first and raise KeyboardInterrupt inside the
    loop at the second, so Ctrl+C twice ended in a CancelledError traceback. These handlers,
    found and called again, do nothing, so ``run`` returns. Set just before uvicorn takes over:
    until then Ctrl+C interrupts the loading as usual.

    Parameters
    ----------
    signal_numbers : int
        ``signal.SIGTERM``, ``signal.SIGINT``.
    """
    import signal

    for number in signal_numbers:
        signal.signal(number, lambda signum, frame: None)


def check_can_listen(host, port):
    """CommandFailed with the reason when ``host:port`` cannot be bound (in use, no such
    address), before minutes of nothing: uvicorn would only say so after the models load."""
    import socket

    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as error:
        raise CommandFailed(f"cannot listen on {host}:{port} ({error.strerror or error})") from None


def run(args):
    import signal

    if not 0 < args.port < 65536:
        raise UsageError(f"--port {args.port}: a port is a number from 1 to 65535")
    if not 1 <= args.workers <= MAX_WORKERS:
        raise UsageError(f"--workers {args.workers}: choose from 1 to {MAX_WORKERS}")
    if not 0 <= args.drain_seconds <= 3600:
        raise UsageError(f"--drain-seconds: must be between 0 and 3600 (got {args.drain_seconds:g})")
    from web.decoding import ENV_DECODERS, MAX_DECODERS, default_decoders

    if not 0 <= args.decoders <= MAX_DECODERS:
        raise UsageError(f"--decoders {args.decoders}: choose from 1 to {MAX_DECODERS} (0: one per CPU)")
    if args.decoders:
        os.environ[ENV_DECODERS] = str(args.decoders)
    else:
        os.environ.pop(ENV_DECODERS, None)
    limits = limits_of(args)
    from pathlib import Path

    if not Path(args.models).is_dir():
        raise CommandFailed(f"{args.models}: no such folder of models")
    check_can_listen(args.host, args.port)
    import uvicorn

    from web import limits as web_limits
    from web.catalogue import load_catalogue
    from web.decoding import DecodingFailed
    from web.server import ENV_ACCESS_LOG, ENV_CORS, ENV_MODELS, ENV_WORKERS, create_app, one_blas_thread, process_decoding

    limits, lowered = web_limits.fit_to_file_limit(limits, default_decoders(args.workers))
    if lowered:
        print(lowered, flush=True)
    # In the environment, so that every worker process uvicorn starts has the same limits.
    os.environ.update(limits.environment())
    web_limits._limits = limits

    one_blas_thread()
    # Loaded here even with several workers: a folder nothing can be served from fails now,
    # with its reasons, instead of in every worker.
    try:
        catalogue = load_catalogue(args.models)
    except ValueError as error:
        raise CommandFailed(str(error)) from None
    for name, reason in catalogue.unavailable.items():
        if reason != "not trained":
            print(f"{name} is unavailable: {reason}", flush=True)
    if catalogue.why_default:
        print(f"default {catalogue.default}: {catalogue.why_default}", flush=True)
    count = len(catalogue.models)
    serving = (
        f"Serving {count} model{'' if count == 1 else 's'} (default {catalogue.default}) at "
        f"http://{args.host}:{args.port}/  (Ctrl+C stops)"
    )
    options = uvicorn_options(args, limits)
    exit_quietly_on(signal.SIGTERM)
    if args.workers == 1:
        decoding = process_decoding(catalogue, args.models)
        try:
            decoding.start()
        except DecodingFailed as error:
            raise CommandFailed(f"cannot start decoding: {error}") from None
        print(serving, flush=True)
        exit_quietly_on(signal.SIGINT)
        uvicorn.run(
            create_app(
                catalogue,
                decoding=decoding,
                cors_origins=args.cors_origin,
                folder=args.models,
                access_log=args.access_log,
                limits=limits,
            ),
            **options,
        )
    else:
        from web.ops import metrics_shared_by_workers

        os.environ[ENV_MODELS] = str(args.models)
        os.environ[ENV_CORS] = ",".join(args.cors_origin)
        os.environ[ENV_WORKERS] = str(args.workers)
        os.environ[ENV_ACCESS_LOG] = args.access_log
        print(serving, flush=True)
        exit_quietly_on(signal.SIGINT)
        # uvicorn.run(..., workers=N), with a supervisor that stops listening when it stops
        config = uvicorn.Config("web.server:app_from_environment", factory=True, workers=args.workers, **options)
        listening = config.bind_socket()
        try:
            with metrics_shared_by_workers():
                web_limits.DrainingWorkers(config, sockets=[listening]).run()
        finally:
            listening.close()
    return 0
