"""Matplotlib figures of the window's panels, built (and rendered) in the render worker.

These build ``matplotlib.figure.Figure`` objects, never pyplot, so that a worker thread may
make them; the GUI thread only puts a finished figure on its canvas (:mod:`gui.canvas`).
Every builder takes plain data and the panel's size in pixels.
"""

import time
from dataclasses import dataclass, field

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from gui.features import FEATURE_LABELS, FEATURE_SCALES, envelope, spectrogram_db
from gui.palette import FAMILY_COLOURS, POINT_COLOUR, family_colour, made_colour

DPI = 100
FONT = 8
ROW_NOTE_CHARS = 100  # a compared model's note (a point outside its range says what played)
#: Where the map's legend begins (a share of the figure's width): beside the axes, not over the dots
LEGEND_LEFT = 0.77
SPECTRUM_RANGE_DB = 80  # the spectrogram's colours span this far below its loudest bin


@dataclass
class PanelFigure:
    """A finished figure and what the GUI needs to interact with it.

    Attributes
    ----------
    figure : matplotlib.figure.Figure or None
        Already rendered by an Agg canvas (``agg``), so the GUI thread can show its pixels
        without drawing it again. None when only ``pixels`` come (the output panel).
    axes : matplotlib.axes.Axes or None
        The map's axes (for clicks and the moving point).
    marker : matplotlib.lines.Line2D or None
        The map's current-point marker, drawn by blitting.
    codes : np.ndarray (N, 2) or None
        The map's sample points, for choosing the sample under a click.
    render_ms : float
        Time spent building and rendering in the worker.
    """

    panel: str
    figure: Figure | None
    agg: FigureCanvasAgg = None
    pixels: np.ndarray | None = None  # (height, width, 4) RGBA, instead of a figure
    axes: object = None
    marker: object = None
    codes: np.ndarray | None = None
    key: tuple = ()
    render_ms: float = 0.0
    extra: dict = field(default_factory=dict)


def _figure(size_px):
    width, height = (max(int(v), 50) for v in size_px)
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    figure.set_facecolor("white")
    return figure


def _finish(panel, figure, started, **kwargs):
    agg = FigureCanvasAgg(figure)
    agg.draw()
    return PanelFigure(panel, figure, agg=agg, render_ms=1000 * (time.perf_counter() - started), **kwargs)


def _style(ax, ticks=5):
    # few ticks: tick layout is most of the cost of drawing these small figures
    ax.xaxis.set_major_locator(MaxNLocator(ticks))
    ax.yaxis.set_major_locator(MaxNLocator(3 if ticks < 5 else ticks))
    ax.tick_params(labelsize=FONT - 1, length=2, pad=1)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def peak_scale(*sounds):
    """A symmetric y-limit that shows the loudest of the sounds (never below -26 dBFS)."""
    peaks = [float(np.max(np.abs(s))) for s in sounds if s is not None and len(s)]
    return max(max(peaks, default=1.0), 0.05) * 1.08


def peak_dbfs(audio):
    peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
    return 20 * np.log10(peak) if peak > 0 else -np.inf


def _waveform(ax, audio, sample_rate, colour="#1f4e79", label=None, columns=800, scale=1.05):
    duration = len(audio) / sample_rate
    lower, upper = envelope(audio, columns)
    t = np.linspace(0, duration, len(lower))
    ax.fill_between(t, lower, upper, color=colour, linewidth=0.6, label=label)
    ax.set_xlim(0, duration)
    ax.set_ylim(-scale, scale)


