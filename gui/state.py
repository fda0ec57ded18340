"""The window's state: one small object that the handlers read and change.

Nothing here touches a window, a thread, TensorFlow or a file. Loaded models stay inside the
workers (the cache of :mod:`gui.model_jobs`); the state only holds :class:`ModelInfo`, plain data about a
model that the GUI thread may read freely.
"""

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Literal, get_args

import numpy as np

from audio.level import DEFAULT_LEVEL
from audio.pattern import Pattern
from constants import SAMPLE_RATE
from gui.family import FamilyState
from gui.features import PER_SOUND_NAMES
from gui.history import SessionHistory

if TYPE_CHECKING:  # for the hints only: the state holds these, built elsewhere
    from gui.events import NearestFound
    from models.card import ModelCard
    from models.family_pads import FamilyPads
    from models.trained_folder import LatentCodes


class TextEnum(str, Enum):
    """An enum whose members read as their values (in f-strings and Tk), on Python 3.10 too."""

    def __str__(self):
        return str(self.value)

    def __format__(self, spec):
        return format(str(self.value), spec)


class ModelState(TextEnum):
    """A model's state in the list."""

    LISTED = "listed"
    LOADING = "loading"
    READY = "ready"
    UNAVAILABLE = "unavailable"


LISTED, LOADING, READY, UNAVAILABLE = ModelState

#: What the latent map shows: the training codes, the family the classifier hears at each
#: point ("made", ``gui.features.MADE``), or a feature heat-map over the range.
#: "codes", "made" or one of ``gui.features.HEATMAPS`` (a test holds them equal)
MapMode = Literal["codes", "made", "brightness", "decay", "loudness", "discontinuity"]
MAP_MODES: tuple[str, ...] = get_args(MapMode)

MAX_COMPARE = 4
#: The Vary slider: 0 (off) to VARY_MAX, in steps of VARY_STEP (the - and = keys move it too)
VARY_MAX = 3.0
VARY_STEP = 0.5


@dataclass
class ModelEntry:
    """One row of the model list."""

    name: str
    group: str = ""
    subgroup: str = ""
    state: ModelState = LISTED
    reason: str = ""
    trained: bool = False
    collapsed: bool = False  # its codes do not spread (models.trained_folder.is_collapsed)

    @property
    def label(self):
        """The state as the list shows it."""
        if self.state == READY and self.collapsed:
            return "⚠ collapsed"
        if self.state == UNAVAILABLE:
            if self.reason.startswith("not trained"):
                return "not trained"
            return f"unavailable: {self.reason}"
        if self.state == LISTED:
            return "trained" if self.trained else "…"
        return self.state


@dataclass(frozen=True)
class ModelInfo:
    """Plain data about a loaded model, copied out of it by the loader worker.

    Attributes
    ----------
    latent_range : tuple of float
        (xmin, xmax, ymin, ymax), the pad's and the map's extent.
    center : tuple of float
        The centre of the data, where Reset puts the point.
    codes : object or None
        The model's ``LatentCodes`` (points (N, 2), families, names, files, is_validation),
        or None for the GAN.
    data_folder : str or None
        The dataset folder named in the card, where the codes' files are.
    """

    name: str
    kind: str
    sample_rate: int
    sample_length: int
    has_encoder: bool
    card: "ModelCard"  # the model's own (validated when it was made)
    latent_range: tuple
    center: tuple
    codes: "LatentCodes | None" = None
    data_folder: str | None = None
    metrics: dict | None = None  # the evaluation's cached metrics, when it has run
    metrics_date: str | None = None
    conditioned: bool = False  # it takes a family as an input (no "All families")
    takes_family: bool = False  # it plays a family (gui.family): conditioned, or with family pads
    families: tuple = ()  # the families it can play (those it has training sounds of)
    no_family_reason: str | None = None  # why it takes none, in the model's words
    family_pads: "FamilyPads | None" = None  # where a family's pad puts the codes
    no_encoder_reason: str | None = None  # its encoder file is damaged: why it cannot open a sample
    no_codes_reason: str | None = None  # its codes file is damaged: why it has no dots, pads or nearest sounds
    has_noise_source: bool = False  # a variation may be new noise at the same point (ddsp_vae)
    latent_dim: int = 2  # D: the pad shows two axes, the others are sliders (gui.wide)
    pad_axes: tuple = (0, 1)  # the axes the pad shows (the "which axes" choice changes them)
    axis_ranges: tuple = ()  # (low, high) of each of the D axes (a wide latent's; else empty)
    axis_centres: tuple = ()  # each axis's centre, where a slider starts
    # its wide vector is a family's frame (ddsp_cvae: the pad and the family's other main
    # axes, models.family_frame): the family panel stays beside the sliders
    family_frame: bool = False

    @property
    def preprocess_settings(self):
        """The preprocessing settings dict the model was trained with, or None."""
        return dict(self.card.preprocessing) or None


