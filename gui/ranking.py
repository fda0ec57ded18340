"""Which model the window opens on when nothing is remembered: the evaluation's best.

One small function, so that a model added later (``ddsp_vae``) wins on its metrics alone.
"""
import math

#: The evaluation report's reconstruction column (``evaluation.report.COLUMNS``): the
#: multi-resolution STFT distance of held-out sounds to their reconstruction, lower is better.
RANK_BY = "recon_stft"
#: For models without an encoder (no reconstruction): the Fréchet distance, lower is better.
THEN_BY = "frechet"


def _finite(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def best_model(metrics_by_name):
    """The model to open first, and a sentence saying why.

    Parameters
    ----------
    metrics_by_name : dict of str -> dict or None
        Each usable model's cached evaluation metrics (``metrics.json``'s ``metrics``), or
        None where it has not been evaluated. Order is the list's order (ties keep it).

    Returns
    -------
    (name, reason) or None
        None when no model has either metric (the caller takes the list's first).
    """
    for key, what, metric in ((RANK_BY, "reconstruction error", "MR-STFT"),
                              (THEN_BY, "distance to real drums", "Fréchet")):
        scored = [(metrics[key], name) for name, metrics in metrics_by_name.items()
                  if isinstance(metrics, dict) and _finite(metrics.get(key))]
        if scored:
            value, name = min(scored, key=lambda pair: pair[0])
            return name, (f"opened {name}: the lowest {what} of {len(scored)} evaluated models "
                          f"({metric} {value:.3f}, lower is better)")
    return None
