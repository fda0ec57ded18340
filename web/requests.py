"""What a request to the API asks, read and refused in words.

The limits every request is held to before the app sees it (:class:`RequestLimits`: the
query's length, a body's size by what it is for), a sound's query read into a
:class:`web.sound.SoundRequest` (:func:`parse_sound_request`: every parameter checked, the
family and the length for the models that take them), and a posted body read within its
size and time (:func:`read_upload`, :func:`read_body`). Each refusal is a
:class:`RequestRefused` with its status and one line; :mod:`web.server` answers it as JSON.
"""

import asyncio
import math
import re

from starlette.responses import JSONResponse

from audio.level import DEFAULT_LEVEL, LEVELS, LevelError, check_level
from constants import DRUM_FAMILIES, MAX_RENDER_SECONDS, MIN_RENDER_SECONDS
from web.kit import MAX_KIT_BODY_BYTES
from web.sound import ALLOWED_RATES, DEFAULT_BITS, DEFAULT_OUT_RATE, MAX_VARIATION, SUBTYPES, SoundRequest

#: Longest query string accepted (a sound's query is under 80 characters).
MAX_QUERY_BYTES = 512


#: What each latent axis beyond two may add to that: z='s number ("-12.3456") and its comma.
QUERY_BYTES_PER_AXIS = 16


def longest_query(catalogue):
    """The longest query string a catalogue's sound URLs need: MAX_QUERY_BYTES, and room for
    the whole vector of its widest model (``z=``)."""
    widest = max(served.latent_dim for served in catalogue.models.values())
    return MAX_QUERY_BYTES + QUERY_BYTES_PER_AXIS * max(0, widest - 2)


#: Largest request body accepted but by the drop-in and the kit: the rest of the API answers GETs only.
MAX_BODY_BYTES = 1024


#: Largest sample a user may drop on the page (POST .../encode): 30 s of 48 kHz stereo
#: 24-bit WAV is 8.6 MB, and a one-shot is longer than 30 s for no model here.
MAX_UPLOAD_BYTES = 16 * 1024 * 1024


#: Seconds a dropped file may take to arrive, once its request head has.
UPLOAD_TIMEOUT_S = 30.0


QUERY_ORDER = ("x", "y", "variation", "rate", "bits", "level", "family", "mix", "seconds")


QUERY_KEYS = set(QUERY_ORDER)


#: A model with more than two latent axes takes its whole vector as ``z=`` in place of x and y.
WIDE_QUERY_ORDER = ("z", *QUERY_ORDER[2:])


KIT_PATH = "/api/kit"


class RequestRefused(Exception):
    """A request the API will not answer; ``status``, a one-line ``reason`` and any headers."""

    def __init__(self, status, reason, headers=None):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers


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
    wide = served.latent_dim > 2
    order = WIDE_QUERY_ORDER if wide else QUERY_ORDER
    if wide and served.latent.family_frame and "z" not in params:
        wide, order = False, QUERY_ORDER  # a family frame's pad point: its other axes at 0
    unknown = sorted(set(params.keys()) - set(order))
    if unknown:
        if wide and unknown[0] in ("x", "y"):
            dim = served.latent_dim
            if served.latent.family_frame:
                raise RequestRefused(400, f"{unknown[0]}: give z= (the {dim} numbers of {name}'s frame) or x and y, not both")
            raise RequestRefused(
                400,
                f"{unknown[0]}: {name}'s latent has {dim} axes; give z= with its {dim} numbers, not x and y",
            )
        raise RequestRefused(400, f"unknown parameter {unknown[0][:20]!r}; use {', '.join(order)}")
    repeated = sorted(key for key in set(params.keys()) if len(params.getlist(key)) > 1)
    if repeated:  # which one would count is a guess a cache and the server could make differently
        raise RequestRefused(400, f"{repeated[0]} is given more than once; give each parameter once")
    vector = _vector(served, params) if wide else None
    if vector is not None:
        x, y = (vector[axis] for axis in served.latent.pad_axes)
    else:
        x = _number(params, "x", required=True)
        y = _number(params, "y", required=True)
    if not served.contains(x, y):
        xmin, xmax, ymin, ymax = served.box
        raise RequestRefused(400, f"the point must lie within x {xmin:.3g} to {xmax:.3g} and y {ymin:.3g} to {ymax:.3g} for {name}")
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
    return served, SoundRequest.rounded(
        name,
        x,
        y,
        variation if served.has_variation else None,
        rate,
        _level(params),
        asked_family(served, params),
        _seconds(served, params),
        bits,
        vector,
    )


def _vector(served, params):
    """The whole latent vector of ``z=`` (D comma-separated numbers, each within its axis's
    bounds) of a model with more than two axes; a 400 with the reason otherwise."""
    latent, name = served.latent, served.name
    text = params.get("z")
    if text is None or text == "":
        example = ",".join(f"{v:g}" for v in latent.center)
        raise RequestRefused(400, f"z is missing: give the {latent.dim} numbers of {name}'s latent (e.g. z={example})"[:300])
    parts = text.split(",")
    if len(parts) != latent.dim:
        raise RequestRefused(400, f"z has {len(parts)} numbers; {name}'s latent has {latent.dim}, one for each axis")
    vector = []
    for axis, part in enumerate(parts):
        if part.lstrip("+-").lower() in ("nan", "inf", "infinity"):
            raise RequestRefused(400, f"z: axis {axis} must be a finite number")
        if len(part) > 40 or not PLAIN_NUMBER.fullmatch(part):
            raise RequestRefused(400, f"z: axis {axis} must be a number, not {part[:20]!r}")
        value = float(part)
        if not math.isfinite(value):
            raise RequestRefused(400, f"z: axis {axis} must be a finite number")
        vector.append(value)
    axis = latent.outside(vector)
    if axis is not None:
        low, high = latent.bounds[axis]
        raise RequestRefused(400, f"z: axis {axis} is {vector[axis]:g}; it must lie within {low:.3g} to {high:.3g} for {name}")
    return vector


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


def asked_family(served, params):
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
        raise RequestRefused(
            400,
            f"mix must be FAMILY:WEIGHT,FAMILY:WEIGHT (e.g. kick:0.6,tom:0.4) of {', '.join(DRUM_FAMILIES)}, not {str(text)[:40]!r}",
        )
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


async def read_upload(request):
    """The posted file's bytes, at most MAX_UPLOAD_BYTES, arriving within UPLOAD_TIMEOUT_S."""
    data = await read_body(request, MAX_UPLOAD_BYTES, "the file", f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    if not data:
        raise RequestRefused(400, "no file: post the sample's bytes as the request body")
    return data


async def read_body(request, most, what, size):
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
