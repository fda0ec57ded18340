"""The comparison report: one table (models as rows, a rank per column), CSV and charts.

The table's columns and ranks are :mod:`evaluation.columns`' (the GUI's Metrics view sorts
by the same definitions).
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

from constants import DRUM_FAMILIES
from evaluation.columns import COLUMNS, ranks
from evaluation.ranking import RANKING_KEYS, overall_scores, rank_models
from evaluation.targets import CANDIDATE, target_checks
from safeio import FileExistsRefused, FolderLock, atomic_write_bytes

#: The names a report writes (``write_report``): the fixed ones and the per-model patterns.
REPORT_FILES = ("report.md", "metrics.csv", "metrics.png", "heatmaps.png", "families.png")
REPORT_PATTERNS = ("continuity_*.png", "contact_*.png")


BASELINE_KEYS = {"recon_stft": "mean_sample_stft", "recon_stft_db": "mean_sample_stft_db",
                 "recon_sc": "mean_sample_sc", "recon_snr_db": "mean_sample_snr_db"}


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
        ({key: r["metrics"].get(source) for key, source in BASELINE_KEYS.items()}
         for r in records.values() if r["metrics"].get("mean_sample_stft") is not None),
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
        More unranked rows, label -> metrics (``runner.reference_rows``' metrics).

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
        writer.writerow([name, *(_csv_value(metrics.get(k)) for k in keys),
                         *(_csv_value(column_ranks[c.key][name]) for c in rank_columns)])
    for label, values in unranked.items():
        writer.writerow([label, *(_csv_value(values.get(k)) for k in keys),
                         *("" for _ in rank_columns)])
    return buffer.getvalue()


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def metrics_figure(metrics_by_model, columns=COLUMNS):
    """Bar charts of each column, one panel per metric, best bar highlighted.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    names = list(metrics_by_model)
    cols = 4
    rows = int(np.ceil(len(columns) / cols))
    figure = Figure(figsize=(4.0 * cols, 0.25 * len(names) * rows + 1.2 * rows), dpi=100,
                    layout="constrained")
    for index, column in enumerate(columns):
        axes = figure.add_subplot(rows, cols, index + 1)
        values = [metrics_by_model[n].get(column.key) for n in names]
        shown = [v if v is not None and np.isfinite(v) else 0.0 for v in values]
        column_ranks = ranks(metrics_by_model, column)
        colours = ["tab:green" if column_ranks[n] == 1 else "tab:blue" for n in names]
        axes.barh(range(len(names)), shown, color=colours)
        axes.set_yticks(range(len(names)), names, fontsize=7)
        axes.invert_yaxis()
        if column.better == "one":
            axes.axvline(1.0, color="grey", linestyle="--", linewidth=1)
        axes.set_title(f"{column.title} ({column.arrow})", fontsize=9)
        axes.tick_params(axis="x", labelsize=7)
    return figure


def heatmaps_figure(records):
    """All models' discontinuity heat-maps side by side, on one colour scale.

    Parameters
    ----------
    records : dict of str -> dict
        Model name -> record with ``continuity`` (``grid_x``, ``grid_y``, ``values``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.colors import PowerNorm
    from matplotlib.figure import Figure

    names = [n for n, r in records.items() if r.get("continuity") is not None]
    cols = min(4, max(1, len(names)))
    rows = max(1, int(np.ceil(len(names) / cols)))
    vmax = max([float(np.nanmax(records[n]["continuity"]["values"])) for n in names] + [1e-9])
    figure = Figure(figsize=(3.2 * cols + 1.2, 2.9 * rows), dpi=100, layout="constrained")
    image = None
    for index, name in enumerate(names):
        continuity = records[name]["continuity"]
        gx, gy = np.asarray(continuity["grid_x"]), np.asarray(continuity["grid_y"])
        axes = figure.add_subplot(rows, cols, index + 1)
        # a square-root colour scale: one model's big jumps would otherwise leave the
        # smooth models' maps uniformly black
        image = axes.imshow(np.asarray(continuity["values"], dtype=float), origin="lower",
                            aspect="auto", cmap="magma", norm=PowerNorm(0.5, vmin=0, vmax=vmax),
                            extent=(gx[0], gx[-1], gy[0], gy[-1]))
        axes.set_title(name, fontsize=9)
        axes.tick_params(labelsize=7)
    if image is not None:
        figure.colorbar(image, ax=figure.axes,
                        label="max change to a neighbour (dB, √ scale)")
    return figure


def _save_figure(figure, path):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    atomic_write_bytes(path, buffer.getvalue())


def write_report(out_dir, records, unavailable=None, data_description=None, real=None,
                 references=None, sheets=None):
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
        ``runner.real_data_scores``: what held-out real sounds score.
    references : dict of str -> dict or None
        ``runner.reference_rows``: label -> ``{"metrics", "details"}``, shown unranked
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
    atomic_write_bytes(out / "metrics.csv", csv_text(metrics_by_model, baseline_metrics(records), real,
                                                     reference_metrics).encode("utf-8"))
    return [out / "report.md", out / "metrics.csv", *paths]


def _family_histograms(records, references):
    """Each grid's family shares: the models', then the reference rows' in parentheses."""
    histograms = {name: record["details"]["families"] for name, record in records.items()
                  if (record.get("details") or {}).get("families")}
    histograms.update({f"({label})": row["details"]["families"]
                       for label, row in (references or {}).items()
                       if (row.get("details") or {}).get("families")})
    return histograms