class OutputPainter:
    """Waveform over spectrogram of the current sound, fast enough to follow a drag.

    The axes, ticks and labels (most of the cost of a matplotlib draw) are drawn once per
    panel size and sound format; each new sound then only restores that background and
    draws its data artists onto it (blitting, inside the worker's Agg canvas). The result is
    a copy of the pixels, so the GUI thread shows them without touching this figure, which
    the worker keeps reusing. One painter belongs to one (the render) thread.
    """

    def __init__(self):
        self._key = None
        self._parts = None
        self._drawn = []

    def paint(self, audio, sample_rate, size_px, *, title="", original=None):
        """Paint one sound (and an opened original in grey behind it).

        Parameters
        ----------
        audio : np.ndarray, shape (L,)
        sample_rate : int
        size_px : (int, int)
        original : np.ndarray, shape (L,) or None

        Returns
        -------
        PanelFigure
            ``pixels`` (height, width, 4) uint8 RGBA; ``figure`` None.
        """
        started = time.perf_counter()
        audio = np.asarray(audio, dtype=np.float32).ravel()
        key = (tuple(int(v) for v in size_px), int(sample_rate), audio.size, original is not None)
        if key != self._key:
            self._parts = self._base(*key)
            self._key = key
        figure, agg, background, wave_ax, spec_ax, image, heading = self._parts
        agg.restore_region(background)
        for artist in self._drawn:
            artist.remove()
        # scaled to its peak (down to -26 dBFS, so near-silence stays flat); the heading
        # states the level in dBFS
        scale = peak_scale(audio, original)
        self._drawn = []
        if original is not None:
            self._drawn.append(_envelope_fill(wave_ax, original, sample_rate, scale, "#b0b0b0"))
        self._drawn.append(_envelope_fill(wave_ax, audio, sample_rate, scale, "#1f4e79"))
        for artist in self._drawn:
            wave_ax.draw_artist(artist)
        spectrum = spectrogram_db(audio)
        top = max(float(spectrum.max()), -60.0)  # like the waveform: relative to the sound
        image.set_data(spectrum)
        image.set_clim(top - SPECTRUM_RANGE_DB, top)
        spec_ax.draw_artist(image)
        heading.set_text(f"{title}   peak {peak_dbfs(audio):.1f} dBFS")
        figure.draw_artist(heading)
        pixels = np.array(agg.buffer_rgba())  # a copy: the next paint reuses the buffer
        return PanelFigure("output", None, pixels=pixels, render_ms=1000 * (time.perf_counter() - started))

    @staticmethod
    def _base(size_px, sample_rate, length, with_original):
        figure = _figure(size_px)
        duration = length / sample_rate
        wave_ax = figure.add_axes((0.08, 0.60, 0.90, 0.32))
        spec_ax = figure.add_axes((0.08, 0.12, 0.90, 0.40), sharex=wave_ax)
        wave_ax.set_xlim(0, duration)
        wave_ax.set_ylim(-1.05, 1.05)
        wave_ax.set_yticks([])
        wave_ax.set_ylabel("wave", fontsize=FONT, labelpad=2)
        wave_ax.tick_params(labelbottom=False)
        if with_original:
            handles = [Patch(color="#b0b0b0", label="original"), Patch(color="#1f4e79", label="decoded")]
            wave_ax.legend(handles=handles, fontsize=FONT - 1, loc="upper right", frameon=False)
        empty = np.full(spectrogram_db(np.zeros(length, np.float32)).shape, -100.0, np.float32)
        image = spec_ax.imshow(
            empty,
            origin="lower",
            aspect="auto",
            cmap="magma",
            vmin=-90,
            vmax=0,
            extent=(0, duration, 0, sample_rate / 2000),
            interpolation="nearest",
            animated=True,
        )
        spec_ax.set_xlabel("seconds", fontsize=FONT, labelpad=1)
        spec_ax.set_ylabel("kHz", fontsize=FONT, labelpad=1)
        _style(wave_ax, ticks=3)
        _style(spec_ax, ticks=4)
        wave_ax.set_yticks([])  # drawn scaled to its peak: the heading gives the level
        heading = figure.text(0.08, 0.95, "", fontsize=FONT, va="bottom", animated=True)
        agg = FigureCanvasAgg(figure)
        agg.draw()
        background = agg.copy_from_bbox(figure.bbox)
        return figure, agg, background, wave_ax, spec_ax, image, heading


def _envelope_fill(ax, audio, sample_rate, scale, colour, columns=800):
    lower, upper = envelope(audio, columns)
    t = np.linspace(0, len(audio) / sample_rate, len(lower))
    return ax.fill_between(t, lower / scale, upper / scale, color=colour, linewidth=0.6, animated=True)


