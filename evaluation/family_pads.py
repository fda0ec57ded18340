"""Family pads measured as a conditioned model is: which model separates kicks from toms.

A model without a family input that placed its training sounds (every encoder model) has
family pads (:mod:`models.family_pads`): one Gaussian per family over its training codes.
This measures them with :mod:`evaluation.conditioned`'s union grid, so the figures compare
with a conditioned model's: 6 x 6 pad points on each family's pad (252 sounds), mapped
through the pads and decoded, then

- the union's precision and coverage against the reference sounds (``Reference.realism_scores``);
- the control accuracy per family and its confusion table: the share of each family's grid
  that the reference's classifier (fitted on the data's training sounds) reads as it.

A family the model has no training sound of has no pad, so no row: the table says so.
"""

import numpy as np

from constants import DRUM_FAMILIES
from evaluation.conditioned import control_table, union_grid, union_side
from models.family_pads import family_pads_or_reason


def family_pad_scores(name, model, reference):
    """The family pads of ``model`` on ``reference``, or None where it has none.

    Parameters
    ----------
    name : str
    model
        Has ``decode``, ``has_encoder``, ``codes`` and ``latent_range()`` (a
        ``TrainedModel`` or a ``Runtime`` without a family input).
    reference : reference.Reference

    Returns
    -------
    dict or None
        ``families`` (those with a pad), ``missing`` (those without), ``points_per_family``,
        ``precision``, ``coverage``, ``control`` (asked -> read -> share) and ``accuracy``
        (asked -> share); only ``reason`` (one line) for a model without pads (no encoder,
        no training codes, every code at one point); None without a classifier (fewer than
        two families in the data).
    """
    if reference.classifier is None:
        return None
    pads, reason = family_pads_or_reason(name, model.codes if model.has_encoder else None, tuple(model.latent_range()))
    if pads is None:
        return {"reason": reason}
    families = pads.families
    points, asked = union_grid(tuple(model.latent_range()), union_side(reference.options.realism_grid), families)
    asked = np.asarray(asked)
    latent = np.concatenate([pads.to_latent(points[asked == family], family) for family in families])
    audio = np.nan_to_num(np.asarray(model.decode(latent), np.float32))
    scores, _ = reference.realism_scores(audio)
    # every family a column (a model without claps may still make one); a row per pad
    confusion, accuracy = control_table(reference.classifier.predict(audio, reference.sample_rate), asked)
    return {
        "families": list(families),
        "missing": [f for f in DRUM_FAMILIES if f not in families],
        "points_per_family": len(points) // len(families),
        "precision": scores["precision"],
        "coverage": scores["coverage"],
        "control": confusion,
        "accuracy": accuracy,
    }
