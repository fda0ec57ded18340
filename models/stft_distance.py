"""The multi-resolution STFT distance, written once for the loss that trains the models and
the metric that evaluates them.

The loss (:mod:`models.losses`) runs it on Keras ops, so it has gradients; the evaluation
(:mod:`evaluation.spectral`) runs it on NumPy, without TensorFlow. They differ only in what
they pass: how a spectrogram is made (the evaluation centres its frames, as librosa does),
how a magnitude becomes a level (natural log for the loss, dB floored at
``constants.FLOOR_DB`` for the metric) and the FFT sizes. This module imports nothing, so
either side may import it.
"""


def multi_resolution_stft(reference, estimate, fft_sizes, *, ops, magnitude, log_level, norm_floor, start=0.0):
    """Log-magnitude L1 and spectral convergence of matching pairs, averaged over FFT sizes.

    For each FFT size ``n``: the mean absolute difference of the two log-level spectrograms,
    and ``|| |X| - |Y| ||_F / || |X| ||_F`` on the magnitudes (0 for a perfect match, 1 for a
    silent estimate).

    Parameters
    ----------
    reference : array, shape (N, L)
        The real sounds.
    estimate : array, shape (N, L) or (1, L)
        Their reconstructions (a single row is compared with every reference).
    fft_sizes : sequence of int
    ops : module
        ``numpy`` or ``keras.ops``: the array functions ``abs``, ``maximum``, ``mean``,
        ``sqrt``, ``square`` and ``sum``.
    magnitude : callable
        ``magnitude(audio, n_fft)`` -> spectrogram, shape (N, T, F).
    log_level : callable
        ``log_level(magnitude, n_fft)`` -> the levels compared by the L1 term, same shape.
    norm_floor : float
        The smallest reference norm divided by (a silent reference).
    start : float or array, shape (N,)
        Where the sums over sizes start: float64 zeros make NumPy add the float32 terms in
        double precision.

    Returns
    -------
    log_l1 : array, shape (N,)
    convergence : array, shape (N,)
    """
    log_l1 = convergence = start
    for n_fft in fft_sizes:
        ref, est = magnitude(reference, n_fft), magnitude(estimate, n_fft)
        log_l1 = log_l1 + ops.mean(ops.abs(log_level(ref, n_fft) - log_level(est, n_fft)), axis=(1, 2))
        difference = ops.sqrt(ops.sum(ops.square(ref - est), axis=(1, 2)))
        norm = ops.sqrt(ops.sum(ops.square(ref), axis=(1, 2)))
        convergence = convergence + difference / ops.maximum(norm, norm_floor)
    return log_l1 / len(fft_sizes), convergence / len(fft_sizes)
