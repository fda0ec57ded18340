"""The HTTP API and the page: a Starlette app over a :class:`~web.catalogue.Catalogue`.

``GET /``                                   the page (``static/index.html``)
``GET /api/models``                         names, kinds, words, ranges, rates, the default
``GET /api/models/{name}/codes``            the training samples' points and families
``GET /api/models/{name}/sound.wav?x=&y=[&variation=][&rate=]``   the decoded sound

The app is stateless: models are loaded once per process and every answer depends only
on the request, so any number of worker processes can serve behind a proxy. Decoding runs
off the event loop, in processes of its own under ``app.py serve`` (:mod:`web.decoding`).
Every refusal is JSON ``{"error": "..."}`` with a 4xx status and one line; an unexpected
failure is a 500 with no detail (the traceback goes to the server's log, never to the
client), and decoding that keeps failing a 503.
"""
import json
import logging
import math
import os
from collections import OrderedDict
from contextlib import asynccontextmanager
from pathlib import Path
from threading import Lock

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from web.catalogue import load_catalogue
from web.decoding import DecodingFailed, ProcessDecoding, ThreadDecoding, default_decoders
from web.sound import ALLOWED_RATES, DEFAULT_OUT_RATE, MAX_VARIATION, SoundRequest

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Longest query string accepted (a sound's query is under 80 characters).
MAX_QUERY_BYTES = 512
#: Largest request body accepted: the API only answers GETs, so none is needed.
MAX_BODY_BYTES = 1024
#: Sounds kept per process: a 0.74 s sound at 44.1 kHz, 16-bit, is 65 kB, so at most ~17 MB.
SOUND_CACHE_ENTRIES = 256
#: How long clients and proxies may keep a sound: it never changes for a given model file.
SOUND_MAX_AGE_S = 86400
QUERY_KEYS = {"x", "y", "variation", "rate"}
#: The page may load nothing from anywhere but this server (its sounds arrive as blobs).
PAGE_POLICY = ("default-src 'self'; img-src 'self' data:; media-src 'self' blob:; object-src 'none'; "
               "base-uri 'none'; frame-ancestors 'none'")
CODE_DECIMALS = 4

log = logging.getLogger("web")


class RequestRefused(Exception):
    """A request the API will not answer; ``status`` and a one-line ``reason``."""

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def error_response(status, reason, headers=None):
    return JSONResponse({"error": reason}, status_code=status, headers=headers)


class RequestLimits:
    """ASGI middleware: refuse an over-long query string or any request body over the limit;
    mark every answer ``nosniff`` (a browser takes each for its declared type only)."""

    def __init__(self, app, max_query_bytes=MAX_QUERY_BYTES, max_body_bytes=MAX_BODY_BYTES):
        self.app = app
        self.max_query_bytes = max_query_bytes
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if len(scope.get("query_string", b"")) > self.max_query_bytes:
            response = error_response(414, f"the query string is longer than {self.max_query_bytes} bytes")
            return await response(scope, receive, send)
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = self.max_body_bytes + 1
                if length > self.max_body_bytes:
                    response = error_response(413, f"the request body is larger than {self.max_body_bytes} bytes")
                    return await response(scope, receive, send)
        async def send_with_nosniff(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-content-type-options", b"nosniff")]
            await send(message)

        return await self.app(scope, receive, send_with_nosniff)


class SoundCache:
    """A small thread-safe LRU of rendered sounds, (WAV bytes, ETag) (a cache only: the app
    stays stateless)."""

    def __init__(self, entries=SOUND_CACHE_ENTRIES):
        self.entries = entries
        self._items = OrderedDict()
        self._lock = Lock()

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value):
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.entries:
                self._items.popitem(last=False)


def _number(params, key, *, required):
    text = params.get(key)
    if text is None or text == "":
        if required:
            raise RequestRefused(400, f"{key} is missing (e.g. ?x=0.5&y=-1.2)")
        return None
    try:
        value = float(text)
    except ValueError:
        raise RequestRefused(400, f"{key} must be a number, not {text[:20]!r}") from None
    if not math.isfinite(value):
        raise RequestRefused(400, f"{key} must be a finite number")
    return value


def _whole(params, key, low, high):
    text = params.get(key)
    if text is None or text == "":
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise RequestRefused(400, f"{key} must be a whole number from {low} to {high}")
    value = int(text)
    if not low <= value <= high:
        raise RequestRefused(400, f"{key} must be a whole number from {low} to {high}")
    return value


def parse_sound_request(catalogue, name, params):
    """Validate a sound query; RequestRefused (404 or 400) with the reason otherwise.

    Returns
    -------
    (ServedModel, SoundRequest)
    """
    served = catalogue.models.get(name)
    if served is None:
        raise RequestRefused(404, "unknown model; GET /api/models lists the ones served")
    unknown = sorted(set(params.keys()) - QUERY_KEYS)
    if unknown:
        raise RequestRefused(400, f"unknown parameter {unknown[0][:20]!r}; use x, y, variation, rate")
    x = _number(params, "x", required=True)
    y = _number(params, "y", required=True)
    if not served.contains(x, y):
        xmin, xmax, ymin, ymax = served.box
        raise RequestRefused(
            400, f"the point must lie within x {xmin:.3g} to {xmax:.3g} and y {ymin:.3g} to {ymax:.3g} for {name}")
    variation = _whole(params, "variation", 0, MAX_VARIATION)
    rate_text = params.get("rate")
    rate = DEFAULT_OUT_RATE
    if rate_text not in (None, ""):
        if rate_text not in {str(r) for r in ALLOWED_RATES}:
            raise RequestRefused(400, f"rate must be one of {', '.join(map(str, ALLOWED_RATES))}")
        rate = int(rate_text)
    return served, SoundRequest.rounded(name, x, y, variation if served.has_variation else None, rate)


def _model_summary(served, default):
    model = served.model
    return {
        "name": served.name,
        "kind": model.kind,
        "description": served.description,
        "default": served.name == default,
        "latent_range": list(served.latent_range),
        "center": list(served.center),
        "bounds": list(served.box),
        "sample_rate": int(model.sample_rate),
        "sample_length": int(model.sample_length),
        "seconds": round(model.sample_length / model.sample_rate, 3),
        "has_codes": model.codes is not None and len(model.codes) > 0,
        "has_variation": served.has_variation,
    }


def compact_codes(codes):
    """Points rounded and flattened, families as indices into a list of names."""
    if codes is None or len(codes) == 0:
        return {"families": [], "family": [], "points": []}
    families = sorted({str(f) for f in codes.families})
    index = {family: i for i, family in enumerate(families)}
    points = [round(float(v), CODE_DECIMALS) for v in codes.points.reshape(-1)]
    return {"families": families, "family": [index[str(f)] for f in codes.families], "points": points}


def create_app(catalogue, *, decoding=None, cors_origins=()):
    """The ASGI app serving ``catalogue``.

    Parameters
    ----------
    catalogue : web.catalogue.Catalogue
    decoding : web.decoding.ThreadDecoding or ProcessDecoding, optional
        Where sounds are decoded; started when the app starts and closed when it stops
        (default: a thread pool over the catalogue's own models, one thread per core).
    cors_origins : sequence of str
        Origins allowed to call the API from other pages; none unless asked for.

    Returns
    -------
    starlette.applications.Starlette
    """
    decoding = decoding or ThreadDecoding()
    cache = SoundCache()
    models_body = json.dumps({
        "default": catalogue.default,
        "models": [_model_summary(s, catalogue.default) for s in catalogue.models.values()],
        "rates": list(ALLOWED_RATES),
        "max_variation": MAX_VARIATION,
    }).encode()
    codes_bodies = {name: json.dumps(compact_codes(s.model.codes), separators=(",", ":")).encode()
                    for name, s in catalogue.models.items()}

    async def index(request):
        return FileResponse(STATIC_DIR / "index.html",
                            headers={"Cache-Control": "no-cache", "Content-Security-Policy": PAGE_POLICY})

    async def models(request):
        return Response(models_body, media_type="application/json", headers={"Cache-Control": "no-cache"})

    async def codes(request):
        name = request.path_params["name"]
        if name not in codes_bodies:
            raise RequestRefused(404, "unknown model; GET /api/models lists the ones served")
        return Response(codes_bodies[name], media_type="application/json",
                        headers={"Cache-Control": f"public, max-age={SOUND_MAX_AGE_S}"})

    async def sound(request):
        served, sound_request = parse_sound_request(catalogue, request.path_params["name"], request.query_params)
        answer = cache.get(sound_request)
        if answer is None:
            answer = await decoding.wav(served, sound_request)
            cache.put(sound_request, answer)
        body, etag = answer
        headers = {
            "ETag": etag,
            "Cache-Control": f"public, max-age={SOUND_MAX_AGE_S}",
            "Content-Disposition": f'attachment; filename="{sound_request.file_name}"',
            "X-Point": f"{sound_request.x:g},{sound_request.y:g}",
        }
        if etag in [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]:
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="audio/wav", headers=headers)

    async def refused(request, error):
        return error_response(error.status, error.reason)

    async def http_error(request, error):
        reasons = {404: "not found", 405: "method not allowed"}
        return error_response(error.status_code, reasons.get(error.status_code, "request refused"),
                              headers=getattr(error, "headers", None))

    async def decoding_failed(request, error):
        log.error("cannot decode %s: %s", request.url.path, error)
        return error_response(503, "the server cannot decode sounds right now; try again", {"Retry-After": "5"})

    async def server_error(request, error):
        log.exception("error answering %s", request.url.path)
        return error_response(500, "the server failed to answer this request")

    @asynccontextmanager
    async def lifespan(app):
        decoding.start()
        try:
            yield
        finally:
            decoding.close()

    middleware = [Middleware(RequestLimits)]
    if cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        middleware.append(Middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET"]))
    app = Starlette(
        routes=[
            Route("/", index, methods=["GET"]),
            Route("/api/models", models, methods=["GET"]),
            Route("/api/models/{name}/codes", codes, methods=["GET"]),
            Route("/api/models/{name}/sound.wav", sound, methods=["GET"]),
            Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        middleware=middleware,
        exception_handlers={RequestRefused: refused, HTTPException: http_error, DecodingFailed: decoding_failed,
                            Exception: server_error},
        lifespan=lifespan,
    )
    app.state.catalogue = catalogue
    app.state.decoding = decoding
    return app


#: Environment variables through which ``app.py serve`` configures worker processes.
ENV_MODELS = "SAMPLE_GENERATOR_MODELS"
ENV_CORS = "SAMPLE_GENERATOR_CORS"
ENV_WORKERS = "SAMPLE_GENERATOR_WORKERS"


def process_decoding(catalogue, folder, workers=1):
    """What ``app.py serve`` decodes with: processes of their own, the cores shared among
    the ``workers``, each loading the default model as it starts."""
    return ProcessDecoding(folder, default_decoders(workers), preload=[catalogue.default])


def one_blas_thread():
    """Limit NumPy's BLAS to one thread in this process.

    The server's parallelism is its decoding pool (and its worker processes). OpenBLAS's own
    threads on top of it spin while they wait: on 2 busy cores one dense decode took 4.9 ms
    of CPU with 2 BLAS threads and 0.23 ms with one (vae_c: 56 and 3.0 ms).
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def app_from_environment():
    """The app for one uvicorn worker process (``--workers N``): each loads the models once
    and starts its share of decoding processes when uvicorn starts it."""
    one_blas_thread()
    folder = os.environ.get(ENV_MODELS, "trained")
    origins = [o for o in os.environ.get(ENV_CORS, "").split(",") if o]
    workers = int(os.environ.get(ENV_WORKERS, "1"))
    catalogue = load_catalogue(folder)
    return create_app(catalogue, decoding=process_decoding(catalogue, folder, workers), cors_origins=origins)