@dataclass
class Sequence:
    """Sounds rendered together (a comparison or a morph) and what each one is."""

    sounds: list  # np.ndarray (L,) or None where it failed
    labels: list  # str per sound
    points: list  # (x, y) per sound
    models: list  # model name per sound
    sample_rate: int = SAMPLE_RATE
    family: str | None = None  # the family a morph was decoded with (gui.family.decode_family)


class Playing(TextEnum):
    """What the sound output does."""

    PLAYING = "playing"
    LOOPING = "looping"
    STOPPED = "stopped"


class VaryStart(TextEnum):
    """How the variation being decoded starts once it arrives (Vary on)."""

    PLAY = "play"
    LOOP = "loop"


@dataclass(frozen=True)
class Heard:
    """A point's sound as it was sent to the output: what S keeps (raw, before the level)."""

    model: str
    point: tuple
    audio: np.ndarray = field(compare=False, hash=False)
    variation: dict | None = field(default=None, compare=False, hash=False)  # Variation.to_dict
    family: str | None = None  # the family text decoded with (gui.family.decode_family)


@dataclass(frozen=True)
class Recall:
    """A favourite being reopened: its model, point and variation, until its sound is decoded."""

    model: str
    point: tuple
    variation: dict | None = field(default=None, compare=False, hash=False)
    family: str | None = None  # the family it was saved with (None: none, or "All families")


@dataclass
class SoundState:
    """The current point's sound and what the output does with it."""

    audio: np.ndarray | None = None  # the current point's decoded sound
    point: tuple | None = None  # where it was decoded
    variation: dict | None = None  # the variation ``audio`` is (a reopened favourite's), or None
    family: str | None = None  # the family ``audio`` was decoded with (gui.family.decode_family)
    heard: Heard | None = None  # the latest point's sound sent to the output
    next_heard: Heard | None = None  # a variation the loop plays from its next repetition
    next_tag: int = 0  # its swap's tag (events.SwapSettled says when it sounds); 0: none waits
    tags: int = 0  # counts the tagged swaps
    recall: Recall | None = None  # a favourite being reopened: play exactly its sound
    audition: bool = True  # a click or drag on the pad plays each point reached
    level: str = DEFAULT_LEVEL  # audio.level: what playback and saves apply
    original: np.ndarray | None = None  # an opened sample, shown beside its reconstruction
    opened: str | None = None  # its path
    play_when_decoded: bool = False
    save_when_decoded: bool = False  # S came before the clicked point's sound
    looping: bool = False
    volume: float = 0.8
    playing: Playing = Playing.STOPPED
    what: str = ""  # what plays: "vae_a at (0.120, -0.400)", "a morph of 8 sounds"
    token: int = 0  # counts the sounds started, so a finished one's end is recognised


@dataclass
class PlayerState:
    """The sound output as the GUI thread knows it (the player itself is in gui.sound_room)."""

    device: str | None = None
    devices: list = field(default_factory=list)  # (index, name)
    ready: bool = False
    rate: int | None = None
    text: str = "sound: starting…"


@dataclass
class MapState:
    """What the latent map shows, and the heat-maps computed so far."""

    mode: MapMode = "codes"
    for_gan: bool = False  # the heat-map stands in for codes the model lacks
    heatmaps: dict = field(default_factory=dict)  # (model, feature) -> (n, n) grid (a family name per point for "made")
    features: tuple = PER_SOUND_NAMES