def map_figure(size_px, request):
    """The latent map: training codes by family, or a feature heat-map, and the point.

    Parameters
    ----------
    size_px : tuple (width, height)
    request : gui.effects.MapRequest
        ``latent_range`` (xmin, xmax, ymin, ymax), ``point`` (x, y), ``codes`` (N, 2) or
        None with their ``families``, ``heat`` (n, n) or None (a grid from
        :func:`gui.features.grid_feature`, row 0 at the bottom) with its ``feature`` for the
        colour bar, the morph's ends ``a`` and ``b``, and the ``title``.
    """
    started = time.perf_counter()
    figure = _figure(size_px)
    heat, made = request.heat, request.made
    codes = request.codes
    has_codes = codes is not None and len(codes)
    # the legend goes beside the axes, never over the dots; the colour bar likewise
    right = 0.86 if heat is not None else (LEGEND_LEFT - 0.02 if has_codes or made is not None else 0.98)
    ax = figure.add_axes((0.08, 0.10, right - 0.08, 0.82))
    xmin, xmax, ymin, ymax = request.latent_range
    if heat is not None:
        _heat_layer(figure, ax, heat, request.latent_range, request.feature)
    if made is not None:
        _made_layer(ax, np.asarray(made), request.latent_range)
    if has_codes:
        codes = np.asarray(codes, dtype=np.float32)
        _codes_layer(ax, codes, request.families, faint=heat is not None, highlight=request.highlight)
    if heat is None and (has_codes or made is not None):
        _legend(ax, made)
    for label, spot in (("A", request.a), ("B", request.b)):
        if spot is not None:
            ax.annotate(label, spot, fontsize=FONT + 1, weight="bold", ha="center", va="center", color="#d00000")
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_title(request.title, fontsize=FONT, loc="left", pad=2)
    _style(ax)
    point = request.point
    (marker,) = ax.plot(
        [point[0]],
        [point[1]],
        marker="o",
        markersize=11,
        markerfacecolor="none",
        markeredgecolor=POINT_COLOUR,
        markeredgewidth=2.0,
        animated=True,
    )
    return _finish("map", figure, started, axes=ax, marker=marker, codes=codes)


def heat_norm(feature):
    """The colour scale of a feature's heat-map: the same for every model (FEATURE_SCALES)."""
    from matplotlib.colors import LogNorm, Normalize

    low, high, kind = FEATURE_SCALES.get(feature, (None, None, "linear"))
    return LogNorm(low, high) if kind == "log" else Normalize(low, high)


def _heat_layer(figure, ax, heat, latent_range, feature):
    """The heat-map under the map, with its colour bar (the fixed scale) on the right."""
    xmin, xmax, ymin, ymax = latent_range
    norm = heat_norm(feature)
    if norm.vmin is not None:  # beyond the scale: its end colours (a log scale has no 0)
        heat = np.clip(heat, norm.vmin, norm.vmax)
    image = ax.imshow(
        heat, origin="lower", extent=(xmin, xmax, ymin, ymax), aspect="auto", cmap="viridis", interpolation="bilinear", norm=norm
    )
    bar_ax = figure.add_axes((0.88, 0.10, 0.025, 0.82))
    colourbar = figure.colorbar(image, cax=bar_ax, extend="both" if norm.vmin is not None else "neither")
    label, unit = FEATURE_LABELS.get(feature, (feature or "", ""))
    colourbar.set_label(f"{label} ({unit}; one scale for every model)", fontsize=FONT - 1)
    colourbar.ax.tick_params(labelsize=FONT - 1)


def _legend(ax, made):
    """The families beside the axes (never over the dots): the training sounds' dots with
    their counts, then, on the "made here" map, the families heard in its fields."""
    handles, labels = ax.get_legend_handles_labels()
    title = None
    if made is not None:
        heard = [f for f in (*FAMILY_COLOURS, "silent") if f in set(np.asarray(made).ravel())]
        handles += [Patch(facecolor=made_colour(f), edgecolor=family_colour(f)) for f in heard]
        labels += heard
        title = "dots: labels\nfields: heard"
    ax.legend(
        handles,
        labels,
        fontsize=FONT - 1,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        markerscale=1.5,
        framealpha=0.8,
        handletextpad=0.2,
        borderpad=0.3,
        labelspacing=0.2,
        borderaxespad=0.0,
        title=title,
        title_fontsize=FONT - 1,
        alignment="left",
    )


