"""Realism, coverage, diversity and memorisation: comparisons of two sets of sounds.

Every function compares a set of generated sounds with a set of real ones, both already
turned into vectors (``features.audio_features`` standardised with the real data's
statistics, or ``coverage_spectra`` for NDB).
"""

from dataclasses import dataclass

import numpy as np
import scipy.linalg
from scipy.spatial.distance import cdist, pdist

from evaluation.spectral import log_mel_db

RIDGE = 1e-6


def frechet_distance(real, generated):
    """Fréchet distance between Gaussians fitted to two feature sets.

    ``|mu_r - mu_g|^2 + Tr(S_r + S_g - 2 (S_r S_g)^(1/2))``. A ridge of ``1e-6`` is added to
    both covariances so that rank-deficient sets (fewer sounds than dimensions, or a
    generator that always returns one sound) still have a well-defined square root; with
    standardised features the ridge moves the answer by at most ``4e-6 * D``. The
    square root's tiny imaginary part (numerical noise) is dropped, and the result is
    clipped at 0.

    Parameters
    ----------
    real : np.ndarray, shape (N, D)
    generated : np.ndarray, shape (M, D)

    Returns
    -------
    distance : float
        0 for identical sets; grows with the squared distance between the means.
    """
    real = np.asarray(real, dtype=np.float64)
    generated = np.asarray(generated, dtype=np.float64)
    ridge = RIDGE * np.eye(real.shape[1])
    cov_r = np.atleast_2d(np.cov(real, rowvar=False)) + ridge
    cov_g = np.atleast_2d(np.cov(generated, rowvar=False)) + ridge
    covmean = scipy.linalg.sqrtm(cov_r @ cov_g)
    if not np.all(np.isfinite(covmean)):
        # the product of two near-singular matrices can defeat sqrtm; a larger ridge fixes it
        bigger = 1e-3 * np.eye(real.shape[1])
        covmean = scipy.linalg.sqrtm((cov_r + bigger) @ (cov_g + bigger))
    covmean = np.real(covmean)
    mean_term = np.sum((real.mean(axis=0) - generated.mean(axis=0)) ** 2)
    trace_term = np.trace(cov_r) + np.trace(cov_g) - 2.0 * np.trace(covmean)
    return float(max(mean_term + trace_term, 0.0))


