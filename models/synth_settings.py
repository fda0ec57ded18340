"""The bounds of ddsp_vae's synthesiser settings, checked before anything is built.

A DrumSynth layer (and the encoder's LogMel layer) is built from numbers stored in the
model's own files: the ``config.json`` of its .keras archives and the ``config`` of
synth.npz. Those files may be damaged or hostile: a rate of 0 divides by zero, and a
length of 2**26 asks for gigabytes before a sound is made. Every number is checked here
(type, finite, range, and the card's rate and length) and a failure is one line naming
the field and its allowed range, so that model is unavailable and the others are not.

Standard library only: the zoo listing (``app.py models``) checks these without NumPy,
and :mod:`models.drumsynth` (NumPy only) and :mod:`models.ddsp` (Keras) share them.
"""

import math

from constants import MAX_RATE, MIN_RATE

#: The synthesiser's default counts (the shipped model's).
N_MODES = 48
N_BANDS = 32

#: Bounds on the settings a synthesiser (or its encoder's log-mel) is built with. They are
#: read from the model's files, which may be damaged or hostile: a rate of 0 divides by zero,
#: and a length of 2**26 asks for gigabytes before a sound is made. Every shipped model sits
#: well inside them (constants.SAMPLE_RATE, constants.SAMPLE_LENGTH, 48 modes, 32 bands); the
#: rates are constants.MIN_RATE to MAX_RATE, what a user may ask for.
MIN_LENGTH = 256
MAX_SECONDS = 30
#: Also at most this many samples, whatever the rate: the noise sources alone hold 64 rows
#: of the length in float32 (268 MB here) and the modes three buffers of half of it.
MAX_LENGTH = 2**20
MAX_MODES = 96
MAX_BANDS = 64
MAX_SEED = 2**63 - 1
MAX_N_FFT = 2**14
MAX_MELS = 256


class SynthSettingsError(ValueError):
    """Settings a synthesiser cannot be built with; ``str()`` is one line naming the field
    and its allowed range."""


def _whole_in(config, key, low, high, what, default=None):
    value = config.get(key, default)
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (isinstance(value, float) and not (math.isfinite(value) and value.is_integer()))
    ):
        raise SynthSettingsError(f"{what}'s {key} must be a whole number from {low} to {high} (got {_show(value)})")
    if not low <= value <= high:
        raise SynthSettingsError(f"{what}'s {key} must be a whole number from {low} to {high} (got {_show(value)})")
    return int(value)


def _show(value):
    text = repr(value)
    return text if len(text) <= 30 else text[:27] + "..."


def _matching(value, key, expected, what, card_key):
    if expected is not None and value != int(expected):
        raise SynthSettingsError(f"{what}'s {key} ({value}) differs from the card's {card_key} ({int(expected)})")


def max_length(sample_rate):
    """The longest sound (samples) a synthesiser at ``sample_rate`` may make."""
    return min(MAX_SECONDS * int(sample_rate), MAX_LENGTH)


def checked_settings(config, *, sample_rate=None, length=None):
    """The synthesiser's settings as whole numbers, each checked before anything is built.

    Parameters
    ----------
    config : dict
        ``sample_rate``, ``length``, ``attack``, ``seed`` and optionally ``n_modes``,
        ``n_bands`` (a DrumSynth layer's config, or the ``config`` of synth.npz).
    sample_rate, length : int, optional
        The card's; the settings must match them.

    Returns
    -------
    dict
        ``sample_rate``, ``length``, ``attack``, ``seed``, ``n_modes``, ``n_bands`` (int).

    Raises
    ------
    SynthSettingsError
        One line naming the field and its allowed range, e.g. "the synthesiser's
        sample_rate must be a whole number from 8000 to 192000 (got 0)".
    """
    what = "the synthesiser"
    if not isinstance(config, dict):
        raise SynthSettingsError(f"{what}'s settings must be a JSON object (got {_show(config)})")
    rate = _whole_in(config, "sample_rate", MIN_RATE, MAX_RATE, what)
    _matching(rate, "sample_rate", sample_rate, what, "sample_rate")
    longest = max_length(rate)
    samples = config.get("length")
    if isinstance(samples, (int, float)) and not isinstance(samples, bool) and samples % 2:
        raise SynthSettingsError(f"{what}'s length must be an even whole number from {MIN_LENGTH} to {longest} (got {_show(samples)})")
    samples = _whole_in(config, "length", MIN_LENGTH, longest, what)
    _matching(samples, "length", length, what, "sample_length")
    return {
        "sample_rate": rate,
        "length": samples,
        "attack": _whole_in(config, "attack", 1, samples - 1, what),
        "seed": _whole_in(config, "seed", 0, MAX_SEED, what),
        "n_modes": _whole_in(config, "n_modes", 1, MAX_MODES, what, default=N_MODES),
        "n_bands": _whole_in(config, "n_bands", 1, MAX_BANDS, what, default=N_BANDS),
    }


def checked_log_mel_settings(config, *, sample_rate=None):
    """The settings of ddsp_vae's log-mel front end (``sample_rate``, ``n_fft``, ``hop``,
    ``n_mels``), checked as :func:`checked_settings` does; SynthSettingsError otherwise."""
    what = "the log-mel layer"
    if not isinstance(config, dict):
        raise SynthSettingsError(f"{what}'s settings must be a JSON object (got {_show(config)})")
    rate = _whole_in(config, "sample_rate", MIN_RATE, MAX_RATE, what)
    _matching(rate, "sample_rate", sample_rate, what, "sample_rate")
    n_fft = _whole_in(config, "n_fft", 16, MAX_N_FFT, what)
    return {
        "sample_rate": rate,
        "n_fft": n_fft,
        "hop": _whole_in(config, "hop", 1, n_fft, what),
        "n_mels": _whole_in(config, "n_mels", 1, MAX_MELS, what),
    }


def check_keras_config(config, *, sample_rate=None, length=None):
    """Check the settings of ddsp_vae's own layers (``mlsg>DrumSynth``, ``mlsg>LogMel``, by
    the names Keras registers them under) in a .keras ``config.json`` (a functional model's
    ``{"config": {"layers": [...]}}``), before anything is built: their settings size what
    building them allocates.

    A config of another shape is left for the graph's builder to refuse: only settings are
    judged here. ``sample_rate`` and ``length`` are the card's (the log-mel layer has no
    length).

    Raises
    ------
    SynthSettingsError
        One line naming the layer's field and its allowed range.
    """
    body = config.get("config") if isinstance(config, dict) else None
    layers = body.get("layers") if isinstance(body, dict) else None
    for layer in layers if isinstance(layers, list) else ():
        name = layer.get("registered_name") if isinstance(layer, dict) else None
        if name in ("mlsg>DrumSynth", "mlsg>FullBandSynth"):
            checked_settings(layer.get("config"), sample_rate=sample_rate, length=length)
        elif name == "mlsg>LogMel":
            checked_log_mel_settings(layer.get("config"), sample_rate=sample_rate)
