"""The models one server process offers: loaded once, through one loader, at start-up.

:func:`load_model` is the only place ``web/`` turns a name into a decoder. It uses the
NumPy engine (:func:`models.engine.load_runtime`), which has no TensorFlow in it, so a
server process starts in a fraction of a second a model and stays small.

:func:`evaluation.ranking.choose_best` picks the default: the project's one rule, the
one the report and the window use (the best mean rank over the report's sound-quality
columns; decoding speed is not what a listener hears). A model that lands later with
better metrics (``ddsp_vae``) becomes the default without a change here.
"""

import math
import os
from dataclasses import dataclass, field

import numpy as np

from evaluation.ranking import cached_metrics, choose_best, overall_scores, rank_models
from models.engine import load_runtime
from models.errors import ModelError
from models.trained_folder import is_collapsed
from models.zoo import list_models

#: Points may lie this many spans of the latent range beyond it on each side (and no further).
BOX_MARGIN_SPANS = 1.0
#: Two seeds decoded at the centre at load: a model whose sound differs between them has Vary.
PROBE_VARIATIONS = (1, 2)


def kind_words(model):
    """What a listener can expect of the model, in plain words: its registry entry's
    (``ModelSpec.words``)."""
    return model.spec.words


def load_model(name, folder):
    """The one loader of ``web/``: a trained model with the interface of
    :class:`models.interface.ModelProtocol`.

    Parameters
    ----------
    name : str
        A registry name.
    folder : str or Path
        The zoo folder.

    Returns
    -------
    models.interface.ModelProtocol

    Raises
    ------
    models.errors.ModelError
        The model is unknown, missing or damaged; the message says which.
    """
    return load_runtime(name, folder)


@dataclass(frozen=True)
class ServedModel:
    """One loaded model and what the API says about it.

    Attributes
    ----------
    name : str
    model : object
        What :func:`load_model` returned.
    description : str
        A plain-words line for the picker.
    has_variation : bool
        Different variation seeds give different sounds (Vary is offered).
    latent_range : (float, float, float, float)
        ``(xmin, xmax, ymin, ymax)``, the square the pad shows.
    center : (float, float)
    box : (float, float, float, float)
        The bounds a requested point must lie in.
    collapsed : bool
        Its training codes do not spread (``models.trained_folder.is_collapsed``): one sound
        everywhere, which the page warns of.
    renders_any_length : bool
        ``decode(..., seconds=S)`` renders beyond the trained window (a length control).
    latent : LatentAxes
        Its latent's size, pad axes and per-axis range, centre and bounds.
    """

    name: str
    model: object = field(repr=False)
    description: str
    has_variation: bool
    latent_range: tuple
    center: tuple
    box: tuple
    collapsed: bool = False
    renders_any_length: bool = False
    latent: "LatentAxes | None" = None

    @property
    def latent_dim(self):
        """D, the numbers of a full latent vector (2 for the shipped models)."""
        return 2 if self.latent is None else self.latent.dim

    def contains(self, x, y):
        """True when the point is finite and inside :attr:`box`."""
        xmin, xmax, ymin, ymax = self.box
        return math.isfinite(x) and math.isfinite(y) and xmin <= x <= xmax and ymin <= y <= ymax


@dataclass(frozen=True)
class LatentAxes:
    """A latent of any size as the API describes it.

    Attributes
    ----------
    dim : int
        D, the numbers of a full vector.
    pad_axes : (int, int)
        The axes the pad shows (0-based).
    low, high, center : tuple of float
        Each axis's range and centre (D numbers each).
    bounds : tuple of (float, float)
        What a requested vector's axis must lie in: its range widened as the pad's box is.
    family_frame : bool
        The vector is the chosen family's frame (ddsp_cvae: :mod:`models.family_frame`):
        the same numbers play another code under another family, and ``x`` and ``y`` alone
        are its pad point with the other axes at 0 (the links made before it had sliders).
    """

    dim: int
    pad_axes: tuple
    low: tuple
    high: tuple
    center: tuple
    bounds: tuple
    family_frame: bool = False

    def outside(self, vector):
        """The first axis of ``vector`` (D finite numbers) outside its bounds, else None."""
        for axis, (value, (low, high)) in enumerate(zip(vector, self.bounds)):
            if not low <= value <= high:
                return axis
        return None

    def summary(self):
        """The API's description (``/api/models``)."""
        return {
            "dim": self.dim,
            "pad_axes": list(self.pad_axes),
            "low": list(self.low),
            "high": list(self.high),
            "center": list(self.center),
            "bounds": [list(b) for b in self.bounds],
            "family_frame": self.family_frame,
        }


def latent_axes(model, latent_range, center, margin_spans=BOX_MARGIN_SPANS):
    """The :class:`LatentAxes` of a loaded model: an imported model's per-axis range and
    centre (its card's) or a family frame's (ddsp_cvae's: the pad's square, then its family's
    other main axes), else the pad's square on its two axes."""
    dim, pad_axes = int(model.latent_dim), tuple(int(a) for a in model.pad_axes)
    if dim > 2:
        low, high, middle = (tuple(float(v) for v in values) for values in (model.low, model.high, model.middle))
    else:
        xmin, xmax, ymin, ymax = latent_range
        ordered = sorted(zip(pad_axes, ((xmin, xmax, center[0]), (ymin, ymax, center[1]))))
        low, high, middle = (tuple(r[i] for _, r in ordered) for i in range(3))
    bounds = tuple((lo - (hi - lo) * margin_spans, hi + (hi - lo) * margin_spans) for lo, hi in zip(low, high))
    return LatentAxes(dim, pad_axes, low, high, middle, bounds, bool(model.family_frame))


