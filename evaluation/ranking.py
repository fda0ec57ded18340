"""Which model is best by the report: one ordering of the models, for the window and the report.

The overall score of a model is its mean rank over ``RANKING_KEYS``, the columns that say
whether a model makes real-sounding, varied, recognisable drums and reconstructs new ones.
Speed, continuity and artefact columns inform but do not decide: a fast model of noise
bursts is not the one to open the window on. A column a model lacks (a GAN has no
reconstruction) is left out of its mean rather than counted against it.

Imports NumPy and the report's column table only: no TensorFlow, no matplotlib.
"""
import numpy as np

from evaluation.report import COLUMNS, ranks

RANKING_KEYS = ("recall", "coverage", "precision", "frechet", "recognisable", "diversity",
                "recon_stft")


def overall_scores(metrics_by_model, keys=RANKING_KEYS):
    """Mean rank of each model over the ranking columns (1 = best in every one).

    Parameters
    ----------
    metrics_by_model : dict of str -> dict
        Model name -> its ``metrics`` (a record's, from the report or ``metrics.json``).
    keys : sequence of str
        Columns of ``report.COLUMNS`` to rank by.

    Returns
    -------
    scores : dict of str -> float or None
        None for a model with none of the columns.
    """
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
    scores = overall_scores(metrics_by_model, keys)
    order = list(metrics_by_model)
    return sorted(order, key=lambda name: (scores[name] is None, scores[name] or 0.0,
                                           order.index(name)))


def best_model(metrics_by_model, keys=RANKING_KEYS):
    """The best model by the report, or None when no model has a ranking column."""
    ranked = rank_models(metrics_by_model, keys)
    scores = overall_scores(metrics_by_model, keys)
    return ranked[0] if ranked and scores[ranked[0]] is not None else None


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
    from pathlib import Path

    from evaluation.cache import load_cached_metrics

    metrics_by_model = {}
    for name in names:
        record = load_cached_metrics(Path(models_folder) / name)
        if record is not None and isinstance(record.get("metrics"), dict):
            metrics_by_model[name] = record["metrics"]
    return best_model(metrics_by_model)
