"""The reference: everything about the real data that every model is compared with, computed
once (:class:`Reference`: the reference subset, features, spectra, the family classifier, the
mean-training-sample baseline), with the options it is measured by (:class:`EvaluationOptions`)
and what real sounds and a trivial generator score beside the models (:func:`reference_rows`)."""

from dataclasses import asdict, dataclass

import numpy as np

from constants import ATTACK_SECONDS
from evaluation.artefacts import artefact_features, artefact_scores
from evaluation.distribution import (
    NdbBins,
    coverage_spectra,
    diversity_ratio,
    frechet_distance,
    memorisation_ratio,
    precision_recall_density_coverage,
)
from evaluation.errors import EvaluationError
from evaluation.families import FamilyClassifier, family_histogram, recognisable
from evaluation.features import audio_features, standardise
from evaluation.spectral import as_batch, combined_distance, multi_resolution_stft_distance, snr_db


@dataclass(frozen=True)
class EvaluationOptions:
    """What an evaluation measures with; part of the cache key.

    Attributes
    ----------
    grid : int
        Points per axis of the continuity grid.
    realism_grid : int
        Points per axis of the grid whose sounds are compared with the real data.
    max_reference : int
        Most real sounds used as the reference (and most held-out sounds reconstructed).
    ndb_bins : int
        K of NDB/K.
    speed_repeats : int
        Timed single-point decodes.
    seed : int
        Picks the reference subset and seeds k-means.
    prdc_k : int
        Neighbours that set the balls of precision, recall, density and coverage.
    """

    grid: int = 48
    realism_grid: int = 16
    max_reference: int = 400
    ndb_bins: int = 10
    speed_repeats: int = 30
    seed: int = 0
    prdc_k: int = 5

    def to_dict(self):
        return asdict(self)


def _subset(audio, count, rng):
    if len(audio) <= count:
        return audio
    return audio[np.sort(rng.choice(len(audio), count, replace=False))]


def noise_bursts(count, length, sample_rate, seed=0, attack_seconds=ATTACK_SECONDS):
    """Decaying white-noise bursts: the trivial generator every model has to beat.

    Each burst is white noise under an exponential decay (time constant log-uniform from
    10 ms to 400 ms), lightly low-passed by a random one-pole filter, peaking at the
    preprocessing's attack time with a peak between 0.3 and 0.9.

    Parameters
    ----------
    count, length, sample_rate : int
    seed : int
    attack_seconds : float
        Where the burst starts (the preprocessing default, :data:`constants.ATTACK_SECONDS`).

    Returns
    -------
    audio : np.ndarray, shape (count, length), float32
    """
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    start = min(int(round(attack_seconds * sample_rate)), length - 1)
    t = np.arange(length - start) / sample_rate
    audio = np.zeros((count, length), dtype=np.float32)
    for row in range(count):
        decay = np.exp(rng.uniform(np.log(0.01), np.log(0.4)))
        pole = rng.uniform(0.0, 0.9)
        noise = lfilter([1.0 - pole], [1.0, -pole], rng.standard_normal(len(t)))
        burst = noise * np.exp(-t / decay)
        audio[row, start:] = rng.uniform(0.3, 0.9) * burst / max(np.abs(burst).max(), 1e-12)
    return audio


