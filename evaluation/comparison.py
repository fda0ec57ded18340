"""Comparing the zoo's models on one data set: each model evaluated (or its cached metrics
reused), then the comparison report written as one set.

This is what ``app.py evaluate`` does between parsing its command line and printing. The
caller loads the models (so this module needs no TensorFlow of its own) and shows progress;
:func:`evaluate_models` reports through a :class:`Progress`, and never prints.
"""

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The cache by module, not by name: tests replace its functions (a zoo that refuses writes).
from evaluation import cache
from evaluation.conditioned import evaluate_conditioned
from evaluation.errors import EvaluationError
from evaluation.family_pads import family_pad_scores
from evaluation.pictures import contact_sheet_points
from evaluation.reference import reference_rows
from evaluation.runner import evaluate_model, trained_on


class Progress:
    """Where :func:`evaluate_models` says how far it is; this one says nothing.

    Positions count models: ``2.5`` is half-way through the third.
    """

    def describe(self, text):
        """What is being done now (a model's name, then ``"name: stage"``)."""

    def reach(self, position):
        """Models done so far, fractions included."""

    def note(self, text):
        """A one-line remark about a model that does not stop the run."""


@dataclass
class Comparison:
    """What :func:`evaluate_models` found, in the order the models were given.

    Attributes
    ----------
    records : dict of str -> dict
        Model name -> its record (``runner.evaluate_generator``'s, or the cached one).
    unavailable : dict of str -> str
        Model name -> why it was skipped.
    sheets : dict of str -> dict
        Model name -> ``{"audio", "points"}`` for its contact sheet.
    """

    records: dict = field(default_factory=dict)
    unavailable: dict = field(default_factory=dict)
    sheets: dict = field(default_factory=dict)


@dataclass(frozen=True)
class DataUnderTest:
    """The data set every model is measured on.

    Attributes
    ----------
    folder : str or Path
        As the user named it (the report and the cards' ``trained_on`` compare it).
    dataset : preprocessing.dataset.Dataset
    reference : runner.Reference
    """

    folder: object
    dataset: Any
    reference: object

    def fingerprint(self):
        return cache.data_fingerprint(Path(self.dataset.folder) / "manifest.csv", self.dataset.settings.to_dict())


def evaluate_models(names, load, data, models_folder, *, force=False, progress=None):
    """Evaluate each named model on ``data``, reusing cached metrics where they are current.

    Parameters
    ----------
    names : sequence of str
    load : callable
        ``load(name)`` -> a trained model (``decode``, ``encode``, ``latent_range()``,
        ``card``...); raises :class:`EvaluationError` with the reason when it cannot.
    data : DataUnderTest
    models_folder : str or Path
        The zoo; each model's cache (``metrics.json``, its heat-map) is in its folder there.
    force : bool
        Recompute even when the cached metrics are current.
    progress : Progress or None

    Returns
    -------
    Comparison
    """
    progress = progress or Progress()
    data_fp = data.fingerprint()
    comparison = Comparison()
    for index, name in enumerate(names):
        progress.describe(name)
        try:
            model = load(name)
            record = _record_of(model, name, index, data, data_fp, Path(models_folder) / name, force, progress)
        except EvaluationError as error:
            comparison.unavailable[name] = str(error)
            progress.reach(index + 1)
            continue
        comparison.records[name] = record
        comparison.sheets.update(_sheets(model, name))
        progress.reach(index + 1)
    return comparison


def _sheets(model, name):
    """The contact sheets of a model: one, or one per family for a conditioned model (named
    ``NAME_FAMILY``, at the model's own rate)."""
    points = contact_sheet_points(model.latent_range())
    if not model.conditioned:
        return {name: {"audio": model.decode(points), "points": points}}
    from constants import DRUM_FAMILIES

    return {
        f"{name}_{family}": {"audio": model.decode(points, family=family), "points": points, "sample_rate": int(model.sample_rate)}
        for family in DRUM_FAMILIES
    }


def _trained_here(model, data):
    """Whether ``model`` trained on ``data``'s sounds (:func:`trained_on`). A model made at
    another rate trained on the same kits when its card holds out the same kits: the data is
    the same drums, preprocessed at the other rate."""
    dataset, card_data = data.dataset, model.card.data
    if trained_on(card_data, data.folder, len(dataset), dataset.validation_kits):
        return True
    return (
        int(model.sample_rate) != int(data.reference.sample_rate)
        and isinstance(card_data, dict)
        and bool(dataset.validation_kits)
        and sorted(card_data.get("validation_kits") or []) == sorted(dataset.validation_kits)
    )


