"""A kit that leaves the page: ``POST /api/kit`` with a list of sounds answers a zip of the
kit folder or a Hydrogen ``.h2drumkit``, made by the CLI's kit code (:mod:`audio.kit`).

The body is JSON::

    {"name": "My Kit", "format": "zip" | "h2drumkit",
     "sounds": [{"model": "vae_c", "version": "...", "x": 0.5, "y": -1.2,
                 "variation": 3, "family": "snare", "level": "normalised", "rate": 44100}, ...]}

Each sound takes the sound URL's parameters (``x`` and ``y``, or ``z`` for a model whose latent
has more than two axes: its whole vector, as the text ``"0.5,-1,..."`` or a list of numbers;
and ``variation``, ``family`` or ``mix``, ``level``, ``rate`` where wanted) plus its ``model``
and the ``version`` the page
has from ``GET /api/models``; they are checked as the sound URL's are. Each sample in the kit
is the WAV that sound's URL answers, byte for byte (the page's sound, as heard). This module
reads the body and builds the archive; the server decodes the sounds (:mod:`web.server`).
"""

import io
import json
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import soundfile

from audio.kit import FALLBACK_FAMILY, KitLayer, KitSound, h2drumkit_bytes, kit_files, kit_zip_bytes, safe_part
from audio.level import AS_MADE
from constants import KIT_SUFFIX

#: Sounds one kit may hold (the page's favourites list is longer: it sends the newest).
MAX_KIT_SOUNDS = 16
#: The largest body ``POST /api/kit`` reads: 16 sounds take about 3 kB.
MAX_KIT_BODY_BYTES = 16 * 1024
#: What a kit is answered as: (content type, file suffix).
KIT_FORMATS = {"zip": ("application/zip", ".zip"), "h2drumkit": ("application/gzip", KIT_SUFFIX)}
DEFAULT_KIT_NAME = "Page Kit"
MAX_NAME_CHARS = 60
KIT_KEYS = ("name", "format", "sounds")
SOUND_KEYS = ("model", "version", "x", "y", "z", "variation", "family", "mix", "level", "rate")


class KitRefused(Exception):
    """A kit body the API will not take: ``status`` (400 or 413) and a one-line ``reason``."""

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class KitOrder:
    """A kit body, its shape checked: the kit's name, its format and each sound's model,
    version and sound-URL parameters (as text, for the sound URL's own checks)."""

    name: str
    format: str
    sounds: tuple  # of (model, version, {parameter: text})


def read_kit_order(data):
    """The :class:`KitOrder` in a body's bytes; KitRefused with the reason otherwise."""
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, ValueError) as error:
        raise KitRefused(400, f"the body is not JSON ({str(error).splitlines()[0][:80]})") from None
    if not isinstance(body, dict):
        raise KitRefused(400, 'the body must be a JSON object: {"format": "zip", "sounds": [...]}')
    unknown = sorted(set(body) - set(KIT_KEYS))
    if unknown:
        raise KitRefused(400, f"unknown field {unknown[0][:20]!r}; use {', '.join(KIT_KEYS)}")
    name = body.get("name", DEFAULT_KIT_NAME)
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_CHARS:
        raise KitRefused(400, f"name must be text of 1 to {MAX_NAME_CHARS} characters")
    kind = body.get("format", "zip")
    if kind not in KIT_FORMATS:
        raise KitRefused(400, f"format must be one of {', '.join(KIT_FORMATS)}")
    sounds = body.get("sounds")
    if not isinstance(sounds, list) or not sounds:
        raise KitRefused(400, "sounds must be a list of 1 to 16 sounds, each with model, version, x and y")
    if len(sounds) > MAX_KIT_SOUNDS:
        raise KitRefused(413, f"a kit holds at most {MAX_KIT_SOUNDS} sounds, not {len(sounds)}")
    return KitOrder(name.strip(), kind, tuple(_sound_of(index, entry) for index, entry in enumerate(sounds, 1)))


