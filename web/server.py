"""The HTTP API and the page: a Starlette app over a :class:`~web.catalogue.Catalogue`.

``GET /``                                   the page (``static/index.html``)
``GET /api/models``                         names, kinds, words, ranges, rates, the default,
                                            each model's version and versioned URLs
``GET /api/models/{name}/v/{version}/codes``            the training samples' points and families
``GET /api/models/{name}/v/{version}/sound.wav?x=&y=[&variation=][&rate=][&level=]``   the decoded sound
``GET /api/models/{name}/codes``, ``.../sound.wav``      the same, unversioned (revalidated)
``POST /api/models/{name}/v/{version}/encode``           a dropped sample's point (the file is the body)
``POST /api/kit``                           sounds in a JSON body to a kit: a zip or .h2drumkit (:mod:`web.kit`)
``GET /healthz``, ``/readyz``, ``/metrics``  the process is up; its decoders answer; Prometheus

The app is stateless: models are loaded once per process and every answer depends only
on the request, so any number of worker processes can serve behind a proxy. Decoding runs
off the event loop, in processes of its own under ``app.py serve`` (:mod:`web.decoding`).
Every refusal is JSON ``{"error": "..."}`` with a 4xx status and one line; an unexpected
failure is a 500 with no detail (the traceback goes to the server's log, never to the
client), decoding that keeps failing a 503, and a model that fails to load in a decoding
process a 503 naming it and why (logged once). Versioned answers are ``immutable``
(:mod:`web.caching`); the connection and per-client limits are :mod:`web.limits`'.
"""
import asyncio
import json
import logging
import math
import os
import re
import time
from collections import OrderedDict
from contextlib import asynccontextmanager
from pathlib import Path
from threading import Lock

