"""Objective measures of the models: reconstruction, realism, coverage, continuity, artefacts.

The metrics see a model only through its contract (a ``decode`` callable, an ``encode``
callable or None, a latent range, a sample rate), so any generator can be measured and the
tests use NumPy stand-ins. Modules:

- ``spectral``: spectrograms, the multi-resolution STFT distance, SNR;
- ``features``: per-sound feature vectors (MFCC and spectral statistics);
- ``distribution``: Fréchet distance, precision/recall/density/coverage, NDB/K, diversity,
  memorisation;
- ``families``: the drum-family classifier (JSON, NumPy only to apply; the shipped one is
  ``trained/families.json``), family shares and "recognisable";
- ``continuity``: neighbour distances on a latent grid; ``continuity_map`` for the GUI;
- ``artefacts``: clicks, noise floor, bitcrush as distances from the real data;
- ``speed``: decode time per point and real-time factor;
- ``reference``: the real-data reference and its reference rows (training sounds, held-out
  sounds, noise bursts);
- ``runner``: one model's whole evaluation against the reference;
- ``pictures``: contact sheets and the family chart;
- ``ranking``: the one "best model" rule, for the report, the window and the web page
  (``rank_models``, ``choose_best`` with its reason, ``best_cached_model``);
- ``cache``: ``metrics.json`` beside each model; ``load_cached_metrics`` for the GUI;
- ``columns``: the table's columns (``COLUMNS``) and the ranks in each, a leaf module that
  the report, the ranking and the GUI all read;
- ``report``: the table, CSV and charts (``report_markdown``, one writer); its pictures are
  ``report_figures``' (``report_figures``), its sections on families ``report_families``';
- ``synth_fit``: how close a synthesiser fitted to real sounds comes to them, against the
  real sounds' own pairwise spread (``scripts/fit_synth.py``);
- ``comparison``: ``app.py evaluate``'s work: each model evaluated or its cache reused, then
  the report written.

Imports NumPy, SciPy and scikit-learn (matplotlib only when drawing); never TensorFlow, the
GUI or sound devices.
"""

#: The modules other packages use (the layering test holds them to this list).
__all__ = [
    "cache",
    "comparison",
    "conditioned",
    "continuity",
    "errors",
    "families",
    "nearest",
    "ranking",
    "reference",
    "report",
    "runner",
    "synth_fit",
]