def _sound_of(index, entry):
    if not isinstance(entry, dict):
        raise KitRefused(400, f"sound {index}: must be an object with model, version, x and y")
    unknown = sorted(set(entry) - set(SOUND_KEYS))
    if unknown:
        raise KitRefused(400, f"sound {index}: unknown field {unknown[0][:20]!r}; use {', '.join(SOUND_KEYS)}")
    for key in ("model", "version"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise KitRefused(400, f"sound {index}: {key} is missing (GET /api/models lists each model's name and version)")
    params = {}
    for key in SOUND_KEYS[2:]:
        value = entry.get(key)
        if value is None:
            continue
        if key == "z" and isinstance(value, list):  # the whole vector as numbers: the URL's text
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
                raise KitRefused(400, f'sound {index}: z must be a list of numbers or their text ("0.5,-1,...")')
            value = ",".join(map(repr, value))
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise KitRefused(400, f"sound {index}: {key} must be a number or text")
        params[key] = value if isinstance(value, str) else repr(value)
    return entry["model"], entry["version"], params


def refuse_z_of_a_plane(index, served, params):
    """KitRefused where a sound of a model with a 2-D latent gives ``z``: its point is x and y."""
    if "z" in params and served.latent_dim <= 2:
        raise KitRefused(400, f"sound {index}: unknown field 'z'; {served.name}'s latent has 2 axes: give x and y")


def sound_recall(request, sound_url):
    """What kit.json records of a page's sound: the model, point (the whole vector of a model
    with more than two axes), take, family, level and rate, and the versioned URL that
    answers its bytes."""
    if request.vector is None:
        query = {"x": f"{request.x:.4f}", "y": f"{request.y:.4f}"}
    else:
        query = {"z": ",".join(f"{v:.4f}" for v in request.vector)}
    if request.variation is not None:
        query["variation"] = request.variation
    if request.family is not None:
        query["mix" if ":" in request.family else "family"] = request.family
    query["rate"] = request.rate
    if request.level != AS_MADE:
        query["level"] = request.level
    return {
        "model": request.model,
        "point": [request.x, request.y] if request.vector is None else list(request.vector),
        "take": request.variation,
        "family": request.family,
        "level": request.level,
        "rate": request.rate,
        "sound_url": f"{sound_url}?{urlencode(query)}",
    }


def instrument_family(model, request):
    """The instrument's name in the kit: the family asked for (``snare``, ``kick0.6-tom0.4``),
    else the likeliest family of the point on a model's family pads, else ``sound``."""
    if request.family is not None:
        return request.family.replace(":", "").replace(",", "-")
    pads = model.family_pads
    if pads is not None:
        return str(pads.likeliest([[request.x, request.y]])[0])
    return FALLBACK_FAMILY


def kit_archive(order, sounds):
    """The archive's bytes, its content type and its file name.

    Parameters
    ----------
    order : KitOrder
    sounds : list of (model, SoundRequest, sound URL, WAV bytes)
        In kit order; the WAV bytes are what the sound URL answers.

    Returns
    -------
    (bytes, str, str)
    """
    instruments = []
    for model, request, sound_url, wav in sounds:
        audio, rate = soundfile.read(io.BytesIO(wav), dtype="float32")
        layer = KitLayer(audio, int(rate), sound_recall(request, sound_url), wav=wav)
        instruments.append(
            KitSound(
                instrument_family(model, request),
                request.model,
                (request.x, request.y) if request.vector is None else request.vector,
                (layer,),
                variation=request.variation or 0,
            )
        )
    kit = kit_files(order.name, instruments)
    media_type, suffix = KIT_FORMATS[order.format]
    data = kit_zip_bytes(kit) if order.format == "zip" else h2drumkit_bytes(kit)
    return data, media_type, kit.name + suffix


def attachment(file_name):
    """A Content-Disposition naming ``file_name`` (an ASCII stand-in, and the name itself)."""
    stem, _, suffix = file_name.rpartition(".")
    plain = f"{safe_part(stem, 'kit')}.{suffix}"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(file_name)}"
