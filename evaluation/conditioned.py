"""Evaluating a family-conditioned model (ddsp_cvae) beside the unconditioned ones.

A conditioned model has one plane per family, so its "grid" is the union of an equal grid on
each family's plane: 7 families of 6x6 points make 252 sounds, as close as a square per family
gets to the 16x16 = 256 of the other models, so the columns compare like with like. Beside
the usual realism columns it gets:

- **control accuracy**: per family, the share of that family's grid that the reference's
  classifier (fitted on the data's own training sounds, not the model's judge) assigns to
  it, with the whole confusion table;
- **the top octave**: per family, the median share of energy above 11.025 kHz, rendered at
  the model's own rate, beside the real sounds' median and interquartile range at that rate.

The reference data may be at another rate than the model (the other models are at 22.05 kHz):
:class:`AtRate` resamples the model's sounds to the data's rate and length for every column
but the top octave, which only the model's own rate can show.
"""

import math

import numpy as np

from constants import DRUM_FAMILIES
from evaluation.continuity import latent_continuity, latent_grid
from evaluation.reference import reconstruction_scores
from evaluation.runner import SILENT_PEAK, _record
from evaluation.speed import decode_speed

#: The top octave starts at half of 44.1 kHz's Nyquist frequency: what a 22.05 kHz sound lacks.
TOP_OCTAVE_HZ = 11025.0
_BATCH = 64


