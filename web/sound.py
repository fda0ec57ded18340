"""One latent point to the bytes of a WAV file, the same bytes for the same request.

The sound is decoded, brought to the asked level (:func:`audio.level.apply_level`, as the
window's playback, saves and kits are), resampled, limited to full scale (a decoder may overshoot, and 16-bit
PCM would clip) and written by :mod:`audio.export`'s own path (:func:`render_for_file`),
as the window's saved files are: 16-bit PCM, 44.1 kHz unless another allowed rate is
asked for.
"""

import io
import zlib
from dataclasses import dataclass

import numpy as np
import soundfile

from audio.export import DEFAULT_OUT_RATE, favourite_stem, render_for_file
from audio.level import AS_MADE, DEFAULT_LEVEL, apply_level
from constants import SAMPLE_RATE

#: The rates a client may ask for; anything else is refused.
ALLOWED_RATES = (SAMPLE_RATE, DEFAULT_OUT_RATE, 48000)
#: Variation seeds a client may ask for: 0 .. MAX_VARIATION.
MAX_VARIATION = 9999
#: Coordinates are rounded to this many decimals before decoding, so the same point
#: typed two ways is one sound (and one cache entry).
POINT_DECIMALS = 4
#: The sample formats a client may ask for, by bits: 16 (the default) or 24.
SUBTYPES = {16: "PCM_16", 24: "PCM_24"}
DEFAULT_BITS = 16


@dataclass(frozen=True)
class SoundRequest:
    """A validated request for one sound.

    Attributes
    ----------
    model : str
    x, y : float
        Rounded to ``POINT_DECIMALS``.
    variation : int or None
    rate : int
        One of ``ALLOWED_RATES``.
    level : str
        One of :data:`audio.level.LEVELS`. Part of the request, so of every cache's key.
    family : str or None
        A conditioned model's family in its canonical text (``"snare"``,
        ``"kick:0.6,tom:0.4"``: :func:`models.families.family_text`); None for the others.
    vector : tuple of float or None
        The whole latent vector (D numbers, each rounded as ``x`` and ``y`` are) of a model
        with more than two axes (``z=``), whose ``x`` and ``y`` are then its pad axes'
        numbers; None for a 2-D model (its point is ``x``, ``y``).
    """

    model: str
    x: float
    y: float
    variation: int | None = None
    rate: int = DEFAULT_OUT_RATE
    level: str = DEFAULT_LEVEL
    family: str | None = None
    seconds: float | None = None
    bits: int = DEFAULT_BITS
    vector: tuple[float, ...] | None = None

    @classmethod
    def rounded(  # noqa: PLR0913
        cls,
        model,
        x,
        y,
        variation=None,
        rate=DEFAULT_OUT_RATE,
        level=DEFAULT_LEVEL,
        family=None,
        seconds=None,
        bits=DEFAULT_BITS,
        vector=None,
    ):
        """A request with its coordinates rounded (and -0.0 made 0.0), and its length to 10 ms."""
        return cls(
            model,
            round(float(x), POINT_DECIMALS) + 0.0,
            round(float(y), POINT_DECIMALS) + 0.0,
            variation,
            int(rate),
            level,
            family,
            None if seconds is None else round(float(seconds), 2),
            int(bits),
            None if vector is None else tuple(round(float(v), POINT_DECIMALS) + 0.0 for v in vector),
        )

    def file_name(self, native_rate=None):
        """What the download is called: model, point, variation, level (when not as made) and
        rate, and the rate it was made at where it was resampled (``…_44.1kHz_from_22.05kHz.wav``:
        a 22.05 kHz sound holds nothing above 11 kHz, and its name does not promise more), as
        the page names its downloads."""
        stem = favourite_stem(self.model, (self.x, self.y))
        if self.vector is not None:  # drums8_z+0.10_-0.20_..., every axis, in order
            stem = f"{stem.rsplit('_x', 1)[0]}_z" + "_".join(f"{v:+.2f}".replace("-0.00", "+0.00") for v in self.vector)
        if self.family is not None:  # ddsp_cvae_x+0.20_y-0.10_snare, ..._kick0.6-tom0.4
            stem += "_" + self.family.replace(":", "").replace(",", "-")
        if self.variation is not None:
            stem += f"_v{self.variation}"
        if self.level != AS_MADE:
            stem += f"_{self.level}"
        if self.seconds is not None:
            stem += f"_{self.seconds:g}s"
        resampled = "" if native_rate is None or int(native_rate) == self.rate else f"_from_{native_rate / 1000:g}kHz"
        bits = "" if self.bits == DEFAULT_BITS else f"_{self.bits}bit"
        return f"{stem}_{self.rate / 1000:g}kHz{bits}{resampled}.wav"


def render_wav(model, request):
    """The WAV file's bytes for a request.

    Parameters
    ----------
    model : object
        A loaded model (``decode(points, variation=None)`` and ``sample_rate``).
    request : SoundRequest

    Returns
    -------
    bytes
        A PCM WAV of ``request.bits`` at ``request.rate`` and ``request.level``.
    """
    options = {} if request.family is None else {"family": request.family}
    if request.seconds is not None:  # a model that renders any length (checked with the request)
        options["seconds"] = request.seconds
    point = [request.x, request.y] if request.vector is None else list(request.vector)
    audio = np.asarray(model.decode([point], variation=request.variation, **options), np.float32)[0]
    audio = apply_level(np.nan_to_num(audio, nan=0.0, posinf=0.0, neginf=0.0), request.level)
    subtype = SUBTYPES[request.bits]
    data, rate = render_for_file(audio, model.sample_rate, out_rate=request.rate, subtype=subtype)
    # Limited after resampling, which can overshoot a little: 16-bit PCM would clip it.
    peak = float(np.max(np.abs(data)))
    if peak > 1.0:
        data = data / np.float32(peak)
    buffer = io.BytesIO()
    soundfile.write(buffer, data, rate, subtype=subtype, format="WAV")
    return buffer.getvalue()


def tagged_wav(model, request):
    """(WAV bytes, their ETag) for a request, both made where the sound is decoded.

    The tag is the body's length and CRC-32: it only has to change when the bytes do (a
    cache validator, not a signature), and it costs a third of a SHA-256 of 65 kB.
    """
    body = render_wav(model, request)
    return body, f'"{len(body):x}-{zlib.crc32(body):08x}"'