def _made_layer(ax, made, latent_range):
    """What the model makes: each grid point's cell in the colour of the family heard there
    (a tint, so the dots of the training labels show on it); cells centred on the points."""
    n_y, n_x = made.shape
    xmin, xmax, ymin, ymax = latent_range
    half_x = (xmax - xmin) / max(n_x - 1, 1) / 2
    half_y = (ymax - ymin) / max(n_y - 1, 1) / 2
    tints = {family: to_rgb(made_colour(family)) for family in np.unique(made)}
    image = np.array([[tints[family] for family in row] for row in made])
    ax.imshow(
        image,
        origin="lower",
        extent=(xmin - half_x, xmax + half_x, ymin - half_y, ymax + half_y),
        aspect="auto",
        interpolation="nearest",
    )


def _codes_layer(ax, codes, families, faint, highlight=None):
    """The training codes by family: coloured with a legend, or faint white over a heat-map.

    ``highlight``: the families chosen for a conditioned model; the others are greyed (and
    drawn first, under them), so the chosen family's training sounds stand out.
    """
    families = np.asarray(families if families is not None else ["other"] * len(codes))
    order = [f for f in FAMILY_COLOURS if f in set(families)] + sorted(set(families) - set(FAMILY_COLOURS))
    if highlight is not None:
        order.sort(key=lambda f: f in highlight)  # stable: the greyed ones first
    for family in order:
        mask = families == family
        chosen = highlight is None or family in highlight
        ax.scatter(
            codes[mask, 0],
            codes[mask, 1],
            s=6 if faint else 10,
            color="white" if faint else family_colour(family, highlight),
            alpha=(0.5 if faint else 0.8) if chosen else 0.5,
            linewidths=0,
            label=None if faint else f"{family} ({int(mask.sum())})",
        )


def sequence_figure(panel, size_px, sounds, labels, sample_rate, *, title=""):
    """Waveforms side by side (a comparison, or the steps of a morph).

    Parameters
    ----------
    sounds : list of np.ndarray (L,) or None
        None draws an empty panel (the sound could not be made).
    labels : list of str
    """
    started = time.perf_counter()
    figure = _figure(size_px)
    count = max(len(sounds), 1)
    columns = 800 // count
    width = 0.90 / count
    scale = peak_scale(*sounds)  # one scale for all, so levels compare
    seconds = next((len(s) / sample_rate for s in sounds if s is not None), 0.0)
    # a comparison's labels are model names (and reasons): one row each, so they never
    # overlap; a morph's are step numbers, side by side
    rows = panel == "compare"
    height = 0.86 / count
    for i, (sound, label) in enumerate(zip(sounds, labels)):
        if rows:
            ax = figure.add_axes((0.08, 0.90 - (i + 1) * height, 0.90, height * 0.88))
        else:
            ax = figure.add_axes((0.08 + i * width, 0.06, width * 0.92, 0.76))
        if sound is not None:
            _waveform(ax, sound, sample_rate, columns=800 if rows else max(columns, 50), scale=scale)
        if rows:
            ax.text(
                0.01,
                0.92,
                label if len(label) <= ROW_NOTE_CHARS else label[: ROW_NOTE_CHARS - 1] + "…",
                transform=ax.transAxes,
                va="top",
                ha="left",
                fontsize=FONT - 1,
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 1},
            )
        else:
            ax.set_title(label, fontsize=FONT - (1 if count > 4 else 0), pad=2)
        _style(ax, ticks=2 if rows else 3)
        ax.tick_params(labelbottom=False)  # each is the same length: said once in the title
        if i and not rows:
            ax.tick_params(labelleft=False)
    figure.suptitle(f"{title}   ({seconds:.2f} s each)" if title else "", fontsize=FONT, x=0.08, ha="left", y=0.98)
    return _finish(panel, figure, started)
