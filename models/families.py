"""The family a model is asked for: a weight vector over the seven families (a conditioned
model's input, or the family pad of a model with training codes: :mod:`models.family_pads`).

Every surface (window, page, CLI, favourites, kits) speaks of a family in one of two
forms, and this module turns both into the vector the decoder takes, or a one-line reason:

- a plain family, ``"kick"`` (one-hot);
- a mix, ``"kick:0.6,tom:0.4"`` (a convex mix: weights from 0 to 1 that sum to 1).

:func:`family_text` writes a vector back in the second form (the first for a plain family),
so a sidecar or a URL records exactly what was played. NumPy and the standard library only.
"""

import math

import numpy as np

from constants import DRUM_FAMILIES
from models.errors import ModelInputError

#: What a conditioned model plays when no family is given.
DEFAULT_FAMILY = "kick"
#: How far the weights may sum from 1 (they are typed by people, in decimals).
SUM_TOLERANCE = 1e-3


def _allowed():
    return ", ".join(DRUM_FAMILIES)


def family_vector(family):
    """The weight vector (7,) float32 of a family name, a mix text, a {name: weight} mapping
    or a vector.

    Raises
    ------
    ModelInputError
        An unknown family, a weight that is not a number from 0 to 1, or weights that do
        not sum to 1; the message lists what is allowed.
    """
    if family is None:
        family = DEFAULT_FAMILY
    if isinstance(family, str):
        family = _parse_text(family)
    if isinstance(family, dict):
        vector = np.zeros(len(DRUM_FAMILIES), np.float32)
        for name, weight in family.items():
            if name not in DRUM_FAMILIES:
                raise ModelInputError(f"unknown family {name!r}; the families are {_allowed()}")
            vector[DRUM_FAMILIES.index(name)] += _weight(weight, name)
        family = vector
    vector = np.asarray(family, dtype=np.float64)
    if vector.shape != (len(DRUM_FAMILIES),):
        raise ModelInputError(f"a family is {len(DRUM_FAMILIES)} weights ({_allowed()}), not shape {vector.shape}")
    if not np.all(np.isfinite(vector)) or np.any(vector < 0) or np.any(vector > 1):
        raise ModelInputError("family weights must be numbers from 0 to 1")
    if abs(vector.sum() - 1.0) > SUM_TOLERANCE:
        raise ModelInputError(f"family weights must sum to 1 (these sum to {vector.sum():.3g})")
    return (vector / vector.sum()).astype(np.float32)


def _parse_text(text):
    text = text.strip()
    if ":" not in text:
        if text not in DRUM_FAMILIES:
            raise ModelInputError(f"unknown family {text!r}; the families are {_allowed()}")
        return {text: 1.0}
    mix = {}
    for part in text.split(","):
        name, colon, weight = part.strip().partition(":")
        if not colon:
            raise ModelInputError(f"a mix is FAMILY:WEIGHT,FAMILY:WEIGHT (e.g. kick:0.6,tom:0.4), not {text!r}")
        name = name.strip()
        if name in mix:
            raise ModelInputError(f"family {name!r} is named twice in the mix")
        mix[name] = weight.strip()
    return mix


def _weight(value, name):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ModelInputError(f"the weight of {name} must be a number from 0 to 1, not {value!r}") from None
    if not math.isfinite(number) or not 0.0 <= number <= 1.0:
        raise ModelInputError(f"the weight of {name} must be a number from 0 to 1, not {value!r}")
    return number


def family_rows(family, count):
    """(count, 7) float32 rows: one family for every point, or one row per point."""
    array = np.asarray(family) if not isinstance(family, (str, dict)) and family is not None else None
    if array is not None and array.ndim == 2:
        if array.shape[0] != count:
            raise ModelInputError(f"{array.shape[0]} families for {count} points")
        return np.stack([family_vector(row) for row in array])
    return np.repeat(family_vector(family)[None, :], count, axis=0)


def family_text(vector):
    """``"kick"`` for a plain family, else ``"kick:0.6,tom:0.4"`` (weights to 3 places)."""
    vector = family_vector(vector)
    parts = [(name, float(w)) for name, w in zip(DRUM_FAMILIES, vector) if w > 0]
    if len(parts) == 1:
        return parts[0][0]
    return ",".join(f"{name}:{round(weight, 3):g}" for name, weight in parts)
