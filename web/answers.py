"""The API's answers that depend only on what is served, built once: the model list, each
model's codes, the page and its files, with their ETags (:class:`Answers`); a dropped
sample's place (:func:`placed`); and the small cache of rendered sounds (:class:`SoundCache`).
"""

import json
from collections import OrderedDict
from pathlib import Path
from threading import Lock
from urllib.parse import quote

from audio.level import DEFAULT_LEVEL, LEVELS
from constants import MAX_RENDER_SECONDS, MIN_RENDER_SECONDS
from web.caching import card_version, content_tag, model_version
from web.sound import ALLOWED_RATES, MAX_VARIATION, SUBTYPES

STATIC_DIR = Path(__file__).resolve().parent / "static"


#: Training sounds named as a dropped sample's nearest.
NEAREST_SHOWN = 5


#: Sounds kept per process: a 0.74 s sound at 44.1 kHz, 16-bit, is 65 kB, so at most ~17 MB.
SOUND_CACHE_ENTRIES = 256


#: The page's own files, served from STATIC_DIR with a content version (``?v=``).
STATIC_FILES = {"app.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8"}


CODE_DECIMALS = 4


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


def _model_summary(served, default):
    model = served.model
    # a latent of more than two axes: its size, pad axes and each axis's range, centre and
    # bounds (the sound URL takes the whole vector as z=); the 2-D models' entries are as they were
    wide = {"latent": served.latent.summary()} if served.latent_dim > 2 else {}
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
        "no_family_reason": None if _families_of(model) else (model.no_family_reason or f"{served.name} takes no family"),
        "collapsed": served.collapsed,  # one sound everywhere: the page warns (web/catalogue.py)
        **wide,
    }


def _families_of(model):
    if not model.takes_family:
        return None
    return list(model.families)


def compact_codes(codes, dim=2):
    """Points rounded and flattened, families as indices into a list of names; for a wide
    latent (``dim`` > 2, an imported model's) also its whole codes (``full``, flattened, ``dim``
    numbers each), so the page can show them on any two of its axes."""
    if codes is None or len(codes) == 0:
        return {"families": [], "family": [], "points": []}
    families = sorted({str(f) for f in codes.families})
    index = {family: i for i, family in enumerate(families)}
    points = [round(float(v), CODE_DECIMALS) for v in codes.points.reshape(-1)]
    answer = {"families": families, "family": [index[str(f)] for f in codes.families], "points": points}
    if dim > 2 and codes.full is not None and codes.full.shape[1] == dim:
        answer |= {"dim": int(dim), "full": [round(float(v), CODE_DECIMALS) for v in codes.full.reshape(-1)]}
    return answer


def family_codes(served, family):
    """The codes answer under ``family``'s pad (one family or mix, canonical text): the
    training sounds' points on that pad, and for a family-frame model (ddsp_cvae) their
    whole codes in that family's frame (``full``), so the page can draw them on any two
    of the frame's axes."""
    from dataclasses import replace

    model = served.model
    codes, pads = model.codes, model.family_pads
    if not (served.latent is not None and served.latent.family_frame):
        return compact_codes(replace(codes, points=pads.places(codes, family)))
    frame = pads.to_frame(codes.full, family)
    return compact_codes(replace(codes, points=frame[:, :2], full=frame), served.latent_dim)


def placed(served, sound_url, x, y, vector=None, family=None):
    """What the page shows of a dropped sample at latent point ``(x, y)``; for a wide latent
    (an imported model's) ``vector`` is its whole code, the point its pad axes', and the
    answer adds ``vector`` and ``shown_vector`` (each axis kept inside its bounds), whose
    sound it names, and finds the nearest training sounds by whole codes where it has them.
    For a family-frame model (ddsp_cvae) ``vector`` is in ``family``'s frame
    (``frame_family``): the nearest and the likeliest family are found by the code it stands
    for, and the sound plays that family."""
    import numpy as np

    model = served.model
    inside = served.contains(x, y)
    xmin, xmax, ymin, ymax = served.box
    shown = (min(max(x, xmin), xmax), min(max(y, ymin), ymax))
    placed = {
        "point": [x, y],
        "inside": inside,
        "shown": list(shown),
        "family": None,
        "nearest": [],
        "sound_url": f"{sound_url}?x={shown[0]:.4f}&y={shown[1]:.4f}",
    }
    if vector is not None:
        bounds = served.latent.bounds
        kept = [min(max(v, low), high) for v, (low, high) in zip(vector, bounds)]
        placed |= {"vector": list(vector), "shown_vector": kept, "inside": served.latent.outside(vector) is None}
        placed["shown"] = [kept[axis] for axis in served.latent.pad_axes]
        placed["sound_url"] = f"{sound_url}?z={','.join(f'{v:.4f}' for v in kept)}"
    pads, codes = model.family_pads, model.codes
    code = vector
    if vector is not None and served.latent.family_frame:
        code = pads.from_frame([vector], family)[0]
        placed["sound_url"] += f"&family={quote(family)}" if ":" not in family else f"&mix={quote(family)}"
        placed["frame_family"] = family  # the frame the vector is in: its sound plays that family
    if pads is not None:
        placed["family"] = pads.likeliest([code if code is not None and len(code) == pads.latent_dim else [x, y]])[0]
    whole = code is not None and codes is not None and codes.full is not None and codes.full.shape[1] == len(code)
    if whole:
        distances = np.linalg.norm(codes.full - np.asarray(code, np.float32), axis=1)
    elif codes is not None and len(codes):
        distances = np.hypot(codes.points[:, 0] - x, codes.points[:, 1] - y)
    if codes is not None and len(codes):
        for index in np.argsort(distances, kind="stable")[:NEAREST_SHOWN]:
            placed["nearest"].append(
                {"name": str(codes.names[index]), "family": str(codes.families[index]), "distance": round(float(distances[index]), 4)}
            )
    return placed


def served_versions(catalogue, folder):
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


class Answers:
    """The answers that depend only on the catalogue, built once: bodies and their ETags."""

    def __init__(self, catalogue, versions):
        def urls(served):
            base = f"/api/models/{served.name}/v/{versions[served.name]}"
            found = {"version": versions[served.name], "codes_url": f"{base}/codes", "sound_url": f"{base}/sound.wav"}
            # where a user's own sample is posted (the drop-in); None for a model without an encoder
            found["encode_url"] = f"{base}/encode" if served.model.has_encoder else None
            return found

        self.model_urls = {name: urls(served) for name, served in catalogue.models.items()}
        self.models_body = json.dumps(
            {
                "default": catalogue.default,
                "models": [{**_model_summary(s, catalogue.default), **self.model_urls[s.name]} for s in catalogue.models.values()],
                "rates": list(ALLOWED_RATES),
                "bits": list(SUBTYPES),
                "levels": list(LEVELS),
                "default_level": DEFAULT_LEVEL,
                "max_variation": MAX_VARIATION,
            }
        ).encode()
        self.models_tag = content_tag(self.models_body)
        self.codes = {}
        for name, served in catalogue.models.items():
            if served.latent is not None and served.latent.family_frame:  # under its default family, as it plays
                from models.families import family_text

                codes = family_codes(served, family_text(served.model.checked_family(None)))
            else:
                codes = compact_codes(served.model.codes, served.latent_dim)
            body = json.dumps(codes, separators=(",", ":")).encode()
            self.codes[name] = (body, content_tag(body))
        self.page_files, self.page_body = _page_files()
        self.page_tag = content_tag(self.page_body)
