"""A run's history: the CSV that Keras' ``CSVLogger`` writes, and its loss-curve PNG."""

import csv
import io
import math
from pathlib import Path

from safeio import atomic_write_bytes

#: The history's name, beside a run's checkpoint and in the shipped set.
HISTORY_FILE = "history.csv"


def read_history(path):
    """The history CSV as columns: ``{name: [float, ...]}`` (empty when there is none)."""
    path = Path(path)
    if not path.is_file():
        return {}
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    columns: dict[str, list] = {}
    for row in rows:
        for key, value in row.items():
            try:
                columns.setdefault(key, []).append(float(value))
            except (TypeError, ValueError):
                columns.setdefault(key, []).append(math.nan)
    return columns


def losses_of_epoch(columns, epoch=None):
    """The losses and other numbers of ``epoch`` (from 1; None: the last) in ``columns``, as
    :func:`read_history` gives them; an epoch the history lacks gives the last row's."""
    names = [key for key in columns if key not in ("epoch", "epoch_seconds") and columns[key]]
    rows = columns.get("epoch", [])
    row = -1
    if epoch is not None and (epoch - 1) in rows:
        row = rows.index(epoch - 1)
    return {key: columns[key][row] for key in names}


def keep_epochs_before(path, epoch):
    """Drop the rows of epochs >= ``epoch`` (0-based), before a resumed run appends:
    an epoch that was cut short or went NaN is trained again and logged once."""
    path = Path(path)
    if not path.is_file():
        return
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames or []
        rows = [row for row in reader if _epoch_of(row) < epoch]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(path, out.getvalue().encode("utf-8"))


def _epoch_of(row):
    try:
        return int(float(row.get("epoch", "")))
    except ValueError:
        return math.inf


def write_loss_plot(history_csv, png, title, loss_names=("loss",)):
    """Plot the losses of a history CSV (and their ``val_`` twins) against the epoch.

    Uses a bare ``Figure`` with the Agg canvas, so it works with no display and from any
    thread. Positive-only curves get a log axis, where an autoencoder's progress shows.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    columns = read_history(history_csv)
    epochs = [e + 1 for e in columns.get("epoch", [])]
    figure = Figure(figsize=(6.4, 4.0), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    plotted: list = []
    for name in loss_names:
        for key, style in ((name, "-"), (f"val_{name}", "--")):
            values = columns.get(key)
            if values and len(values) == len(epochs):
                axes.plot(epochs, values, style, marker="." if len(epochs) < 30 else None, label=key)
                plotted.extend(v for v in values if math.isfinite(v))
    if plotted and min(plotted) > 0:
        axes.set_yscale("log")
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss")
    axes.set_title(title)
    if plotted:
        axes.legend()
    axes.grid(True, alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    atomic_write_bytes(Path(png), buffer.getvalue())
