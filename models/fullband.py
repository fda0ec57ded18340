"""ddsp_cvae's synthesiser in NumPy only (the twin of :class:`models.ddsp_cvae.FullBandSynth`).

The parameter table, ranges, mode frequencies and noise sources are those of
:mod:`models.drumsynth` (ddsp_vae's synthesiser); what differs, and why, is said in
:mod:`models.ddsp_cvae`: the modes at a quarter of the rate through a tapered band limit,
noise gain knots every 2 ms over the first 100 ms (:func:`fine_noise_knots`), and an end
fade (:func:`end_fade`). The Keras layer takes these functions from here, so the two cannot
drift apart; a test holds their sounds equal.

:func:`render` also renders beyond the trained window (``length`` above the trained one,
for a cymbal's natural decay): the modes decay as they learned to, and each noise band's
gain goes on along the slope (in dB per second) of its last knot segment, so a tail that
was dying keeps dying and one that was steady stays steady. The fade ends every length.
"""

import functools
from typing import NamedTuple

import numpy as np

from models import drumsynth
from models.synth_settings import N_BANDS, N_MODES

F32 = np.float32

#: The noise gain knots: every ``KNOT_STEP_SECONDS`` over ``DENSE_SECONDS`` after the
#: attack, then ``LATE_KNOTS`` log-spaced to the end.
KNOT_STEP_SECONDS = 0.002
DENSE_SECONDS = 0.1
LATE_KNOTS = 20

#: The end fade: a half cosine from 1 to 0 over ``FADE_SECONDS``, ending ``SILENT_SECONDS``
#: before the last sample (so the last 10 ms are silent, far below -60 dB re the peak).
FADE_SECONDS = 0.03
SILENT_SECONDS = 0.01

#: The modes are rendered at the rate divided by this, and upsampled through a band limit
#: that tapers from ``TAPER_START`` of that rate's Nyquist frequency; a mode's glide stays
#: under ``GLIDE_LIMIT`` times that rate.
TONAL_DECIMATION = 4
#: Beyond the trained window a band may fade below the gain range's floor, to silence.
EXTENDED_FLOOR_DB = -140.0
TAPER_START = 0.8
GLIDE_LIMIT = 0.4


def fine_noise_knots(length, attack, sample_rate):
    """Sample positions of the noise gain knots, strictly increasing, from 0 to length - 1.

    Five before the attack (the noise can fill the lead-in), every 2 ms over the first
    100 ms after it, then log-spaced to the end.
    """
    first_late = 1.25 * DENSE_SECONDS * sample_rate
    return drumsynth.spaced_knots(
        length,
        attack,
        step=KNOT_STEP_SECONDS * sample_rate,
        dense=round(DENSE_SECONDS / KNOT_STEP_SECONDS),
        first_late=first_late,
        shortest_late=1.5 * first_late,
        late=LATE_KNOTS,
    )


def end_fade(length, sample_rate):
    """The gain every sound ends with: 1, then a half cosine to 0, then silence, (length,)."""
    silent = round(SILENT_SECONDS * sample_rate)
    fade = round(FADE_SECONDS * sample_rate)
    gain = np.ones(length, np.float32)
    start = max(length - silent - fade, 0)
    ramp = np.arange(length - silent - start, dtype=np.float64) / max(length - silent - start, 1)
    gain[start : length - silent] = 0.5 * (1.0 + np.cos(np.pi * ramp))
    gain[length - silent :] = 0.0
    return gain


