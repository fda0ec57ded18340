"""The report's columns and how models rank in each: a leaf of ``evaluation``.

``COLUMNS`` is the single list of what the comparison table shows, how it is titled and
which direction is better; :func:`ranks` ranks the models in one of them. The report, the
ranking rule and the GUI's Metrics view all read these definitions, and this module imports
nothing of the project, so none of them imports another to get them.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Column:
    """One metric column: ``better`` is "lower", "higher" or "one" (closest to 1 is best)."""

    key: str
    title: str
    better: str
    digits: int = 2

    @property
    def arrow(self):
        return {"lower": "↓", "higher": "↑", "one": "→1"}[self.better]


COLUMNS = (
    Column("recon_stft", "recon MR-STFT", "lower", 3),
    Column("recon_stft_db", "recon log-mag dB", "lower"),
    Column("recon_sc", "recon SC", "lower", 3),
    Column("recon_snr_db", "recon SNR dB", "higher"),
    Column("frechet", "Fréchet", "lower"),
    Column("precision", "precision", "higher"),
    Column("recall", "recall", "higher"),
    Column("density", "density", "one"),
    Column("coverage", "coverage", "higher"),
    Column("recognisable", "recognisable", "higher"),
    Column("ndb_k", "NDB/K", "lower"),
    Column("diversity", "diversity", "one"),
    Column("memorisation", "memorisation", "one"),
    Column("continuity_mean", "contin. mean dB", "lower"),
    Column("continuity_p99", "contin. p99 dB", "lower"),
    Column("clicks", "clicks", "lower"),
    Column("noise_floor", "noise floor", "lower"),
    Column("bitcrush", "bitcrush", "lower"),
    Column("decode_ms", "decode ms", "lower"),
    Column("realtime_factor", "RT factor", "higher", 0),
)


def _badness(column, value):
    if column.better == "lower":
        return value
    if column.better == "higher":
        return -value
    return abs(np.log(max(value, 1e-12)))


def ranks(metrics_by_model, column):
    """Rank of each model in one column: 1 is best, ties share a rank, missing values get None.

    Parameters
    ----------
    metrics_by_model : dict of str -> dict
        Model name -> its ``metrics``.
    column : Column

    Returns
    -------
    ranks : dict of str -> int or None
    """
    values = {name: metrics.get(column.key) for name, metrics in metrics_by_model.items()}
    present = {name: _badness(column, v) for name, v in values.items() if v is not None and np.isfinite(v)}
    result: dict[str, int | None] = {name: None for name in values}
    for name, badness in present.items():
        result[name] = 1 + sum(1 for other in present.values() if other < badness)
    return result
