"""The comparison report: one table (models as rows, a rank per column), CSV and charts.

The table's columns and ranks are :mod:`evaluation.columns`' (the GUI's Metrics view sorts
by the same definitions); the pictures are :mod:`evaluation.report_figures`' and the sections
on families :mod:`evaluation.report_families`'.
:func:`replace_report` writes a whole report into a folder as one set (staged beside it,
then swapped in), and refuses a folder that holds a previous report unless asked.
"""

import csv
import errno
import fnmatch
import io
import shutil
from pathlib import Path

import numpy as np

from evaluation.columns import COLUMNS, ranks
from evaluation.ranking import RANKING_KEYS, overall_scores, rank_models
from evaluation.report_families import conditioned_lines, family_pad_lines
from evaluation.report_figures import family_histograms, report_figures
from evaluation.targets import CANDIDATE, target_checks
from safeio import FileExistsRefused, FolderLock, atomic_write_bytes

#: The names a report writes (``write_report``): the fixed ones and the per-model patterns.
REPORT_FILES = ("report.md", "metrics.csv", "metrics.png", "heatmaps.png", "families.png")
REPORT_PATTERNS = ("continuity_*.png", "contact_*.png")
BASELINE_KEYS = {
    "recon_stft": "mean_sample_stft",
    "recon_stft_db": "mean_sample_stft_db",
    "recon_sc": "mean_sample_sc",
    "recon_snr_db": "mean_sample_snr_db",
}


def baseline_metrics(records):
    """The mean-training-sample baseline as table values (None when no record has one).

    Parameters
    ----------
    records : dict of str -> dict
        Model name -> record; every record of one data set carries the same baseline.

    Returns
    -------
    baseline : dict or None
        ``recon_stft``, ``recon_stft_db``, ``recon_sc``, ``recon_snr_db`` of the mean
        training sample.
    """
    return next(
        (
            {key: r["metrics"].get(source) for key, source in BASELINE_KEYS.items()}
            for r in records.values()
            if r["metrics"].get("mean_sample_stft") is not None
        ),
        None,
    )


def _format(value, digits):
    if value is None or not np.isfinite(value):
        return "–"
    if abs(value) >= 1000:
        return f"{value:.0f}"
    return f"{value:.{digits}f}"


def _unranked_rows(baseline, real, references):
    rows = {"mean training sample": baseline}
    if real and not (references and "real held-out sounds" in references):
        rows["real held-out sounds"] = real
    rows.update(references or {})
    return {label: values for label, values in rows.items() if values}


def markdown_table(metrics_by_model, baseline=None, real=None, references=None):
    """The comparison table in Markdown, each value followed by its rank.

    Parameters
    ----------
    metrics_by_model : dict of str -> dict
    baseline : dict or None
        Metrics of "the mean training sample" as a reconstruction (shown, not ranked).
    real : dict or None
        Realism metrics of held-out real sounds (shown, not ranked).
    references : dict of str -> dict or None
        More unranked rows, label -> metrics (``reference.reference_rows``' metrics).

    Returns
    -------
    table : str
    """
    column_ranks = {column.key: ranks(metrics_by_model, column) for column in COLUMNS}
    lines = [
        "| model | " + " | ".join(f"{c.title} {c.arrow}" for c in COLUMNS) + " |",
        "| --- | " + " | ".join("---:" for _ in COLUMNS) + " |",
    ]
    for name, metrics in metrics_by_model.items():
        cells = []
        for column in COLUMNS:
            rank = column_ranks[column.key][name]
            text = _format(metrics.get(column.key), column.digits)
            cells.append(f"{text} ({rank})" if rank is not None else text)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for label, values in _unranked_rows(baseline, real, references).items():
        cells = [_format(values.get(c.key), c.digits) for c in COLUMNS]
        lines.append(f"| *{label}* | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def csv_text(metrics_by_model, baseline=None, real=None, references=None):
    """The table as CSV: every metric of every model, then a rank column per table column.

    Returns
    -------
    text : str
    """
    unranked = _unranked_rows(baseline, real, references)
    keys = []
    for metrics in list(metrics_by_model.values()) + list(unranked.values()):
        keys += [key for key in metrics if key not in keys]
    rank_columns = list(COLUMNS)
    column_ranks = {column.key: ranks(metrics_by_model, column) for column in rank_columns}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["model", *keys, *(f"rank_{c.key}" for c in rank_columns)])
    for name, metrics in metrics_by_model.items():
        writer.writerow(
            [name, *(_csv_value(metrics.get(k)) for k in keys), *(_csv_value(column_ranks[c.key][name]) for c in rank_columns)]
        )
    for label, values in unranked.items():
        writer.writerow([label, *(_csv_value(values.get(k)) for k in keys), *("" for _ in rank_columns)])
    return buffer.getvalue()


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _save_figure(figure, path):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    atomic_write_bytes(path, buffer.getvalue())


