"""Latent continuity: how far the sound moves between neighbouring points of a fine grid.

A smooth generator changes its sound a little between neighbouring grid points everywhere; a
discontinuous one is calm in places and jumps elsewhere ("rapidly changes the sound"). The
distance between neighbours is the mean absolute difference of their log-mel spectrograms
in dB (``spectral.spectral_distance``). The per-cell map (the largest distance from a cell
to any of its four neighbours) is the GUI's discontinuity heat-map.
"""

from dataclasses import dataclass, field

import numpy as np

from constants import SAMPLE_RATE
from evaluation.spectral import as_batch, log_mel_db, spectral_distance

DECODE_BATCH = 256  # points per decode call: big enough to be fast, small enough for memory


def latent_grid(latent_range, resolution):
    """A regular grid over a latent range.

    Parameters
    ----------
    latent_range : tuple of float
        ``(xmin, xmax, ymin, ymax)``.
    resolution : int
        Points per axis (at least 2).

    Returns
    -------
    grid_x : np.ndarray, shape (resolution,)
    grid_y : np.ndarray, shape (resolution,)
    points : np.ndarray, shape (resolution * resolution, 2), float32
        Row-major: point ``iy * resolution + ix`` is ``(grid_x[ix], grid_y[iy])``.
    """
    if resolution < 2:
        raise ValueError(f"the grid needs at least 2 points per axis, got {resolution}")
    xmin, xmax, ymin, ymax = (float(v) for v in latent_range)
    grid_x = np.linspace(xmin, xmax, resolution)
    grid_y = np.linspace(ymin, ymax, resolution)
    xx, yy = np.meshgrid(grid_x, grid_y)
    points = np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)
    return grid_x, grid_y, points


@dataclass(frozen=True)
class Jump:
    """One of the largest changes between two neighbouring grid points."""

    distance: float
    start: tuple  # (x, y)
    end: tuple  # (x, y)

    @property
    def midpoint(self):
        return ((self.start[0] + self.end[0]) / 2, (self.start[1] + self.end[1]) / 2)

    def to_dict(self):
        return {"distance": self.distance, "start": list(self.start), "end": list(self.end)}


@dataclass(frozen=True)
class ContinuityResult:
    """Distances between neighbouring grid points and their summary.

    Attributes
    ----------
    grid_x, grid_y : np.ndarray, shape (R,)
    horizontal : np.ndarray, shape (R, R - 1)
        ``horizontal[iy, ix]``: distance from point (ix, iy) to (ix + 1, iy), in dB.
    vertical : np.ndarray, shape (R - 1, R)
        ``vertical[iy, ix]``: distance from point (ix, iy) to (ix, iy + 1).
    cell_map : np.ndarray, shape (R, R)
        ``cell_map[iy, ix]``: the largest distance from point (ix, iy) to a neighbour.
    mean, p99, maximum : float
        Over all neighbour pairs.
    jumps : list of Jump
        The largest distances, largest first.
    """

    grid_x: np.ndarray
    grid_y: np.ndarray
    horizontal: np.ndarray
    vertical: np.ndarray
    cell_map: np.ndarray
    mean: float
    p99: float
    maximum: float
    jumps: list = field(default_factory=list)


def neighbour_distances(spectra):
    """Distances between right and upper neighbours of a grid of spectrograms.

    Parameters
    ----------
    spectra : np.ndarray, shape (R_y, R_x, T, F)

    Returns
    -------
    horizontal : np.ndarray, shape (R_y, R_x - 1)
    vertical : np.ndarray, shape (R_y - 1, R_x)
    """
    horizontal = spectral_distance(spectra[:, :-1], spectra[:, 1:])
    vertical = spectral_distance(spectra[:-1], spectra[1:])
    return horizontal, vertical


def cell_map_from_edges(horizontal, vertical):
    """Per cell, the largest of the distances to its (up to four) neighbours.

    Parameters
    ----------
    horizontal : np.ndarray, shape (R, R - 1)
    vertical : np.ndarray, shape (R - 1, R)

    Returns
    -------
    cell_map : np.ndarray, shape (R, R)
    """
    rows, cols = horizontal.shape[0], vertical.shape[1]
    cells = np.zeros((rows, cols))
    cells[:, :-1] = np.maximum(cells[:, :-1], horizontal)
    cells[:, 1:] = np.maximum(cells[:, 1:], horizontal)
    cells[:-1, :] = np.maximum(cells[:-1, :], vertical)
    cells[1:, :] = np.maximum(cells[1:, :], vertical)
    return cells


def largest_jumps(grid_x, grid_y, horizontal, vertical, count=5):
    """The ``count`` largest neighbour distances with where they are.

    Returns
    -------
    jumps : list of Jump, largest first; only distances above 0
    """
    edges = []
    for iy, ix in zip(*np.unravel_index(np.argsort(horizontal, axis=None)[::-1][:count], horizontal.shape)):
        edges.append(
            Jump(float(horizontal[iy, ix]), (float(grid_x[ix]), float(grid_y[iy])), (float(grid_x[ix + 1]), float(grid_y[iy])))
        )
    for iy, ix in zip(*np.unravel_index(np.argsort(vertical, axis=None)[::-1][:count], vertical.shape)):
        edges.append(Jump(float(vertical[iy, ix]), (float(grid_x[ix]), float(grid_y[iy])), (float(grid_x[ix]), float(grid_y[iy + 1]))))
    # a generator that never changes has no jumps, not five jumps of 0 dB
    return sorted((e for e in edges if e.distance > 0), key=lambda jump: -jump.distance)[:count]