def report_figures(records, references=None, sheets=None, data_description=None):
    """The report's pictures, made one at a time, in the order the report shows them.

    Parameters
    ----------
    records, references, data_description
        As for :func:`write_report`.
    sheets : dict of str -> dict or None
        As for :func:`write_report`; drawn at ``data_description["sample_rate"]``.

    Yields
    ------
    (str, matplotlib.figure.Figure)
        The file name (``families.png``, ``contact_<name>.png``, ``metrics.png``,
        ``heatmaps.png``, ``continuity_<name>.png``) and its figure.
    """
    histograms = _family_histograms(records, references)
    if histograms:
        from evaluation.pictures import families_figure

        yield "families.png", families_figure(histograms)
    if sheets:
        from evaluation.pictures import contact_sheet_figure

        for name, sheet in sheets.items():
            # a conditioned model's sheets are drawn at its own rate, so its top octave shows
            rate = sheet.get("sample_rate", data_description["sample_rate"])
            yield f"contact_{name}.png", contact_sheet_figure(sheet["audio"], rate, sheet.get("points"), title=name)
    if not records:
        return
    yield "metrics.png", metrics_figure({name: record["metrics"] for name, record in records.items()})
    yield "heatmaps.png", heatmaps_figure(records)
    for name, record in records.items():
        yield f"continuity_{name}.png", _continuity_figure(name, record)


def _continuity_figure(name, record):
    from evaluation.continuity import Jump, heatmap_figure

    continuity = record["continuity"]
    jumps = [Jump(j["distance"], tuple(j["start"]), tuple(j["end"])) for j in record.get("jumps") or []]
    return heatmap_figure(np.asarray(continuity["grid_x"]), np.asarray(continuity["grid_y"]),
                          np.asarray(continuity["values"], dtype=float),
                          title=f"{name}: discontinuity", jumps=jumps[:3])


def report_markdown(records, unavailable=None, data_description=None, real=None, references=None,
                    sheets=None):
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
    if _family_histograms(records, references):
        lines += ["## Drum families of each grid", "", "![families](families.png)", ""]
    lines += conditioned_lines(records)
    lines += family_pad_lines(records, references)
    if sheets:
        lines += ["## Contact sheets", "",
                  "Each model's plane on a 5 × 5 grid (top row = highest y), log-mel "
                  "spectrogram above waveform.", ""]
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
        + (f"; accuracy on the held-out kits "
           f"{description['family_classifier_held_out_accuracy']:.2f}"
           if description.get("family_classifier_held_out_accuracy") is not None
           else "; its accuracy is unknown: no held-out sound of a family it knows")
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
    return [f"Overall (mean rank over {', '.join(RANKING_KEYS)}; "
            "`evaluation.ranking.rank_models`): "
            + ", ".join(f"{i}. {name} ({scores[name]:.1f})"
                        for i, name in enumerate(ranked, 1)) + ".", ""]


def _target_lines(records, references):
    checks = target_checks(records, references)
    if not checks:
        return []
    return [f"## Targets for {CANDIDATE}", ""] + [check.line() for check in checks] + [""]


def _reconstruction_notes(records, metrics_by_model, baseline):
    """Which models reconstructed every sound, and which beat the mean training sample."""
    lines = []
    foreign = [name for name, record in records.items()
               if (record.get("reconstruction") or {}).get("set") == "every sound"]
    if foreign:
        lines += [f"Not trained on this data, so every sound of it was reconstructed: "
                  f"{', '.join(foreign)}.", ""]
    if baseline:
        better = [n for n, m in metrics_by_model.items()
                  if m.get("recon_stft") is not None and m["recon_stft"] < baseline["recon_stft"]]
        worse = [n for n, m in metrics_by_model.items()
                 if m.get("recon_stft") is not None and n not in better]
        lines += [f"Reconstructs closer than the mean training sample (MR-STFT distance): "
                  f"{', '.join(better) or 'none'}; not closer: {', '.join(worse) or 'none'}.", ""]
    return lines


