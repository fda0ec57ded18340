"""Artefacts the seed heard: clicks at the start, a noise floor in the tail, "bitcrushed" sound.

Each artefact is a few scalar features per sound. A model's artefact score is how far the
distribution of its sounds' features lies from the real data's: the 1-D Wasserstein
distance between the two distributions, divided by the real data's interquartile range
(so "1" means "shifted by a typical spread of real sounds"), averaged over the artefact's
features. A distance, not a level: a generator whose tails are cleaner than the data's is
also unlike the data, and both are reported the same way.

Features are in dB (levels re full scale, floored at -80 dB as everywhere in this
package): amplitudes such as the first sample are spread over decades, and on a linear
scale the few loud real starts would outweigh everything else in the distance.

clicks
    ``first_ms_db`` energy of the first millisecond; ``first_ms_jump_db`` largest
    sample-to-sample step in it; ``first_sample_db`` |x[0]| (the step from silence when the
    sound starts); ``dc_offset_db`` |mean(x)| (a DC offset clicks at start and end).
noise floor
    ``tail_db`` level of the last 25 % of the sound; ``tail_flatness_db`` spectral flatness
    of the tail (0 dB = white noise, very negative = tonal or decayed), floored at -60 dB;
    a tail below -80 dB has no noise floor and sits on the flatness floor.
bitcrush
    ``hf_ratio_db`` energy above 6 kHz relative to all energy of each frame, in dB, averaged
    over the frames within 40 dB of the loudest one. Requantising to few bits adds white noise whose power Δ²/12 is
    spread evenly up to Nyquist, and sample-rate reduction without a filter mirrors the
    spectrum upwards; both add energy above 6 kHz that a drum's own spectrum (most of its
    energy below a few kHz, falling above) does not have. Bright real sounds (hats,
    cymbals) are high here too, which is why the score is a distance from the real
    distribution rather than a level. The ratio is taken per frame and averaged (not pooled
    over the sound) so that the decay, where a real kick is a pure low tone and a
    requantised one is buried in its quantisation noise, counts as much as the loud attack;
    only active frames count so that digital silence after the sound does not.
"""

import numpy as np
from scipy.stats import wasserstein_distance

from evaluation.spectral import FLOOR_DB, as_batch, stft_magnitude

TAIL_FRACTION = 0.25
HF_CUTOFF_HZ = 6000.0
ACTIVE_RANGE_DB = 40.0

# Scale used when the real data's IQR is smaller (e.g. every real sound starts in silence):
# the smallest difference worth counting as one unit.
FEATURE_FLOORS = {
    "first_ms_db": 6.0,
    "first_ms_jump_db": 6.0,
    "first_sample_db": 6.0,
    "dc_offset_db": 6.0,
    "tail_db": 6.0,
    "tail_flatness_db": 3.0,
    "hf_ratio_db": 3.0,
}
ARTEFACTS = {
    "clicks": ("first_ms_db", "first_ms_jump_db", "first_sample_db", "dc_offset_db"),
    "noise_floor": ("tail_db", "tail_flatness_db"),
    "bitcrush": ("hf_ratio_db",),
}
FLATNESS_FLOOR_DB = -60.0


def _db(power, floor_db=FLOOR_DB):
    return np.maximum(10.0 * np.log10(np.maximum(power, 1e-30)), floor_db)


def click_features(audio, sample_rate):
    """Start-of-sound features.

    Parameters
    ----------
    audio : np.ndarray, shape (N, L)
    sample_rate : int

    Returns
    -------
    features : dict of str -> np.ndarray, shape (N,)
        In dB re full scale, floored at -80 dB: ``first_ms_db`` (mean power of the first
        millisecond), ``first_ms_jump_db`` (its largest step), ``first_sample_db``
        (``|x[0]|``), ``dc_offset_db`` (``|mean(x)|``).
    """
    audio = as_batch(audio).astype(np.float64)
    first = audio[:, : max(2, int(round(sample_rate / 1000)))]
    return {
        "first_ms_db": _db(np.mean(first**2, axis=1)),
        "first_ms_jump_db": _db(np.max(np.abs(np.diff(first, axis=1)), axis=1) ** 2),
        "first_sample_db": _db(audio[:, 0] ** 2),
        "dc_offset_db": _db(audio.mean(axis=1) ** 2),
    }


