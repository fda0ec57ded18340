"""Family pads: the pad of a model without a family input mapped onto one family's region.

A model that encodes (every shipped model but the GAN) has placed its training sounds in
its latent plane (``codes.npz``), each with its family. :meth:`FamilyPads.fit` fits one
Gaussian per family on the training split of those codes (never the held-out kits), when
the model loads: nothing is stored beside the model, so the pads always agree with its
codes. With a family chosen, a pad point ``(u, v)`` of the model's usual range maps to

    latent = mean + s * (u' * sigma1 * e1 + v' * sigma2 * e2)

where ``u', v'`` are ``(u, v)`` normalised to [-1, 1] over the pad's range, ``e1, e2`` the
main axes of the family's covariance (``e1`` the longer) and ``sigma1, sigma2`` the
standard deviations along them. The pad's centre is the family's mean and its corners lie at
``s`` standard deviations along both axes. A hybrid (``"kick:0.6,tom:0.4"``) blends the
families' means and covariances by its weights. No family is the plain pad.

Shrinkage: claps are 17 to 24 sounds, so their covariance is noisy. Each family's
covariance is blended with the pooled within-family covariance as a prior worth
``k`` = :data:`~constants.FAMILY_SHRINK_COUNT` codes: its own weight is
``(n - 1) / (n - 1 + k)`` (n - 1: the degrees of freedom of a covariance of n codes, so a
family of one sound takes the pooled shape around its one code). This was chosen over
Ledoit-Wolf because Ledoit-Wolf shrinks toward a scaled identity, which in a latent plane
whose two axes mean different things is a shape no family has, while the pooled covariance
is the shape the encoder gives a family in general; and because a fixed ``k`` makes the
pads a plain, reproducible function of the codes (no estimated intensity to drift when a
code is added). With ``k`` = 10, a clap of 17 sounds keeps 62 % of its own covariance, a
cymbal of 139 keeps 93 %.

Scale ``s`` = :data:`~constants.FAMILY_PAD_SCALE` = 1.0, one for every model,
measured with the evaluation's own code (``scripts/measure_family_pads.py``: the union grid
of :mod:`evaluation.conditioned`, 6 x 6 pad points per family, mapped through the pads and
decoded; precision and coverage from ``Reference.realism_scores``, the control per family
from the classifier fitted on the training split of the Hydrogen kits, 854 sounds):

====  =========  ========  =======  ==============================================
s     precision  coverage  control  control kick snare clap hat tom cymbal perc.
====  =========  ========  =======  ==============================================
0.75  0.70       0.17      0.60     1.00 0.33 0.00 1.00 1.00 0.69 0.19
1.0   0.66       0.19      0.58     0.94 0.47 0.00 0.97 0.94 0.58 0.17
1.25  0.65       0.21      0.52     0.86 0.42 0.00 0.92 0.78 0.53 0.17
1.5   0.63       0.22      0.46     0.75 0.39 0.00 0.81 0.64 0.53 0.11
2.0   0.65       0.23      0.38     0.64 0.31 0.00 0.69 0.53 0.44 0.08
====  =========  ========  =======  ==============================================

(ddsp_vae; its plain 16 x 16 pad: precision 0.59, coverage 0.23, the figures of its
shipped metrics.json.) Widening the pads from 1.0 to 1.5 standard deviations buys 0.03 of
coverage and costs 0.12 of control: a quarter of the kick pad stops sounding like a kick.
1.0 is the widest scale whose control stays within 0.05 of the narrowest measured, and its
seven pads together already reach 0.19 of the 0.23 coverage of the plain pad. The seed's
models (vae_a, vae_c, conv_ae, ae_medium_tanh measured) give no reason for another scale:
the classifier reads nearly all their sounds as hats at every scale, and their precision
is highest at the smaller ones. Claps are read as claps at no scale: the mean of ddsp_vae's
17 training claps lies between its snares' and its percussion's.

The decode of a (pad point, family) pair is this module's arithmetic in float64 with a
closed-form 2 x 2 eigen-decomposition (no LAPACK call whose sign convention could flip an
axis), so the same pair always gives the same latent point, and the same sound.

NumPy and the standard library only.
"""

