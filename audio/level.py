"""The level a sound is heard and kept at: as the model makes it, or normalised.

Models differ in loudness: over a 5x5 grid the median peak is about -6 dBFS for ddsp_vae,
-12 for ae_medium_tanh and -23 for vae_c. A producer comparing them wants them at one
loudness. :func:`apply_level` is the one place that decides it, so playback, saves, downloads
and kits all use the same gain, and the sidecar records the level by its name.

Loudness here is the RMS of the sound's loud part: the frames within 30 dB of the loudest
frame. A long quiet tail then does not pull a hat's level down against a kick's, and a
drum that is all attack is not pushed into clipping, because the gain is also capped so the
peak stays at or below :data:`PEAK_CEILING_DB`.
"""

import numpy as np

#: The sound exactly as the model renders it.
AS_MADE = "as made"
#: Every sound at one loudness (:data:`TARGET_DB` RMS over its loud part).
NORMALISED = "normalised"
LEVELS = (AS_MADE, NORMALISED)
DEFAULT_LEVEL = AS_MADE

#: RMS of the loud part, in dBFS, that a normalised sound is brought to.
TARGET_DB = -18.0
#: No normalised sound peaks above this (dBFS), whatever its RMS.
PEAK_CEILING_DB = -1.0
#: Frames quieter than this below the loudest frame are the tail, not the sound.
_GATE_DB = 30.0
_FRAME = 512
#: Below this RMS a sound is silence, and stays silent.
_SILENCE = 1e-6


class LevelError(ValueError):
    """A level name that is not one of :data:`LEVELS`."""


def check_level(level):
    """Return ``level`` if it is one of :data:`LEVELS`, else raise :class:`LevelError`.

    Parameters
    ----------
    level : str

    Returns
    -------
    level : str
    """
    if level not in LEVELS:
        raise LevelError(f"unknown level {level!r}; choose from {', '.join(repr(name) for name in LEVELS)}")
    return level


def loudness_db(audio):
    """The RMS of ``audio``'s loud part, in dBFS (``-inf`` for silence).

    Parameters
    ----------
    audio : np.ndarray, shape (n,) or (n, channels)

    Returns
    -------
    db : float
    """
    mono = _mono(audio)
    frames = _frame_power(mono)
    if frames.size == 0 or frames.max() <= _SILENCE**2:
        return float("-inf")
    loud = frames[frames >= frames.max() * 10 ** (-_GATE_DB / 10)]
    return float(10 * np.log10(np.mean(loud)))


def level_gain(audio, level):
    """The gain that :func:`apply_level` multiplies ``audio`` by.

    Parameters
    ----------
    audio : np.ndarray, shape (n,) or (n, channels)
    level : {"as made", "normalised"}

    Returns
    -------
    gain : float
        1.0 for "as made" and for silence.
    """
    if check_level(level) == AS_MADE:
        return 1.0
    loudness = loudness_db(audio)
    if not np.isfinite(loudness):
        return 1.0
    gain = 10 ** ((TARGET_DB - loudness) / 20)
    peak = float(np.max(np.abs(audio)))
    ceiling = 10 ** (PEAK_CEILING_DB / 20)
    if peak * gain > ceiling:
        gain = ceiling / peak
    return float(gain)


def apply_level(audio, level):
    """``audio`` at ``level``: unchanged for "as made", scaled for "normalised".

    Parameters
    ----------
    audio : np.ndarray, shape (n,) or (n, channels)
        Float samples, full scale at +-1.
    level : {"as made", "normalised"}

    Returns
    -------
    audio : np.ndarray, float32, same shape
        The same array for "as made"; a new one otherwise.

    Examples
    --------
    >>> quiet = 0.01 * np.sin(np.linspace(0, 200, 8000)).astype(np.float32)
    >>> round(loudness_db(apply_level(quiet, NORMALISED)), 1)
    -18.0
    """
    gain = level_gain(audio, level)
    if gain == 1.0:
        return audio
    return (np.asarray(audio, dtype=np.float32) * np.float32(gain)).astype(np.float32)


def _mono(audio):
    data = np.asarray(audio, dtype=np.float64)
    return data if data.ndim == 1 else data.mean(axis=1)


def _frame_power(mono):
    whole = len(mono) // _FRAME * _FRAME
    if whole == 0:
        return np.array([np.mean(mono**2)]) if len(mono) else np.zeros(0)
    return np.mean(mono[:whole].reshape(-1, _FRAME) ** 2, axis=1)
