"""What a handler asks the loop to do: small, comparable records.

A handler never calls a worker, a player or an element itself; it returns a list of these,
and the loop in :mod:`gui.window` carries them out. Each carries what its worker needs, so no
worker reads the state. Tests compare them with ``==``. What comes back is :mod:`gui.events`.
Sound buffers are compared by identity (``eq=False`` fields would hide them), so effects
that carry audio keep it in a field that tests can inspect.
"""

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

import numpy as np

from audio.level import DEFAULT_LEVEL
from constants import SAMPLE_RATE

Point = tuple[float, float]
LatentRange = tuple[float, float, float, float]
#: The figure panels a render worker draws into.
Panel = Literal["output", "map", "compare", "morph"]


@dataclass(frozen=True)
class LoadModel:
    """Load ``name`` in the model worker (a no-op when it is loaded)."""

    name: str
    background: bool = False


@dataclass(frozen=True)
class Decode:
    """Decode one point; the decode worker keeps only the latest request.

    ``variation``: a reopened favourite's variation record (``Variation.to_dict``), decoded
    instead of the point's own sound.
    """

    name: str
    point: Point
    variation: dict | None = field(default=None, hash=False)
    family: str | None = None  # the family text (gui.family.decode_family), else None


@dataclass(frozen=True)
class OutputRequest:
    """What the output panel draws: the current sound (and an opened sample beside it)."""

    audio: np.ndarray
    sample_rate: int
    title: str = ""
    original: np.ndarray | None = None


@dataclass(frozen=True)
class MapRequest:
    """What the latent map draws: the range, the point, A and B, codes or a heat-map."""

    latent_range: LatentRange
    point: Point
    key: tuple  # (model, map mode): which picture this is
    title: str = ""
    a: Point | None = None
    b: Point | None = None
    codes: np.ndarray | None = None  # (N, 2) training codes
    families: list | None = None  # str per code
    heat: np.ndarray | None = None  # (n, n) feature grid
    feature: str | None = None
    made: np.ndarray | None = None  # (n, n) family names: what the classifier hears at each grid point
    highlight: tuple | None = None  # the families shown in colour (the others greyed), or None: all


@dataclass(frozen=True)
class SequenceRequest:
    """What a compare or morph panel draws: sounds in rows with their labels."""

    sounds: list  # np.ndarray (L,) or None per sound
    labels: list  # str per sound
    sample_rate: int
    title: str = ""


@dataclass(frozen=True)
class Render:
    """Build a figure for a panel in the render worker."""

    panel: Panel
    request: OutputRequest | MapRequest | SequenceRequest = field(compare=False, hash=False)


@dataclass(frozen=True)
class Heatmap:
    """Compute a feature over a grid of the latent range (the model's rate for its features);
    ``feature`` "made" (``gui.features.MADE``): the family the classifier hears at each point."""

    name: str
    feature: str
    latent_range: LatentRange
    sample_rate: int
    family: str | None = None  # a heat-map is of one family (None: the plain pad)
    plane: tuple | None = None  # a wide latent's (pad axes, vector): gui.wide.heat_plane


@dataclass(frozen=True)
class Audition:
    """Decode a map sample's point and read its original file, to play both."""

    name: str
    point: Point
    original_path: str | None
    family: str | None = None


@dataclass(frozen=True)
class Encode:
    """Read a sound file, encode it with the model and decode the code again."""

    name: str
    path: str
    family: str | None = None


@dataclass(frozen=True)
class Compare:
    """Decode the same point through several models, all resampled to ``sample_rate``."""

    names: tuple[str, ...]
    point: Point
    sample_rate: int
    # the current model's whole vector where its latent is wide: (name, vector, its pad axes)
    vectors: tuple[tuple[str, tuple, tuple], ...] = ()
    # the current model's family where it plays one (its name, the family's text): its row
    # plays what its pad plays
    family: tuple[str, str] | None = None


@dataclass(frozen=True)
class Morph:
    """Decode ``steps`` points on the segment from ``a`` to ``b``."""

    name: str
    a: Point
    b: Point
    steps: int
    family: str | None = None  # the segment on this family's pad (gui.family.decode_family)