import math
from dataclasses import dataclass

import numpy as np

from constants import DRUM_FAMILIES, FAMILY_PAD_SCALE, FAMILY_SHRINK_COUNT, LATENT_DIM
from models.errors import ModelInputError
from models.families import family_rows
from models.family_frame import FamilyFrame

#: The smallest standard deviation a family's axis is given: a family whose codes (and the
#: pooled ones) do not vary along an axis still spans a pad, if a tiny one.
MIN_SIGMA = 1e-3


@dataclass(frozen=True)
class FamilyGaussian:
    """One family's Gaussian over a model's training codes.

    Attributes
    ----------
    mean : np.ndarray, shape (D,), float64
    covariance : np.ndarray, shape (D, D), float64
        Shrunk toward the pooled within-family covariance (see the module notes).
    count : int
        The family's training codes.
    """

    mean: np.ndarray
    covariance: np.ndarray
    count: int


@dataclass(frozen=True)
class PadAxes:
    """Where a family's pad lies in the latent plane.

    Attributes
    ----------
    mean : np.ndarray, shape (D,)
        The latent point at the pad's centre.
    sigmas : np.ndarray, shape (D,)
        The standard deviations along the main axes, the longest first.
    axes : np.ndarray, shape (D, D)
        The main axes as rows. In 2-D ``axes[0]`` is ``e1`` (its x part is >= 0) and
        ``axes[1]`` is ``e1`` turned a quarter turn anticlockwise (:func:`main_axes`); in a
        wider code see :func:`wide_axes`. The pad spans the first two; the others are the
        directions a variation of the same family and place moves along.
    """

    mean: np.ndarray
    sigmas: np.ndarray
    axes: np.ndarray


def main_axes(covariance):
    """The main axes of a 2 x 2 covariance, in closed form.

    Parameters
    ----------
    covariance : array-like, shape (2, 2)

    Returns
    -------
    sigmas : np.ndarray, shape (2,)
        Standard deviations along the axes, the larger first (at least :data:`MIN_SIGMA`).
    axes : np.ndarray, shape (2, 2)
        Unit axes as rows, a right-handed frame whose first axis points to +x (or +y).
    """
    (a, b), (_, c) = np.asarray(covariance, dtype=np.float64)
    half_gap = math.hypot((a - c) / 2.0, b)
    middle = (a + c) / 2.0
    variances = np.array([middle + half_gap, middle - half_gap])
    angle = 0.5 * math.atan2(2.0 * b, a - c)  # in (-pi/2, pi/2]: e1's x part is >= 0
    cos, sin = math.cos(angle), math.sin(angle)
    axes = np.array([[cos, sin], [-sin, cos]])
    return np.maximum(np.sqrt(np.maximum(variances, 0.0)), MIN_SIGMA), axes


def wide_axes(covariance):
    """The main axes of a D x D covariance (D > 2), the longest first.

    :func:`main_axes` in closed form for D = 2; for a wider code the eigen-decomposition,
    with each axis turned so that its largest part is positive (an eigenvector's sign is
    otherwise up to LAPACK, and a flipped axis would mirror a family's pad).

    Returns
    -------
    sigmas : np.ndarray, shape (D,)
        Standard deviations along the axes, the larger first (at least :data:`MIN_SIGMA`).
    axes : np.ndarray, shape (D, D)
        Unit axes as rows.
    """
    covariance = np.asarray(covariance, dtype=np.float64)
    if covariance.shape == (2, 2):
        return main_axes(covariance)
    variances, vectors = np.linalg.eigh((covariance + covariance.T) / 2.0)
    order = np.argsort(variances)[::-1]
    axes = vectors[:, order].T
    largest = np.argmax(np.abs(axes), axis=1)
    axes *= np.sign(axes[np.arange(len(axes)), largest])[:, None]
    return np.maximum(np.sqrt(np.maximum(variances[order], 0.0)), MIN_SIGMA), axes


def _covariance(points):
    centred = points - points.mean(axis=0)
    return centred.T @ centred / max(len(points) - 1, 1)


