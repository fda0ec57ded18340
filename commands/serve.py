"""Serve the web app: a page where anyone can pick a model, drag on its map, hear a drum
and download it as a WAV, and the HTTP API behind it.

``app.py serve`` binds 127.0.0.1:8000 on the models in trained/. Models are loaded once per
worker process, which decodes in processes of its own, one per core (its share of them with
several workers); decoding uses no TensorFlow. For many users: ``--workers N`` on a machine with
many cores, and a reverse proxy in front for TLS (see the README's "Web app").
"""
from commands import CommandFailed, UsageError

MAX_WORKERS = 64


def add_arguments(parser):
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1: this machine only; 0.0.0.0 for all)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--models", "--folder", dest="folder", default="trained", metavar="DIR",
                        help="the zoo folder (default: trained)")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="worker processes, each with its own copy of the models and its share of the cores "
                             "for decoding (default 1, which decodes on every core)")
    parser.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                        help="let pages from ORIGIN (e.g. https://example.org) call the API; repeatable")


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
    if not 0 < args.port < 65536:
        raise UsageError(f"--port {args.port}: a port is a number from 1 to 65535")
    if not 1 <= args.workers <= MAX_WORKERS:
        raise UsageError(f"--workers {args.workers}: choose from 1 to {MAX_WORKERS}")
    from pathlib import Path

    if not Path(args.folder).is_dir():
        raise CommandFailed(f"{args.folder}: no such folder of models")
    import os

    check_can_listen(args.host, args.port)
    import uvicorn

    from web.catalogue import load_catalogue
    from web.decoding import DecodingFailed
    from web.server import ENV_CORS, ENV_MODELS, ENV_WORKERS, create_app, one_blas_thread, process_decoding

    one_blas_thread()
    # Loaded here even with several workers: a folder nothing can be served from fails now,
    # with its reasons, instead of in every worker.
    try:
        catalogue = load_catalogue(args.folder)
    except ValueError as error:
        raise CommandFailed(str(error)) from None
    for name, reason in catalogue.unavailable.items():
        if reason != "not trained":
            print(f"{name} is unavailable: {reason}", flush=True)
    if catalogue.why_default:
        print(f"default {catalogue.default}: {catalogue.why_default}", flush=True)
    count = len(catalogue.models)
    serving = (f"Serving {count} model{'' if count == 1 else 's'} (default {catalogue.default}) at "
               f"http://{args.host}:{args.port}/  (Ctrl+C stops)")
    options = {"host": args.host, "port": args.port, "log_level": "warning", "server_header": False,
               "limit_concurrency": 1024, "timeout_keep_alive": 5}
    if args.workers == 1:
        decoding = process_decoding(catalogue, args.folder)
        try:
            decoding.start()
        except DecodingFailed as error:
            raise CommandFailed(f"cannot start decoding: {error}") from None
        print(serving, flush=True)
        uvicorn.run(create_app(catalogue, decoding=decoding, cors_origins=args.cors_origin), **options)
    else:
        os.environ[ENV_MODELS] = str(args.folder)
        os.environ[ENV_CORS] = ",".join(args.cors_origin)
        os.environ[ENV_WORKERS] = str(args.workers)
        print(serving, flush=True)
        uvicorn.run("web.server:app_from_environment", factory=True, workers=args.workers, **options)
    return 0