def band_limit(n):
    """The upsampling's band limit over the rfft bins of ``n`` low-rate samples: 1 up to
    ``TAPER_START`` of the Nyquist frequency, a half cosine to 0 at it, (n // 2 + 1,)."""
    share = np.arange(n // 2 + 1) / (n // 2)
    fall = np.clip((share - TAPER_START) / (1.0 - TAPER_START), 0.0, 1.0)
    return (0.5 * (1.0 + np.cos(np.pi * fall))).astype(np.float32)


def parameter_count(length, attack, sample_rate, n_modes=N_MODES, n_bands=N_BANDS):
    """Size of the raw parameter vector (the table of :mod:`models.drumsynth`)."""
    n_knots = len(fine_noise_knots(length, attack, sample_rate))
    return 2 * n_modes + 3 + n_bands * n_knots + 1 + 3 + 1


def extended_gains(gains_db, knots, trained_length, length):
    """Gain knots for a render longer than the trained window.

    The last trained knot sits in the end fade's silence, where the loss never heard it, so
    its gain says nothing: it is dropped, and the knot before it is continued to
    ``length - 1`` on the slope of the window's second half (never rising: a sound that was
    dying keeps dying, a steady one stays steady), down to ``EXTENDED_FLOOR_DB``.

    Parameters
    ----------
    gains_db : np.ndarray, shape (N, bands, K)
    knots : np.ndarray, shape (K,), the trained knots (the last is ``trained_length - 1``)

    Returns
    -------
    gains_db, knots : the same number of knots, the last moved to ``length - 1``, when
        ``length > trained_length``
    """
    if length <= trained_length:
        return gains_db, knots
    heard = gains_db[:, :, -2]
    # the slope over the second half of the window, not the last segment's: a band that
    # reached the floor of the gain range there reads as flat, and would hold a hiss at
    # the floor for seconds
    late = min(int(np.searchsorted(knots, trained_length // 2)), len(knots) - 3)
    slope = np.minimum((heard - gains_db[:, :, late]) / F32(max(knots[-2] - knots[late], 1)), F32(0.0))
    _, high = drumsynth.NOISE_DB_RANGE
    last = np.clip(heard + slope * F32(length - 1 - knots[-2]), EXTENDED_FLOOR_DB, high)
    return (
        np.concatenate([gains_db[:, :, :-1], last[:, :, None]], axis=2).astype(F32),
        np.concatenate([knots[:-1], [length - 1]]).astype(np.int64),
    )


def render(raw, noise, sample_rate, trained_length, attack, length=None, n_modes=N_MODES):
    """Audio from raw synth parameters, as :class:`models.ddsp_cvae.FullBandSynth` plays it.

    Parameters
    ----------
    raw : np.ndarray, shape (N, P)
        The decoder MLP's raw output (the table of :mod:`models.drumsynth`, with the knots of
        :func:`fine_noise_knots` at ``trained_length``).
    noise : dict
        :func:`models.drumsynth.sources` at ``length`` samples.
    trained_length : int
        The window the model was trained on (its knots are placed in it).
    length : int, optional
        Samples to render (default ``trained_length``); a multiple of ``TONAL_DECIMATION``.

    Returns
    -------
    np.ndarray, shape (N, length), float32
        Peak ``output`` (below 0.99), ending in :func:`end_fade`.
    """
    length = int(trained_length if length is None else length)
    raw = np.asarray(raw, F32)
    p = drumsynth.split_parameters(raw, n_modes=n_modes, n_bands=noise["bands"].shape[0])
    grid = _grid(int(sample_rate), int(trained_length), int(attack), length)
    gains_db, _ = extended_gains(p["gains_db"], grid.trained_knots, trained_length, length)
    x = p["mix"][:, 0:1] * _tonal(p, grid, sample_rate, length, n_modes)
    x += p["mix"][:, 1:2] * _shaped_noise(gains_db, grid, noise, length)
    bright = p["brightness"]
    x += p["mix"][:, 2:3] * (bright * noise["bright"][None] + (F32(1.0) - bright) * noise["dark"][None])
    peak = np.max(np.abs(x), axis=1, keepdims=True)
    return (grid.fade[None, :] * (p["output"] * x / (peak + F32(drumsynth.PEAK_EPS)))).astype(F32)


class _Grid(NamedTuple):
    """What a render of one rate, window and length always computes the same: the knots and
    each sample's place between two, the low-rate time axes, the band limit and the fade."""

    trained_knots: np.ndarray
    knots: np.ndarray
    weight: np.ndarray
    t_pos: np.ndarray
    late: np.ndarray
    ramp: np.ndarray
    limit: np.ndarray
    fade: np.ndarray


@functools.lru_cache(maxsize=16)
def _grid(sample_rate, trained_length, attack, length):
    trained_knots = fine_noise_knots(trained_length, attack, sample_rate)
    knots = trained_knots if length <= trained_length else np.concatenate([trained_knots[:-1], [length - 1]])
    _, weight = drumsynth.knot_interpolation(length, knots)
    onset = attack - round(drumsynth.ONSET_SECONDS * sample_rate)
    low = ((np.arange(length) - onset).astype(F32) / F32(sample_rate))[::TONAL_DECIMATION]
    arrays = _Grid(
        trained_knots,
        knots.astype(np.int64),
        weight,
        np.maximum(low, F32(0.0))[None, None, :],
        np.maximum(low - F32(drumsynth.ONSET_SECONDS), F32(0.0))[None, None, :],
        np.clip(low / F32(drumsynth.ONSET_SECONDS), 0.0, 1.0).astype(F32),
        band_limit(len(low)),
        end_fade(length, sample_rate),
    )
    for array in arrays:
        array.setflags(write=False)  # shared by every render of this length
    return arrays


def _tonal(p, grid, sample_rate, length, n_modes):
    t_pos, late, ramp = grid.t_pos, grid.late, grid.ramp
    two_pi = F32(2.0 * np.pi)
    pitch = two_pi * drumsynth.mode_frequencies(n_modes).astype(F32)[None, :] * p["tune"]
    limit = F32(GLIDE_LIMIT * sample_rate / TONAL_DECIMATION)
    depth = np.maximum(np.minimum(p["ratio"] - F32(1.0), limit / (pitch / two_pi) - F32(1.0)), F32(0.0))
    glide = p["glide"][:, :, None]
    extra = (pitch * depth)[:, :, None] * glide
    carrier = np.sin(pitch[:, :, None] * t_pos + extra * (F32(1.0) - np.exp(-t_pos / glide)))
    decay = np.exp(np.log(p["levels"])[:, :, None] - late / p["decays"][:, :, None])
    summed = ramp[None, :] * np.einsum("nmt,nmt->nt", decay, carrier)
    spectrum = np.fft.rfft(summed, axis=1) * grid.limit[None, :]
    padded = np.zeros((len(summed), length // 2 + 1), np.complex128)
    padded[:, : spectrum.shape[1]] = spectrum
    return (F32(TONAL_DECIMATION) * np.fft.irfft(padded, n=length, axis=1)).astype(F32)


def _shaped_noise(gains_db, grid, noise, length):
    """The noise bands under their gain envelopes: on each segment between two knots, the
    left knot's gains plus the step to the right one's, weighted by the place in the segment,
    as one product with the bands stacked on the weighted bands (:func:`_fine_stacked`)."""
    gains = F32(10.0) ** (gains_db / F32(20.0))
    steps = np.concatenate([gains[:, :, :-1], np.diff(gains, axis=2)], axis=1)  # (N, 2 bands, K - 1)
    stacked = _fine_stacked(noise, grid)
    knots = grid.knots
    out = np.empty((gains.shape[0], length), F32)
    out[:, : knots[0]] = 0.0
    for k in range(len(knots) - 1):
        begin, end = int(knots[k]), int(knots[k + 1]) if k < len(knots) - 2 else length
        np.matmul(steps[:, :, k], stacked[:, begin:end], out=out[:, begin:end])
    return out


def _fine_stacked(noise, grid):
    """The noise bands stacked on the bands times their place between this render's knots,
    (2 bands, length): made once per noise source and kept in it (the sources are cached per
    variation and length, so the next render of that noise reuses it)."""
    stacked = noise.get("fine_stacked")
    if stacked is None or stacked.shape[1] != len(grid.weight):
        bands = noise["bands"]
        stacked = np.concatenate([bands, bands * grid.weight[None, :]]).astype(F32)
        noise["fine_stacked"] = stacked
    return stacked
