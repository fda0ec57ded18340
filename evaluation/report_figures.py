"""The report's pictures, made one at a time in the order the report shows them: the
families' shares, the contact sheets, a bar chart per column, the discontinuity heat-maps side
by side and one per model. Figures are matplotlib ``Figure`` objects, never pyplot."""

import numpy as np

from evaluation.columns import COLUMNS, ranks


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
    histograms = family_histograms(records, references)
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
    figure = Figure(figsize=(4.0 * cols, 0.25 * len(names) * rows + 1.2 * rows), dpi=100, layout="constrained")
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
        image = axes.imshow(
            np.asarray(continuity["values"], dtype=float),
            origin="lower",
            aspect="auto",
            cmap="magma",
            norm=PowerNorm(0.5, vmin=0, vmax=vmax),
            extent=(gx[0], gx[-1], gy[0], gy[-1]),
        )
        axes.set_title(name, fontsize=9)
        axes.tick_params(labelsize=7)
    if image is not None:
        figure.colorbar(image, ax=figure.axes, label="max change to a neighbour (dB, √ scale)")
    return figure


def _continuity_figure(name, record):
    from evaluation.continuity import Jump, heatmap_figure

    continuity = record["continuity"]
    jumps = [Jump(j["distance"], tuple(j["start"]), tuple(j["end"])) for j in record.get("jumps") or []]
    return heatmap_figure(
        np.asarray(continuity["grid_x"]),
        np.asarray(continuity["grid_y"]),
        np.asarray(continuity["values"], dtype=float),
        title=f"{name}: discontinuity",
        jumps=jumps[:3],
    )


def family_histograms(records, references):
    """Each grid's family shares: the models', then the reference rows' in parentheses."""
    histograms = {
        name: record["details"]["families"] for name, record in records.items() if (record.get("details") or {}).get("families")
    }
    histograms.update(
        {
            f"({label})": row["details"]["families"]
            for label, row in (references or {}).items()
            if (row.get("details") or {}).get("families")
        }
    )
    return histograms