class Reference:
    """Everything about the real data that every model is compared with, computed once.

    Parameters
    ----------
    train_audio : np.ndarray, shape (N, L)
        The training sounds.
    validation_audio : np.ndarray, shape (V, L)
        Held-out sounds for reconstruction (may be empty).
    sample_rate : int
    options : EvaluationOptions
    train_families, validation_families : array_like of str or None
        The sounds' family labels (``Dataset.families``). With them a family classifier
        is fitted on the training sounds and scored on the held-out ones; without them
        the family columns stay empty.
    """

    def __init__(
        self, train_audio, validation_audio, sample_rate, options=EvaluationOptions(), train_families=None, validation_families=None
    ):
        train_audio = as_batch(train_audio)
        if len(train_audio) < 2:
            raise EvaluationError("the dataset has fewer than 2 training sounds to compare with")
        rng = np.random.default_rng(options.seed)
        self.sample_rate = int(sample_rate)
        self.length = train_audio.shape[1]
        self.options = options
        self.train_count = len(train_audio)
        picked = _subset(np.arange(len(train_audio)), options.max_reference, rng)
        self.real_audio = train_audio[picked]
        validation_audio = np.asarray(validation_audio, dtype=np.float32)
        self.validation_audio = _subset(validation_audio.reshape(-1, self.length), options.max_reference, rng)
        # every sound of the folder, for models that never trained on it
        self.all_audio = np.concatenate([train_audio, validation_audio.reshape(-1, self.length)])
        # the ceiling row: training sounds outside the reference subset, offered as generated
        outside = np.setdiff1d(np.arange(len(train_audio)), picked)
        if len(outside) <= options.prdc_k:
            outside = picked
        self.ceiling_audio = train_audio[_subset(outside, options.realism_grid**2, rng)]

        self.training_features = audio_features(train_audio, sample_rate)
        self.real_features = audio_features(self.real_audio, sample_rate)
        self.real_spectra = coverage_spectra(self.real_audio, sample_rate)
        self.bins = NdbBins(self.real_spectra, options.ndb_bins, options.seed)
        self.real_artefacts = artefact_features(self.real_audio, sample_rate)

        # the baseline every autoencoder has to beat: one fixed sound, the mean training sample
        self.mean_training_sample = train_audio.mean(axis=0, keepdims=True)
        self.baseline = reconstruction_scores(self.validation_audio, self.mean_training_sample) if len(self.validation_audio) else {}
        self._all_baseline = None

        self.classifier, self.classifier_accuracy = None, None
        if train_families is not None:
            try:
                self.classifier = FamilyClassifier.fit(self.training_features, train_families, self.sample_rate, self.length)
            except ValueError:
                self.classifier = None  # fewer than two families: no family columns
        if self.classifier is not None and validation_families is not None and len(validation_audio.reshape(-1, self.length)):
            self.classifier_accuracy = self.classifier.accuracy(
                audio_features(validation_audio.reshape(-1, self.length), sample_rate), validation_families
            )

    def reconstruction_set(self, trained_here=True):
        """The sounds a model reconstructs, and the baseline on them.

        Parameters
        ----------
        trained_here : bool
            True for a model trained on this data: only its held-out kits are fair to
            reconstruct. False: no sound of this folder was seen, so every one is.

        Returns
        -------
        audio : np.ndarray, shape (R, L)
        baseline : dict
            :func:`reconstruction_scores` of the mean training sample on ``audio``.
        """
        if trained_here:
            return self.validation_audio, self.baseline
        if self._all_baseline is None:
            self._all_baseline = reconstruction_scores(self.all_audio, self.mean_training_sample)
        return self.all_audio, self._all_baseline

    def realism_scores(self, generated_audio):
        """Realism, coverage, diversity, memorisation and artefacts of a set of sounds.

        Parameters
        ----------
        generated_audio : np.ndarray, shape (M, L)

        Returns
        -------
        scores : dict of str -> float
        details : dict
            Per-feature artefact distances and medians, NDB bin shares.
        """
        generated_features = audio_features(generated_audio, self.sample_rate)
        real_z, generated_z, training_z = standardise(self.real_features, generated_features, self.training_features)
        ndb = self.bins.test(coverage_spectra(generated_audio, self.sample_rate))
        memorisation = memorisation_ratio(training_z, generated_z)
        artefacts = artefact_scores(artefact_features(generated_audio, self.sample_rate), self.real_artefacts)
        k = self.options.prdc_k
        prdc = (
            precision_recall_density_coverage(real_z, generated_z, k).to_dict()
            if len(real_z) > k and len(generated_z) > k
            else dict.fromkeys(("precision", "recall", "density", "coverage"))
        )
        scores = {
            "frechet": frechet_distance(real_z, generated_z),
            **prdc,
            "recognisable": None,
            "ndb_k": ndb.ndb_over_k,
            "diversity": diversity_ratio(real_z, generated_z),
            "memorisation": memorisation.median_ratio,
            **{name: artefacts[name] for name in ("clicks", "noise_floor", "bitcrush")},
        }
        details = {
            "artefacts": artefacts,
            "ndb_real_proportions": ndb.real_proportions.tolist(),
            "ndb_generated_proportions": ndb.generated_proportions.tolist(),
            "memorisation_typical_spacing": memorisation.typical_spacing,
            "prdc_k": k,
        }
        if self.classifier is not None:
            probabilities = self.classifier.proba_of_features(generated_features)
            scores["recognisable"] = recognisable(probabilities)
            details["families"] = family_histogram(probabilities, self.classifier.families)
        return scores, details

    def describe(self):
        """A few facts about the reference for the report."""
        return {
            "sample_rate": self.sample_rate,
            "length": self.length,
            "training_sounds": self.train_count,
            "reference_sounds": len(self.real_audio),
            "held_out_sounds": len(self.validation_audio),
            "prdc_k": self.options.prdc_k,
            "family_classifier_held_out_accuracy": (None if self.classifier_accuracy is None else round(self.classifier_accuracy, 3)),
            # the aligned drums' phases cancel in the mean: say how quiet the baseline is
            "mean_training_sample_peak": round(float(np.abs(self.mean_training_sample).max()), 4),
        }


