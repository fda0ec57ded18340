"""Per-sound feature vectors for realism, diversity and memorisation.

One fixed-length vector per sound: the mean and standard deviation over frames of 20 MFCCs,
and the energy-weighted mean and standard deviation of the spectral centroid, bandwidth,
flatness, 85 % roll-off and zero-crossing rate. Spectral statistics are weighted by frame
energy because a drum one-shot is mostly a quiet tail: unweighted, the centroid of
near-silent frames (numerical dust) would outvote the hit that a listener hears.

Every feature is computed from one sound alone (a fixed dB floor, never one relative to the
batch), so a sound's vector never depends on the batch it was computed in.
"""

import numpy as np
import scipy.fft

from evaluation.spectral import as_batch, mel_filters, stft_magnitude

N_FFT = 2048
HOP = 512
N_MELS = 64
N_MFCC = 20
ROLLOFF = 0.85
_SPECTRAL = ("centroid", "bandwidth", "flatness", "rolloff", "zcr")

FEATURE_NAMES = tuple(
    [f"mfcc{i}_mean" for i in range(N_MFCC)]
    + [f"mfcc{i}_std" for i in range(N_MFCC)]
    + [f"{name}_{stat}" for name in _SPECTRAL for stat in ("mean", "std")]
)


def _weighted_stats(values, weights):
    """Weighted mean and standard deviation over the last axis."""
    mean = np.sum(values * weights, axis=-1) / np.sum(weights, axis=-1)
    var = np.sum(weights * (values - mean[..., None]) ** 2, axis=-1) / np.sum(weights, axis=-1)
    return mean, np.sqrt(np.maximum(var, 0.0))


def audio_features(audio, sample_rate):
    """Feature vectors of a batch of sounds.

    Parameters
    ----------
    audio : np.ndarray, shape (N, L)
    sample_rate : int

    Returns
    -------
    features : np.ndarray, shape (N, len(FEATURE_NAMES)), float64
        Columns in the order of ``FEATURE_NAMES``; spectral frequencies in kHz.

    Examples
    --------
    >>> from constants import SAMPLE_RATE
    >>> audio = np.random.default_rng(0).standard_normal((3, 4096)).astype(np.float32)
    >>> audio_features(audio, SAMPLE_RATE).shape
    (3, 50)
    """
    audio = as_batch(audio)
    magnitude = stft_magnitude(audio, N_FFT, HOP).astype(np.float64)  # (N, T, F)
    power = magnitude**2
    freqs_khz = np.linspace(0.0, sample_rate / 2000.0, magnitude.shape[-1])

    mel_db = 10.0 * np.log10(np.maximum(power @ mel_filters(sample_rate, N_FFT, N_MELS).T, 1e-10))
    mfcc = scipy.fft.dct(mel_db, type=2, norm="ortho", axis=-1)[..., :N_MFCC]  # (N, T, 20)

    total = np.maximum(np.sum(magnitude, axis=-1), 1e-12)  # (N, T)
    centroid = (magnitude @ freqs_khz) / total
    bandwidth = np.sqrt(np.sum(magnitude * (freqs_khz - centroid[..., None]) ** 2, axis=-1) / total)
    flatness = np.exp(np.mean(np.log(power + 1e-10), axis=-1)) / np.mean(power + 1e-10, axis=-1)
    cumulative = np.cumsum(power, axis=-1)
    rolloff_bin = np.argmax(cumulative >= ROLLOFF * cumulative[..., -1:], axis=-1)
    rolloff = freqs_khz[rolloff_bin]

    padded = np.pad(audio, ((0, 0), (N_FFT // 2, N_FFT // 2)))
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT, axis=-1)[:, ::HOP]
    signs = np.signbit(frames)
    zcr = np.mean(signs[..., 1:] != signs[..., :-1], axis=-1)

    weights = np.sum(power, axis=-1) + 1e-12
    columns = [mfcc.mean(axis=1), mfcc.std(axis=1)]
    for values in (centroid, bandwidth, flatness, rolloff, zcr):
        mean, std = _weighted_stats(values, weights)
        columns += [mean[:, None], std[:, None]]
    return np.concatenate(columns, axis=1)


def standardise(reference, *others):
    """Standardise feature sets with the reference set's mean and standard deviation.

    Parameters
    ----------
    reference : np.ndarray, shape (N, D)
        The real data's features; its statistics define the scale.
    *others : np.ndarray, shape (M, D)

    Returns
    -------
    standardised : list of np.ndarray
        ``reference`` first, then each of ``others``, as ``(x - mean) / std``; a feature that
        is constant in the reference keeps scale 1 rather than dividing by zero.
    """
    mean = reference.mean(axis=0)
    scale = reference.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    return [(x - mean) / scale for x in (reference, *others)]
