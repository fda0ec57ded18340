"""The variational autoencoder's training model and its KL warm-up.

Architecture (shared by vae_a, vae_b and vae_c; they differ only in the KL factor):
the conv_ae stack at a narrower width -- five stride-4 ``Conv1D`` (kernel 25, leaky ReLU
0.2) to a mean and a log-variance, a :class:`~models.layers.Sampling` layer, and
WaveGAN's transposed-convolution decoder with a linear output. Why this one:

- size: a dense VAE on SAMPLE_LENGTH samples is at least SAMPLE_LENGTH x hidden weights on each side (the
  big dense AE is 12.7 M parameters); the conv stack at width 8 is about 0.3 M, so three
  VAEs fit the shipped zoo's size budget easily;
- the strided convolutions are the part of the seed's conv models that works on audio
  (WaveGAN), and sharing them with conv_ae makes the VAE-versus-AE comparison about the
  variational objective, not the layers.

Loss (keras-io's vae.py, with the reconstruction error of :mod:`models.losses`):
``recon(x, decode(z)) + kl_weight * KL(q(z|x) || N(0, I))``, the KL summed over the two
latent dimensions and averaged over the batch. The seed's factors 0.01 / 0.001 / 0.0001 were
set against a waveform MSE (~0.004 here); the default spectral error is ~1000x larger, so the
same factors weigh the KL term much less than in the seed (``--loss mse`` gives the seed's
balance back). The three VAEs still span a 100x range of KL pressure.

The KL weight is ``factor * min(1, batches / ramp)``: a non-trainable variable that
:class:`KLWarmup` (a callback, as RAVE's ``BetaWarmupCallback``) sets before every batch
from a batch count kept in another variable of the model, so the count is saved with the
checkpoint and a resumed run continues the ramp.
"""

import keras
import tensorflow as tf
from keras import ops

from constants import DEFAULT_LOSS
from models.distribution import replica_scale
from models.layers import PACKAGE
from models.losses import FFT_SIZES, WAVEFORM_WEIGHT, reconstruction_error


def kl_weight_at(batches, factor, ramp):
    """The KL weight after ``batches`` training batches: ``factor * min(1, batches/ramp)``.

    A ramp of 0 means the full factor from the start.
    """
    if ramp <= 0:
        return float(factor)
    return float(factor) * min(1.0, float(batches) / float(ramp))


@keras.saving.register_keras_serializable(package=PACKAGE)
class VAE(keras.Model):
    """Training model: an encoder giving ``[z_mean, z_log_var, z]`` and a decoder.

    Parameters
    ----------
    encoder, decoder : keras.Model
    kl_factor : float
        The weight the ramp reaches (0.01 for vae_a, 0.001 for vae_b, 0.0001 for vae_c).
    kl_ramp : int
        Number of batches over which the weight grows linearly from 0.
    loss : str
        One of ``LOSSES``.
    fft_sizes : tuple of int
        FFT sizes of the spectral loss.
    waveform_weight : float
        Weight of the spectral loss's waveform term.
    """

    def __init__(
        self,
        encoder,
        decoder,
        kl_factor=0.01,
        kl_ramp=30000,
        loss=DEFAULT_LOSS,
        fft_sizes=FFT_SIZES,
        waveform_weight=WAVEFORM_WEIGHT,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.reconstruction_kind = loss
        self.fft_sizes = tuple(int(n) for n in fft_sizes)
        self.waveform_weight = float(waveform_weight)
        self.encoder = encoder
        self.decoder = decoder
        self.kl_factor = float(kl_factor)
        self.kl_ramp = int(kl_ramp)
        self.kl_weight = keras.Variable(0.0, trainable=False, name="kl_weight")
        self.kl_batches = keras.Variable(0, dtype="int64", trainable=False, name="kl_batches")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")
        self.kl_weight_tracker = keras.metrics.Mean(name="kl_weight")
        # Both parts are built functional models, so this model is built too.
        self.built = True

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker, self.kl_weight_tracker]

    def call(self, audio, training=False):
        _, _, z = self.encoder(audio, training=training)
        return self.decoder(z, training=training)

    def compute_vae_losses(self, audio, training):
        z_mean, z_log_var, z = self.encoder(audio, training=training)
        reconstruction = self.decoder(z, training=training)
        reconstruction_loss = ops.mean(
            reconstruction_error(self.reconstruction_kind, audio, reconstruction, self.fft_sizes, self.waveform_weight)
        )
        kl_loss = ops.mean(-0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=1))
        total = reconstruction_loss + ops.cast(self.kl_weight, "float32") * kl_loss
        return total, reconstruction_loss, kl_loss

    def _track(self, total, reconstruction_loss, kl_loss, training=True):
        self.loss_tracker.update_state(total)
        self.reconstruction_tracker.update_state(reconstruction_loss)
        self.kl_tracker.update_state(kl_loss)
        if not training:
            # The weight is a training schedule; a "val_kl_weight" would say nothing new.
            return {m.name: m.result() for m in self.metrics[:3]}
        self.kl_weight_tracker.update_state(self.kl_weight)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        audio = data[0] if isinstance(data, tuple) else data
        with tf.GradientTape() as tape:
            total, reconstruction_loss, kl_loss = self.compute_vae_losses(audio, training=True)
            scaled = total * replica_scale()
        grads = tape.gradient(scaled, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        return self._track(total, reconstruction_loss, kl_loss)

    def test_step(self, data):
        audio = data[0] if isinstance(data, tuple) else data
        total, reconstruction_loss, kl_loss = self.compute_vae_losses(audio, training=False)
        return self._track(total, reconstruction_loss, kl_loss, training=False)

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "kl_factor": self.kl_factor,
            "kl_ramp": self.kl_ramp,
            "loss": self.reconstruction_kind,
            "fft_sizes": list(self.fft_sizes),
            "waveform_weight": self.waveform_weight,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        config["decoder"] = keras.saving.deserialize_keras_object(config["decoder"])
        return cls(**config)


class KLWarmup(keras.callbacks.Callback):
    """Set the VAE's KL weight before every training batch and count the batch.

    The count lives in the model's ``kl_batches`` variable (saved with each checkpoint),
    not in the callback, so ``--resume`` picks the ramp up where it stopped.
    """

    def on_train_begin(self, logs=None):
        self._batches = int(ops.convert_to_numpy(self.model.kl_batches))

    def on_train_batch_begin(self, batch, logs=None):
        weight = kl_weight_at(self._batches, self.model.kl_factor, self.model.kl_ramp)
        self.model.kl_weight.assign(weight)
        self._batches += 1
        self.model.kl_batches.assign(self._batches)