@dataclass(frozen=True)
class Save:
    """Write sounds into the favourites folder with their recall data."""

    model: str
    points: tuple[Point, ...]
    sounds: tuple = field(compare=False, hash=False)
    sample_rate: int = SAMPLE_RATE
    settings: dict | None = field(default=None, compare=False, hash=False)
    level: str = DEFAULT_LEVEL  # audio.level: applied to the sounds and recorded


@dataclass(frozen=True)
class ListFavourites:
    """Read the favourites folder."""


@dataclass(frozen=True)
class MakePlayer:
    """Open the sound output at a sample rate on a device."""

    sample_rate: int
    device: str | None = None


@dataclass(frozen=True)
class Play:
    """Play a buffer once (``loop``: loop it instead)."""

    audio: np.ndarray = field(compare=False, hash=False)
    loop: bool = False
    token: int = 0  # which sound this is (its end comes back as (PLAYER, "ended"), token)


@dataclass(frozen=True)
class Swap:
    """Replace the looping buffer, immediately (no wait for the loop's end) or from its next
    repetition (``immediate=False``: Vary's next variation)."""

    audio: np.ndarray = field(compare=False, hash=False)
    immediate: bool = True
    tag: int = 0  # not 0: the room reports events.SwapSettled(tag, began) once it sounds or never will


@dataclass(frozen=True)
class Stop:
    """Stop the sound."""


@dataclass(frozen=True)
class SetVolume:
    """Set the output's volume, 0 to 1."""

    volume: float


@dataclass(frozen=True)
class PlayPattern:
    """Loop the step pattern beside the sound (audio.player.Player.play_pattern).

    ``sounds`` per lane: ``(samples, rate)`` at the chosen level, or None (a silent lane).
    ``restart`` False: keep the beat of the pattern playing (a step, a sound or the tempo
    changed; a lane's new sound is heard from its next hit).
    """

    sounds: tuple = field(compare=False, hash=False)
    steps: tuple = ()
    tempo: int = 120
    restart: bool = True


@dataclass(frozen=True)
class StopPattern:
    """End the pattern: no more hits; those sounding ring out (``cut``: they fade out at once,
    as Stop and Esc want)."""

    cut: bool = False


#: The effects that reach the sound output (its own worker: gui.sound_room.SoundRoom).
SOUND_EFFECTS = (Play, Swap, Stop, SetVolume, PlayPattern, StopPattern)


class Part(str, Enum):
    """The parts of the window a :class:`Refresh` shows again (each has a view in gui.view)."""

    MODELS = "models"
    PAD = "pad"
    MARKER = "marker"
    FIELDS = "fields"
    CARD = "card"
    STATUS = "status"
    FAVOURITES = "favourites"
    COMPARE_LIST = "compare_list"
    CONTROLS = "controls"
    MORPH_FIELDS = "morph_fields"
    MAP_MODE = "map_mode"
    DEVICES = "devices"
    PLAYING = "playing"
    HISTORY = "history"  # Back/Forward
    NEAREST = "nearest"  # the Nearest tab
    KIT_PROGRESS = "kit_progress"  # Export kit…'s bar
    PATTERN = "pattern"  # the Beat tab
    FAMILY = "family"  # the family selector (gui.family)
    AXES = "axes"  # a wide latent's sliders and its "which axes" choice (gui.wide)


@dataclass(frozen=True)
class Refresh:
    """Show the state again in one part of the window.

    ``part`` is a :class:`Part`; its name as a string is taken too, and a name that is not a
    part raises ``ValueError`` here, where the typo is, not later in the view.
    """

    part: Part

    def __post_init__(self) -> None:
        object.__setattr__(self, "part", Part(self.part))


@dataclass(frozen=True)
class AskFile:
    """Show the open-file dialog; the chosen path comes back as ``(FILE, purpose)``."""

    purpose: str


@dataclass(frozen=True)
class StoreSettings:
    """Remember the settings (last model, point, volume, device, folders)."""