def write_report(out_dir, records, unavailable=None, data_description=None, real=None, references=None, sheets=None):
    """Write ``report.md``, ``metrics.csv``, ``metrics.png``, the heat-maps and the pictures.

    Parameters
    ----------
    out_dir : str or Path
        Created when missing.
    records : dict of str -> dict
        Model name -> record (``runner.evaluate_generator`` or the cache), in table order.
    unavailable : dict of str -> str or None
        Models skipped, with their reason.
    data_description : dict or None
        Facts about the data (``Reference.describe()`` plus ``folder``).
    real : dict or None
        ``reference.real_data_scores``: what held-out real sounds score.
    references : dict of str -> dict or None
        ``reference.reference_rows``: label -> ``{"metrics", "details"}``, shown unranked
        under the models, with their family shares in ``families.png``.
    sheets : dict of str -> dict or None
        Model name -> ``{"audio": (25, L), "points": (25, 2)}`` for its contact sheet
        (``contact_<name>.png``); needs ``data_description["sample_rate"]``.

    Returns
    -------
    paths : list of Path
        Every file written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sheets = sheets if sheets and (data_description or {}).get("sample_rate") else {}
    paths = []
    # One figure at a time: a contact sheet per model would otherwise all be held at once.
    for name, figure in report_figures(records, references, sheets, data_description):
        _save_figure(figure, out / name)
        paths.append(out / name)
    metrics_by_model = {name: record["metrics"] for name, record in records.items()}
    reference_metrics = {label: row["metrics"] for label, row in (references or {}).items()}
    markdown = report_markdown(records, unavailable, data_description, real, references, sheets)
    atomic_write_bytes(out / "report.md", markdown.encode("utf-8"))
    atomic_write_bytes(
        out / "metrics.csv", csv_text(metrics_by_model, baseline_metrics(records), real, reference_metrics).encode("utf-8")
    )
    return [out / "report.md", out / "metrics.csv", *paths]


def report_markdown(records, unavailable=None, data_description=None, real=None, references=None, sheets=None):
    """The text of ``report.md``: the table, the overall order, the targets and the notes.

    Parameters are :func:`write_report`'s; ``sheets`` only says which contact sheets the
    report shows (those of a report with a sample rate).

    Returns
    -------
    text : str
    """
    metrics_by_model = {name: record["metrics"] for name, record in records.items()}
    baseline = baseline_metrics(records)
    lines = _table_section(metrics_by_model, baseline, data_description, real, references)
    lines += _overall_lines(metrics_by_model)
    lines += _target_lines(records, references)
    lines += _reconstruction_notes(records, metrics_by_model, baseline)
    if unavailable:
        lines += ["## Skipped", ""] + [f"- {n}: {reason}" for n, reason in unavailable.items()]
        lines.append("")
    if family_histograms(records, references):
        lines += ["## Drum families of each grid", "", "![families](families.png)", ""]
    lines += conditioned_lines(records)
    lines += family_pad_lines(records, references)
    if sheets:
        lines += [
            "## Contact sheets",
            "",
            "Each model's plane on a 5 × 5 grid (top row = highest y), log-mel spectrogram above waveform.",
            "",
        ]
        for name in sheets:
            lines += [f"### {name}", "", f"![{name}](contact_{name}.png)", ""]
    if records:
        lines += _charts_and_jumps(records)
    return "\n".join(lines)


def _table_section(metrics_by_model, baseline, data_description, real, references):
    """The title, the data's facts, how to read the table, and the table."""
    description = data_description or {}
    reference_metrics = {label: row["metrics"] for label, row in (references or {}).items()}
    lines = ["# Model evaluation", ""]
    if data_description:
        facts = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in data_description.items())
        lines += [f"Data — {facts}.", ""]
    return lines + [
        "Each cell: value (rank among the models, 1 = best). ↓ lower is better, ↑ higher is "
        "better, →1 closest to 1 is best. The *mean training sample* row is the baseline an "
        "autoencoder must beat (the same sound offered as every reconstruction); the *real "
        "held-out sounds* row is what real data scores against the reference (a perfect "
        "generator). Continuity is low both for smooth models and for ones that barely "
        "change: read it with diversity.",
        "",
        f"Precision, recall, density and coverage (Kynkäänniemi et al. 2019; Naeem et al. "
        f"2020) compare each model's 16 × 16 grid with the real reference sounds on the "
        f"standardised feature vectors, with k = {description.get('prdc_k', 5)} neighbours "
        "per ball. *Recognisable* is the mean top probability of a drum-family classifier "
        "(logistic regression on the same features, fitted on the training kits"
        + (
            f"; accuracy on the held-out kits {description['family_classifier_held_out_accuracy']:.2f}"
            if description.get("family_classifier_held_out_accuracy") is not None
            else "; its accuracy is unknown: no held-out sound of a family it knows"
        )
        + "). The *real training sounds* row offers training sounds outside the reference "
        "as if generated (the ceiling); *noise bursts* are decaying white noise, the trivial "
        "generator every model must beat.",
        "",
        markdown_table(metrics_by_model, baseline, real, reference_metrics),
        "",
    ]


