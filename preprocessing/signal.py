"""Pure signal steps of the seed's script: mono, peak alignment, length, normalisation.

Arrays in, arrays out; nothing here reads files or knows about settings objects.
"""

import numpy as np

from preprocessing.errors import AudioInputError


def mix_to_mono(data, channel=None):
    """Make one channel out of a ``(frames, channels)`` block.

    Parameters
    ----------
    data : np.ndarray, shape (n, channels) or (n,)
    channel : int or None
        None averages all channels (the mix-down). An int takes that channel (0-based);
        a mono block has only one channel to give, so it is returned whatever the index.

    Returns
    -------
    y : np.ndarray, shape (n,)
        A taken channel keeps the dtype of ``data``; a mix-down is float32 (float64 for
        float64 input).

    Raises
    ------
    AudioInputError
        ``channel`` does not exist in a multi-channel block.
    """
    data = np.asarray(data)
    if data.ndim == 1:
        return data
    if data.ndim != 2:
        raise ValueError(f"audio must be (frames, channels), got shape {data.shape}")
    count = data.shape[1]
    if count == 1:
        return data[:, 0]
    if channel is None:
        # Column by column: the same mean, several times faster than ndarray.mean (or a
        # matrix product) over a short axis of a long block.
        mono = data[:, 0].astype(np.result_type(data.dtype, np.float32), copy=True)
        for column in range(1, count):
            mono += data[:, column]
        mono *= mono.dtype.type(1.0 / count)
        return mono
    if channel >= count:
        raise AudioInputError(
            f"has {count} channels, so there is no channel {channel} (channels count from 0)",
            kind="no such channel",
        )
    return data[:, channel]


def align_peak(y, attack_samples):
    """Move the absolute peak to index ``attack_samples``.

    A peak later than that is brought forward by cutting the start; an earlier one is
    pushed back by zero-padding on the left. The length changes accordingly.

    Parameters
    ----------
    y : np.ndarray, shape (n,), n >= 1
    attack_samples : int >= 0

    Returns
    -------
    aligned : np.ndarray, shape (n - peak + attack_samples,)
        ``np.argmax(np.abs(aligned)) == attack_samples``.

    Examples
    --------
    >>> align_peak(np.array([0.0, 0.2, 1.0, 0.5]), 1)
    array([0.2, 1. , 0.5])
    """
    y = np.asarray(y)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"align_peak needs a non-empty 1-D signal, got shape {y.shape}")
    if attack_samples < 0:
        raise ValueError(f"attack_samples must be >= 0, got {attack_samples}")
    peak = int(np.argmax(np.abs(y)))
    if peak > attack_samples:
        return y[peak - attack_samples :]
    if peak < attack_samples:
        return np.pad(y, (attack_samples - peak, 0))
    return y


def fix_length(y, n):
    """Cut the end off, or zero-pad the end, so that ``y`` has exactly ``n`` samples.

    Parameters
    ----------
    y : np.ndarray, shape (m,)
    n : int >= 0

    Returns
    -------
    y : np.ndarray, shape (n,)
    """
    y = np.asarray(y)
    if n < 0:
        raise ValueError(f"length must be >= 0, got {n}")
    if y.shape[0] >= n:
        return y[:n]
    return np.pad(y, (0, n - y.shape[0]))


def normalize_peak(y):
    """Scale so that the absolute peak is exactly 1.0; an all-zero signal is returned as is.

    Parameters
    ----------
    y : np.ndarray, shape (n,)

    Returns
    -------
    y : np.ndarray, shape (n,), same dtype
    """
    y = np.asarray(y)
    peak = np.max(np.abs(y)) if y.size else 0
    if peak == 0:
        return y.copy()
    scaled = y / peak
    return scaled.astype(y.dtype, copy=False)
