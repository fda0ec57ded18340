"""What a handler asks the loop to do: small, comparable records.

A handler never calls a worker, a player or an element itself; it returns a list of these,
and the loop in :mod:`gui.window` carries them out. Each carries what its worker needs, so no
worker reads the state. Tests compare them with ``==``. What comes back is :mod:`gui.events`.
Sound buffers are compared by identity (``eq=False`` fields would hide them), so effects
that carry audio keep it in a field that tests can inspect.
"""
from dataclasses import dataclass, field

import numpy as np

from constants import SAMPLE_RATE


@dataclass(frozen=True)
class LoadModel:
    """Load ``name`` in the model worker (a no-op when it is loaded)."""

    name: str
    background: bool = False


@dataclass(frozen=True)
class Decode:
    """Decode one point; the decode worker keeps only the latest request."""

    name: str
    point: tuple


@dataclass(frozen=True)
class Render:
    """Build a figure for a panel in the render worker ("output", "map", "compare", "morph")."""

    panel: str
    request: dict = field(compare=False, hash=False)


@dataclass(frozen=True)
class Heatmap:
    """Compute a feature over a grid of the latent range (the model's rate for its features)."""

    name: str
    feature: str
    latent_range: tuple
    sample_rate: int


@dataclass(frozen=True)
class Audition:
    """Decode a map sample's point and read its original file, to play both."""

    name: str
    point: tuple
    original_path: str | None


@dataclass(frozen=True)
class Encode:
    """Read a sound file, encode it with the model and decode the code again."""

    name: str
    path: str


@dataclass(frozen=True)
class Compare:
    """Decode the same point through several models, all resampled to ``sample_rate``."""

    names: tuple
    point: tuple
    sample_rate: int


@dataclass(frozen=True)
class Morph:
    """Decode ``steps`` points on the segment from ``a`` to ``b``."""

    name: str
    a: tuple
    b: tuple
    steps: int


@dataclass(frozen=True)
class Save:
    """Write sounds into the favourites folder with their recall data."""

    model: str
    points: tuple
    sounds: tuple = field(compare=False, hash=False)
    sample_rate: int = SAMPLE_RATE
    settings: dict | None = field(default=None, compare=False, hash=False)


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


@dataclass(frozen=True)
class Stop:
    """Stop the sound."""


@dataclass(frozen=True)
class SetVolume:
    volume: float


@dataclass(frozen=True)
class Refresh:
    """Show the state again in one part of the window.

    parts: "models", "pad", "marker", "fields", "card", "status", "favourites", "compare_list",
    "controls", "morph_fields", "map_mode", "devices", "playing", "history" (Back/Forward),
    "nearest" (the Nearest tab), "kit_progress" (Export kit…'s bar).
    """

    part: str


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
class Draw:
    """Put a figure the render worker built into its panel (GUI thread)."""

    panel: str
    figure: object = field(compare=False, hash=False)


@dataclass(frozen=True)
class DecodeVariation:
    """Decode variation ``repetition`` of ``point`` (models.variation), ``amount`` > 0."""

    name: str
    point: tuple
    amount: float
    seed: int
    repetition: int


@dataclass(frozen=True)
class SaveVariations:
    """Save the sound at ``point`` and ``count - 1`` variations of it (gui.vary)."""

    name: str
    point: tuple
    count: int
    seed: int
    settings: dict | None = field(default=None, compare=False, hash=False)


@dataclass(frozen=True)
class Later:
    """Post ``(event, value)`` to the loop after ``ms`` milliseconds (a loop's repetition)."""

    ms: int
    event: tuple
    value: object = None


@dataclass(frozen=True)
class Nearest:
    """Find the training sounds nearest ``point`` (a worker; the latest request wins)."""

    name: str
    point: tuple
    data_folder: str | None


@dataclass(frozen=True)
class ReadOriginal:
    """Find and read a listed training sound's file (evaluation.nearest.original_sound)."""

    name: str
    file: str
    data_folder: str | None


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

    sources: tuple
    path: str
    overwrite: bool = False