def reconstruction_scores(reference, estimate):
    """Multi-resolution STFT distance, its two terms, and SNR, each averaged over the sounds.

    Parameters
    ----------
    reference : np.ndarray, shape (N, L)
    estimate : np.ndarray, shape (N, L) or (1, L)

    Returns
    -------
    scores : dict
        ``stft``: the multi-resolution STFT distance as in Parallel WaveGAN's loss, spectral
        convergence plus log-magnitude L1 in natural-log units (``dB * ln(10) / 20``), both
        averaged over FFT sizes 512, 1024 and 2048; ``stft_db``: the log-magnitude term in
        dB; ``sc``: the spectral convergence term; ``snr_db``.
    """
    log_l1_db, convergence = multi_resolution_stft_distance(reference, estimate)
    return {
        "stft": float(np.mean(combined_distance(log_l1_db, convergence))),
        "stft_db": float(np.mean(log_l1_db)),
        "sc": float(np.mean(convergence)),
        "snr_db": float(np.mean(snr_db(reference, estimate))),
    }


def real_data_scores(reference):
    """The realism metrics of held-out real sounds: what a perfect generator would score.

    Parameters
    ----------
    reference : Reference

    Returns
    -------
    scores : dict or None
        As ``Reference.realism_scores``' first value; None without held-out sounds.
    """
    if len(reference.validation_audio) < 2:
        return None
    scores, _ = reference.realism_scores(reference.validation_audio)
    return scores


REFERENCE_ROWS = ("real training sounds", "real held-out sounds", "noise bursts")


def reference_rows(reference):
    """What real sounds and a trivial generator score, shown beside the models.

    - *real training sounds*: training sounds outside the reference subset, offered as if
      generated: the ceiling (a generator that reproduces its training data);
    - *real held-out sounds*: the held-out kits (new kits, same kinds of drums);
    - *noise bursts*: :func:`noise_bursts`, which every model must beat.

    Parameters
    ----------
    reference : Reference

    Returns
    -------
    rows : dict of str -> dict
        Label (``REFERENCE_ROWS``, held-out only when there are enough held-out sounds)
        -> ``{"metrics": realism scores, "details": ...}`` as in a record.
    """
    sets = {
        "real training sounds": reference.ceiling_audio,
        "real held-out sounds": reference.validation_audio,
        "noise bursts": noise_bursts(
            reference.options.realism_grid**2, reference.length, reference.sample_rate, reference.options.seed
        ),
    }
    rows = {}
    for label, audio in sets.items():
        if len(audio) < 2:
            continue
        scores, details = reference.realism_scores(audio)
        rows[label] = {"metrics": scores, "details": details}
    return rows
