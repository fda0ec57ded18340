"""Pictures people look at before the tables: contact sheets and family histograms.

A contact sheet is a model's latent plane sampled on a 5 x 5 grid, each cell the sound's
log-mel spectrogram above its waveform, laid out as the plane is (high y at the top), so a
page shows at a glance whether a model makes kicks, snares and hats or 25 noise bursts.
Figures are matplotlib ``Figure`` objects (no pyplot), so a worker thread may draw them.
"""

import numpy as np

from evaluation.families import FAMILIES
from evaluation.spectral import as_batch, log_mel_db

SHEET_SIZE = 5
FAMILY_COLOURS = {
    "kick": "#1f4e79",
    "snare": "#c0504d",
    "clap": "#f4b183",
    "hat": "#9bbb59",
    "tom": "#4bacc6",
    "cymbal": "#ffd966",
    "percussion": "#8064a2",
}


def contact_sheet_points(latent_range, size=SHEET_SIZE):
    """The latent points of a contact sheet, in reading order (top row = highest y).

    Parameters
    ----------
    latent_range : tuple of float
        ``(xmin, xmax, ymin, ymax)``.
    size : int
        Cells per side.

    Returns
    -------
    points : np.ndarray, shape (size * size, 2), float32
    """
    xmin, xmax, ymin, ymax = latent_range
    xs = np.linspace(xmin, xmax, size)
    ys = np.linspace(ymax, ymin, size)
    return np.array([(x, y) for y in ys for x in xs], dtype=np.float32)


def _envelope(signal, columns):
    """Minimum and maximum of ``signal`` over ``columns`` equal stretches."""
    usable = len(signal) // columns * columns
    if usable == 0:
        return signal, signal
    blocks = signal[:usable].reshape(columns, -1)
    return blocks.min(axis=1), blocks.max(axis=1)


def contact_sheet_figure(audio, sample_rate, points=None, title=None):
    """A grid of sounds, each cell a log-mel spectrogram above its waveform (scaled to its peak).

    Parameters
    ----------
    audio : np.ndarray, shape (size * size, L)
        In reading order, as :func:`contact_sheet_points` gives the points.
    sample_rate : int
    points : np.ndarray, shape (size * size, 2) or None
        Written under each cell when given.
    title : str or None

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    audio = np.nan_to_num(as_batch(audio))
    size = round(np.sqrt(len(audio)))
    if size * size != len(audio):
        raise ValueError(f"a contact sheet needs a square number of sounds, got {len(audio)}")
    spectrograms = log_mel_db(audio, sample_rate)  # (N, T, mels)
    seconds = audio.shape[1] / sample_rate
    # fixed spacing, not a constrained layout: 50 axes take seconds to lay out on 2 cores
    figure = Figure(figsize=(2.2 * size, 2.3 * size), dpi=80)
    cells = figure.add_gridspec(size, size, left=0.01, right=0.99, bottom=0.03, top=0.95, wspace=0.05, hspace=0.25)
    for index in range(len(audio)):
        row, column = divmod(index, size)
        inner = cells[row, column].subgridspec(2, 1, height_ratios=(3, 1), hspace=0.0)
        top, bottom = figure.add_subplot(inner[0]), figure.add_subplot(inner[1])
        top.imshow(
            spectrograms[index].T,
            origin="lower",
            aspect="auto",
            cmap="magma",
            vmin=-80,
            vmax=0,
            extent=(0, seconds, 0, spectrograms.shape[2]),
        )
        peak = float(np.max(np.abs(audio[index])))
        colour = "tab:red" if peak > 1.0 else "tab:blue"
        # a min/max envelope over 256 columns draws what 16,384 line segments would
        low, high = _envelope(audio[index], 256)
        bottom.fill_between(np.linspace(0, seconds, len(low)), low, high, color=colour, linewidth=0)
        bottom.set_xlim(0, seconds)
        # each waveform on its own scale, so quiet corners still show a shape; the label
        # gives the peak
        limit = 1.05 * max(peak, 1e-4)
        bottom.set_ylim(-limit, limit)
        for axes in (top, bottom):
            axes.set_xticks([])
            axes.set_yticks([])
        if points is not None:
            bottom.set_xlabel(f"({points[index][0]:.1f}, {points[index][1]:.1f}) peak {peak:.2f}", fontsize=7)
    if title:
        figure.suptitle(f"{title} (log-mel, -80 to 0 dB, above the waveform scaled to its peak; red: beyond full scale)", fontsize=10)
    return figure


def families_figure(histograms):
    """Stacked bars of the family shares of each model's grid (and of the reference rows).

    Parameters
    ----------
    histograms : dict of str -> dict of str -> float
        Row label -> family -> share (each row sums to 1).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    labels = list(histograms)
    figure = Figure(figsize=(9.0, 0.32 * len(labels) + 1.4), dpi=100, layout="constrained")
    axes = figure.add_subplot(1, 1, 1)
    left = np.zeros(len(labels))
    for family in FAMILIES:
        shares = np.array([histograms[label].get(family, 0.0) for label in labels])
        axes.barh(range(len(labels)), shares, left=left, color=FAMILY_COLOURS[family], label=family, edgecolor="white", linewidth=0.5)
        left += shares
    axes.set_yticks(range(len(labels)), labels, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0, 1)
    axes.set_xlabel("share of the 16 × 16 grid by most probable family")
    axes.legend(ncols=len(FAMILIES), loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize=8, frameon=False)
    return figure
