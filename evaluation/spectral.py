"""Spectrograms and the spectral distances every other metric builds on.

All functions are pure: batches of mono audio ``(N, L)`` in, arrays out. Spectrograms are
computed with ``scipy.fft`` on float32 frames (``center=True`` with zero padding, periodic
Hann window, as ``librosa.stft`` does) because it is an order of magnitude faster than
``librosa.stft`` on batches, which matters for a 48 x 48 latent grid on two cores.

Levels are in dB relative to a full-scale sine: the magnitude is divided by ``n_fft / 4``
(the peak a unit-amplitude sinusoid reaches under a Hann window), and floored at
``FLOOR_DB`` so that digital silence and a -120 dB hiss count as the same, inaudible, thing.
"""

import numpy as np
import scipy.fft

from constants import FLOOR_DB
from models.stft_distance import multi_resolution_stft

FFT_SIZES = (512, 1024, 2048)


def as_batch(audio):
    """Return ``audio`` as a C-contiguous float32 array of shape ``(N, L)``.

    Parameters
    ----------
    audio : array_like, shape (L,) or (N, L)

    Returns
    -------
    batch : np.ndarray, shape (N, L), float32
    """
    batch = np.asarray(audio, dtype=np.float32)
    if batch.ndim == 1:
        batch = batch[np.newaxis]
    if batch.ndim != 2:
        raise ValueError(f"audio must have shape (N, L), got {batch.shape}")
    return np.ascontiguousarray(batch)