def coverage_spectra(audio, sample_rate, time_pool=4):
    """Flattened log-mel spectrograms (64 bands, hop 256, pooled in time) for NDB's bins.

    Parameters
    ----------
    audio : np.ndarray, shape (N, L)
    sample_rate : int
    time_pool : int
        Frames averaged together, so that small timing shifts stay in the same bin.

    Returns
    -------
    spectra : np.ndarray, shape (N, D), float32
    """
    db = log_mel_db(audio, sample_rate)
    frames = db.shape[1] // time_pool * time_pool
    pooled = db[:, :frames].reshape(len(db), frames // time_pool, time_pool, -1).mean(axis=2)
    return pooled.reshape(len(db), -1)


@dataclass(frozen=True)
class NdbResult:
    """Number of statistically different bins (Richardson & Weiss, 2018).

    Attributes
    ----------
    ndb_over_k : float
        Fraction of the K bins whose share of generated sounds differs significantly from
        their share of real sounds (0 = same coverage; 1 = every bin differs).
    significant : np.ndarray, shape (K,), bool
    real_proportions, generated_proportions, z : np.ndarray, shape (K,)
    """

    ndb_over_k: float
    significant: np.ndarray
    real_proportions: np.ndarray
    generated_proportions: np.ndarray
    z: np.ndarray


class NdbBins:
    """k-means bins fitted on real data, ready to test generated sets against.

    Parameters
    ----------
    real : np.ndarray, shape (N, D)
        E.g. :func:`coverage_spectra` of the real sounds.
    k : int
        Number of bins; keep ``N / k`` at 20 or more so each bin's share is measurable.
    seed : int
        k-means initialisation, fixed so that a model's NDB does not move between runs.
    """

    def __init__(self, real, k=10, seed=0):
        from sklearn.cluster import KMeans

        real = np.asarray(real, dtype=np.float64)
        self.k = min(k, len(real))
        self._kmeans = KMeans(n_clusters=self.k, n_init=4, random_state=seed).fit(real)
        self.real_counts = np.bincount(self._kmeans.labels_, minlength=self.k)

    def test(self, generated, alpha=0.05):
        """Two-proportion z-test of each bin's share, generated against real.

        Parameters
        ----------
        generated : np.ndarray, shape (M, D)
            Assigned to the nearest bin centre.
        alpha : float
            Significance level of each two-sided test.

        Returns
        -------
        NdbResult
        """
        from scipy.stats import norm

        generated = np.asarray(generated, dtype=np.float64)
        generated_counts = np.bincount(self._kmeans.predict(generated), minlength=self.k)
        n_real, n_generated = self.real_counts.sum(), len(generated)
        p_real = self.real_counts / n_real
        p_generated = generated_counts / n_generated
        pooled = (self.real_counts + generated_counts) / (n_real + n_generated)
        standard_error = np.sqrt(pooled * (1 - pooled) * (1 / n_real + 1 / n_generated))
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(standard_error > 0, (p_generated - p_real) / standard_error, 0.0)
        significant = np.abs(z) > norm.ppf(1 - alpha / 2)
        return NdbResult(float(np.mean(significant)), significant, p_real, p_generated, z)


def ndb_k(real, generated, k=10, alpha=0.05, seed=0):
    """NDB/K: k-means bins on the real data, a two-proportion z-test per bin.

    Parameters
    ----------
    real : np.ndarray, shape (N, D)
        E.g. :func:`coverage_spectra` of the real sounds; the bins are fitted on these.
    generated : np.ndarray, shape (M, D)
    k : int
        Number of bins.
    alpha : float
        Significance level of each two-sided test.
    seed : int
        k-means initialisation.

    Returns
    -------
    NdbResult
        ``ndb_over_k`` is near ``alpha`` for a generator that matches the data, and near 1
        for one that always returns the same sound.
    """
    return NdbBins(real, k, seed).test(generated, alpha)


def mean_pairwise_distance(vectors):
    """Mean Euclidean distance over all pairs of rows.

    Parameters
    ----------
    vectors : np.ndarray, shape (N, D), N >= 2

    Returns
    -------
    distance : float
    """
    return float(np.mean(pdist(np.asarray(vectors, dtype=np.float64))))


def diversity_ratio(real, generated):
    """Mean pairwise distance of the generated set over that of the real set.

    Parameters
    ----------
    real : np.ndarray, shape (N, D)
    generated : np.ndarray, shape (M, D)
        Both in the same (standardised) feature space.

    Returns
    -------
    ratio : float
        About 1 when the generator varies as much as the data; 0 when it always returns the
        same sound; above 1 when it spreads wider than the data (e.g. into noise).
    """
    return mean_pairwise_distance(generated) / max(mean_pairwise_distance(real), 1e-12)


@dataclass(frozen=True)
class MemorisationResult:
    """How close generated sounds sit to training sounds, in units of the data's own spacing.

    Attributes
    ----------
    median_ratio : float
        Median over generated sounds of ``ratios``.
    ratios : np.ndarray, shape (M,)
        Distance from each generated sound to its nearest training sound over
        ``typical_spacing``; near 0 means a copy of a training sound.
    typical_spacing : float
        Median nearest-neighbour distance among the training sounds (self excluded).
    """

    median_ratio: float
    ratios: np.ndarray
    typical_spacing: float


def memorisation_ratio(training, generated):
    """Nearest-training-sound distance of each generated sound over the data's spacing.

    Parameters
    ----------
    training : np.ndarray, shape (N, D), N >= 2
    generated : np.ndarray, shape (M, D)

    Returns
    -------
    MemorisationResult
    """
    training = np.asarray(training, dtype=np.float64)
    generated = np.asarray(generated, dtype=np.float64)
    among_training = cdist(training, training)
    np.fill_diagonal(among_training, np.inf)
    typical = float(np.median(among_training.min(axis=1)))
    nearest = cdist(generated, training).min(axis=1)
    ratios = nearest / max(typical, 1e-12)
    return MemorisationResult(float(np.median(ratios)), ratios, typical)


PRDC_K = 5


@dataclass(frozen=True)
class PrdcResult:
    """Precision, recall, density and coverage of a generated set against a real one.

    Attributes
    ----------
    precision : float
        Share of generated sounds inside some real sound's k-NN ball (realism).
    recall : float
        Share of real sounds inside some generated sound's k-NN ball (how much of the
        data the generator reaches).
    density : float
        Mean number of real balls holding a generated sound, over k; about 1 for a
        generator that matches the data, above 1 when it crowds the data's dense parts.
    coverage : float
        Share of real sounds whose own ball holds at least one generated sound.
    k : int
    """

    precision: float
    recall: float
    density: float
    coverage: float
    k: int

    def to_dict(self):
        return {"precision": self.precision, "recall": self.recall, "density": self.density, "coverage": self.coverage}


def _kth_neighbour_distance(vectors, k):
    """Distance from each row to its k-th nearest other row."""
    among = cdist(vectors, vectors)
    # column 0 of the sorted row is the row itself (distance 0)
    return np.sort(among, axis=1)[:, k]


def precision_recall_density_coverage(real, generated, k=PRDC_K):
    """PRDC of two feature sets (Kynkäänniemi et al. 2019; Naeem et al. 2020).

    Each sound gets a ball whose radius is the distance to its k-th nearest neighbour in
    its own set. Precision and density ask which generated sounds fall in real balls,
    recall asks which real sounds fall in generated balls, coverage which real balls hold
    a generated sound. Distances are Euclidean, so pass standardised features.

    Parameters
    ----------
    real : np.ndarray, shape (N, D), N > k
    generated : np.ndarray, shape (M, D), M > k
    k : int
        Neighbours that set a ball's radius.

    Returns
    -------
    PrdcResult
        1, 1, about 1 and 1 for two identical sets; 0 for sets far apart. A generator that
        always returns one sound has recall 0 (its balls have radius 0).

    Raises
    ------
    ValueError
        When either set has k or fewer members.
    """
    real = np.asarray(real, dtype=np.float64)
    generated = np.asarray(generated, dtype=np.float64)
    if len(real) <= k or len(generated) <= k:
        raise ValueError(
            f"precision and recall with k={k} need more than {k} sounds per set, got {len(real)} real and {len(generated)} generated"
        )
    real_radii = _kth_neighbour_distance(real, k)
    generated_radii = _kth_neighbour_distance(generated, k)
    real_to_generated = cdist(real, generated)  # (N, M)
    in_real_balls = real_to_generated < real_radii[:, None]
    in_generated_balls = real_to_generated < generated_radii[None, :]
    return PrdcResult(
        precision=float(in_real_balls.any(axis=0).mean()),
        recall=float(in_generated_balls.any(axis=1).mean()),
        density=float(in_real_balls.sum() / (k * len(generated))),
        coverage=float((real_to_generated.min(axis=1) < real_radii).mean()),
        k=int(k),
    )
