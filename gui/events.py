"""What the workers send back to the loop: small, typed, frozen records.

A worker posts one of these as the value of the ``WORKER`` event; the handlers dispatch on its
type (``gui.handlers.WORKER_EVENTS``) and read its fields by name, so a renamed field fails a
test instead of a user. This is the other half of :mod:`gui.effects` (what the loop asks of
the workers). Sound buffers and pictures are compared by identity (``compare=False``).
"""

from dataclasses import dataclass, field
from typing import Any

import numpy as np

Point = tuple[float, float]


@dataclass(frozen=True)
class ZooListed:
    """The model list: every registry name's entry, and the cached evaluation of each.

    Attributes
    ----------
    entries : tuple of gui.state.ModelEntry
        In display order.
    metrics : dict of str -> dict
        The evaluation's metrics (``metrics.json``) of the models that have them.
    """

    entries: tuple[Any, ...]  # gui.state.ModelEntry
    metrics: dict[str, dict] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class ModelReady:
    """A model finished loading; ``info`` is plain data about it (gui.state.ModelInfo)."""

    info: Any  # gui.state.ModelInfo (gui.state imports nothing of this module)


@dataclass(frozen=True)
class ModelFailed:
    """A model could not be loaded, and why (one line for the user)."""

    name: str
    reason: str


@dataclass(frozen=True)
class Decoded:
    """The decode worker's sound for the latest point, and how long the decode took."""

    name: str
    point: Point
    audio: np.ndarray = field(compare=False, hash=False)
    ms: float = 0.0
    variation: dict[str, Any] | None = field(default=None, compare=False, hash=False)  # as asked
    family: str | None = None  # as asked (gui.family.decode_family)


@dataclass(frozen=True)
class HeatmapReady:
    """A feature over the latent grid, shape (n, n), row = y."""

    name: str
    feature: str
    grid: np.ndarray = field(compare=False, hash=False)
    family: str | None = None
    plane: tuple | None = None  # a wide latent's (pad axes, vector) it was drawn over (gui.wide.heat_plane)


@dataclass(frozen=True)
class Auditioned:
    """A map sample's decoded point and its original file (None, with a reason, if unread)."""

    decoded: np.ndarray = field(compare=False, hash=False)
    original: np.ndarray | None = field(default=None, compare=False, hash=False)
    reason: str = ""


@dataclass(frozen=True)
class Encoded:
    """A sound file of the user's, its point and its reconstruction."""

    name: str
    path: str
    point: tuple[float, ...]  # (x, y); a wide latent's whole vector (gui.wide)
    original: np.ndarray = field(compare=False, hash=False)
    reconstruction: np.ndarray = field(compare=False, hash=False)
    family: str | None = None  # a family frame's: the family it is most like, whose frame ``point`` is in


@dataclass(frozen=True)
class CompareResult:
    """One model's sound in a comparison, or None and the reason it could not be made."""

    name: str
    audio: np.ndarray | None = field(compare=False, hash=False)
    reason: str = ""
    played: Point | None = None  # the point in the model's range it played, where the asked one is outside
    axes: str = ""  # a wide latent's: what its x, y and its other axes were (gui.model_jobs)


@dataclass(frozen=True)
class Compared:
    """Each compared model's sound at one point, all at ``sample_rate``."""

    results: tuple[CompareResult, ...]
    point: Point
    sample_rate: int


@dataclass(frozen=True)
class Morphed:
    """The sounds on the segment from A to B."""

    name: str
    points: tuple[Point, ...]
    sounds: tuple[np.ndarray, ...] = field(compare=False, hash=False)
    family: str | None = None  # decoded with (gui.family.decode_family)


@dataclass(frozen=True)
class Saved:
    """The favourites just written (WAV paths; each has its sidecar)."""

    paths: tuple[str, ...]


@dataclass(frozen=True)
class FavouritesListed:
    """The favourites folder's entries, newest first (audio.export favourites)."""

    favourites: tuple[Any, ...]  # audio.export.Favourite


@dataclass(frozen=True)
class PlayerOpened:
    """The sound output's availability, as data (the player itself stays with the workers)."""

    available: bool
    reason: str = ""
    device: str = "default output"


@dataclass(frozen=True)
class PlayStarted:
    """The sound output started sound ``token``, played once, lasting ``seconds``."""

    token: int
    seconds: float


@dataclass(frozen=True)
class SwapSettled:
    """A tagged swap for the loop's next repetition began to sound (``began``), or never will
    (a later sound took its place first, or the sound stopped)."""

    tag: int
    began: bool


@dataclass(frozen=True)
class DevicesListed:
    """The sound output devices: (index, name) pairs."""

    devices: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class FeaturesFound:
    """The heat-map features this installation can compute."""

    names: tuple[str, ...]


@dataclass(frozen=True)
class FigureReady:
    """A figure the render worker finished, for its panel (gui.figures.PanelFigure)."""

    figure: Any = field(compare=False, hash=False)


@dataclass(frozen=True)
class JobFailed:
    """A job failed with a reason meant for the user; ``what`` names the job."""

    what: str
    reason: str


@dataclass(frozen=True)
class VariationDecoded:
    """One variation of a point (``variation``: models.variation.Variation.to_dict)."""

    name: str
    point: Point
    repetition: int
    audio: np.ndarray = field(compare=False, hash=False)
    variation: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    family: str | None = None


@dataclass(frozen=True)
class NearestFound:
    """The training sounds nearest a point, in the latent plane and in sound features.

    Attributes
    ----------
    plane, features : tuple of evaluation.nearest.NearSound
        Empty where that measure has none; ``plane_reason`` / ``features_reason`` say why.
    """

    name: str
    point: Point
    plane: tuple[Any, ...] = ()  # evaluation.nearest.NearSound
    features: tuple[Any, ...] = ()
    plane_reason: str = ""
    features_reason: str = ""


@dataclass(frozen=True)
class OriginalRead:
    """A listed training sound's file, read for the model (None, with a reason, if not)."""

    file: str
    audio: np.ndarray | None = field(default=None, compare=False, hash=False)
    reason: str = ""  # why the file was not read (said also when its code's decode plays instead)
    decoded: bool = False  # ``audio`` is the model's decode of the sound's code, the file not being here


@dataclass(frozen=True)
class KitProgress:
    """Favourites done out of those going into the kit being exported."""

    done: int
    total: int


@dataclass(frozen=True)
class KitExported:
    """A kit was written (``path``), with its instruments and what was skipped."""

    path: str
    instruments: int
    skipped: tuple[str, ...] = ()
    song: str | None = None  # the pattern's Hydrogen song written beside it
    song_note: str = ""  # the pattern's lanes the song leaves out, and why


@dataclass(frozen=True)
class KitExists:
    """The kit's file exists already: nothing was written; the user is asked first."""

    path: str
    sources: tuple[str, ...]
    names: tuple[str, ...] = ()  # the files that exist, each named ("MyKit.h2song"); (): the kit


@dataclass(frozen=True)
class PatternRead:
    """The favourites folder's pattern (None: none yet, or ``reason`` says why it is unread)."""

    pattern: Any  # audio.pattern.Pattern or None
    reason: str | None = None


@dataclass(frozen=True)
class LaneSoundRead:
    """A favourite's samples for a lane of the pattern (None, with a reason, if unread)."""

    lane: int
    path: str
    audio: np.ndarray | None = field(default=None, compare=False, hash=False)
    sample_rate: int = 0
    reason: str = ""
