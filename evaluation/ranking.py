"""Which model is best: the project's one rule, for the report, the window and the web page.

The overall score of a model is its mean rank over ``RANKING_KEYS``, the columns that say
whether a model makes real-sounding, varied, recognisable drums and reconstructs new ones.
Speed, continuity and artefact columns inform but do not decide: a fast model of noise
bursts is not the one to open the window on. A column a model lacks (a GAN has no
reconstruction) is left out of its mean rather than counted against it.

:func:`choose_best` gives the winner with a sentence saying why (the window's status line,
the server's console); :func:`rank_models` the whole order (the report, the web picker).

Imports NumPy and the column table (``evaluation.columns``) only: no TensorFlow, no matplotlib.
"""

import math
from dataclasses import dataclass

import numpy as np

from evaluation.columns import COLUMNS, ranks

RANKING_KEYS = ("recall", "coverage", "precision", "frechet", "recognisable", "diversity", "recon_stft")
#: How the reason sentence names a deciding column: (what it measures, the metric's name,
#: the decimals it is quoted with).
_MEASURE_WORDS = {"recon_stft": ("reconstruction error", "MR-STFT", 3), "frechet": ("distance to real drums", "Fréchet", 1)}
#: The values the reason sentence quotes when several columns decide.
_HEADLINE_KEYS = ("recon_stft", "frechet")


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def evaluated_metrics(metrics_by_model, keys=RANKING_KEYS):
    """Only what can be ranked: dict metrics, and of them the finite numbers in ``keys``.

    Parameters
    ----------
    metrics_by_model : dict of str -> dict or None
        None (or anything not a dict) where a model has not been evaluated.
    keys : sequence of str

    Returns
    -------
    dict of str -> dict
        In the given order; a model with none of ``keys`` keeps an empty dict.
    """
    return {
        name: {key: metrics[key] for key in keys if _number(metrics.get(key))}
        for name, metrics in metrics_by_model.items()
        if isinstance(metrics, dict)
    }


def overall_scores(metrics_by_model, keys=RANKING_KEYS):
    """Mean rank of each model over the ranking columns (1 = best in every one).

    Parameters
    ----------
    metrics_by_model : dict of str -> dict
        Model name -> its ``metrics`` (a record's, from the report or ``metrics.json``).
    keys : sequence of str
        Columns of ``columns.COLUMNS`` to rank by.

    Returns
    -------
    scores : dict of str -> float or None
        None for a model with none of the columns.
    """
    metrics_by_model = evaluated_metrics(metrics_by_model, keys)
    columns = [column for column in COLUMNS if column.key in keys]
    column_ranks = [ranks(metrics_by_model, column) for column in columns]
    scores = {}
    for name in metrics_by_model:
        present = [by_name[name] for by_name in column_ranks if by_name[name] is not None]
        scores[name] = float(np.mean(present)) if present else None
    return scores


def rank_models(metrics_by_model, keys=RANKING_KEYS):
    """The models best first by :func:`overall_scores`; ties keep the given order.

    Parameters
    ----------
    metrics_by_model : dict of str -> dict
    keys : sequence of str

    Returns
    -------
    names : list of str
        Models without any ranking column come last.
    """
    metrics_by_model = evaluated_metrics(metrics_by_model, keys)
    scores = overall_scores(metrics_by_model, keys)
    order = list(metrics_by_model)
    return sorted(order, key=lambda name: (scores[name] is None, scores[name] or 0.0, order.index(name)))


@dataclass(frozen=True)
class BestModel:
    """The winner of :func:`choose_best`.

    Attributes
    ----------
    name : str
    reason : str
        Why, as the end of a sentence: "the lowest reconstruction error of 14 evaluated
        models (MR-STFT 1.076, lower is better)".
    score : float
        Its mean rank (1 = best in every column it has).
    measures : tuple of str
        The columns its score is the mean over.
    evaluated : int
        How many models had a score.
    """

    name: str
    reason: str
    score: float
    measures: tuple
    evaluated: int


def _column(key):
    return next(column for column in COLUMNS if column.key == key)


def _quoted(key, value):
    """``"MR-STFT 1.076"``: a headline value as the reason sentence quotes it."""
    _, metric, digits = _MEASURE_WORDS[key]
    return f"{metric} {value:.{digits}f}"


def _single_measure_reason(key, value, evaluated):
    column = _column(key)
    what, metric, digits = _MEASURE_WORDS.get(key, (column.title, column.title, 3))
    superlative = {"lower": "the lowest {}", "higher": "the highest {}", "one": "the {} closest to 1"}[column.better].format(what)
    direction = {"lower": "lower is better", "higher": "higher is better", "one": "closest to 1 is best"}[column.better]
    return f"{superlative} of {evaluated} evaluated models ({metric} {value:.{digits}f}, {direction})"


def choose_best(metrics_by_model, keys=RANKING_KEYS):
    """The best model by :func:`rank_models`, with the sentence that says why.

    Parameters
    ----------
    metrics_by_model : dict of str -> dict or None
        Model name -> its cached ``metrics`` (``metrics.json``), or None where it has not
        been evaluated. Ties go to the first in this order.
    keys : sequence of str

    Returns
    -------
    BestModel or None
        None when no model has any of ``keys``.
    """
    metrics = evaluated_metrics(metrics_by_model, keys)
    scores = overall_scores(metrics, keys)
    ranked = [name for name in rank_models(metrics, keys) if scores[name] is not None]
    if not ranked:
        return None
    name = ranked[0]
    measures = tuple(key for key in keys if key in metrics[name])
    if len(ranked) == 1:  # nothing to be better than
        quoted = ", ".join(_quoted(key, metrics[name][key]) for key in _HEADLINE_KEYS if key in metrics[name])
        reason = "the only evaluated model" + (f" ({quoted})" if quoted else "")
    elif len(measures) == 1:
        (key,) = measures
        with_it = sum(1 for values in metrics.values() if key in values)
        reason = _single_measure_reason(key, metrics[name][key], with_it)
    else:
        headline = ", ".join(_quoted(key, metrics[name][key]) for key in _HEADLINE_KEYS if key in metrics[name])
        reason = (
            f"the best mean rank of {len(ranked)} evaluated models "
            f"({scores[name]:.1f} over {len(measures)} measures, 1 is best" + (f"; {headline}" if headline else "") + ")"
        )
    return BestModel(name, reason, scores[name], measures, len(ranked))


def best_model(metrics_by_model, keys=RANKING_KEYS):
    """The best model's name by :func:`choose_best`, or None when no model has a ranking column."""
    best = choose_best(metrics_by_model, keys)
    return best.name if best is not None else None


def best_cached_model(models_folder, names):
    """The best of the named models by their cached metrics (``<folder>/<name>/metrics.json``).

    Parameters
    ----------
    models_folder : str or Path
        E.g. ``trained``.
    names : iterable of str
        The models to choose among (e.g. the available ones).

    Returns
    -------
    name : str or None
        None when none of them has cached metrics.
    """
    return best_model(cached_metrics(models_folder, names))


def cached_metrics(models_folder, names):
    """Each named model's cached metrics (its training data's entry), where it has them.

    Parameters
    ----------
    models_folder : str or Path
    names : iterable of str

    Returns
    -------
    dict of str -> dict
        In the order of ``names``; models without cached metrics are left out.
    """
    from pathlib import Path

    from evaluation.cache import load_cached_metrics

    found = {}
    for name in names:
        record = load_cached_metrics(Path(models_folder) / name)
        if record is not None and isinstance(record.get("metrics"), dict):
            found[name] = record["metrics"]
    return found