def bounded_box(latent_range, margin_spans=BOX_MARGIN_SPANS):
    """The latent range widened by ``margin_spans`` of its span on each side."""
    xmin, xmax, ymin, ymax = (float(v) for v in latent_range)
    dx, dy = (xmax - xmin) * margin_spans, (ymax - ymin) * margin_spans
    return (xmin - dx, xmax + dx, ymin - dy, ymax + dy)


def varies(model, center):
    """True when two variation seeds decode the centre to different sounds."""
    point = np.asarray([center], dtype=np.float32)
    first, second = (np.asarray(model.decode(point, variation=v)) for v in PROBE_VARIATIONS)
    return not np.array_equal(first, second)


def serve_model(model, description=None):
    """Wrap a loaded model for the API (measures its range, box and variation once)."""
    latent_range = tuple(float(v) for v in model.latent_range())
    center = tuple(float(v) for v in model.center)
    return ServedModel(
        name=model.name,
        model=model,
        description=description or kind_words(model),
        has_variation=varies(model, center),
        latent_range=latent_range,
        center=center,
        box=bounded_box(latent_range),
        collapsed=is_collapsed(model.codes),
        renders_any_length=model.renders_any_length,
        latent=latent_axes(model, latent_range, center),
    )


@dataclass(frozen=True)
class Catalogue:
    """The models a server process offers.

    Attributes
    ----------
    models : dict of str -> ServedModel
        In display order.
    default : str
        The name the page opens with.
    unavailable : dict of str -> str
        Models in the folder that could not be loaded, with the reason (for the console).
    why_default : str
        Why the default is the default (``evaluation.ranking.BestModel.reason``), or "" when
        it is the first model for want of metrics.
    """

    models: dict
    default: str
    unavailable: dict = field(default_factory=dict)
    why_default: str = ""

    @classmethod
    def of(cls, served, default=None, unavailable=None, why_default=""):
        """A catalogue of ServedModel objects (the first is the default unless named)."""
        models = {entry.name: entry for entry in served}
        if not models:
            raise ValueError("a catalogue needs at least one model")
        chosen = default if default in models else next(iter(models))
        return cls(models, chosen, dict(unavailable or {}), why_default if chosen == default else "")


def describe(model, default, position=None):
    """The picker's line: what the model is, then where it stands in the evaluation.

    Parameters
    ----------
    model : object
        A loaded model (its ``name`` and ``kind``).
    default : str
        The default model's name.
    position : (int, int) or None
        Its place and the number of models ranked.
    """
    words = kind_words(model)
    if model.name == default and position is not None:
        return f"{words} Best overall in the evaluation."
    if position is not None:
        return f"{words} Ranked {position[0]} of {position[1]} in the evaluation."
    return words


def load_catalogue(folder, names=None, *, loader=load_model):
    """Load every trained model in ``folder`` (or only ``names``), once.

    Parameters
    ----------
    folder : str or Path
        The zoo folder.
    names : list of str, optional
        Serve only these.
    loader : callable
        ``(name, folder) -> model``; :func:`load_model` unless a test passes a fake.

    Returns
    -------
    Catalogue

    Raises
    ------
    ValueError
        The folder cannot be read, or no model could be loaded; the message gives each
        reason.
    """
    try:
        os.listdir(folder)
    except OSError as error:  # one reason for the folder, not one per model
        raise ValueError(f"{folder}: no model can be served (cannot read it: {error.strerror or error})") from None
    # A model folder or file that cannot be read is that model's reason (list_models never
    # raises for what is on disk), and the others are served.
    # imported models (app.py import-model) too: named by their card, after the registry's
    statuses = [s for s in list_models(folder, imported=True) if names is None or s.name in names]
    unavailable = {s.name: s.reason for s in statuses if not s.trained}
    loaded = []
    for status in statuses:
        if not status.trained:
            continue
        try:
            loaded.append(loader(status.name, folder))
        except ModelError as error:
            unavailable[status.name] = str(error)
    if not loaded:
        reasons = "; ".join(f"{n}: {r}" for n, r in unavailable.items()) or "no models in it"
        raise ValueError(f"{folder}: no model can be served ({reasons})")
    metrics = cached_metrics(folder, [m.name for m in loaded])
    best = choose_best(metrics)
    default = best.name if best is not None else loaded[0].name
    scores = overall_scores(metrics)
    order = [name for name in rank_models(metrics) if scores[name] is not None]
    served = [
        serve_model(model, describe(model, default, (order.index(model.name) + 1, len(order)) if model.name in order else None))
        for model in loaded
    ]
    return Catalogue.of(served, default, unavailable, best.reason if best is not None else "")
