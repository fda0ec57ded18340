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