def _overall_lines(metrics_by_model):
    scores = overall_scores(metrics_by_model)
    ranked = [name for name in rank_models(metrics_by_model) if scores[name] is not None]
    if not ranked:
        return []
    return [
        f"Overall (mean rank over {', '.join(RANKING_KEYS)}; "
        "`evaluation.ranking.rank_models`): "
        + ", ".join(f"{i}. {name} ({scores[name]:.1f})" for i, name in enumerate(ranked, 1))
        + ".",
        "",
    ]


def _target_lines(records, references):
    checks = target_checks(records, references)
    if not checks:
        return []
    return [f"## Targets for {CANDIDATE}", ""] + [check.line() for check in checks] + [""]


def _reconstruction_notes(records, metrics_by_model, baseline):
    """Which models reconstructed every sound, and which beat the mean training sample."""
    lines = []
    foreign = [name for name, record in records.items() if (record.get("reconstruction") or {}).get("set") == "every sound"]
    if foreign:
        lines += [f"Not trained on this data, so every sound of it was reconstructed: {', '.join(foreign)}.", ""]
    if baseline:
        better = [
            n for n, m in metrics_by_model.items() if m.get("recon_stft") is not None and m["recon_stft"] < baseline["recon_stft"]
        ]
        worse = [n for n, m in metrics_by_model.items() if m.get("recon_stft") is not None and n not in better]
        lines += [
            f"Reconstructs closer than the mean training sample (MR-STFT distance): "
            f"{', '.join(better) or 'none'}; not closer: {', '.join(worse) or 'none'}.",
            "",
        ]
    return lines


def _charts_and_jumps(records):
    lines = ["## Charts", "", "![metrics](metrics.png)", "", "![heat-maps](heatmaps.png)", ""]
    lines += ["## Largest jumps in the latent space", ""]
    for name, record in records.items():
        jumps = record.get("jumps") or []
        text = "; ".join(
            f"{j['distance']:.1f} dB between ({j['start'][0]:.2f}, {j['start'][1]:.2f}) and ({j['end'][0]:.2f}, {j['end'][1]:.2f})"
            for j in jumps[:3]
        )
        lines.append(f"- {name} ([heat-map](continuity_{name}.png)): {text or 'none'}")
    lines.append("")
    return lines


def previous_report_files(folder):
    """The names in ``folder`` that a report writes (a previous report's files), sorted.

    Parameters
    ----------
    folder : str or Path

    Returns
    -------
    list of str
        Empty when ``folder`` is missing or holds none of them.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.name in REPORT_FILES or any(fnmatch.fnmatchcase(entry.name, pattern) for pattern in REPORT_PATTERNS)
    )


def replace_report(out_dir, records, *, overwrite=False, log=None, **report):
    """Write a whole report into ``out_dir`` as one set: a reader sees the old or the new.

    The report is written into a staging folder beside ``out_dir`` and swapped in
    (:func:`safeio.swap_in`), under a lock beside the folder. Files of the folder that are
    not a report's (a user's notes) are kept; a previous report's files that the new report
    does not write (the pictures of a model no longer in it) go with the old report.

    Parameters
    ----------
    out_dir : str or Path
        The report folder; created when missing.
    records : dict of str -> dict
        As for :func:`write_report`.
    overwrite : bool
        Replace a previous report in ``out_dir``; False refuses it.
    log : callable, optional
        ``log(line)`` for each thing an interrupted evaluate run had left and this one
        finished or removed (:func:`safeio.finish_interrupted_swaps`).
    **report
        The other arguments of :func:`write_report`.

    Returns
    -------
    list of Path
        Every file written, under ``out_dir``.

    Raises
    ------
    safeio.FileExistsRefused
        ``out_dir`` holds a previous report and ``overwrite`` is False.
    safeio.FolderBusy
        Another run is writing this report folder.
    safeio.CannotSwap
        ``out_dir`` is a link or a mount point (or holds one): one line; nothing was changed.
    safeio.WriteFailed
        A file or the swap cannot be done: one line; the old report is as it was.
    """
    from safeio import check_swappable, finish_interrupted_swaps, staging_folder, swap_in

    out = Path(out_dir)
    check_swappable(out, "a report folder")
    with FolderLock(out, what="evaluate run", beside=True):
        for line in finish_interrupted_swaps(out, "evaluate", kind_file=REPORT_FILES[0]):
            if log is not None:
                log(line)
        previous = previous_report_files(out)
        if previous and not overwrite:
            raise FileExistsRefused(errno.EEXIST, f"{out}: holds a previous report (pass --force to replace it)")
        staged = staging_folder(out, "evaluate")
        try:
            paths = write_report(staged, records, **report)
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
        swap_in(staged, out, drop=previous)
    return [out / path.relative_to(staged) for path in paths]