class FamilyPads(FamilyFrame):
    """Each family's Gaussian over one model's training codes, and the pad mapping.

    Parameters
    ----------
    name : str
        The model's registry name (for the reasons a family is refused).
    gaussians : dict of str to FamilyGaussian
        The families that have training codes.
    pad_range : tuple of float
        The model's usual pad, ``(xmin, xmax, ymin, ymax)``: what ``(u, v)`` are normalised
        over.
    scale : float
        ``s``, in standard deviations (:data:`~constants.FAMILY_PAD_SCALE`).
    """

    def __init__(self, name, gaussians, pad_range, scale=FAMILY_PAD_SCALE):
        self.name = name
        self.gaussians = dict(gaussians)
        xmin, xmax, ymin, ymax = (float(v) for v in pad_range)
        self.pad_range = (xmin, xmax, ymin, ymax)
        self._centre = np.array([(xmin + xmax) / 2.0, (ymin + ymax) / 2.0])
        self._half = np.array([(xmax - xmin) / 2.0, (ymax - ymin) / 2.0])
        self.scale = float(scale)

    def __repr__(self):
        return f"FamilyPads({self.name!r}, {', '.join(f'{f}={g.count}' for f, g in self.gaussians.items())})"

    @classmethod
    def fit(cls, name, codes, pad_range, *, scale=FAMILY_PAD_SCALE, shrink_count=FAMILY_SHRINK_COUNT):
        """Fit a Gaussian per family on the training split of ``codes``.

        Parameters
        ----------
        name : str
        codes : models.trained_folder.LatentCodes
            ``points`` (N, D), ``families`` (N,) and ``is_validation`` (N,); held-out codes
            are left out, and so are codes that are not finite and labels outside
            ``constants.DRUM_FAMILIES`` (``unknown``, ``other``).
        pad_range : tuple of float
        scale : float
        shrink_count : float
            ``k``: the pooled covariance's weight, in codes (see the module notes).

        Returns
        -------
        FamilyPads

        Raises
        ------
        ModelInputError
            No family has a training code, or every training code sits at one point; the
            message says so in words.
        """
        points = np.asarray(codes.points, dtype=np.float64)
        # a code that is not finite (a damaged codes.npz) has no place to fit
        training = ~np.asarray(codes.is_validation, dtype=bool) & np.isfinite(points).all(axis=1)
        points = points[training]
        labels = np.asarray(codes.families).astype(str)[training]
        members = {family: points[labels == family] for family in DRUM_FAMILIES if np.any(labels == family)}
        if not members:
            raise ModelInputError(f"{name} takes no family: none of its training sounds has a drum family")
        together = np.concatenate(list(members.values()))
        if np.ptp(together, axis=0).max() <= MIN_SIGMA:
            raise ModelInputError(f"{name} takes no family: its training sounds all encode to one point")
        freedom = sum(len(p) - 1 for p in members.values())
        pooled = sum((len(p) - 1) * _covariance(p) for p in members.values()) / freedom if freedom > 0 else _covariance(together)
        gaussians = {}
        for family, member in members.items():
            own = (len(member) - 1) / (len(member) - 1 + shrink_count)
            covariance = own * _covariance(member) + (1.0 - own) * pooled
            gaussians[family] = FamilyGaussian(member.mean(axis=0), covariance, len(member))
        return cls(name, gaussians, pad_range, scale)

    @property
    def latent_dim(self):
        """D: the width of the codes the Gaussians were fitted on (2 for the shipped models)."""
        return len(next(iter(self.gaussians.values())).mean)

    @property
    def families(self):
        """The families that have training codes, in ``constants.DRUM_FAMILIES`` order."""
        return tuple(family for family in DRUM_FAMILIES if family in self.gaussians)

    def missing_reason(self, family):
        """Why ``family`` (a family, a mix or a weight vector) cannot be played, or None.

        Returns
        -------
        str or None
            ``"ddsp_vae has no clap among its training sounds"`` for the first family the
            choice weighs that has no training code.
        """
        vector = family_rows(family, 1)[0]
        for name, weight in zip(DRUM_FAMILIES, vector):
            if weight > 0 and name not in self.gaussians:
                return f"{self.name} has no {name} among its training sounds"
        return None

    def likeliest(self, latent):
        """The family whose Gaussian gives each latent point the highest density.

        Parameters
        ----------
        latent : array-like, shape (N, D) or (D,)

        Returns
        -------
        list of str
            One family name per point (from :attr:`families`).
        """
        points = np.asarray(latent, dtype=np.float64).reshape(-1, self.latent_dim)
        scores = []
        for family in self.families:
            gaussian = self.gaussians[family]
            offset = points - gaussian.mean
            inverse = np.linalg.inv(gaussian.covariance)
            _, log_det = np.linalg.slogdet(gaussian.covariance)
            scores.append(-0.5 * (np.einsum("ni,ij,nj->n", offset, inverse, offset) + log_det))
        best = np.argmax(np.stack(scores, axis=1), axis=1)
        return [self.families[index] for index in best]

    def axes(self, family):
        """The pad of a family, a mix or a weight vector (7,): its :class:`PadAxes`.

        A mix blends the families' means and covariances by its weights.

        Raises
        ------
        ModelInputError
            An unknown family, bad weights, or a family without training codes.
        """
        vector = family_rows(family, 1)[0].astype(np.float64)
        reason = self.missing_reason(vector)
        if reason is not None:
            raise ModelInputError(reason)
        width = self.latent_dim
        mean, covariance = np.zeros(width), np.zeros((width, width))
        for name, weight in zip(DRUM_FAMILIES, vector):
            if weight > 0:
                mean += weight * self.gaussians[name].mean
                covariance += weight * self.gaussians[name].covariance
        sigmas, axes = wide_axes(covariance)
        return PadAxes(mean, sigmas, axes)

    def to_latent(self, points, family):
        """The latent points that pad points play with a family chosen.

        Parameters
        ----------
        points : array-like, shape (N, 2) or (N, D)
            Pad points in the model's usual range, or a wide code's family-frame vectors
            (:meth:`from_frame`: the pad point and the offsets along the other axes).
        family : str, dict or array-like
            One family or mix for every point, or weight rows (N, 7), one per point.

        Returns
        -------
        np.ndarray, shape (N, D), float32
            On the family's two main axes; a pad point of a wider code sits at the
            family's mean along the others.
        """
        points = np.asarray(points, dtype=np.float64)
        points = points.reshape(-1, self.latent_dim if points.ndim == 2 and points.shape[1] == self.latent_dim else LATENT_DIM)
        if isinstance(family, (str, dict)) or np.ndim(family) == 1:  # one for all: the window's drag
            return self._mapped(points, self.axes(family)).astype(np.float32)
        rows = family_rows(family, len(points))
        latent = np.empty((len(points), self.latent_dim))
        unique, which = np.unique(rows, axis=0, return_inverse=True)
        for index, row in enumerate(unique):
            chosen = which.reshape(-1) == index
            latent[chosen] = self._mapped(points[chosen], self.axes(row))
        return latent.astype(np.float32)

    def _mapped(self, points, pad):
        normalised = (points[:, :2] - self._centre) / self._half
        latent = pad.mean + self.scale * (normalised * pad.sigmas[:2]) @ pad.axes[:2]
        if points.shape[1] > 2:  # a frame vector: its offsets along the other axes on top
            latent = latent + self.scale * ((points[:, 2:] / self.frame_unit) * pad.sigmas[2:]) @ pad.axes[2:]
        return latent

    def varied(self, latent, family, variation):
        """Latent points moved off their family's pad along its other main axes: a draw
        from the family's distribution given the pad point (for a Gaussian, the parts
        along the other axes are independent of the pad's, each N(0, sigma_k)), times the
        pad's scale. Variation 0 or None is the pad itself; the same ``variation`` always
        draws the same offsets. A 2-D code has no other axes, so nothing moves.

        Parameters
        ----------
        latent : array-like, shape (N, D)
            Points :meth:`to_latent` made with ``family`` (one family or mix).
        family : str, dict or array-like
        variation : int or None

        Returns
        -------
        np.ndarray, shape (N, D), float32
        """
        latent = np.asarray(latent, dtype=np.float64).reshape(-1, self.latent_dim)
        if not variation or self.latent_dim <= 2:
            return latent.astype(np.float32)
        pad = self.axes(family)
        draws = np.random.default_rng(int(variation)).standard_normal(self.latent_dim - 2)
        return (latent + self.scale * (draws * pad.sigmas[2:]) @ pad.axes[2:]).astype(np.float32)

    def places(self, codes, family, axes=(0, 1)):
        """Where a model's training codes sit on a family's pad: :meth:`to_pad` of the whole
        codes when the Gaussians were fitted on them (``codes.full``, ddsp_cvae's wide code),
        else of ``codes.points``. ``axes``: two axes of the family's frame to show them on
        instead of the pad's (:meth:`to_frame`; a wide code's only).

        Returns
        -------
        np.ndarray, shape (N, 2), float64
        """
        full = getattr(codes, "full", None)
        wide = full is not None and np.ndim(full) == 2 and np.shape(full)[1] == self.latent_dim
        whole = full if wide else codes.points
        if tuple(axes) != (0, 1):
            return self.to_frame(whole, family)[:, list(axes)]
        return self.to_pad(whole, family)

    def own_places(self, codes, labels):
        """Each code on its own family's pad, or, for a sound without one of the families
        the pads have, on the pad of the family it is likeliest under: what a wide-code
        model's ``codes.npz`` keeps as its 2-D points.

        Parameters
        ----------
        codes : array-like, shape (N, D)
        labels : array-like of str, shape (N,)

        Returns
        -------
        points : np.ndarray, shape (N, 2), float32
        families : list of str
            The family whose pad each point is on.
        """
        codes = np.asarray(codes, dtype=np.float64).reshape(-1, self.latent_dim)
        labels = np.asarray(labels).astype(str)
        likeliest = self.likeliest(codes) if len(codes) else []
        families = [label if label in self.gaussians else guess for label, guess in zip(labels, likeliest)]
        points = np.zeros((len(codes), 2))
        for family in dict.fromkeys(families):
            chosen = np.array([f == family for f in families])
            points[chosen] = self.to_pad(codes[chosen], family)
        return points.astype(np.float32), families

    def to_pad(self, latent, family):
        """Where latent points sit on a family's pad: the inverse of :meth:`to_latent`
        (for showing the family's training sounds on its pad).

        Parameters
        ----------
        latent : array-like, shape (N, D)
        family : str, dict or array-like
            One family or mix.

        Returns
        -------
        np.ndarray, shape (N, 2), float64
        """
        latent = np.asarray(latent, dtype=np.float64).reshape(-1, self.latent_dim)
        pad = self.axes(family)
        normalised = ((latent - pad.mean) @ pad.axes[:2].T) / (self.scale * pad.sigmas[:2])
        return self._centre + normalised * self._half


def no_encoder_reason(name):
    """Why a model without an encoder (the GAN) takes no family, in one line."""
    return f"{name} takes no family: it has no encoder, so none of its training sounds has a place on its pad"


def no_family_reason(spec):
    """Why a registry model takes no family, from the registry alone (no file read), or None.

    A conditioned model takes one; one with an encoder has family pads unless its codes say
    otherwise (:meth:`FamilyPads.fit`); the GAN has no encoder, so no codes.
    """
    return None if spec.takes_family else no_encoder_reason(spec.name)


def family_pads_or_reason(name, codes, pad_range, *, no_codes_reason=None):
    """``(FamilyPads, None)`` for a model with training codes, else ``(None, reason)``.

    Parameters
    ----------
    name : str
    codes : models.trained_folder.LatentCodes or None
        None for a model without an encoder, or whose codes file is damaged.
    pad_range : tuple of float
    no_codes_reason : str, optional
        Why its codes could not be read (the reason given then).
    """
    if codes is None:
        return None, no_codes_reason or no_encoder_reason(name)
    if len(codes) == 0:
        return None, f"{name} takes no family: it has no training codes"
    try:
        return FamilyPads.fit(name, codes, pad_range), None
    except ModelInputError as error:
        return None, str(error)