from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from audio.level import DEFAULT_LEVEL, LEVELS, LevelError, check_level
from constants import DRUM_FAMILIES, MAX_RENDER_SECONDS, MIN_RENDER_SECONDS
from models.errors import ModelError
from web.caching import IMMUTABLE, REVALIDATE, card_version, content_tag, model_version, none_match
from web.catalogue import load_catalogue
from web.decoding import DecodingBusy, DecodingFailed, ProcessDecoding, ThreadDecoding, default_decoders
from web.kit import MAX_KIT_BODY_BYTES, KitRefused, attachment, kit_archive, read_kit_order
from web.limits import ClientDecodes, ClientLimited, current_limits
from web.ops import Metrics, Observe, configure_access_log
from web.sound import ALLOWED_RATES, DEFAULT_BITS, DEFAULT_OUT_RATE, MAX_VARIATION, SUBTYPES, SoundRequest

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Longest query string accepted (a sound's query is under 80 characters).
MAX_QUERY_BYTES = 512
#: Largest request body accepted but by the drop-in and the kit: the rest of the API answers GETs only.
MAX_BODY_BYTES = 1024
#: Largest sample a user may drop on the page (POST .../encode): 30 s of 48 kHz stereo
#: 24-bit WAV is 8.6 MB, and a one-shot is longer than 30 s for no model here.
MAX_UPLOAD_BYTES = 16 * 1024 * 1024
#: Seconds a dropped file may take to arrive, once its request head has.
UPLOAD_TIMEOUT_S = 30.0
#: Training sounds named as a dropped sample's nearest.
NEAREST_SHOWN = 5
#: Sounds kept per process: a 0.74 s sound at 44.1 kHz, 16-bit, is 65 kB, so at most ~17 MB.
SOUND_CACHE_ENTRIES = 256
#: The page's own files, served from STATIC_DIR with a content version (``?v=``).
STATIC_FILES = {"app.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8"}
#: Seconds a client is asked to wait when a model cannot be served right now.
MODEL_RETRY_AFTER_S = 30
#: Seconds a client is asked to wait when every decoder's queue is full.
BUSY_RETRY_AFTER_S = 1
QUERY_ORDER = ("x", "y", "variation", "rate", "bits", "level", "family", "mix", "seconds")
QUERY_KEYS = set(QUERY_ORDER)
KIT_PATH = "/api/kit"
#: The page may load nothing from anywhere but this server (its sounds arrive as blobs).
PAGE_POLICY = ("default-src 'self'; img-src 'self' data:; media-src 'self' blob:; object-src 'none'; "
               "base-uri 'none'; frame-ancestors 'none'")
CODE_DECIMALS = 4

log = logging.getLogger("web")


class RequestRefused(Exception):
    """A request the API will not answer; ``status``, a one-line ``reason`` and any headers."""

    def __init__(self, status, reason, headers=None):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers


class ModelFailed(Exception):
    """A model its decoding process cannot load or decode with (``name``, ``reason``)."""

    def __init__(self, name, reason):
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


def error_response(status, reason, headers=None):
    return JSONResponse({"error": reason}, status_code=status, headers=headers)


def is_upload(scope):
    """Whether a request is the drop-in's: a file posted to a model's ``encode``."""
    return scope.get("method") == "POST" and scope.get("path", "").endswith("/encode")


def largest_body(scope, most=MAX_BODY_BYTES):
    """The largest body a request may send: the drop-in's file, a kit's list, else ``most``."""
    if is_upload(scope):
        return MAX_UPLOAD_BYTES
    if scope.get("method") == "POST" and scope.get("path") == KIT_PATH:
        return MAX_KIT_BODY_BYTES
    return most


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
        most = largest_body(scope, self.max_body_bytes)
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = most + 1
                if length > most:
                    response = error_response(413, f"the request body is larger than {most} bytes")
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


#: A number as a URL writes one: ASCII digits, an optional sign, point and exponent. float()
#: also takes "1_0", full-width and other scripts' digits and surrounding spaces, which would
#: give one sound many URLs, each a new entry in every cache.
PLAIN_NUMBER = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def _number(params, key, *, required):
    text = params.get(key)
    if text is None or text == "":
        if required:
            raise RequestRefused(400, f"{key} is missing (e.g. ?x=0.5&y=-1.2)")
        return None
    if text.lstrip("+-").lower() in ("nan", "inf", "infinity"):
        raise RequestRefused(400, f"{key} must be a finite number")
    if len(text) > 40 or not PLAIN_NUMBER.fullmatch(text):
        raise RequestRefused(400, f"{key} must be a number, not {text[:20]!r}")
    value = float(text)
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
        raise RequestRefused(400, f"unknown parameter {unknown[0][:20]!r}; use {', '.join(QUERY_ORDER)}")
    repeated = sorted(key for key in set(params.keys()) if len(params.getlist(key)) > 1)
    if repeated:  # which one would count is a guess a cache and the server could make differently
        raise RequestRefused(400, f"{repeated[0]} is given more than once; give each parameter once")
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
    bits_text = params.get("bits")
    bits = DEFAULT_BITS
    if bits_text not in (None, ""):
        if bits_text not in {str(b) for b in SUBTYPES}:
            raise RequestRefused(400, f"bits must be one of {', '.join(map(str, SUBTYPES))}")
        bits = int(bits_text)
    return served, SoundRequest.rounded(name, x, y, variation if served.has_variation else None, rate,
                                        _level(params), _family(served, params), _seconds(served, params), bits)


def _seconds(served, params):
    """The length asked for by ``seconds=`` (None: the model's window), for a model that renders
    any length; a 400 with the reason for another model, or a length out of its range."""
    seconds = _number(params, "seconds", required=False)
    if seconds is None:
        return None
    model = served.model
    if not served.renders_any_length:
        window = model.sample_length / model.sample_rate
        raise RequestRefused(400, f"seconds: {served.name} renders only its {window:.2f} s window")
    if not MIN_RENDER_SECONDS <= seconds <= MAX_RENDER_SECONDS:
        raise RequestRefused(400, f"seconds must be from {MIN_RENDER_SECONDS:g} to {MAX_RENDER_SECONDS:g}")
    return seconds


def _family(served, params):
    """The family asked for by ``family=`` or ``mix=``, as canonical text: a conditioned
    model's (its default when neither is given), or a family pad of a model with training
    codes (None, the plain pad, when neither is given); None for a model that takes none.
    A 400 with the reason in words for an unknown family, weights that do not sum to 1, both
    given, a family the model has no training sound of, or a model that takes no family."""
    from models.errors import ModelInputError
    from models.families import family_text

    given: dict[str, str | None] = {key: params[key] for key in ("family", "mix") if params.get(key) not in (None, "")}
    model = served.model
    conditioned, takes = model.conditioned, model.takes_family
    if given and not takes:
        reason = model.no_family_reason or f"{served.name} takes no family"
        raise RequestRefused(400, f"{next(iter(given))}: {reason}")
    if not takes or not (given or conditioned):
        return None
    if len(given) > 1:
        raise RequestRefused(400, "give family= or mix=, not both")
    key, text = next(iter(given.items()), ("family", None))  # none given: the model's default
    if key == "mix" and ":" not in str(text):
        raise RequestRefused(400, f"mix must be FAMILY:WEIGHT,FAMILY:WEIGHT (e.g. kick:0.6,tom:0.4) of "
                                  f"{', '.join(DRUM_FAMILIES)}, not {str(text)[:40]!r}")
    try:
        return family_text(model.checked_family(text))
    except ModelInputError as error:
        raise RequestRefused(400, f"{key}: {str(error)[:200]}") from None


def _level(params):
    """The ``level`` asked for (as made when not given); a 400 listing the levels otherwise."""
    text = params.get("level")
    if text is None or text == "":
        return DEFAULT_LEVEL
    try:
        return check_level(text)
    except LevelError:
        raise RequestRefused(400, f"level must be one of {', '.join(LEVELS)} (not {text[:20]!r})") from None


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
        # a model that renders any length takes seconds= (from MIN to MAX); the others their window
        "seconds_range": [MIN_RENDER_SECONDS, MAX_RENDER_SECONDS] if served.renders_any_length else None,
        "has_codes": model.codes is not None and len(model.codes) > 0,
        "has_variation": served.has_variation,
        # the families the sound URL's family= and mix= take (a conditioned model's, or a
        # model's family pads); None, with the reason in words, for a model that takes none
        "families": _families_of(model),
        "family_optional": not model.conditioned,  # "All families": the plain pad
        "no_family_reason": None if _families_of(model) else (model.no_family_reason
                                                               or f"{served.name} takes no family"),
        "collapsed": served.collapsed,  # one sound everywhere: the page warns (web/catalogue.py)
    }


