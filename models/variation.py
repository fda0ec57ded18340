"""Variations of one sound: the same point, heard the way a real drum never sounds twice.

For a model with a noise source (``ddsp_vae``: ``decode(points, variation=int)`` picks its
noise realisation) a variation is a new noise seed at the same point. For every other model it is a small seeded
random offset around the point, ``VARIATION_SPREAD`` of the latent range's span per axis
(a standard deviation), kept inside the range. A wide latent's point (an imported model's
whole vector of D numbers, its ranges ``model.low`` and ``model.high``) is offset on every
one of its D axes the same way: an imported decoder has no noise source.

The window's Vary amount (:func:`plan_variations`'s ``amount``) means the same for every
model: the offset's size, ``amount`` times ``VARIATION_SPREAD`` of the span. A model with a
noise source also draws a new noise realisation from ``NEW_NOISE_AMOUNT`` up: below it, its
own noise, so that a small amount is a small change (on the shipped ddsp_vae a new noise seed
alone moves the log spectrum about as far as amount 2's offset does).

Variation 0 is the sound itself (no offset, the model's own noise). Variation ``i >= 1``
draws from its own seed, derived from the run's seed and ``i``, so variation 3 of seed 7 is
the same whichever others are made. :meth:`Variation.to_dict` is what a sidecar records and
:func:`variation_from_recall` reads it back; :func:`decode_variation` then gives the same
samples again (one point per decode call, so a batch size can never change a result).

Imports only numpy: the window, the CLI and the web app use it whatever decodes.
"""

from dataclasses import dataclass

import numpy as np

#: Standard deviation of a variation's offset, as a fraction of the latent range per axis.
VARIATION_SPREAD = 0.03
#: From this Vary amount up, a model with a noise source also plays a new noise realisation.
NEW_NOISE_AMOUNT = 1.0
MAX_SEED = 2**32


