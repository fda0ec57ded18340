"""Custom layers, registered so that ``keras.models.load_model(path, safe_mode=True)``
rebuilds them from a .keras file, and the VAE encoders' last step (:func:`gaussian_latent`)."""

import keras
from keras import ops

from constants import LATENT_DIM

PACKAGE = "mlsg"


@keras.saving.register_keras_serializable(package=PACKAGE)
class Sampling(keras.layers.Layer):
    """Draw ``z = mean + exp(log_var / 2) * eps`` with ``eps ~ N(0, I)`` (the VAE's last
    encoder layer, as in keras-io's vae.py).

    Call with ``[z_mean, z_log_var]``, both (batch, latent); returns (batch, latent).
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        eps = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@keras.saving.register_keras_serializable(package=PACKAGE)
class PhaseShuffle(keras.layers.Layer):
    """WaveGAN's phase shuffle: shift the feature maps by a random number of steps in
    ``[-radius, radius]`` (one draw per batch, as in WaveGAN), filling the edge by
    reflection. It keeps the discriminator from judging by the transposed convolutions'
    periodic artefacts. Identity at inference.

    Input and output: (batch, steps, channels), with ``steps > radius``.
    """

    def __init__(self, radius=2, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.radius = int(radius)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=False):
        if not training or self.radius == 0:
            return x
        r = self.radius
        steps = ops.shape(x)[1]
        # Pad by the radius on both sides once (static shapes), then take a window
        # whose start is the random shift: the same as WaveGAN's pad-then-crop.
        padded = ops.pad(x, [[0, 0], [r, r], [0, 0]], mode="reflect")
        start = keras.random.randint((), 0, 2 * r + 1, seed=self.seed_generator)
        return ops.slice(padded, [0, start, 0], [ops.shape(x)[0], steps, ops.shape(x)[2]])

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "radius": self.radius, "seed": self.seed}


def gaussian_latent(features):
    """A VAE encoder's last step: ``[z_mean, z_log_var, z]``, each (batch, latent), from
    ``features`` (layers ``z_mean``, ``z_log_var`` and the :class:`Sampling` ``z``)."""
    z_mean = keras.layers.Dense(LATENT_DIM, name="z_mean")(features)
    z_log_var = keras.layers.Dense(LATENT_DIM, name="z_log_var")(features)
    return [z_mean, z_log_var, Sampling(name="z")([z_mean, z_log_var])]