def _families_of(model):
    if not model.takes_family:
        return None
    return list(model.families)


def compact_codes(codes):
    """Points rounded and flattened, families as indices into a list of names."""
    if codes is None or len(codes) == 0:
        return {"families": [], "family": [], "points": []}
    families = sorted({str(f) for f in codes.families})
    index = {family: i for i, family in enumerate(families)}
    points = [round(float(v), CODE_DECIMALS) for v in codes.points.reshape(-1)]
    return {"families": families, "family": [index[str(f)] for f in codes.families], "points": points}


async def _upload(request):
    """The posted file's bytes, at most MAX_UPLOAD_BYTES, arriving within UPLOAD_TIMEOUT_S."""
    data = await _body(request, MAX_UPLOAD_BYTES, "the file", f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    if not data:
        raise RequestRefused(400, "no file: post the sample's bytes as the request body")
    return data


async def _body(request, most, what, size):
    """A request body of at most ``most`` bytes (413 past it, however it is sent), arriving
    within UPLOAD_TIMEOUT_S (408 otherwise); ``what`` and ``size`` word the refusals."""
    async def read():
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > most:
                raise RequestRefused(413, f"{what} is larger than {size}")
        return bytes(data)

    try:
        return await asyncio.wait_for(read(), UPLOAD_TIMEOUT_S)
    except asyncio.TimeoutError:
        raise RequestRefused(408, f"{what} did not arrive within {UPLOAD_TIMEOUT_S:g} s") from None


def _placed(served, sound_url, x, y):
    """What the page shows of a dropped sample at latent point ``(x, y)``."""
    import numpy as np

    model = served.model
    inside = served.contains(x, y)
    xmin, xmax, ymin, ymax = served.box
    shown = (min(max(x, xmin), xmax), min(max(y, ymin), ymax))
    placed = {"point": [x, y], "inside": inside, "shown": list(shown), "family": None, "nearest": [],
              "sound_url": f"{sound_url}?x={shown[0]:.4f}&y={shown[1]:.4f}"}
    pads = model.family_pads
    if pads is not None:
        placed["family"] = pads.likeliest([[x, y]])[0]
    codes = model.codes
    if codes is not None and len(codes):
        distances = np.hypot(codes.points[:, 0] - x, codes.points[:, 1] - y)
        for index in np.argsort(distances, kind="stable")[:NEAREST_SHOWN]:
            placed["nearest"].append({"name": str(codes.names[index]), "family": str(codes.families[index]),
                                      "distance": round(float(distances[index]), 4)})
    return placed


def _versions(catalogue, folder):
    if folder is None:
        return {name: card_version(s.model) for name, s in catalogue.models.items()}
    return {name: model_version(folder, name) for name in catalogue.models}


def _page_files():
    """The page's files as served: (body, content type, ETag) by name, and the page whose
    links name each file's version."""
    files = {}
    for name, media_type in STATIC_FILES.items():
        body = (STATIC_DIR / name).read_bytes()
        files[name] = (body, media_type, content_tag(body))
    page = (STATIC_DIR / "index.html").read_text()
    for name, (_, _, tag) in files.items():
        page = page.replace(f'"/static/{name}"', f'"/static/{name}?v={tag.strip(chr(34))}"')
    return files, page.encode()


class _Answers:
    """The answers that depend only on the catalogue, built once: bodies and their ETags."""

    def __init__(self, catalogue, versions):
        def urls(served):
            base = f"/api/models/{served.name}/v/{versions[served.name]}"
            found = {"version": versions[served.name], "codes_url": f"{base}/codes", "sound_url": f"{base}/sound.wav"}
            # where a user's own sample is posted (the drop-in); None for a model without an encoder
            found["encode_url"] = f"{base}/encode" if served.model.has_encoder else None
            return found

        self.model_urls = {name: urls(served) for name, served in catalogue.models.items()}
        self.models_body = json.dumps({
            "default": catalogue.default,
            "models": [{**_model_summary(s, catalogue.default), **self.model_urls[s.name]}
                       for s in catalogue.models.values()],
            "rates": list(ALLOWED_RATES),
            "bits": list(SUBTYPES),
            "levels": list(LEVELS),
            "default_level": DEFAULT_LEVEL,
            "max_variation": MAX_VARIATION,
        }).encode()
        self.models_tag = content_tag(self.models_body)
        self.codes = {}
        for name, served in catalogue.models.items():
            body = json.dumps(compact_codes(served.model.codes), separators=(",", ":")).encode()
            self.codes[name] = (body, content_tag(body))
        self.page_files, self.page_body = _page_files()
        self.page_tag = content_tag(self.page_body)


def _validated(request, body, etag, media_type, headers):
    """``body``, or a 304 when the client's ``If-None-Match`` already names ``etag``."""
    headers = {"ETag": etag, **headers}
    if none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


class _Api:
    """The endpoints and error handlers of one app, over the state they share.

    Parameters are :func:`create_app`'s.
    """

    def __init__(self, catalogue, decoding, folder, limits):
        self.catalogue = catalogue
        self.decoding = decoding
        self.folder = folder
        self.cache = SoundCache()
        self.client_decodes = ClientDecodes(limits)
        self.metrics = Metrics(decoders_alive=decoding.alive,
                               decodes_waiting=lambda: getattr(decoding, "waiting", 0))
        self.failed_models = set()
        self.family_codes = {}  # (model, family) -> (body, ETag) of its codes on that family's pad
        self.versions = _versions(catalogue, folder)
        self.answers = _Answers(catalogue, self.versions)

    def routes(self):
        return [
            Route("/", self.index, methods=["GET"]),
            Route("/api/models", self.models, methods=["GET"]),
            Route("/api/models/{name}/codes", self.codes, methods=["GET"]),
            Route("/api/models/{name}/sound.wav", self.sound, methods=["GET"]),
            Route("/api/models/{name}/v/{version}/codes", self.codes, methods=["GET"]),
            Route("/api/models/{name}/v/{version}/sound.wav", self.sound, methods=["GET"]),
            Route("/api/models/{name}/encode", self.encode, methods=["POST"]),
            Route("/api/models/{name}/v/{version}/encode", self.encode, methods=["POST"]),
            Route(KIT_PATH, self.kit, methods=["POST"]),
            Route("/static/{file}", self.static, methods=["GET"]),
            Route("/healthz", self.healthz, methods=["GET"]),
            Route("/readyz", self.readyz, methods=["GET"]),
            Route("/metrics", self.metrics_page, methods=["GET"]),
        ]

    def exception_handlers(self):
        return {RequestRefused: self.refused, HTTPException: self.http_error, DecodingBusy: self.decoding_busy,
                DecodingFailed: self.decoding_failed,
                ModelFailed: self.model_failed, Exception: self.server_error}

    @asynccontextmanager
    async def lifespan(self, app):
        self.decoding.start()
        gauges = asyncio.create_task(self.metrics.keep_shared_gauges())
        try:
            yield
        except asyncio.CancelledError:
            # Ctrl+C twice: uvicorn skips the lifespan's shutdown and the loop's teardown cancels
            # this task. The decoders close below; the cancellation ends here, not in uvicorn's
            # "Exception in 'lifespan' protocol" traceback.
            pass
        finally:
            gauges.cancel()
            self.metrics.stop_sharing()
            self.decoding.close()

    def versioned(self, request):
        """The cache policy of this URL: immutable when it names the model's current version;
        a 404 when it names another."""
        name, version = request.path_params["name"], request.path_params.get("version")
        if name not in self.catalogue.models:
            raise RequestRefused(404, "unknown model; GET /api/models lists the ones served")
        if version is None:
            return REVALIDATE
        if version != self.versions[name]:
            raise RequestRefused(404, f"{name} is not at version {version[:20]!r} here; GET /api/models "
                                      "gives its current URLs")
        return IMMUTABLE

    # -- endpoints -------------------------------------------------------------------------

    async def index(self, request):
        answers = self.answers
        return _validated(request, answers.page_body, answers.page_tag, "text/html; charset=utf-8",
                          {"Cache-Control": "no-cache", "Content-Security-Policy": PAGE_POLICY})

    async def static(self, request):
        name = request.path_params["file"]
        if name not in self.answers.page_files:
            raise HTTPException(404)
        body, media_type, tag = self.answers.page_files[name]
        policy = IMMUTABLE if request.query_params.get("v") == tag.strip('"') else REVALIDATE
        return _validated(request, body, tag, media_type, {"Cache-Control": policy})

    async def models(self, request):
        return _validated(request, self.answers.models_body, self.answers.models_tag, "application/json",
                          {"Cache-Control": "no-cache"})

    async def codes(self, request):
        """The training sounds' points; with ``family=``/``mix=``, where they sit on that
        family's pad (the page draws them under the pad it plays)."""
        policy = self.versioned(request)
        name = request.path_params["name"]
        unknown = sorted(set(request.query_params.keys()) - {"family", "mix"})
        if unknown:
            raise RequestRefused(400, f"unknown parameter {unknown[0][:20]!r}; use family or mix")
        served = self.catalogue.models[name]
        family = _family(served, request.query_params) if request.query_params else None
        if family is None or served.model.family_pads is None:
            body, tag = self.answers.codes[name]
        else:
            body, tag = self._family_codes(served, family)
        return _validated(request, body, tag, "application/json", {"Cache-Control": policy})

    def _family_codes(self, served, family):
        """(body, ETag) of the codes on ``family``'s pad, made once per model and family."""
        key = (served.name, family)
        answer = self.family_codes.get(key)
        if answer is None:
            from dataclasses import replace

            codes = served.model.codes
            on_pad = served.model.family_pads.to_pad(codes.points, family)
            body = json.dumps(compact_codes(replace(codes, points=on_pad)), separators=(",", ":")).encode()
            answer = self.family_codes[key] = (body, content_tag(body))
            while len(self.family_codes) > 256:  # 7 families and the mixes a page asks for
                self.family_codes.pop(next(iter(self.family_codes)))
        return answer

    async def sound(self, request):
        policy = self.versioned(request)
        served, sound_request = parse_sound_request(self.catalogue, request.path_params["name"], request.query_params)
        answer = self.cache.get(sound_request)
        if answer is None:
            self.metrics.cache.labels("miss").inc()
            answer = await self._decode(request, served, sound_request)
            self.cache.put(sound_request, answer)
        else:
            self.metrics.cache.labels("hit").inc()
        body, etag = answer
        headers = {
            "Cache-Control": policy,
            "Content-Disposition": f'attachment; filename="{sound_request.file_name(served.model.sample_rate)}"',
            "X-Point": f"{sound_request.x:g},{sound_request.y:g}",
            "X-Level": sound_request.level,
        }
        return _validated(request, body, etag, "audio/wav", headers)

    async def kit(self, request):
        """A kit of the sounds in the body: each sample is its sound URL's WAV, byte for byte
        (from the same cache and decoders, each decode in the client's slots), put in a zip of
        the kit folder or a Hydrogen archive by :mod:`audio.kit`. Nothing is kept: the
        archive is made in memory and dropped once sent."""
        data = await _body(request, MAX_KIT_BODY_BYTES, "the kit's list", f"{MAX_KIT_BODY_BYTES} bytes")
        try:
            order = read_kit_order(data)
        except KitRefused as error:
            raise RequestRefused(error.status, error.reason) from None
        wanted = [self._kit_sound(index, *sound) for index, sound in enumerate(order.sounds, 1)]
        sounds = []
        for served, sound_request in wanted:  # one after another: a kit takes one decode slot at a time
            answer = self.cache.get(sound_request)
            if answer is None:
                self.metrics.cache.labels("miss").inc()
                answer = await self._decode(request, served, sound_request)
                self.cache.put(sound_request, answer)
            else:
                self.metrics.cache.labels("hit").inc()
            sounds.append((served.model, sound_request, self.answers.model_urls[served.name]["sound_url"], answer[0]))
        body, media_type, file_name = await asyncio.to_thread(kit_archive, order, sounds)
        return Response(body, media_type=media_type,
                        headers={"Content-Disposition": attachment(file_name), "Cache-Control": "no-store"})

    def _kit_sound(self, index, name, version, params):
        """(ServedModel, SoundRequest) of a kit's sound ``index``, checked as the sound URL's
        query is; a 400 naming the sound otherwise."""
        if name not in self.catalogue.models:
            raise RequestRefused(400, f"sound {index}: unknown model {name[:40]!r}; GET /api/models lists the "
                                      "ones served")
        if version != self.versions[name]:
            raise RequestRefused(400, f"sound {index}: {name} is not at version {version[:20]!r} here; "
                                      "GET /api/models gives its current version")
        try:
            return parse_sound_request(self.catalogue, name, QueryParams(params))
        except RequestRefused as error:
            raise RequestRefused(400, f"sound {index}: {error.reason}") from None

    async def _decode(self, request, served, sound_request):
        """(WAV bytes, ETag) of a sound not in the cache, within the client's decode slots."""
        client = request.client.host if request.client else None
        try:
            async with self.client_decodes.slot(client):
                start = time.perf_counter()
                answer = await self.decoding.wav(served, sound_request, self.versions[served.name])
                self.metrics.decode.observe(time.perf_counter() - start)
        except ClientLimited as error:
            self.metrics.refused.inc()
            raise RequestRefused(429, error.reason, {"Retry-After": str(error.retry_after_s)}) from None
        except ModelError as error:
            raise ModelFailed(served.name, _without_folder(str(error), self.folder)) from None
        return answer

    async def encode(self, request):
        """A dropped sample's place: its point, the family its point is likeliest in (a model
        with family pads), its nearest training sounds and the sound of its point. The file
        is read into memory, encoded in a decoding process and dropped: nothing is kept."""
        self.versioned(request)
        served = self.catalogue.models[request.path_params["name"]]
        if not served.model.has_encoder:
            raise RequestRefused(400, f"{served.name} has no encoder (a GAN only generates): a sample has no "
                                      "place on its map; pick another model")
        data = await _upload(request)
        client = request.client.host if request.client else None
        try:
            async with self.client_decodes.slot(client):
                found = await self.decoding.encode(served, data, self.versions[served.name])
        except ClientLimited as error:
            self.metrics.refused.inc()
            raise RequestRefused(429, error.reason, {"Retry-After": str(error.retry_after_s)}) from None
        except ModelError as error:
            raise ModelFailed(served.name, _without_folder(str(error), self.folder)) from None
        if "refused" in found:
            raise RequestRefused(422, f"this file cannot be encoded: {found['refused']}")
        return JSONResponse(_placed(served, self.answers.model_urls[served.name]["sound_url"], *found["point"]),
                            headers={"Cache-Control": "no-store"})

    async def healthz(self, request):
        return JSONResponse({"status": "up"}, headers={"Cache-Control": "no-store"})

    async def readyz(self, request):
        reason = await self.decoding.ready()
        if reason:
            return error_response(503, f"not ready: {reason}", {"Cache-Control": "no-store", "Retry-After": "5"})
        return JSONResponse({"status": "ready", "models": len(self.catalogue.models)},
                            headers={"Cache-Control": "no-store"})

    async def metrics_page(self, request):
        body, media_type = self.metrics.exposition()
        return Response(body, headers={"Content-Type": media_type, "Cache-Control": "no-store"})

    # -- error handlers --------------------------------------------------------------------

    async def refused(self, request, error):
        return error_response(error.status, error.reason, error.headers)

    async def model_failed(self, request, error):
        if (error.name, error.reason) not in self.failed_models:
            self.failed_models.add((error.name, error.reason))
            log.error("%s cannot be served: %s", error.name, error.reason)
        return error_response(503, f"{error.name} cannot be served right now: {error.reason}",
                              {"Retry-After": str(MODEL_RETRY_AFTER_S)})

    async def http_error(self, request, error):
        reasons = {404: "not found", 405: "method not allowed"}
        return error_response(error.status_code, reasons.get(error.status_code, "request refused"),
                              headers=getattr(error, "headers", None))

    async def decoding_busy(self, request, error):
        # overload is shed at once, before it queues: no log line per refusal (that would grow
        # with the load), a short Retry-After, and no-store so no cache keeps the refusal
        self.metrics.shed.inc()
        return error_response(503, f"too busy right now ({error}); try again in a moment",
                              {"Retry-After": str(BUSY_RETRY_AFTER_S), "Cache-Control": "no-store"})

    async def decoding_failed(self, request, error):
        log.error("cannot decode %s: %s", request.url.path, error)
        return error_response(503, "the server cannot decode sounds right now; try again", {"Retry-After": "5"})

    async def server_error(self, request, error):
        log.exception("error answering %s", request.url.path)
        return error_response(500, "the server failed to answer this request")


def _middleware(metrics, access_log, cors_origins):
    middleware = [Middleware(Observe, metrics=metrics, mode=access_log), Middleware(RequestLimits)]
    if cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        middleware.append(Middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET"]))
    return middleware


def create_app(catalogue, *, decoding=None, cors_origins=(), folder=None, access_log="off", limits=None):
    """The ASGI app serving ``catalogue``.

    Parameters
    ----------
    catalogue : web.catalogue.Catalogue
    decoding : web.decoding.ThreadDecoding or ProcessDecoding, optional
        Where sounds are decoded; started when the app starts and closed when it stops
        (default: a thread pool over the catalogue's own models, one thread per core).
    cors_origins : sequence of str
        Origins allowed to call the API from other pages; none unless asked for.
    folder : str or Path, optional
        The zoo the catalogue was loaded from: each model's version is a hash of its files
        there (without it, of its card: models that exist only in memory).
    access_log : {"off", "text", "json"}
        One line per request on stdout, or none.
    limits : web.limits.Limits, optional
        The per-client limits (default: :func:`web.limits.current_limits`).

    Returns
    -------
    starlette.applications.Starlette
    """
    decoding = decoding or ThreadDecoding()
    api = _Api(catalogue, decoding, folder, limits or current_limits())
    configure_access_log(access_log)
    app = Starlette(
        routes=api.routes(),
        middleware=_middleware(api.metrics, access_log, cors_origins),
        exception_handlers=api.exception_handlers(),
        lifespan=api.lifespan,
    )
    # Starlette would answer /api/models/ with a redirect to an absolute URL built from the
    # request's Host header, reflecting whatever a client sent; a missing slash is a 404 here
    app.router.redirect_slashes = False
    app.state.catalogue = catalogue
    app.state.decoding = decoding
    app.state.metrics = api.metrics
    app.state.versions = api.versions
    return app


def _without_folder(reason, folder):
    """A model's reason without the server's own path to the zoo (not the client's business)."""
    if folder is not None:
        for prefix in {str(Path(folder).resolve()), str(folder)}:
            reason = reason.replace(prefix + os.sep, "")
    return reason


#: Environment variables through which ``app.py serve`` configures worker processes.
ENV_MODELS = "SAMPLE_GENERATOR_MODELS"
ENV_CORS = "SAMPLE_GENERATOR_CORS"
ENV_WORKERS = "SAMPLE_GENERATOR_WORKERS"
ENV_ACCESS_LOG = "SAMPLE_GENERATOR_ACCESS_LOG"


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
    return create_app(catalogue, decoding=process_decoding(catalogue, folder, workers), cors_origins=origins,
                      folder=folder, access_log=os.environ.get(ENV_ACCESS_LOG, "off"))
