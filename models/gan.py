"""WaveGAN's training model: WGAN-GP with a 2-D latent, written as keras-io's wgan_gp.py.

Each training batch makes ``n_critic`` (5) critic updates, each with fresh latent points
and the same real batch (keras-io's choice; WaveGAN draws a new real batch per critic
step, which costs a second input pipeline for little difference), then one generator
update. Critic loss ``D(fake) - D(real) + gp_weight * GP``, generator loss ``-D(fake)``,
Adam(1e-4, beta_1 0.5, beta_2 0.9) for both, as WaveGAN.

The latent prior is uniform on [-1, 1]^2, as WaveGAN's uniform [-1, 1]^100: the GUI's map
of the GAN is exactly that square. Only the generator is shipped (``decoder.keras``); the
critic and both optimizers live in the training checkpoint, for ``--resume``.
"""

import keras
import tensorflow as tf
from keras import ops

from constants import GAN_PRIOR_BOUND, LATENT_DIM
from models.distribution import replica_scale
from models.layers import PACKAGE


@keras.saving.register_keras_serializable(package=PACKAGE)
class WaveGAN(keras.Model):
    """Generator and critic trained with the Wasserstein loss and a gradient penalty.

    Parameters
    ----------
    generator : keras.Model
        (batch, 2) -> (batch, length).
    discriminator : keras.Model
        (batch, length) -> (batch, 1), the critic.
    n_critic : int
        Critic updates per generator update.
    gp_weight : float
        The gradient penalty's weight (lambda, 10 in WaveGAN).
    seed : int or None
        Seed of the latent and interpolation draws.
    """

    def __init__(self, generator, discriminator, n_critic=5, gp_weight=10.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.n_critic = int(n_critic)
        self.gp_weight = float(gp_weight)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.gp_tracker = keras.metrics.Mean(name="gradient_penalty")
        self.distance_tracker = keras.metrics.Mean(name="w_distance")
        # Both parts are built functional models, so this model is built too.
        self.built = True

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker, self.gp_tracker, self.distance_tracker]

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer

    def call(self, points, training=False):
        return self.generator(points, training=training)

    def sample_latent(self, batch_size):
        """Points drawn from the prior, uniform on [-GAN_PRIOR_BOUND, GAN_PRIOR_BOUND]^2: (batch_size, 2)."""
        return keras.random.uniform((batch_size, LATENT_DIM), -GAN_PRIOR_BOUND, GAN_PRIOR_BOUND, seed=self.seed_generator)

    def gradient_penalty(self, real, fake):
        """WGAN-GP's ``mean((||grad D(x_hat)||_2 - 1)^2)`` at random interpolates
        ``x_hat`` between real and generated audio (both (batch, length))."""
        alpha = keras.random.uniform((ops.shape(real)[0], 1), 0.0, 1.0, seed=self.seed_generator)
        interpolated = real + alpha * (fake - real)
        with tf.GradientTape() as tape:
            tape.watch(interpolated)
            score = self.discriminator(interpolated, training=True)
        grads = tape.gradient(score, interpolated)
        # The small constant keeps the square root differentiable at a zero gradient.
        norm = ops.sqrt(ops.sum(ops.square(grads), axis=1) + 1e-12)
        return ops.mean(ops.square(norm - 1.0))

    def critic_wasserstein(self, real, fake, training):
        """``mean D(fake) - mean D(real)``: the critic's loss before the penalty, and minus
        its estimate of the Wasserstein distance."""
        return ops.mean(self.discriminator(fake, training=training)) - ops.mean(self.discriminator(real, training=training))

    def train_step(self, data):
        real = data[0] if isinstance(data, tuple) else data
        batch_size = ops.shape(real)[0]
        scale = replica_scale()
        for _ in range(self.n_critic):
            with tf.GradientTape() as tape:
                fake = self.generator(self.sample_latent(batch_size), training=True)
                wasserstein = self.critic_wasserstein(real, fake, training=True)
                gp = self.gradient_penalty(real, fake)
                d_loss = wasserstein + self.gp_weight * gp
                scaled = d_loss * scale
            grads = tape.gradient(scaled, self.discriminator.trainable_weights)
            self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
        with tf.GradientTape() as tape:
            fake = self.generator(self.sample_latent(batch_size), training=True)
            g_loss = -ops.mean(self.discriminator(fake, training=True))
            scaled = g_loss * scale
        grads = tape.gradient(scaled, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.gp_tracker.update_state(gp)
        self.distance_tracker.update_state(-wasserstein)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        # The critic's Wasserstein estimate on kits it never saw ("val_w_distance"), the
        # usual WGAN progress measure, and the generator's loss against those kits' critic.
        real = data[0] if isinstance(data, tuple) else data
        fake = self.generator(self.sample_latent(ops.shape(real)[0]), training=False)
        self.distance_tracker.update_state(-self.critic_wasserstein(real, fake, training=False))
        self.g_loss_tracker.update_state(-ops.mean(self.discriminator(fake, training=False)))
        return {"g_loss": self.g_loss_tracker.result(), "w_distance": self.distance_tracker.result()}

    def get_config(self):
        return {
            **super().get_config(),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "n_critic": self.n_critic,
            "gp_weight": self.gp_weight,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["generator"] = keras.saving.deserialize_keras_object(config["generator"])
        config["discriminator"] = keras.saving.deserialize_keras_object(config["discriminator"])
        return cls(**config)