@dataclass(frozen=True)
class Close:
    """Close the window."""


@dataclass(frozen=True)
class ShowHelp:
    """Show the Help window (gui.glossary.HELP_TEXT), or bring it to the front."""


@dataclass(frozen=True)
class Draw:
    """Put a figure the render worker built into its panel (GUI thread)."""

    panel: Panel
    figure: Any = field(compare=False, hash=False)


@dataclass(frozen=True)
class DecodeVariation:
    """Decode variation ``repetition`` of ``point`` (models.variation), ``amount`` > 0."""

    name: str
    point: Point
    amount: float
    seed: int
    repetition: int
    family: str | None = None


@dataclass(frozen=True)
class SaveVariations:
    """Save the sound at ``point`` and ``count - 1`` variations of it (gui.vary)."""

    name: str
    point: Point
    count: int
    seed: int
    settings: dict | None = field(default=None, compare=False, hash=False)
    level: str = DEFAULT_LEVEL
    family: str | None = None  # decoded with, and recorded in each sidecar


@dataclass(frozen=True)
class Later:
    """Post ``(event, value)`` to the loop after ``ms`` milliseconds (a loop's repetition)."""

    ms: int
    event: tuple[str, str]
    value: Any = None


@dataclass(frozen=True)
class Nearest:
    """Find the training sounds nearest ``point`` (a worker; the latest request wins). A wide
    latent's: ``point`` on the pad's ``axes`` (the codes' columns it is compared with), and
    the whole ``vector`` its sound is decoded from."""

    name: str
    point: Point
    data_folder: str | None
    axes: tuple[int, int] | None = None
    vector: tuple[float, ...] | None = None
    # the family the sound is made with (gui.family.decode_family): its decode takes it, and
    # the codes are compared where that family's pad puts them (as the map draws them)
    family: str | None = None


@dataclass(frozen=True)
class ReadOriginal:
    """Find and read a listed training sound's file (evaluation.nearest.original_sound)."""

    name: str
    file: str
    data_folder: str | None
    code: Point | None = None  # its training code: decoded instead where the file is not here


@dataclass(frozen=True)
class AskSaveFile:
    """Show the save dialog; the chosen path comes back as ``(FILE, purpose)``."""

    purpose: str


@dataclass(frozen=True)
class AskConfirm:
    """Ask a yes/no question; the answer comes back as ``(CONFIRM, purpose)``."""

    purpose: str
    question: str


@dataclass(frozen=True)
class ExportKit:
    """Write a Hydrogen kit of the favourites ``sources`` (WAV paths) to ``path``."""

    sources: tuple[str, ...]
    path: str
    overwrite: bool = False
    level: str = DEFAULT_LEVEL  # audio.level, as the window plays and saves
    pattern: Any = None  # audio.pattern.Pattern: written beside the kit as a Hydrogen song


@dataclass(frozen=True)
class ReadPattern:
    """Read the favourites folder's pattern.json (audio.pattern.read_pattern)."""


@dataclass(frozen=True)
class SavePattern:
    """Keep the pattern in the favourites folder (audio.pattern.write_pattern)."""

    pattern: Any  # audio.pattern.Pattern


@dataclass(frozen=True)
class ReadLaneSound:
    """Read a favourite's WAV for a lane of the pattern."""

    lane: int
    path: str


#: Any record a handler may return.
Effect = (
    LoadModel
    | Decode
    | Render
    | Heatmap
    | Audition
    | Encode
    | Compare
    | Morph
    | Save
    | ListFavourites
    | MakePlayer
    | Play
    | Swap
    | Stop
    | SetVolume
    | Refresh
    | AskFile
    | StoreSettings
    | Close
    | Draw
    | DecodeVariation
    | SaveVariations
    | Later
    | Nearest
    | ReadOriginal
    | AskSaveFile
    | AskConfirm
    | ExportKit
    | PlayPattern
    | StopPattern
    | ReadPattern
    | SavePattern
    | ReadLaneSound
    | ShowHelp
)