def union_side(realism_grid, families=len(DRUM_FAMILIES)):
    """Points per axis of each family's grid: the largest square that keeps the union's size
    at most the unconditioned grid's (``realism_grid**2``). 16 gives 6 (7 x 36 = 252)."""
    return max(2, math.isqrt(realism_grid**2 // families))


def union_grid(latent_range, side, families=DRUM_FAMILIES):
    """The union grid: ``side`` x ``side`` points on each family's plane.

    Returns
    -------
    points : np.ndarray, shape (F * side**2, 2), float32
    labels : list of str, length F * side**2
        The family each point is decoded with.
    """
    _, _, plane = latent_grid(latent_range, side)
    points = np.concatenate([plane] * len(families)).astype(np.float32)
    labels = [family for family in families for _ in range(len(plane))]
    return points, labels


def top_octave_share(audio, sample_rate, *, above_hz=TOP_OCTAVE_HZ):
    """Each sound's share of its energy above ``above_hz``.

    Parameters
    ----------
    audio : np.ndarray, shape (N, L)
    sample_rate : int

    Returns
    -------
    share : np.ndarray, shape (N,)
        0 for a sound rendered at or below ``2 * above_hz`` (it has no such band), and for
        silence.
    """
    audio = np.atleast_2d(np.asarray(audio, dtype=np.float64))
    power = np.abs(np.fft.rfft(audio, axis=1)) ** 2
    frequencies = np.fft.rfftfreq(audio.shape[1], 1 / sample_rate)
    total = power.sum(axis=1)
    high = power[:, frequencies > above_hz].sum(axis=1)
    return np.where(total > 0, high / np.where(total > 0, total, 1), 0.0)


def top_octave_table(audio, families, sample_rate):
    """Per family: the median, 25th and 75th percentile of :func:`top_octave_share`.

    Returns
    -------
    dict of str -> {"median", "q25", "q75", "sounds"}
        Only families with sounds.
    """
    share = top_octave_share(audio, sample_rate)
    families = np.asarray(families)
    table = {}
    for family in DRUM_FAMILIES:
        values = share[families == family]
        if len(values):
            q25, median, q75 = np.percentile(values, [25, 50, 75])
            table[family] = {"median": float(median), "q25": float(q25), "q75": float(q75), "sounds": int(len(values))}
    return table


def control_table(predicted, asked, families=DRUM_FAMILIES):
    """The confusion table of a union grid: for each asked family, the share of its sounds the
    classifier read as each family.

    Parameters
    ----------
    predicted, asked : sequence of str
        The classifier's reading and the family each sound was decoded with.

    Returns
    -------
    confusion : dict of str -> dict of str -> float
    accuracy : dict of str -> float
        The diagonal: ``confusion[f][f]``.
    """
    predicted, asked = np.asarray(predicted), np.asarray(asked)
    confusion = {}
    for family in families:
        read = predicted[asked == family]
        if len(read):
            confusion[family] = {other: float(np.mean(read == other)) for other in families}
    return confusion, {family: row[family] for family, row in confusion.items()}


class AtRate:
    """A conditioned model seen at the reference's rate and length: sounds resampled down (or
    up) on decode, the reference's sounds resampled to the model's rate on encode.

    Parameters
    ----------
    model
        Has ``decode(points, family=...)``, ``encode(audio, family=...)``, ``sample_rate``,
        ``sample_length``.
    sample_rate, length : int
        The reference's.
    """

    def __init__(self, model, sample_rate, length):
        self.model, self.sample_rate, self.length = model, int(sample_rate), int(length)
        self.native_rate = int(model.sample_rate)

    def decode(self, points, families):
        """Sounds of ``points`` (N, 2), each with its family (N names or vectors)."""
        rows = _family_rows(families)
        return np.concatenate(
            [
                self._to_reference(self.model.decode(points[i : i + _BATCH], family=rows[i : i + _BATCH]))
                for i in range(0, len(points), _BATCH)
            ]
        )

    def decode_native(self, points, families):
        """As :meth:`decode`, at the model's own rate and length."""
        rows = _family_rows(families)
        return np.concatenate(
            [
                np.asarray(self.model.decode(points[i : i + _BATCH], family=rows[i : i + _BATCH]), np.float32)
                for i in range(0, len(points), _BATCH)
            ]
        )

    def replay(self, audio):
        """Reference-rate ``audio`` (N, L) played back from its whole codes (a wide code's
        model, ddsp_cvae: ``decode_code(encode_code(...))``, no pad in between), at the
        reference's rate and length."""
        native = self._to_model(audio)
        return np.concatenate(
            [
                self._to_reference(self.model.decode_code(self.model.encode_code(native[i : i + _BATCH])))
                for i in range(0, len(native), _BATCH)
            ]
        )

    def encode(self, audio, families):
        """Codes of reference-rate ``audio`` (N, L), each encoded with its family."""
        rows = _family_rows(families)
        native = self._to_model(audio)
        return np.concatenate(
            [
                np.asarray(self.model.encode(native[i : i + _BATCH], family=rows[i : i + _BATCH]), np.float32)
                for i in range(0, len(native), _BATCH)
            ]
        ).reshape(-1, 2)

    def _to_reference(self, audio):
        return _resampled(np.asarray(audio, np.float32), self.native_rate, self.sample_rate, self.length)

    def _to_model(self, audio):
        return _resampled(np.asarray(audio, np.float32), self.sample_rate, self.native_rate, int(self.model.sample_length))


def _family_rows(families):
    from models.families import family_vector

    return np.stack([family_vector(f) if isinstance(f, str) else np.asarray(f, np.float32) for f in families])


def _resampled(audio, rate, to_rate, length):
    if rate != to_rate:
        import soxr

        audio = np.stack([soxr.resample(row, rate, to_rate, quality="HQ") for row in audio]).astype(np.float32)
    if audio.shape[1] >= length:
        return audio[:, :length]
    return np.pad(audio, ((0, 0), (0, length - audio.shape[1])))


def evaluate_conditioned(model, reference, progress=None, trained_here=True, real_native=None):
    """All metrics of a conditioned model, in the record format of
    :func:`evaluation.runner.evaluate_generator`, plus ``details["control"]`` and
    ``details["top_octave"]``.

    Parameters
    ----------
    model
        A conditioned runtime (``conditioned`` true).
    reference : reference.Reference
    progress, trained_here
        As for :func:`evaluation.runner.evaluate_generator`.
    real_native : (np.ndarray (N, L), list of str) or None
        Real sounds at the model's own rate with their families, for the top octave's real
        columns (None: the model's columns only).
    """
    report = progress or (lambda stage, fraction: None)
    view = AtRate(model, reference.sample_rate, reference.length)
    latent_range = tuple(model.latent_range())
    options = reference.options
    report("reconstruction", 0.0)
    metrics: dict[str, float | None] = {"recon_stft": None, "recon_stft_db": None, "recon_sc": None, "recon_snr_db": None}
    targets, baseline = reference.reconstruction_set(trained_here)
    metrics.update({f"mean_sample_{name}": value for name, value in baseline.items()})
    if len(targets) and model.family_pads is not None:  # a wide code: each sound from its whole code
        recon = view.replay(targets)
        metrics.update({f"recon_{name}": value for name, value in reconstruction_scores(targets, np.nan_to_num(recon)).items()})
    elif len(targets):
        read = _families_read(reference, targets)
        recon = view.decode(view.encode(targets, read), read)
        metrics.update({f"recon_{name}": value for name, value in reconstruction_scores(targets, np.nan_to_num(recon)).items()})
    report("realism", 0.15)
    points, asked = union_grid(latent_range, union_side(options.realism_grid))
    native = view.decode_native(points, asked)
    generated = view._to_reference(native)
    peaks = np.max(np.abs(np.nan_to_num(native)), axis=1)
    realism, details = reference.realism_scores(np.nan_to_num(generated))
    metrics.update(
        realism,
        nonfinite=float(np.mean(~np.all(np.isfinite(native), axis=1))),
        beyond_full_scale=float(np.mean(peaks > 1.0)),
        silent=float(np.mean(peaks < SILENT_PEAK)),
    )
    details = dict(details, union={"families": list(DRUM_FAMILIES), "points_per_family": len(points) // len(DRUM_FAMILIES)})
    if reference.classifier is not None:
        confusion, accuracy = control_table(reference.classifier.predict(np.nan_to_num(generated), reference.sample_rate), asked)
        details["control"] = confusion
        metrics.update({f"control_{family}": value for family, value in accuracy.items()})
        metrics["control_mean"] = float(np.mean(list(accuracy.values())))
    real = None if real_native is None else top_octave_table(real_native[0], real_native[1], view.native_rate)
    details["top_octave"] = {"rate": view.native_rate, "model": top_octave_table(native, asked, view.native_rate), "real": real}
    report("continuity", 0.4)
    default_family = [DRUM_FAMILIES[0]]
    continuity = latent_continuity(
        lambda p: view.decode(np.asarray(p, np.float32), default_family * len(p)),
        latent_range,
        options.grid,
        reference.sample_rate,
        progress=lambda fraction: report("continuity", 0.4 + 0.5 * fraction),
    )
    metrics.update(continuity_mean=continuity.mean, continuity_p99=continuity.p99, continuity_max=continuity.maximum)
    details["continuity_family"] = DRUM_FAMILIES[0]
    report("speed", 0.9)
    centre = np.array([[(latent_range[0] + latent_range[1]) / 2, (latent_range[2] + latent_range[3]) / 2]], np.float32)
    metrics["decode_ms"], metrics["realtime_factor"] = decode_speed(
        lambda p: model.decode(p, family=_family_rows(default_family)), centre[0], view.native_rate, repeats=options.speed_repeats
    )
    report("done", 1.0)
    record = _record(metrics, details, continuity, latent_range, len(targets), trained_here, reference)
    record["reconstruction"]["families"] = (
        "none: each sound from its whole code" if model.family_pads is not None else "the reference classifier's reading of each sound"
    )
    return record


def _families_read(reference, audio):
    """The family to encode each real sound with: the reference's classifier's reading, or
    the first family where there is no classifier."""
    if reference.classifier is None:
        return [DRUM_FAMILIES[0]] * len(audio)
    read = reference.classifier.predict(audio, reference.sample_rate)
    return [str(f) if str(f) in DRUM_FAMILIES else DRUM_FAMILIES[0] for f in read]
