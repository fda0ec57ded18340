"""Evaluate one generator against a reference built once from the real data.

The metrics only see the model through its contract: a ``decode`` callable, an ``encode``
callable or None, a latent range and a sample rate. ``evaluate_generator`` is the whole
evaluation on those; ``evaluate_model`` adapts a ``models.keras_loader.TrainedModel`` to it.
The real data they are measured against is :mod:`evaluation.reference`'s.
"""

import numpy as np

from evaluation.continuity import latent_continuity, latent_grid
from evaluation.errors import EvaluationError
from evaluation.reference import reconstruction_scores
from evaluation.spectral import as_batch
from evaluation.speed import decode_speed

BATCH = 256
SILENT_PEAK = 1e-3  # -60 dB re full scale: a grid sound this quiet counts as silence


def _decode_batches(decode, points):
    return np.concatenate([as_batch(decode(points[i : i + BATCH])) for i in range(0, len(points), BATCH)])


def _encode_batches(encode, audio):
    return np.concatenate(
        [np.asarray(encode(audio[i : i + BATCH]), dtype=np.float32).reshape(-1, 2) for i in range(0, len(audio), BATCH)]
    )


def evaluate_generator(decode, encode, latent_range, sample_rate, reference, progress=None, trained_here=True):
    """All metrics of one generator.

    Parameters
    ----------
    decode : callable
        ``decode(points (N, 2) float32) -> audio (N, L)``.
    encode : callable or None
        ``encode(audio (N, L)) -> points (N, 2)``; None for a generator without an encoder
        (no reconstruction metrics then).
    latent_range : tuple of float
        ``(xmin, xmax, ymin, ymax)``.
    sample_rate : int
    reference : Reference
    progress : callable or None
        ``progress(stage, fraction)`` with ``fraction`` of this model done (0..1).
    trained_here : bool
        Whether the generator was trained on the reference's data: then it reconstructs the
        held-out kits only, otherwise every sound of the data (see
        ``Reference.reconstruction_set``).

    Returns
    -------
    record : dict
        ``metrics`` (flat dict of floats or None), ``details`` (with ``families``, the grid's
        family shares, when the reference has a classifier), ``jumps`` (list of dicts),
        ``continuity`` (``grid_x``, ``grid_y``, ``values`` as arrays), ``reconstruction``
        (``sounds`` and which ``set``), ``reference``.

    Raises
    ------
    EvaluationError
        When the generator's sounds do not match the data (sample rate or length).
    """
    options = reference.options
    report = progress or (lambda stage, fraction: None)
    centre = _centre_checked(decode, latent_range, sample_rate, reference)
    report("reconstruction", 0.0)
    metrics, reconstructed = _reconstruction_metrics(decode, encode, reference, trained_here)
    report("realism", 0.15)
    realism, details = _realism_metrics(decode, latent_range, reference)
    metrics.update(realism)
    report("continuity", 0.4)
    continuity = latent_continuity(
        decode,
        latent_range,
        options.grid,
        reference.sample_rate,
        progress=lambda fraction: report("continuity", 0.4 + 0.5 * fraction),
    )
    metrics.update(continuity_mean=continuity.mean, continuity_p99=continuity.p99, continuity_max=continuity.maximum)
    report("speed", 0.9)
    metrics["decode_ms"], metrics["realtime_factor"] = decode_speed(
        decode, centre[0], reference.sample_rate, repeats=options.speed_repeats
    )
    report("done", 1.0)
    return _record(metrics, details, continuity, latent_range, reconstructed, trained_here, reference)


def _record(metrics, details, continuity, latent_range, reconstructed, trained_here, reference):
    """One generator's record, as :func:`evaluate_generator` returns it."""
    return {
        "metrics": metrics,
        "details": details,
        "jumps": [jump.to_dict() for jump in continuity.jumps],
        "continuity": {"grid_x": continuity.grid_x, "grid_y": continuity.grid_y, "values": continuity.cell_map},
        "latent_range": [float(v) for v in latent_range],
        "reconstruction": {"sounds": reconstructed, "set": "held-out kits" if trained_here else "every sound"},
        "reference": reference.describe(),
    }