def _real_native(model):
    """A conditioned model's own training data's held-out sounds, at its own rate, with their
    families (for the top octave); None when that data is not here or not at that rate.

    The card's dataset folder is already where it is from here (read relative to the zoo)."""
    folder = model.card.data_folder
    if not model.conditioned or not folder:
        return None
    from preprocessing.dataset import DatasetError, load_dataset

    try:
        dataset = load_dataset(Path(folder))
    except (DatasetError, OSError):
        return None
    if int(dataset.settings.sample_rate) != int(model.sample_rate):
        return None
    held_out = dataset.validation()
    return held_out.audio, list(held_out.families)


def _record_of(model, name, index, data, data_fp, folder, force, progress):
    """One model's record: the cached one when current (and not ``force``), else measured
    and cached."""
    dataset = data.dataset
    trained_here = _trained_here(model, data)
    key = cache.cache_key(
        cache.model_fingerprint(folder),
        data_fp,
        {**data.reference.options.to_dict(), "reconstruct": "held-out kits" if trained_here else "every sound"},
    )
    problem = cache.metrics_problem(folder)
    if problem:  # a damaged or hostile metrics.json: no cache for this model, the others go on
        progress.note(f"{name}: cached metrics not used ({problem})")
    record = None if force else cache.load_cached_metrics(folder, key)
    if record is not None:
        if not model.conditioned and "family_pads" not in record["details"]:
            # a record cached before family pads were measured gets them (a few seconds), and
            # the zoo's cache is left as it is
            record["details"]["family_pads"] = family_pad_scores(name, model, data.reference)
        return record

    def at_stage(stage, fraction):
        progress.describe(f"{name}: {stage}")
        progress.reach(index + fraction)

    if model.conditioned:  # one plane per family (evaluation.conditioned)
        record = evaluate_conditioned(model, data.reference, at_stage, trained_here, _real_native(model))
    else:
        record = evaluate_model(model, data.reference, at_stage, trained_here)
        record["details"]["family_pads"] = family_pad_scores(name, model, data.reference)
    # Only the model's own training data is cached in the zoo (its entry is the one the
    # window shows); other data goes to the user cache, and the zoo is not written.
    try:
        cache.save_metrics(folder, record, key, training_data=trained_here, data_folder=dataset.folder)
        if trained_here:  # the zoo's heat-map is the training data's, as its metrics
            _save_heatmap(record, name, folder / cache.HEATMAP_FILE)
    except OSError as error:
        # a read-only zoo still gets its report, just no cache
        progress.note(f"{name}: metrics not cached ({error.strerror or error})")
    return record


def _save_heatmap(record, name, path):
    from evaluation.continuity import Jump, heatmap_figure
    from safeio import atomic_write_bytes

    continuity = record["continuity"]
    figure = heatmap_figure(
        continuity["grid_x"],
        continuity["grid_y"],
        continuity["values"],
        title=f"{name}: discontinuity",
        jumps=[Jump(j["distance"], tuple(j["start"]), tuple(j["end"])) for j in record["jumps"][:3]],
    )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    atomic_write_bytes(path, buffer.getvalue())


@dataclass(frozen=True)
class WrittenReport:
    """A report written by :func:`write_comparison`: its files and the table to show."""

    paths: list
    table: str


def write_comparison(out, comparison, data, *, overwrite=False, log=None):
    """Write the comparison report of ``comparison`` into ``out`` (one set, staged and swapped in).

    Parameters
    ----------
    out : str or Path
    comparison : Comparison
    data : DataUnderTest
    overwrite : bool
        Replace a previous report in ``out``.
    log : callable, optional
        ``log(line)`` for each thing an interrupted evaluate run had left and this one
        finished or removed.

    Returns
    -------
    WrittenReport

    Raises
    ------
    OSError
        safeio's WriteFailed, FileExistsRefused or FolderBusy, with a one-line reason.
    """
    from evaluation.report import baseline_metrics, markdown_table, replace_report

    records = comparison.records
    description = {"folder": str(data.folder), **data.reference.describe()}
    references = reference_rows(data.reference)
    paths = replace_report(
        out,
        records,
        overwrite=overwrite,
        log=log,
        unavailable=comparison.unavailable,
        data_description=description,
        references=references,
        sheets=comparison.sheets,
    )
    table = markdown_table(
        {name: record["metrics"] for name, record in records.items()},
        baseline_metrics(records),
        references={label: row["metrics"] for label, row in references.items()},
    )
    return WrittenReport(paths, table)