@dataclass(frozen=True)
class Variation:
    """One variation of a point.

    Attributes
    ----------
    index : int
        0 for the sound itself, 1, 2, ... for variations.
    seed : int
        The run's seed it was drawn from (with ``index``).
    offset : tuple of float
        Added to the point before decoding (one number per axis: two for a pad point, D
        for a wide latent's whole vector); (0, 0) for noise-source models.
    noise_seed : int or None
        The model's ``variation`` argument, for models with a noise source.
    """

    index: int
    seed: int
    offset: tuple = (0.0, 0.0)
    noise_seed: int | None = None

    def point(self, base):
        """The point decoded for this variation of ``base`` (a pad point, or a whole vector)."""
        if len(self.offset) != len(base):
            if any(float(v) != 0.0 for v in self.offset):
                raise ValueError(f"a variation of {len(self.offset)} axes cannot move a point of {len(base)}")
            return tuple(float(v) for v in base)  # the sound itself, whatever its width
        return tuple(float(b) + float(o) for b, o in zip(base, self.offset))

    def to_dict(self, base=None):
        """JSON-ready record (a sidecar's ``settings["variation"]``)."""
        record = {
            "index": int(self.index),
            "seed": int(self.seed),
            "offset": [float(v) for v in self.offset],
            "noise_seed": None if self.noise_seed is None else int(self.noise_seed),
        }
        if base is not None:
            record["decoded_point"] = list(self.point(base))
        return record

    @classmethod
    def from_dict(cls, record):
        """The variation a :meth:`to_dict` record describes; ValueError when it is not one."""
        try:
            offset = tuple(float(v) for v in record.get("offset", (0.0, 0.0)))
            noise_seed = record.get("noise_seed")
            variation = cls(
                index=int(record["index"]),
                seed=int(record["seed"]),
                offset=offset,
                noise_seed=None if noise_seed is None else int(noise_seed),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ValueError(f"not a variation record: {record!r}") from None
        if len(offset) < 2 or not all(np.isfinite(offset)):
            raise ValueError(
                f"a variation's offset must be two finite numbers (a wide latent's: one per axis), not {record.get('offset')!r}"
            )
        return variation


def has_noise_source(model):
    """True when the model's sound has a noise source that its ``variation`` seed sets: its
    ``has_noise_source`` (the registry's ``ModelSpec.noise_source``; the window's
    ``ModelInfo`` carries it too). Every decoder takes ``variation`` (the NumPy engine passes
    it to all of them), so the signature alone cannot tell.
    """
    return bool(model.has_noise_source)


def _variation_seed(seed, index):
    return int(np.random.SeedSequence([int(seed) % MAX_SEED, int(index)]).generate_state(1)[0])


def plan_variations(model, point, count, seed, *, first=0, spread=VARIATION_SPREAD, amount=None):
    """Variations ``first .. first+count-1`` of ``point``.

    Parameters
    ----------
    model
        Anything with ``decode`` and ``latent_range()`` (``(xmin, xmax, ymin, ymax)``).
    point : (float, float), or a wide latent's whole vector (D floats)
    count : int
    seed : int
    first : int
        0 starts with the sound itself; 1 gives only new variations.
    spread : float
        Offset standard deviation as a fraction of the range's span.
    amount : float, optional
        The window's Vary amount, the same for every model: the offset's spread is
        ``amount * VARIATION_SPREAD`` (``spread`` is then not used), and a model with a
        noise source plays a new noise realisation only from ``NEW_NOISE_AMOUNT`` up (its
        own below it). None: a noise-source model's variation is a new noise seed alone.

    Returns
    -------
    list of Variation
    """
    noise = has_noise_source(model)
    if amount is not None:
        spread = VARIATION_SPREAD * float(amount)
    low, high = axis_bounds(model, point)
    span = high - low
    base = np.array([float(v) for v in point[: len(low)]])
    variations = []
    for index in range(first, first + int(count)):
        if index == 0:
            variations.append(Variation(0, int(seed), (0.0,) * len(base), 0 if noise else None))
            continue
        own_seed = _variation_seed(seed, index)
        if noise and amount is None:
            variations.append(Variation(index, int(seed), (0.0, 0.0), own_seed))
            continue
        offset = np.random.default_rng(own_seed).normal(0.0, spread, len(base)) * span
        # Keep the varied point on the map; a point at the edge varies inward only.
        offset = np.clip(base + offset, low, high) - base
        noise_seed = None if not noise else (own_seed if amount >= NEW_NOISE_AMOUNT else 0)
        variations.append(Variation(index, int(seed), tuple(float(v) for v in offset), noise_seed))
    return variations


def axis_bounds(model, point):
    """The ranges a variation of ``point`` stays in: (low, high), each (2,) for a pad point
    (the model's ``latent_range()``), each (D,) for a whole vector of a wide latent (the
    model's ``low`` and ``high``); ValueError for a vector the model has no ranges for."""
    if len(point) > 2:
        if model.latent_dim != len(point):  # only a wide latent's model has ranges per axis
            raise ValueError(f"a point of {len(point)} numbers, but the model has {model.latent_dim} axis ranges")
        return np.asarray(model.low, float), np.asarray(model.high, float)
    xmin, xmax, ymin, ymax = (float(v) for v in model.latent_range())
    return np.array([xmin, ymin]), np.array([xmax, ymax])


def decode_variation(model, point, variation, family=None, seconds=None):
    """The samples of one variation of ``point`` (``seconds`` long, for a model that renders
    any length; None: its trained window).

    Returns
    -------
    np.ndarray, shape (sample_length,), float32
    """
    decoded = np.asarray([variation.point(point)], dtype=np.float32)
    options = _family(model, family) if seconds is None else {**_family(model, family), "seconds": seconds}
    if variation.noise_seed is not None and has_noise_source(model):
        return np.asarray(model.decode(decoded, variation=int(variation.noise_seed), **options))[0]
    return np.asarray(model.decode(decoded, **options))[0]


def _family(model, family):
    """The ``family`` keyword for the decode of a model that takes one (a conditioned model,
    or one with family pads); others take none."""
    return {"family": family} if model.takes_family and family is not None else {}


def variation_from_recall(recall):
    """The variation a favourite's or generated file's recall data records, or None.

    Parameters
    ----------
    recall : dict
        As :func:`audio.export.read_recall` returns it.

    Raises
    ------
    ValueError
        The sidecar has a variation record that cannot be read.
    """
    settings = recall.get("settings") or {}
    record = settings.get("variation")
    return None if record is None else Variation.from_dict(record)


def decode_recall(model, recall):
    """Decode exactly the sound a recall sidecar describes (its point, variation and
    family: a conditioned model's input, or a family pad)."""
    variation = variation_from_recall(recall) or Variation(0, 0, (0.0, 0.0), None)
    return decode_variation(model, recall["point"], variation, family=(recall.get("settings") or {}).get("family"))


class LoopVariations:
    """A new variation for each repetition of a loop: the window's "Vary" control.

    Parameters
    ----------
    model
        As for :func:`plan_variations`.
    amount : float
        0 turns variation off (every repetition is the sound itself); 1 is the default
        spread (``VARIATION_SPREAD`` of the range), 2 twice that, and so on, for every
        model; a model with a noise source also draws new noise from ``NEW_NOISE_AMOUNT``
        up (see :func:`plan_variations`).
    seed : int

    Examples
    --------
    >>> class Plane:
    ...     has_noise_source = False
    ...     def latent_range(self): return (-1.0, 1.0, -1.0, 1.0)
    ...     def decode(self, points): return points
    >>> loop = LoopVariations(Plane(), amount=0.0, seed=1)
    >>> loop.next((0.2, 0.3)).index
    0
    """

    def __init__(self, model, amount, seed):
        if not (np.isfinite(amount) and amount >= 0):
            raise ValueError(f"the variation amount must be 0 or more, not {amount!r}")
        self.model = model
        self.amount = float(amount)
        self.seed = int(seed)
        self.repetition = 0

    def next(self, point):
        """The variation to play for the next repetition at ``point``."""
        if self.amount == 0:
            return Variation(0, self.seed, (0.0, 0.0), 0 if has_noise_source(self.model) else None)
        self.repetition += 1
        return plan_variations(self.model, point, 1, self.seed, first=self.repetition, amount=self.amount)[0]


def variation_layers(model, name, point, count, seed, *, first=0, family=None):
    """Decode ``count`` variations of ``point`` as kit layers, with what recalls each.

    Parameters
    ----------
    model
        Has ``decode``, ``latent_range()`` and ``sample_rate``.
    name : str
        The model's registry name, for the recall record.
    point : (float, float), or a wide latent's whole vector (D floats)
    count, seed, first
        As for :func:`plan_variations` (``first=0`` starts with the sound itself).
    family : np.ndarray, shape (7,), optional
        The family vector (a conditioned model's input, or a family pad; recorded in
        ``recall`` as its text).

    Returns
    -------
    list of (np.ndarray, int, dict)
        ``(samples, sample_rate, recall)``; ``recall`` holds ``model``, ``point`` (all of it) and
        ``variation`` (:meth:`Variation.to_dict`), and ``family`` when one is given.
    """
    layers = []
    for variation in plan_variations(model, point, count, seed, first=first):
        recall = {"model": str(name), "point": [float(v) for v in point], "variation": variation.to_dict(point)}
        if family is not None:
            from models.families import family_text

            recall["family"] = family_text(family)
        layers.append((decode_variation(model, point, variation, family), int(model.sample_rate), recall))
    return layers