def _centre_checked(decode, latent_range, sample_rate, reference):
    """The latent range's centre, (1, 2), once the generator's sounds match the data's.

    Raises EvaluationError naming the rate or the length that differs.
    """
    if int(sample_rate) != reference.sample_rate:
        raise EvaluationError(f"made for {sample_rate} Hz sounds, the data is at {reference.sample_rate} Hz")
    xmin, xmax, ymin, ymax = latent_range
    centre = np.array([[(xmin + xmax) / 2, (ymin + ymax) / 2]], dtype=np.float32)
    length = as_batch(decode(centre)).shape[1]
    if length != reference.length:
        raise EvaluationError(f"makes {length}-sample sounds, the data has {reference.length}-sample sounds")
    return centre


def _reconstruction_metrics(decode, encode, reference, trained_here):
    """The ``recon_*`` metrics (None without an encoder) and the baseline's ``mean_sample_*``.

    Returns
    -------
    metrics : dict
    reconstructed : int
        How many sounds were encoded and decoded.
    """
    metrics = {"recon_stft": None, "recon_stft_db": None, "recon_sc": None, "recon_snr_db": None}
    targets, baseline = reference.reconstruction_set(trained_here)
    for name, value in baseline.items():
        metrics[f"mean_sample_{name}"] = value
    if encode is None or not len(targets):
        return metrics, 0
    codes = _encode_batches(encode, targets)
    reconstruction = _decode_batches(decode, codes)
    for name, value in reconstruction_scores(targets, np.nan_to_num(reconstruction)).items():
        metrics[f"recon_{name}"] = value
    return metrics, len(targets)


def _realism_metrics(decode, latent_range, reference):
    """The realism scores of the decoded realism grid, with its share of bad sounds.

    Returns
    -------
    metrics : dict
    details : dict
        ``Reference.realism_scores``' details.
    """
    _, _, points = latent_grid(latent_range, reference.options.realism_grid)
    generated = _decode_batches(decode, points)
    nonfinite = float(np.mean(~np.all(np.isfinite(generated), axis=1)))
    peaks = np.max(np.abs(np.nan_to_num(generated)), axis=1)
    metrics, details = reference.realism_scores(np.nan_to_num(generated))
    metrics = dict(metrics)
    metrics["nonfinite"] = nonfinite
    metrics["beyond_full_scale"] = float(np.mean(peaks > 1.0))
    metrics["silent"] = float(np.mean(peaks < SILENT_PEAK))
    return metrics, details


def trained_on(card_data, folder, samples, validation_kits):
    """Whether a model card says the model was trained on this data set.

    The same folder counts; so does a folder of the same name with the same number of
    sounds and the same held-out kits (the data moved, e.g. to another machine).

    Parameters
    ----------
    card_data : dict or None
        The card's ``data`` (``folder``, ``samples``, ``validation_kits``).
    folder : str or Path
        The data set being evaluated on.
    samples : int
        Its number of sounds.
    validation_kits : list of str
        Its held-out kits.

    Returns
    -------
    bool
        False when the card names no data, or other data.
    """
    from pathlib import Path

    if not isinstance(card_data, dict) or not card_data.get("folder"):
        return False
    here, there = Path(folder).resolve(), Path(str(card_data["folder"])).resolve()
    if here == there:
        return True
    return (
        here.name == there.name
        and card_data.get("samples") == samples
        and sorted(card_data.get("validation_kits") or []) == sorted(validation_kits)
    )


def evaluate_model(model, reference, progress=None, trained_here=True):
    """All metrics of a trained model (``models.keras_loader.TrainedModel``).

    Parameters
    ----------
    model : TrainedModel
        Anything with ``decode``, ``encode``, ``has_encoder``, ``latent_range()`` and
        ``sample_rate``.
    reference : Reference
    progress : callable or None
        ``progress(stage, fraction)``.
    trained_here : bool
        See :func:`evaluate_generator`; :func:`trained_on` decides it from the card.

    Returns
    -------
    record : dict
        As :func:`evaluate_generator`.
    """
    encode = model.encode if model.has_encoder else None
    return evaluate_generator(model.decode, encode, tuple(model.latent_range()), model.sample_rate, reference, progress, trained_here)