def latent_continuity(decode, latent_range, resolution=48, sample_rate=SAMPLE_RATE, progress=None):
    """Decode a fine grid and measure the spectral distance between neighbouring points.

    The grid is decoded a few rows at a time (about ``DECODE_BATCH`` points per call), and
    only the spectrograms of the previous row are kept, so memory stays small at 48 x 48.

    Parameters
    ----------
    decode : callable
        ``decode(points (N, 2) float32) -> audio (N, L)``.
    latent_range : tuple of float
        ``(xmin, xmax, ymin, ymax)``.
    resolution : int
        Points per axis.
    sample_rate : int
    progress : callable or None
        Called with the fraction done (0..1) after each batch.

    Returns
    -------
    ContinuityResult
    """
    grid_x, grid_y, points = latent_grid(latent_range, resolution)
    rows_per_call = max(1, DECODE_BATCH // resolution)
    horizontal = np.zeros((resolution, resolution - 1))
    vertical = np.zeros((resolution - 1, resolution))
    previous_row = None
    for first in range(0, resolution, rows_per_call):
        last = min(resolution, first + rows_per_call)
        audio = as_batch(decode(points[first * resolution : last * resolution]))
        spectra = log_mel_db(np.nan_to_num(audio), sample_rate)
        spectra = spectra.reshape(last - first, resolution, *spectra.shape[1:])
        h, v = neighbour_distances(spectra)
        horizontal[first:last] = h
        vertical[first : last - 1] = v
        if previous_row is not None:
            vertical[first - 1] = spectral_distance(previous_row, spectra[0])
        previous_row = spectra[-1]
        if progress is not None:
            progress(last / resolution)
    every_edge = np.concatenate([horizontal.ravel(), vertical.ravel()])
    return ContinuityResult(
        grid_x=grid_x,
        grid_y=grid_y,
        horizontal=horizontal,
        vertical=vertical,
        cell_map=cell_map_from_edges(horizontal, vertical),
        mean=float(every_edge.mean()),
        p99=float(np.percentile(every_edge, 99)),
        maximum=float(every_edge.max()),
        jumps=largest_jumps(grid_x, grid_y, horizontal, vertical),
    )


def continuity_map(decode, latent_range, resolution=48, sample_rate=SAMPLE_RATE):
    """The discontinuity heat-map of a generator, for the GUI.

    Parameters
    ----------
    decode : callable
        ``decode(points (N, 2)) -> audio (N, L)``, e.g. ``TrainedModel.decode``.
    latent_range : tuple of float
        ``(xmin, xmax, ymin, ymax)``, e.g. ``TrainedModel.latent_range()``.
    resolution : int
        Points per axis.
    sample_rate : int

    Returns
    -------
    grid_x : np.ndarray, shape (resolution,)
    grid_y : np.ndarray, shape (resolution,)
    values : np.ndarray, shape (resolution, resolution)
        ``values[iy, ix]``: the largest spectral distance (dB) from point
        ``(grid_x[ix], grid_y[iy])`` to one of its four neighbours. Draw with
        ``origin="lower"``.
    """
    result = latent_continuity(decode, latent_range, resolution, sample_rate)
    return result.grid_x, result.grid_y, result.cell_map


def heatmap_figure(grid_x, grid_y, values, title="", jumps=(), vmax=None):
    """A matplotlib Figure of a discontinuity heat-map (no pyplot, so any thread may draw it).

    Parameters
    ----------
    grid_x, grid_y : np.ndarray, shape (R,)
    values : np.ndarray, shape (R, R)
    title : str
    jumps : sequence of Jump
        Marked with white crosses at their midpoints.
    vmax : float or None
        Top of the colour scale; pass the same value for several models to compare them.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4.2, 3.6), dpi=100)
    axes = figure.add_subplot()
    dx = (grid_x[1] - grid_x[0]) / 2 if len(grid_x) > 1 else 0.5
    dy = (grid_y[1] - grid_y[0]) / 2 if len(grid_y) > 1 else 0.5
    image = axes.imshow(
        values,
        origin="lower",
        aspect="auto",
        cmap="magma",
        vmin=0,
        vmax=vmax,
        extent=(grid_x[0] - dx, grid_x[-1] + dx, grid_y[0] - dy, grid_y[-1] + dy),
    )
    for jump in jumps:
        axes.plot(*jump.midpoint, marker="x", color="white", markersize=6)
    axes.set_xlabel("x")
    axes.set_ylabel("y")
    axes.set_title(title, fontsize=10)
    figure.colorbar(image, ax=axes, label="largest change to a neighbour (dB)")
    figure.tight_layout()
    return figure