def _charts_and_jumps(records):
    lines = ["## Charts", "", "![metrics](metrics.png)", "", "![heat-maps](heatmaps.png)", ""]
    lines += ["## Largest jumps in the latent space", ""]
    for name, record in records.items():
        jumps = record.get("jumps") or []
        text = "; ".join(
            f"{j['distance']:.1f} dB between ({j['start'][0]:.2f}, {j['start'][1]:.2f}) "
            f"and ({j['end'][0]:.2f}, {j['end'][1]:.2f})" for j in jumps[:3]
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
    return sorted(entry.name for entry in folder.iterdir()
                  if entry.name in REPORT_FILES
                  or any(fnmatch.fnmatchcase(entry.name, pattern) for pattern in REPORT_PATTERNS))


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


def conditioned_lines(records):
    """For each family-conditioned model: its union grid, the control accuracy's confusion
    table and the top octave per family (``evaluation.conditioned``'s details)."""
    lines = []
    for name, record in records.items():
        details = record.get("details") or {}
        if "union" not in details:
            continue
        union = details["union"]
        lines += [f"## {name}: one plane per family", "",
                  f"Its grid is the union of {union['points_per_family']} points on each of the "
                  f"{len(union['families'])} families' planes; its columns above are of that union. Continuity is "
                  f"measured on the {details.get('continuity_family', 'first')} plane.", ""]
        if details.get("control"):
            lines += _control_lines(details["control"])
        lines += _top_octave_lines(details["top_octave"])
    return lines


def family_pad_lines(records, references=None):
    """The family pads of every model that has them (``evaluation.family_pads``): one table
    of the union grid's precision, coverage and control per family across models, then each
    model's confusion table."""
    pads_of = {name: (record.get("details") or {}).get("family_pads") for name, record in records.items()}
    measured = {name: pads for name, pads in pads_of.items() if pads and "reason" not in pads}
    if not measured:
        return []
    without = [f"- {pads['reason']}" for pads in pads_of.values() if pads and "reason" in pads]
    real = ((references or {}).get("real training sounds") or {}).get("metrics") or {}
    lines = ["## Family pads: which model separates the families", "",
             "A model without a family input has a pad per family: a Gaussian over its training codes of "
             "that family, spanned by its two main axes (the window's and the page's keys 1–7). Each pad is "
             f"measured as a conditioned model's plane is: a {_side(measured)} grid per family, decoded; "
             "precision and coverage are the union's, control is the share of each family's grid that the "
             "reference's classifier reads as that family (– where the model has no training sound of it)."]
    if real.get("precision") is not None:
        lines[-1] += (f" The real training sounds score precision {real['precision']:.2f}, "
                      f"coverage {real['coverage']:.2f}.")
    lines += ["", "| model | precision | coverage | " + " | ".join(DRUM_FAMILIES) + " | mean control |",
              "|---|---:|---:|" + "---:|" * (len(DRUM_FAMILIES) + 1)]
    for name, pads in measured.items():
        accuracy = pads["accuracy"]
        cells = [f"{accuracy[f]:.2f}" if f in accuracy else "–" for f in DRUM_FAMILIES]
        lines.append(f"| {name} | {_two(pads['precision'])} | {_two(pads['coverage'])} | " + " | ".join(cells)
                     + f" | {np.mean(list(accuracy.values())):.2f} |")
    lines.append("")
    if without:
        lines += ["No family pads:", ""] + without + [""]
    for name, pads in measured.items():
        lines += [f"### {name}: family pads, asked and read", ""] + _confusion_table(pads["control"]) + [""]
    return lines


def _side(measured):
    side = int(round(next(iter(measured.values()))["points_per_family"] ** 0.5))
    return f"{side} × {side}"


def _two(value):
    return "–" if value is None else f"{value:.2f}"


def _control_lines(confusion):
    return ["### Control accuracy", "",
            "Each row is a family the model was asked for; each column the share of its grid that the "
            "reference's classifier (fitted on this data's training sounds) reads as that family. "
            "The diagonal is the control accuracy.", ""] + _confusion_table(confusion) + [""]


def _confusion_table(confusion):
    """Asked (rows) against read (columns), the diagonal in bold."""
    families = list(next(iter(confusion.values())))
    lines = ["| asked \\ read | " + " | ".join(families) + " |", "|---|" + "---|" * len(families)]
    for asked, row in confusion.items():
        cells = [f"**{row[f]:.2f}**" if f == asked else f"{row[f]:.2f}" for f in families]
        lines.append(f"| {asked} | " + " | ".join(cells) + " |")
    return lines


def _top_octave_lines(top_octave):
    real = top_octave.get("real") or {}
    lines = ["### The top octave", "",
             f"Median share of energy above 11.025 kHz at {top_octave['rate']} Hz, per family"
             + (", beside the real held-out sounds' median and interquartile range." if real else
                " (the real sounds at this rate were not available)."), "",
             "| family | model median | real median | real IQR | within the IQR |", "|---|---|---|---|---|"]
    for family, model in top_octave["model"].items():
        truth = real.get(family)
        if truth is None:
            lines.append(f"| {family} | {model['median']:.1%} | – | – | – |")
            continue
        within = "yes" if truth["q25"] <= model["median"] <= truth["q75"] else "no"
        lines.append(f"| {family} | {model['median']:.1%} | {truth['median']:.1%} | "
                     f"{truth['q25']:.1%}–{truth['q75']:.1%} | {within} |")
    return lines + [""]
