"""The encoder and decoder stacks the models are made of (Keras functional models).

Every encoder maps audio (batch, length) to a point (batch, 2) and every decoder maps a
point back to audio (batch, length), whatever is inside, so training, saving and inference
treat all models alike. Layers are named explicitly, so that a model built twice (e.g. in
a resumed run) has the same variable paths.
"""

import keras

from constants import LATENT_DIM, SAMPLE_LENGTH
from models.errors import ModelSettingsError
from models.layers import PhaseShuffle, gaussian_latent

#: WaveGAN's stack: five layers of stride 4 with filters d, 2d, 4d, 8d, 16d.
CONV_LAYERS = 5
CONV_STRIDE = 4
LEAKY_SLOPE = 0.2


def conv_steps(length):
    """Time steps left after the five stride-4 layers: ``length / 1024``.

    Raises
    ------
    ModelSettingsError
        ``length`` is not a positive multiple of 1024.
    """
    factor = CONV_STRIDE**CONV_LAYERS
    if length <= 0 or length % factor:
        raise ModelSettingsError(
            f"length {length} does not suit five stride-{CONV_STRIDE} layers: "
            f"it must be a multiple of {factor} (e.g. {SAMPLE_LENGTH}, 4096 or 1024)"
        )
    return length // factor


def _check_width(width):
    if int(width) < 1:
        raise ModelSettingsError(f"width must be at least 1, not {width}")
    return int(width)


def dense_encoder(length, units, activation, name):
    """The seed's dense encoder: ``Dense(u, activation)`` for each of ``units``."""
    audio = keras.Input((length,), name="audio")
    x = audio
    for i, n in enumerate(units):
        x = keras.layers.Dense(n, activation=activation, name=f"enc_dense_{i}")(x)
    return keras.Model(audio, x, name=f"{name}_encoder")


def dense_decoder(length, units, activation, name):
    """The mirror of :func:`dense_encoder`; the last layer is linear at full length."""
    point = keras.Input((units[-1],), name="point")
    x = point
    for i, n in enumerate(reversed(units[:-1])):
        x = keras.layers.Dense(n, activation=activation, name=f"dec_dense_{i}")(x)
    audio = keras.layers.Dense(length, activation=None, name="dec_out")(x)
    return keras.Model(point, audio, name=f"{name}_decoder")


def conv_features(audio, width, kernel_size, prefix, phase_shuffle=0):
    """WaveGAN's discriminator stack without its head: five ``Conv1D`` of stride 4,
    filters ``width * (1, 2, 4, 8, 16)``, leaky ReLU 0.2, optional phase shuffle after
    the first four. Returns the flattened features."""
    length = audio.shape[-1]
    conv_steps(length)
    width = _check_width(width)
    x = keras.layers.Reshape((length, 1), name=f"{prefix}_to_channels")(audio)
    for i in range(CONV_LAYERS):
        x = keras.layers.Conv1D(width * 2**i, kernel_size, strides=CONV_STRIDE, padding="same", name=f"{prefix}_conv_{i}")(x)
        x = keras.layers.LeakyReLU(LEAKY_SLOPE, name=f"{prefix}_lrelu_{i}")(x)
        if phase_shuffle and i < CONV_LAYERS - 1:
            x = PhaseShuffle(phase_shuffle, name=f"{prefix}_phase_shuffle_{i}")(x)
    return keras.layers.Flatten(name=f"{prefix}_flatten")(x)


def conv_decoder(length, width, kernel_size, name, *, activation, output_activation):
    """WaveGAN's generator: ``Dense`` to (length/1024, 16 width), then five
    ``Conv1DTranspose`` of stride 4 with filters ``width * (8, 4, 2, 1)`` and 1.

    ``activation`` follows every layer but the last, which gets ``output_activation``.
    """
    steps = conv_steps(length)
    width = _check_width(width)
    point = keras.Input((LATENT_DIM,), name="point")
    x = keras.layers.Dense(steps * 16 * width, name="dec_dense")(point)
    x = keras.layers.Reshape((steps, 16 * width), name="dec_reshape")(x)
    x = _activation(activation, "dec_act_dense")(x)
    for i in range(CONV_LAYERS):
        last = i == CONV_LAYERS - 1
        filters = 1 if last else width * 2 ** (CONV_LAYERS - 2 - i)
        x = keras.layers.Conv1DTranspose(filters, kernel_size, strides=CONV_STRIDE, padding="same", name=f"dec_upconv_{i}")(x)
        x = _activation(output_activation if last else activation, f"dec_act_{i}")(x)
    audio = keras.layers.Reshape((length,), name="dec_to_audio")(x)
    return keras.Model(point, audio, name=f"{name}_decoder")


def _activation(which, name):
    if which == "leaky_relu":
        return keras.layers.LeakyReLU(LEAKY_SLOPE, name=name)
    return keras.layers.Activation(which or "linear", name=name)


def conv_encoder(length, width, kernel_size, name):
    """:func:`conv_features` plus a linear ``Dense`` to the 2-D point (conv_ae)."""
    audio = keras.Input((length,), name="audio")
    features = conv_features(audio, width, kernel_size, "enc")
    point = keras.layers.Dense(LATENT_DIM, name="enc_point")(features)
    return keras.Model(audio, point, name=f"{name}_encoder")


def vae_encoder(length, width, kernel_size, name):
    """:func:`conv_features`, then a mean and a log-variance and a :class:`Sampling`
    layer; outputs ``[z_mean, z_log_var, z]`` as in keras-io's vae.py."""
    audio = keras.Input((length,), name="audio")
    features = conv_features(audio, width, kernel_size, "enc")
    return keras.Model(audio, gaussian_latent(features), name=f"{name}_encoder")


def wavegan_discriminator(length, width, kernel_size, phase_shuffle, name):
    """WaveGAN's critic: :func:`conv_features` with phase shuffle and a linear score."""
    audio = keras.Input((length,), name="audio")
    features = conv_features(audio, width, kernel_size, "disc", phase_shuffle=phase_shuffle)
    score = keras.layers.Dense(1, name="disc_score")(features)
    return keras.Model(audio, score, name=f"{name}_discriminator")
