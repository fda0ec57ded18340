"""The seed's before/after plot: source waveforms beside the prepared samples.

Built on a matplotlib ``Figure`` (never pyplot), so it can be drawn in a worker thread or
embedded in the window as well as saved as a PNG. matplotlib is imported only here, and
only when a preview is asked for.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from preprocessing import manifest as mf
from preprocessing.errors import AudioInputError
from preprocessing.labels import LABELS
from preprocessing.reader import read_source
from preprocessing.settings import PreprocessSettings
from preprocessing.signal import mix_to_mono
from safeio import atomic_write

MAX_EXAMPLES = 4


@dataclass(frozen=True)
class PreviewExample:
    """One row of the plot.

    Attributes
    ----------
    title : str
    before : np.ndarray, shape (n,)
        The source, mixed to mono, at ``before_rate``.
    before_rate : int
    after : np.ndarray, shape (settings.length,)
        The prepared sample at ``settings.sample_rate``.
    """

    title: str
    before: np.ndarray
    before_rate: int
    after: np.ndarray


def preview_figure(examples, settings=PreprocessSettings()):
    """Plot each example's source (left) and prepared sample (right).

    Parameters
    ----------
    examples : list of PreviewExample
    settings : PreprocessSettings

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    rows = max(1, len(examples))
    figure = Figure(figsize=(11, 2.3 * rows), layout="constrained")
    axes = figure.subplots(rows, 2, squeeze=False)
    attack = settings.attack_samples / settings.sample_rate
    for (left, right), example in zip(axes, examples):
        t_before = np.arange(example.before.size) / example.before_rate
        left.plot(t_before, example.before, linewidth=0.6, color="tab:gray")
        peak = int(np.argmax(np.abs(example.before))) if example.before.size else 0
        left.axvline(peak / example.before_rate, color="tab:red", linewidth=0.8, linestyle="--", label="peak")
        left.legend(loc="upper right", fontsize=8)
        left.set_title(f"before: {example.title} ({example.before_rate} Hz)", fontsize=9)
        t_after = np.arange(example.after.size) / settings.sample_rate
        right.plot(t_after, example.after, linewidth=0.6, color="tab:blue")
        right.axvline(attack, color="tab:red", linewidth=0.8, linestyle="--", label=f"peak at {attack * 1000:.1f} ms")
        right.set_xlim(0, settings.length / settings.sample_rate)
        right.set_title(f"after: {settings.length} samples at {settings.sample_rate} Hz", fontsize=9)
        right.legend(loc="upper right", fontsize=8)
        for axis in (left, right):
            axis.set_xlabel("seconds", fontsize=8)
            axis.tick_params(labelsize=7)
    if not examples:
        axes[0][0].set_title("no prepared samples to show")
    return figure


def pick_examples(folder, rows, settings, count=MAX_EXAMPLES):
    """Up to ``count`` examples from ok rows, one per family in ``LABELS`` order first.

    Parameters
    ----------
    folder : pathlib.Path
        The dataset folder holding the outputs.
    rows : list of dict
        Manifest rows.
    settings : PreprocessSettings

    Returns
    -------
    list of PreviewExample
    """
    ok = [r for r in rows if r["status"] == mf.OK]
    by_family = {}
    for row in ok:
        by_family.setdefault(row["family"], row)
    chosen = [by_family[f] for f in LABELS if f in by_family][:count]
    examples = []
    for row in chosen:
        try:
            data, info = read_source(row["source"], settings)
        except AudioInputError:
            continue  # the source changed since it was prepared; show the others
        after, _ = sf.read(os.fsencode(Path(folder) / row["output"]), dtype="float32")
        title = f"{row['family']}: {row['kit']} / {row['instrument']}"
        examples.append(PreviewExample(title, mix_to_mono(data, settings.channel), info.sample_rate, after))
    return examples


def write_preview(path, examples, settings=PreprocessSettings(), *, overwrite=False):
    """Save the before/after plot as a PNG (temporary name, then rename).

    Parameters
    ----------
    path : str or Path
    examples : list of PreviewExample
    settings : PreprocessSettings
    overwrite : bool
        Replace an existing ``path``; False (the default) refuses it.

    Returns
    -------
    Path

    Raises
    ------
    safeio.FileExistsRefused
        ``path`` exists and ``overwrite`` is False (it appeared after the command checked).
    safeio.WriteFailed
        The file cannot be written: one line naming it.
    """
    path = Path(path)
    figure = preview_figure(examples, settings)
    atomic_write(path, lambda handle: figure.savefig(handle, format="png", dpi=100), overwrite=overwrite)
    return path