def stft_magnitude(audio, n_fft=1024, hop_length=None):
    """Magnitude spectrogram of a batch, normalised so a full-scale sine peaks at 1.

    Parameters
    ----------
    audio : np.ndarray, shape (N, L)
    n_fft : int
        Frame and FFT size.
    hop_length : int or None
        Hop between frames; ``n_fft // 4`` when None.

    Returns
    -------
    magnitude : np.ndarray, shape (N, T, n_fft // 2 + 1), float32
        ``T = 1 + L // hop_length`` frames.
    """
    audio = as_batch(audio)
    hop_length = hop_length or n_fft // 4
    padded = np.pad(audio, ((0, 0), (n_fft // 2, n_fft // 2)))
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft, axis=-1)[:, ::hop_length]
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)
    spectrum = scipy.fft.rfft(frames * window, axis=-1)
    return (np.abs(spectrum) / np.float32(n_fft / 4)).astype(np.float32)


def amplitude_db(magnitude, floor_db=FLOOR_DB):
    """Magnitudes in dB, floored at ``floor_db``.

    Parameters
    ----------
    magnitude : np.ndarray
        Non-negative amplitudes (1.0 = full scale).
    floor_db : float

    Returns
    -------
    db : np.ndarray, same shape, float32
    """
    floor = np.float32(10.0 ** (floor_db / 20.0))
    return (20.0 * np.log10(np.maximum(magnitude, floor))).astype(np.float32)


_MEL_CACHE: dict[tuple, np.ndarray] = {}


def hz_to_mel(hz):
    """Slaney's mel scale (librosa's default): linear below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / (200.0 / 3)
    return np.where(hz >= 1000.0, 15.0 + np.log(np.maximum(hz, 1e-9) / 1000.0) / (np.log(6.4) / 27), linear)


def mel_to_hz(mel):
    """Inverse of :func:`hz_to_mel`."""
    mel = np.asarray(mel, dtype=np.float64)
    return np.where(mel >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27) * (mel - 15.0)), mel * (200.0 / 3))


def mel_filters(sample_rate, n_fft, n_mels):
    """Triangular mel filters with unit peak (a sine at a band centre keeps its level).

    The same filters as ``librosa.filters.mel(sr, n_fft, n_mels, norm=None)`` (Slaney mel
    scale, 0 Hz to Nyquist), computed here because importing librosa costs seconds that a
    command evaluating one model should not pay.

    Returns
    -------
    filters : np.ndarray, shape (n_mels, n_fft // 2 + 1), float32
    """
    key = (sample_rate, n_fft, n_mels)
    if key not in _MEL_CACHE:
        fft_hz = np.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)
        edges_hz = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sample_rate / 2), n_mels + 2))
        widths = np.diff(edges_hz)
        offsets = edges_hz[:, None] - fft_hz[None, :]
        lower = -offsets[:-2] / widths[:-1, None]
        upper = offsets[2:] / widths[1:, None]
        _MEL_CACHE[key] = np.maximum(0.0, np.minimum(lower, upper)).astype(np.float32)
    return _MEL_CACHE[key]


def log_mel_db(audio, sample_rate, n_fft=1024, hop_length=256, n_mels=64, floor_db=FLOOR_DB):
    """Log-mel power spectrogram in dB re full scale, floored at ``floor_db``.

    Parameters
    ----------
    audio : np.ndarray, shape (N, L)
    sample_rate : int

    Returns
    -------
    db : np.ndarray, shape (N, T, n_mels), float32
    """
    power = stft_magnitude(audio, n_fft, hop_length) ** 2
    mel = power @ mel_filters(sample_rate, n_fft, n_mels).T
    floor = np.float32(10.0 ** (floor_db / 10.0))
    return (10.0 * np.log10(np.maximum(mel, floor))).astype(np.float32)


def spectral_distance(db_a, db_b):
    """Mean absolute difference of two batches of dB spectrograms, one value per pair.

    Parameters
    ----------
    db_a, db_b : np.ndarray, shape (N, T, F)
        E.g. from :func:`log_mel_db`.

    Returns
    -------
    distance : np.ndarray, shape (N,), in dB
    """
    return np.mean(np.abs(db_a - db_b), axis=(-2, -1))


def multi_resolution_stft_distance(reference, estimate, fft_sizes=FFT_SIZES):
    """Multi-resolution STFT distance between matching pairs of sounds.

    :func:`models.stft_distance.multi_resolution_stft` on NumPy, the loss's own function.
    For each FFT size ``n`` (hop ``n / 4``) two terms are computed, then each is averaged
    over the sizes:

    - log-magnitude L1: the mean absolute difference of the two spectrograms in dB
      (floored at ``FLOOR_DB``);
    - spectral convergence: ``|| |X| - |Y| ||_F / || |X| ||_F`` on linear magnitudes
      (0 for a perfect match, 1 for an estimate that is silent).

    Parameters
    ----------
    reference : np.ndarray, shape (N, L)
        The real sounds.
    estimate : np.ndarray, shape (N, L) or (1, L)
        Their reconstructions (a single row is compared against every reference).
    fft_sizes : sequence of int

    Returns
    -------
    log_magnitude_db : np.ndarray, shape (N,)
    spectral_convergence : np.ndarray, shape (N,)
    """
    reference = as_batch(reference)
    return multi_resolution_stft(
        reference,
        as_batch(estimate),
        fft_sizes,
        ops=np,
        magnitude=stft_magnitude,
        log_level=lambda magnitude, n_fft: amplitude_db(magnitude),
        norm_floor=1e-8,
        start=np.zeros(len(reference)),
    )


def reconstruction_distance(reference, estimate, fft_sizes=FFT_SIZES):
    """The report's reconstruction MR-STFT of each pair: spectral convergence plus the
    log-magnitude L1 in natural-log units (``dB * ln(10) / 20``), as in Parallel WaveGAN's loss.

    Parameters
    ----------
    reference : np.ndarray, shape (N, L)
    estimate : np.ndarray, shape (N, L) or (1, L)

    Returns
    -------
    distance : np.ndarray, shape (N,), float64
        0 for a perfect copy; the report's ``recon_stft`` is its mean.
    """
    return combined_distance(*multi_resolution_stft_distance(reference, estimate, fft_sizes))


def combined_distance(log_l1_db, convergence):
    """The two terms of :func:`multi_resolution_stft_distance` as one number per pair:
    spectral convergence plus the log-magnitude L1 in natural-log units."""
    return convergence + log_l1_db * np.log(10) / 20


def snr_db(reference, estimate):
    """Signal-to-noise ratio of each reconstruction, in dB.

    Parameters
    ----------
    reference : np.ndarray, shape (N, L)
    estimate : np.ndarray, shape (N, L) or (1, L)

    Returns
    -------
    snr : np.ndarray, shape (N,)
        ``10 log10(sum(x^2) / sum((x - x_hat)^2))``; a perfect copy gives about +200 dB.
    """
    reference = as_batch(reference).astype(np.float64)
    estimate = as_batch(estimate).astype(np.float64)
    signal = np.sum(reference**2, axis=1)
    error = np.sum((reference - estimate) ** 2, axis=1)
    return 10.0 * np.log10(np.maximum(signal, 1e-20) / np.maximum(error, 1e-20))
