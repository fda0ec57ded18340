"""The one settings object of preprocessing, recorded with every dataset and model card."""
from dataclasses import asdict, dataclass, fields

from preprocessing.errors import SettingsError

NORMALIZE_CHOICES = ("peak",)


@dataclass(frozen=True)
class PreprocessSettings:
    """How source one-shots are turned into fixed-length training samples.

    Parameters
    ----------
    sample_rate : int
        Output sample rate in Hz.
    length : int
        Output length in samples (16384 is WaveGAN's window).
    attack_seconds : float
        Where the absolute peak is placed, in seconds from the start.
    channel : int or None
        Take this channel (0-based) of multi-channel files; None mixes down to mono.
    normalize : {None, "peak"}
        "peak" scales every sample so that its absolute peak is 1.0.
    """

    sample_rate: int = 22050
    length: int = 16384
    attack_seconds: float = 0.01
    channel: int | None = None
    normalize: str | None = None

    def __post_init__(self):
        # Only what can never mean anything is refused here; combinations (an attack
        # past the end) are the caller's to judge, so tiny test settings stay possible.
        if not isinstance(self.sample_rate, int) or self.sample_rate <= 0:
            raise SettingsError(f"sample rate must be a positive whole number of Hz, not {self.sample_rate!r}")
        if not isinstance(self.length, int) or self.length <= 0:
            raise SettingsError(f"length must be a positive whole number of samples, not {self.length!r}")
        if not self.attack_seconds >= 0:
            raise SettingsError(f"attack must be 0 seconds or more, not {self.attack_seconds!r}")
        if self.channel is not None and (not isinstance(self.channel, int) or self.channel < 0):
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
        if "attack_seconds" in kwargs and kwargs["attack_seconds"] is not None:
            kwargs["attack_seconds"] = float(kwargs["attack_seconds"])
        return cls(**kwargs)
