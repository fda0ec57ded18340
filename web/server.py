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
import os
import time
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from models.errors import ModelError
from web.answers import Answers, SoundCache, family_codes, placed, served_versions
from web.caching import IMMUTABLE, REVALIDATE, content_tag, none_match
from web.catalogue import load_catalogue
from web.decoding import DecodingBusy, DecodingFailed, ProcessDecoding, ThreadDecoding, default_decoders
from web.kit import MAX_KIT_BODY_BYTES, KitRefused, attachment, kit_archive, read_kit_order, refuse_z_of_a_plane
from web.limits import ClientDecodes, ClientLimited, current_limits
from web.ops import Metrics, Observe, configure_access_log
from web.requests import (
    KIT_PATH,
    RequestLimits,
    RequestRefused,
    asked_family,
    error_response,
    longest_query,
    parse_sound_request,
    read_body,
    read_upload,
)

#: Seconds a client is asked to wait when a model cannot be served right now.
MODEL_RETRY_AFTER_S = 30
#: Seconds a client is asked to wait when every decoder's queue is full.
BUSY_RETRY_AFTER_S = 1
#: The page may load nothing from anywhere but this server (its sounds arrive as blobs).
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)

log = logging.getLogger("web")


class ModelFailed(Exception):
    """A model its decoding process cannot load or decode with (``name``, ``reason``)."""

    def __init__(self, name, reason):
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


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
        self.metrics = Metrics(decoders_alive=decoding.alive, decodes_waiting=lambda: getattr(decoding, "waiting", 0))
        self.failed_models = set()
        self.family_codes = {}  # (model, family) -> (body, ETag) of its codes on that family's pad
        self.versions = served_versions(catalogue, folder)
        self.answers = Answers(catalogue, self.versions)

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
        return {
            RequestRefused: self.refused,
            HTTPException: self.http_error,
            DecodingBusy: self.decoding_busy,
            DecodingFailed: self.decoding_failed,
            ModelFailed: self.model_failed,
            Exception: self.server_error,
        }

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
            raise RequestRefused(404, f"{name} is not at version {version[:20]!r} here; GET /api/models gives its current URLs")
        return IMMUTABLE

    # -- endpoints -------------------------------------------------------------------------

    async def index(self, request):
        answers = self.answers
        return _validated(
            request,
            answers.page_body,
            answers.page_tag,
            "text/html; charset=utf-8",
            {"Cache-Control": "no-cache", "Content-Security-Policy": PAGE_POLICY},
        )

    async def static(self, request):
        name = request.path_params["file"]
        if name not in self.answers.page_files:
            raise HTTPException(404)
        body, media_type, tag = self.answers.page_files[name]
        policy = IMMUTABLE if request.query_params.get("v") == tag.strip('"') else REVALIDATE
        return _validated(request, body, tag, media_type, {"Cache-Control": policy})

    async def models(self, request):
        return _validated(
            request, self.answers.models_body, self.answers.models_tag, "application/json", {"Cache-Control": "no-cache"}
        )

    async def codes(self, request):
        """The training sounds' points; with ``family=``/``mix=``, where they sit on that
        family's pad (the page draws them under the pad it plays)."""
        policy = self.versioned(request)
        name = request.path_params["name"]
        unknown = sorted(set(request.query_params.keys()) - {"family", "mix"})
        if unknown:
            raise RequestRefused(400, f"unknown parameter {unknown[0][:20]!r}; use family or mix")
        served = self.catalogue.models[name]
        family = asked_family(served, request.query_params) if request.query_params else None
        if family is None or served.model.family_pads is None:
            body, tag = self.answers.codes[name]  # a family frame's: its default family's
        else:
            body, tag = self._family_codes(served, family)
        return _validated(request, body, tag, "application/json", {"Cache-Control": policy})

    def _family_codes(self, served, family):
        """(body, ETag) of the codes on ``family``'s pad (a family frame's: in its frame,
        :func:`web.answers.family_codes`), made once per model and family."""
        key = (served.name, family)
        answer = self.family_codes.get(key)
        if answer is None:
            body = json.dumps(family_codes(served, family), separators=(",", ":")).encode()
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
            "X-Point": ",".join(f"{v:g}" for v in sound_request.vector or (sound_request.x, sound_request.y)),
            "X-Level": sound_request.level,
        }
        return _validated(request, body, etag, "audio/wav", headers)

    async def kit(self, request):
        """A kit of the sounds in the body: each sample is its sound URL's WAV, byte for byte
        (from the same cache and decoders, each decode in the client's slots), put in a zip of
        the kit folder or a Hydrogen archive by :mod:`audio.kit`. Nothing is kept: the
        archive is made in memory and dropped once sent."""
        data = await read_body(request, MAX_KIT_BODY_BYTES, "the kit's list", f"{MAX_KIT_BODY_BYTES} bytes")
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
        return Response(
            body, media_type=media_type, headers={"Content-Disposition": attachment(file_name), "Cache-Control": "no-store"}
        )

    def _kit_sound(self, index, name, version, params):
        """(ServedModel, SoundRequest) of a kit's sound ``index``, checked as the sound URL's
        query is; a 400 naming the sound otherwise."""
        if name not in self.catalogue.models:
            raise RequestRefused(400, f"sound {index}: unknown model {name[:40]!r}; GET /api/models lists the ones served")
        if version != self.versions[name]:
            raise RequestRefused(
                400, f"sound {index}: {name} is not at version {version[:20]!r} here; GET /api/models gives its current version"
            )
        try:
            refuse_z_of_a_plane(index, self.catalogue.models[name], params)
        except KitRefused as error:
            raise RequestRefused(error.status, error.reason) from None
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
            why = "it was imported without --encoder" if served.model.kind == "imported" else "a GAN only generates"
            raise RequestRefused(400, f"{served.name} has no encoder ({why}): a sample has no place on its map; pick another model")
        family = self._frame_family(served, request.query_params)
        data = await read_upload(request)
        client = request.client.host if request.client else None
        try:
            async with self.client_decodes.slot(client):
                found = await self.decoding.encode(served, data, self.versions[served.name], family)
        except ClientLimited as error:
            self.metrics.refused.inc()
            raise RequestRefused(429, error.reason, {"Retry-After": str(error.retry_after_s)}) from None
        except ModelError as error:
            raise ModelFailed(served.name, _without_folder(str(error), self.folder)) from None
        if "refused" in found:
            raise RequestRefused(422, f"this file cannot be encoded: {found['refused']}")
        sound_url = self.answers.model_urls[served.name]["sound_url"]
        x, y = found["point"]
        answer = placed(served, sound_url, x, y, vector=found.get("vector"), family=found.get("family"))
        return JSONResponse(answer, headers={"Cache-Control": "no-store"})

    @staticmethod
    def _frame_family(served, params):
        """The family whose frame a dropped sample's code is given in (``family=`` or ``mix=``)
        for a family-frame model; None when neither is given (the family it is likeliest
        under: it lands among its own) and for the other models, which take no query here (a
        sample lands on the plain pad)."""
        frame = served.latent is not None and served.latent.family_frame
        unknown = sorted(set(params.keys()) - ({"family", "mix"} if frame else set()))
        if unknown:
            takes = "family or mix (the frame to place it in)" if frame else "none: a sample lands on the plain pad"
            raise RequestRefused(400, f"unknown parameter {unknown[0][:20]!r}; {served.name}'s encode takes {takes}")
        return asked_family(served, params) if frame and params else None

    async def healthz(self, request):
        return JSONResponse({"status": "up"}, headers={"Cache-Control": "no-store"})

    async def readyz(self, request):
        reason = await self.decoding.ready()
        if reason:
            return error_response(503, f"not ready: {reason}", {"Cache-Control": "no-store", "Retry-After": "5"})
        return JSONResponse({"status": "ready", "models": len(self.catalogue.models)}, headers={"Cache-Control": "no-store"})

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
        return error_response(
            503, f"{error.name} cannot be served right now: {error.reason}", {"Retry-After": str(MODEL_RETRY_AFTER_S)}
        )

    async def http_error(self, request, error):
        reasons = {404: "not found", 405: "method not allowed"}
        return error_response(
            error.status_code, reasons.get(error.status_code, "request refused"), headers=getattr(error, "headers", None)
        )

    async def decoding_busy(self, request, error):
        # overload is shed at once, before it queues: no log line per refusal (that would grow
        # with the load), a short Retry-After, and no-store so no cache keeps the refusal
        self.metrics.shed.inc()
        return error_response(
            503,
            f"too busy right now ({error}); try again in a moment",
            {"Retry-After": str(BUSY_RETRY_AFTER_S), "Cache-Control": "no-store"},
        )

    async def decoding_failed(self, request, error):
        log.error("cannot decode %s: %s", request.url.path, error)
        return error_response(503, "the server cannot decode sounds right now; try again", {"Retry-After": "5"})

    async def server_error(self, request, error):
        log.exception("error answering %s", request.url.path)
        return error_response(500, "the server failed to answer this request")


def _middleware(metrics, access_log, cors_origins, max_query_bytes):
    middleware = [Middleware(Observe, metrics=metrics, mode=access_log), Middleware(RequestLimits, max_query_bytes=max_query_bytes)]
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
        middleware=_middleware(api.metrics, access_log, cors_origins, longest_query(catalogue)),
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
    return create_app(
        catalogue,
        decoding=process_decoding(catalogue, folder, workers),
        cors_origins=origins,
        folder=folder,
        access_log=os.environ.get(ENV_ACCESS_LOG, "off"),
    )