def noise_floor_features(audio, sample_rate):
    """Level and flatness of each sound's tail (its last 25 %).

    Parameters
    ----------
    audio : np.ndarray, shape (N, L)
    sample_rate : int
        Unused; kept so every feature function has the same signature.

    Returns
    -------
    features : dict of str -> np.ndarray, shape (N,)
        ``tail_db`` (mean power, dB re full scale, floored at -80 dB) and
        ``tail_flatness_db`` (``10 log10`` of the flatness, floored at -60 dB; a tail below
        -80 dB has no noise floor and sits on that floor).
    """
    audio = as_batch(audio)
    tail = audio[:, int(audio.shape[1] * (1 - TAIL_FRACTION)) :].astype(np.float64)
    level = _db(np.mean(tail**2, axis=1))
    n_fft = min(1024, 1 << int(np.log2(max(tail.shape[1], 2))))
    power = np.mean(stft_magnitude(tail, n_fft).astype(np.float64) ** 2, axis=1)  # (N, F)
    power = power[:, 1:]  # the DC bin is an offset, not noise
    flatness = np.exp(np.mean(np.log(power + 1e-20), axis=1)) / np.maximum(power.mean(axis=1), 1e-20)
    flatness_db = np.where(level > FLOOR_DB, _db(flatness, FLATNESS_FLOOR_DB), FLATNESS_FLOOR_DB)
    return {"tail_db": level, "tail_flatness_db": flatness_db}


def bitcrush_features(audio, sample_rate):
    """High-frequency share of each sound's active frames, in dB, averaged over the frames.

    Parameters
    ----------
    audio : np.ndarray, shape (N, L)
    sample_rate : int

    Returns
    -------
    features : dict of str -> np.ndarray, shape (N,)
        ``hf_ratio_db``: the mean over active frames of ``10 log10(E(f > cutoff) / E)``
        (floored at -80 dB); the cutoff is 6 kHz, or 60 % of Nyquist at low sample rates.
    """
    n_fft = 1024
    power = stft_magnitude(audio, n_fft).astype(np.float64) ** 2  # (N, T, F)
    frame_energy = power.sum(axis=2)
    loudest = frame_energy.max(axis=1, keepdims=True)
    active = frame_energy >= loudest * 10 ** (-ACTIVE_RANGE_DB / 10)
    active &= frame_energy > 0
    cutoff = min(HF_CUTOFF_HZ, 0.6 * sample_rate / 2)
    high = np.fft.rfftfreq(n_fft, 1 / sample_rate) >= cutoff
    frame_ratio_db = _db(power[:, :, high].sum(axis=2) / np.maximum(frame_energy, 1e-30))
    count = active.sum(axis=1)
    mean_db = np.sum(frame_ratio_db * active, axis=1) / np.maximum(count, 1)
    return {"hf_ratio_db": np.where(count > 0, mean_db, FLOOR_DB)}


def artefact_features(audio, sample_rate):
    """All artefact features of a batch.

    Returns
    -------
    features : dict of str -> np.ndarray, shape (N,)
    """
    features = {}
    for function in (click_features, noise_floor_features, bitcrush_features):
        features.update(function(audio, sample_rate))
    return features


def distribution_distance(generated, real, floor):
    """Wasserstein-1 distance between two 1-D samples over the real sample's IQR.

    Parameters
    ----------
    generated, real : np.ndarray, shape (M,) and (N,)
    floor : float
        Smallest scale: used when the real IQR is smaller.

    Returns
    -------
    distance : float
    """
    q75, q25 = np.percentile(real, [75, 25])
    return float(wasserstein_distance(generated, real) / max(q75 - q25, floor))


def artefact_scores(generated_features, real_features):
    """Artefact scores of generated sounds against real ones.

    Parameters
    ----------
    generated_features, real_features : dict of str -> np.ndarray
        From :func:`artefact_features`.

    Returns
    -------
    scores : dict of str -> float
        ``clicks``, ``noise_floor``, ``bitcrush`` (each the mean of its features' distances),
        and for each feature ``<name>_distance`` plus the medians ``<name>_generated`` and
        ``<name>_real`` for reading the direction.
    """
    scores = {}
    for artefact, names in ARTEFACTS.items():
        distances = []
        for name in names:
            distance = distribution_distance(generated_features[name], real_features[name], FEATURE_FLOORS[name])
            distances.append(distance)
            scores[f"{name}_distance"] = distance
            scores[f"{name}_generated"] = float(np.median(generated_features[name]))
            scores[f"{name}_real"] = float(np.median(real_features[name]))
        scores[artefact] = float(np.mean(distances))
    return scores
