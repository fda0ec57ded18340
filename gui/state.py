"""The window's state: one small object that the handlers read and change.

Nothing here touches a window, a thread, TensorFlow or a file. Loaded models stay inside the
workers (:mod:`gui.workers`); the state only holds :class:`ModelInfo`, plain data about a
model that the GUI thread may read freely.
"""
from dataclasses import dataclass, field

import numpy as np

from constants import SAMPLE_RATE
from gui.history import SessionHistory

#: A model's state in the list.
LISTED, LOADING, READY, UNAVAILABLE = "listed", "loading", "ready", "unavailable"

#: What the latent map shows: the training codes, or a feature heat-map over the range.
MAP_MODES = ("codes", "brightness", "decay", "loudness", "discontinuity")

MAX_COMPARE = 4


@dataclass
class ModelEntry:
    """One row of the model list."""

    name: str
    group: str = ""
    subgroup: str = ""
    state: str = LISTED
    reason: str = ""
    trained: bool = False

    @property
    def label(self):
        """The state as the list shows it."""
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
    card: object  # models.card.ModelCard, read through gui.model_card.read_model_card
    latent_range: tuple
    center: tuple
    codes: object = None
    data_folder: str | None = None
    metrics: dict | None = None  # the evaluation's cached metrics, when it has run
    metrics_date: str | None = None

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


@dataclass
class AppState:
    """Everything the window shows, in one place.

    The handlers in :mod:`gui.handlers` are the only code that changes it (the loop also
    records the redraw time after drawing).
    """

    models_dir: str = "trained"
    favourites_dir: str = "favourites"
    device: str | None = None
    entries: dict = field(default_factory=dict)  # name -> ModelEntry, in display order
    model: ModelInfo | None = None  # the current, ready model
    wanted: str | None = None  # the model the user asked for last
    point: tuple = (0.0, 0.0)
    pending_point: tuple | None = None  # where to go once `wanted` is ready
    sound: np.ndarray | None = None  # the current point's decoded sound
    sound_point: tuple | None = None
    original: np.ndarray | None = None  # an opened sample, shown beside its reconstruction
    opened: str | None = None  # its path
    play_when_decoded: bool = False
    save_when_decoded: bool = False  # S came before the clicked point's sound
    looping: bool = False
    volume: float = 0.8
    map_mode: str = "codes"
    map_mode_for_gan: bool = False  # the heat-map stands in for codes the model lacks
    heatmaps: dict = field(default_factory=dict)  # (model, feature) -> (n, n) grid
    heatmap_features: tuple = ("brightness", "decay", "loudness")
    morph_a: tuple | None = None
    morph_b: tuple | None = None
    morph_steps: int = 8
    morph: Sequence | None = None
    compare: Sequence | None = None
    favourites: list = field(default_factory=list)  # audio.export.Favourite
    devices: list = field(default_factory=list)  # (index, name)
    player_ready: bool = False
    player_rate: int | None = None
    player_text: str = "sound: starting…"
    decode_ms: float | None = None
    redraw_ms: float | None = None  # from a decoded sound to its figure on screen
    draw_ms: float | None = None  # the part of it spent on the GUI thread
    message: str = ""
    why_model: str = ""  # why the window opened on its first model (a first launch)
    playing: str = "stopped"  # what the sound output does: "playing", "looping" or "stopped"
    playing_what: str = ""  # and what: "vae_a at (0.120, -0.400)", "a morph of 8 sounds"
    play_token: int = 0  # counts the sounds started, so a finished one's end is recognised
    seed: int | None = None
    history: SessionHistory = field(default_factory=SessionHistory)  # back/forward per model
    vary_amount: float = 0.0  # 0: Play and the loop repeat the sound itself
    vary_count: int = 4  # the files "Save with variations" writes
    vary_seed: int | None = None  # drawn once a session from rng
    vary_playing: str | None = None  # "play" or "loop" while its first variation decodes
    vary_repetition: int = 0  # which variation the next Play or loop repetition is
    nearest: object = None  # gui.events.NearestFound for the current point, or None
    kit_sources: tuple = ()  # the favourites' WAV paths chosen for "Export kit…"
    kit_pending: str | None = None  # the kit path the user is asked to replace
    kit_progress: tuple | None = None  # (done, total) while a kit is being exported
    rng: np.random.Generator = field(default_factory=np.random.default_rng)

    @property
    def loading(self):
        """Names of the models being loaded now."""
        return [e.name for e in self.entries.values() if e.state == LOADING]

    def entry(self, name):
        """The list entry of ``name`` (created on first use)."""
        if name not in self.entries:
            self.entries[name] = ModelEntry(name)
        return self.entries[name]
