"""The one settings object of preprocessing, recorded with every dataset and model card."""

import math
import numbers
from dataclasses import asdict, dataclass, fields

from constants import ATTACK_SECONDS, MAX_RATE, SAMPLE_LENGTH, SAMPLE_RATE
from preprocessing.errors import SettingsError

NORMALIZE_CHOICES = ("peak",)
#: What the command line accepts (``commands/preprocess.py`` names these ranges, with the
#: rates ``MIN_RATE`` to ``MAX_RATE`` of :mod:`constants`).
MIN_LENGTH = 256
MAX_LENGTH_SECONDS = 30.0
#: No settings, however made (a damaged settings.json), describe a longer sample than this:
#: 30 s at the highest rate, 23 MB of float32 per sample.
MAX_LENGTH = int(MAX_LENGTH_SECONDS * MAX_RATE)


def max_length(sample_rate):
    """The longest ``length`` the command line accepts at ``sample_rate``: 30 seconds of it."""
    return int(MAX_LENGTH_SECONDS * sample_rate)


@dataclass(frozen=True)
class PreprocessSettings:
    """How source one-shots are turned into fixed-length training samples.

    Parameters
    ----------
    sample_rate : int
        Output sample rate in Hz.
    length : int
        Output length in samples (the default is WaveGAN's window).
    attack_seconds : float
        Where the absolute peak is placed, in seconds from the start.
    channel : int or None
        Take this channel (0-based) of multi-channel files; None mixes down to mono.
    normalize : {None, "peak"}
        "peak" scales every sample so that its absolute peak is 1.0.
    """

    sample_rate: int = SAMPLE_RATE
    length: int = SAMPLE_LENGTH
    attack_seconds: float = ATTACK_SECONDS
    channel: int | None = None
    normalize: str | None = None

    def __post_init__(self):
        # Only what can never mean anything (or would take more memory than any machine
        # has) is refused here; the command line's narrower ranges and combinations (an
        # attack past the end) are the caller's to judge, so tiny test settings stay possible.
        if not _whole(self.sample_rate) or not 0 < self.sample_rate <= MAX_RATE:
            raise SettingsError(f"sample rate must be a whole number of Hz from 1 to {MAX_RATE}, not {self.sample_rate!r}")
        if not _whole(self.length) or not 0 < self.length <= MAX_LENGTH:
            raise SettingsError(f"length must be a whole number of samples from 1 to {MAX_LENGTH}, not {self.length!r}")
        if (
            not isinstance(self.attack_seconds, numbers.Real)
            or isinstance(self.attack_seconds, bool)
            or not math.isfinite(self.attack_seconds)
            or not self.attack_seconds >= 0
        ):
            raise SettingsError(f"attack must be a finite number of seconds, 0 or more, not {self.attack_seconds!r}")
        if self.channel is not None and (not _whole(self.channel) or self.channel < 0):
            raise SettingsError(f"channel must be 0 or more (or None to mix down), not {self.channel!r}")
        if self.normalize is not None and self.normalize not in NORMALIZE_CHOICES:
            raise SettingsError(f"normalize must be one of {', '.join(NORMALIZE_CHOICES)} or None, not {self.normalize!r}")

    @property
    def attack_samples(self) -> int:
        """The index the peak is moved to: ``round(attack_seconds * sample_rate)``."""
        return int(round(self.attack_seconds * self.sample_rate))

    def to_dict(self) -> dict:
        """Plain JSON-ready values, the form written into datasets and model cards."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "PreprocessSettings":
        """Rebuild settings from ``to_dict()`` output.

        Missing keys take their defaults and unknown keys are ignored, so settings written
        by an older or newer version still load. Raises ``SettingsError`` for bad values.
        """
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in dict(values).items() if k in known}
        attack = kwargs.get("attack_seconds")
        if isinstance(attack, numbers.Real) and not isinstance(attack, bool):
            try:
                kwargs["attack_seconds"] = float(attack)
            except OverflowError:  # an integer beyond any float
                raise SettingsError(f"attack must be a finite number of seconds, not {attack!r}") from None
        return cls(**kwargs)


def _whole(value):
    """A plain int (not a bool, which is an int to Python, nor a float)."""
    return isinstance(value, int) and not isinstance(value, bool)


def settings_of_model(model, channel=None):
    """The preprocessing a model's training data had (from its card), so that a user's own
    sample is made the way its training sounds were before it is encoded.

    Parameters
    ----------
    model : object
        ``card`` (a dict with an optional ``"preprocessing"``), ``sample_rate``, ``sample_length``.
    channel : int, optional
        The channel to take in place of the recorded choice.

    Returns
    -------
    PreprocessSettings

    Raises
    ------
    SettingsError
        The card's settings are bad, or do not match the model (the message says which).
    """
    from dataclasses import replace

    recorded = model.card.preprocessing
    settings = (
        PreprocessSettings.from_dict(recorded)
        if recorded
        else PreprocessSettings(sample_rate=model.sample_rate, length=model.sample_length)
    )
    if channel is not None:
        settings = replace(settings, channel=channel)
    if settings.length != model.sample_length or settings.sample_rate != model.sample_rate:
        raise SettingsError(
            f"its card's preprocessing ({settings.length} samples at {settings.sample_rate} Hz) does not match the model"
        )
    return settings
