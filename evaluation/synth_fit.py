"""The measures of a synthesiser fitted to real sounds (issue 30 §2, claps first).

:func:`models.synth_fit.fit_synth` fits ddsp_cvae's synthesiser to each real sound; the
measures here say how close that is, with the report's reconstruction MR-STFT
(:func:`evaluation.spectral.reconstruction_distance`), against the yardstick of
:func:`pairwise_distances`: the distances between different real sounds of one family. A
fit much closer to its target than real claps are to each other plays that clap. NumPy only.
"""

import numpy as np

from evaluation.spectral import amplitude_db, reconstruction_distance, stft_magnitude


def fit_distance(target, fitted):
    """The report's reconstruction MR-STFT of each fit to its target, shape (N,)."""
    return reconstruction_distance(target, fitted)


def spectrogram_db(sound, n_fft=1024):
    """A sound's spectrogram in dB re full scale (floored at -80), (frames, bins), for figures."""
    return amplitude_db(stft_magnitude(np.asarray(sound, np.float32)[None], n_fft, n_fft // 4))[0]


def other_noise_distances(target, own, others):
    """How far fitted parameters are from their target when the synthesiser plays them with
    other noise realisations, and how far those renders are from the fit itself.

    The synthesiser's noise is fixed per model, and a fit may shape that one realisation
    to the target's own fluctuations: the first number says whether the parameters, not
    the noise, hold the sound (what a Vary of the same point would play); the second is
    the floor a synthesiser with fixed noise can reach (a perfect fit of a sound it made
    itself, heard with other noise).

    Parameters
    ----------
    target : np.ndarray, shape (N, L)
        The targets as the fit heard them (faded).
    own : np.ndarray, shape (N, L)
        The fits, with the synthesiser's own noise.
    others : sequence of np.ndarray, shape (N, L)
        The same parameters with other noise realisations
        (:func:`models.synth_fit.render_with_noise`).

    Returns
    -------
    to_target, to_fit : np.ndarray, shape (N,)
        Means over ``others``.
    """
    to_target = np.mean([reconstruction_distance(target, other) for other in others], axis=0)
    to_fit = np.mean([reconstruction_distance(own, other) for other in others], axis=0)
    return to_target, to_fit


def burst_correlation(target, estimate, sample_rate, attack, seconds=0.05, window_seconds=0.001):
    """How well the fine envelope of ``estimate`` follows the target's bursts: the correlation
    of their RMS envelopes (dB, ``window_seconds`` frames) over ``seconds`` from the attack,
    each with its quadratic trend (the decay) removed. 1: the same bursts; about 0: none.

    Returns
    -------
    np.ndarray, shape (N,)
    """
    size = max(1, round(window_seconds * sample_rate))
    frames = round(seconds * sample_rate) // size

    def envelope(audio):
        part = np.atleast_2d(audio)[:, attack : attack + frames * size].reshape(-1, frames, size)
        db = 20 * np.log10(np.sqrt(np.mean(part.astype(np.float64) ** 2, axis=2)) + 1e-4)
        t = np.arange(frames)
        return np.stack([row - np.polyval(np.polyfit(t, row, 2), t) for row in db])

    a, b = envelope(target), envelope(estimate)
    return np.array([np.corrcoef(x, y)[0, 1] for x, y in zip(a, b)])


def pairwise_distances(sounds):
    """The reconstruction MR-STFT between every ordered pair of different sounds.

    Parameters
    ----------
    sounds : np.ndarray, shape (N, L)

    Returns
    -------
    distances : np.ndarray, shape (N, N)
        ``[i, j]``: sound ``j`` as the estimate of reference ``i``; the diagonal is NaN.
    """
    sounds = np.atleast_2d(np.asarray(sounds, np.float32))
    n = len(sounds)
    out = np.full((n, n), np.nan)
    for j in range(n):
        others = np.arange(n) != j
        out[others, j] = reconstruction_distance(sounds[others], sounds[j : j + 1])
    return out


def spread(distances):
    """Median and interquartile range of the off-diagonal entries of a distance matrix.

    Returns
    -------
    dict
        ``median``, ``q1``, ``q3``, ``pairs``.
    """
    values = distances[np.isfinite(distances)]
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return {"median": float(median), "q1": float(q1), "q3": float(q3), "pairs": int(values.size)}
