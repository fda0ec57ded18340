"""Constants shared across models/: a leaf module that imports nothing of the project,
so any module may import it without making an import circle (a test keeps models/ acyclic)."""

#: The latent space of every model is a plane, so the GUI can show it as a map.
LATENT_DIM = 2

#: The GAN's latent prior is uniform on [-GAN_PRIOR_BOUND, GAN_PRIOR_BOUND] per axis (as
#: WaveGAN's uniform [-1, 1]^100), so that square is also its map.
GAN_PRIOR_BOUND = 1.0

#: Reconstruction losses of the AEs and VAEs (defined in :mod:`models.losses`).
LOSSES = ("spectral", "spectral_floored", "mse")
DEFAULT_LOSS = "spectral_floored"

#: Family pads (:mod:`models.family_pads`): the pad of a chosen family spans its Gaussian's
#: mean +- FAMILY_PAD_SCALE standard deviations along its two main axes, one scale for every
#: model. The figures behind 1.0 are in :mod:`models.family_pads`.
FAMILY_PAD_SCALE = 1.0
#: How many codes' worth of the pooled covariance a family's covariance is blended with:
#: its own weight is (n - 1) / (n - 1 + FAMILY_SHRINK_COUNT) for n training sounds.
FAMILY_SHRINK_COUNT = 10
