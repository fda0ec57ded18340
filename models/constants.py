"""Constants shared across models/: a leaf module that imports nothing of the project,
so any module may import it without making an import circle (a test keeps models/ acyclic)."""

#: The latent space of every model is a plane, so the GUI can show it as a map.
LATENT_DIM = 2

#: WaveGAN's window: five stride-4 layers take 16384 samples to 16 steps.
DEFAULT_LENGTH = 16384

#: Reconstruction losses of the AEs and VAEs (defined in :mod:`models.losses`).
LOSSES = ("spectral", "spectral_floored", "mse")
DEFAULT_LOSS = "spectral_floored"