@dataclass
class VaryState:
    """Vary: each hit a new variation of the point."""

    amount: float = 0.0  # 0: Play and the loop repeat the sound itself
    count: int = 4  # the files "Save with variations" writes
    seed: int | None = None  # drawn once a session from rng
    starting: VaryStart | None = None  # while its first variation decodes
    repetition: int = 0  # which variation the next Play or loop repetition is
    again: bool = False  # the point moved while the variation to start was decoding


@dataclass
class MorphState:
    """The morph's ends A and B, its number of steps, and the sounds it rendered."""

    a: tuple | None = None
    b: tuple | None = None
    steps: int = 8
    sequence: Sequence | None = None


@dataclass
class KitExport:
    """Export kit…: the chosen favourites, a path awaiting the user's yes, the progress."""

    sources: tuple = ()  # the favourites' WAV paths chosen for "Export kit…"
    pending: str | None = None  # the kit path the user is asked to replace
    pending_names: tuple = ()  # the files there that exist (the kit, its song, or both)
    progress: tuple | None = None  # (done, total) while a kit is being exported
    folder: str | None = None  # where the last kit went: the next "Export kit…" starts there


@dataclass
class PatternState:
    """The Beat tab: the step pattern, whether it plays, and the favourites' sounds it plays."""

    pattern: Pattern = field(default_factory=Pattern)
    playing: bool = False
    read: bool = False  # the favourites folder's pattern.json has been read
    unsaved_reason: str | None = None  # pattern.json is not ours: the pattern is not saved
    sounds: dict = field(default_factory=dict)  # lane -> (favourite file name, samples, rate)
    sent_current: np.ndarray | None = None  # the current sound the player last got for its lanes


@dataclass
class AppState:
    """Everything the window shows, in one place.

    The handlers in :mod:`gui.handlers` are the only code that changes it (the loop also
    records the redraw time after drawing).
    """

    models_dir: str = "trained"
    favourites_dir: str = "favourites"
    entries: dict = field(default_factory=dict)  # name -> ModelEntry, in display order
    model: ModelInfo | None = None  # the current, ready model
    wanted: str | None = None  # the model the user asked for last
    point: tuple = (0.0, 0.0)  # on the pad
    latent: tuple | None = None  # a wide latent's whole vector, the pad's two axes included (gui.wide)
    pending_point: tuple | None = None  # where to go once `wanted` is ready
    pending_family: str | None = None  # the family it opens on (remembered from the last session)
    sound: SoundState = field(default_factory=SoundState)
    player: PlayerState = field(default_factory=PlayerState)
    map: MapState = field(default_factory=MapState)
    vary: VaryState = field(default_factory=VaryState)
    morph: MorphState = field(default_factory=MorphState)
    kit: KitExport = field(default_factory=KitExport)
    pattern: PatternState = field(default_factory=PatternState)
    family: FamilyState = field(default_factory=FamilyState)  # the family selector (gui.family)
    compare: Sequence | None = None
    favourites: list = field(default_factory=list)  # audio.export.Favourite
    nearest: "NearestFound | None" = None  # for the current point
    history: SessionHistory = field(default_factory=SessionHistory)  # back/forward per model
    decode_ms: float | None = None
    redraw_ms: float | None = None  # from a decoded sound to its figure on screen
    draw_ms: float | None = None  # the part of it spent on the GUI thread
    message: str = ""
    why_model: str = ""  # why the window opened on its first model (a first launch)
    notice: str = ""  # said in the status line all session (a damaged settings file)
    zoo_empty: bool = False  # the models folder holds no trained model
    seed: int | None = None
    rng: np.random.Generator = field(default_factory=np.random.default_rng)

    @property
    def vector(self):
        """What the sound is decoded from: the whole vector of a wide latent, else the point."""
        return self.latent if self.latent is not None else self.point

    @property
    def loading(self):
        """Names of the models being loaded now."""
        return [e.name for e in self.entries.values() if e.state == LOADING]

    def entry(self, name):
        """The list entry of ``name`` (created on first use)."""
        if name not in self.entries:
            self.entries[name] = ModelEntry(name)
        return self.entries[name]
