"""Builders of the models, one per kind; the registry names which one each uses.

A builder takes the model's settings (see :mod:`models.registry`) and returns
:class:`Networks`: the compiled training model, the encoder and decoder that are shipped
for inference, and the optimizers (built, so a checkpoint can be restored into them).
Call builders inside ``strategy.scope()`` (:func:`models.distribution.training_strategy`).
"""

from dataclasses import dataclass, field

import keras
import numpy as np

from constants import DRUM_FAMILIES
from models import ddsp, networks
from models.errors import ModelSettingsError
from models.gan import WaveGAN
from models.losses import LOSSES, ReconstructionLoss
from models.vae import VAE, KLWarmup


@dataclass
class Networks:
    """A built model.

    Attributes
    ----------
    kind : str
    settings : dict
        The settings it was built with (recorded in the card).
    trainer : keras.Model
        The compiled model that ``fit`` trains.
    encoder : keras.Model or None
        (batch, length) -> (batch, 2); for the VAE it outputs ``[z_mean, z_log_var, z]``.
        None for the GAN.
    decoder : keras.Model
        (batch, 2) -> (batch, length); the GAN's generator.
    optimizers : dict of str to keras.optimizers.Optimizer
        Built optimizers by name, for checkpoints.
    loss_names : tuple of str
        The history columns that are losses (for the card and the loss plot).
    monitor : str or None
        The loss early stopping watches (None: early stopping does not apply).
    callbacks : list of keras.callbacks.Callback
        Callbacks the model's training needs (the KL warm-up).
    prepare : callable or None
        ``prepare(train_audio, resumed)``, called once before training: fixes what is set
        from the data rather than learned (ddsp_vae's input normalisation, on a fresh run).
    inputs : callable or None
        ``inputs(audio) -> (x, y)``: what ``fit`` takes for the sounds (None: the audio is
        both); ddsp_cvae's adds its targets' magnitudes, computed once.
    needs_families : bool
        ``prepare`` also takes ``families``, the training sounds' labels (ddsp_cvae: its
        family pads need labelled codes; no network takes a family).
    """

    kind: str
    settings: dict
    trainer: keras.Model
    encoder: keras.Model | None
    decoder: keras.Model
    optimizers: dict
    loss_names: tuple = ("loss",)
    monitor: str | None = "loss"
    callbacks: list = field(default_factory=list)
    prepare: object = None
    inputs: object = None
    needs_families: bool = False

    @property
    def shipped_parameters(self):
        """Parameters of what is shipped: encoder + decoder (the generator for the GAN)."""
        count = self.decoder.count_params()
        if self.encoder is not None:
            count += self.encoder.count_params()
        return int(count)


def _checked_loss(name, loss):
    if loss not in LOSSES:
        raise ModelSettingsError(f"{name}: unknown loss '{loss}'; choose from {', '.join(LOSSES)}")
    return loss


def _adam(settings, **kwargs):
    return keras.optimizers.Adam(learning_rate=settings["learning_rate"], **kwargs)


def _autoencoder(kind, settings, encoder, decoder):
    audio = keras.Input((settings["length"],), name="audio")
    trainer = keras.Model(audio, decoder(encoder(audio)), name=settings["name"])
    trainer.compile(optimizer=_adam(settings), loss=ReconstructionLoss(settings["loss"]))
    # Built now, with the variables fit() would use, so a checkpoint can be restored.
    trainer.optimizer.build(trainer.trainable_variables)
    return Networks(kind, settings, trainer, encoder, decoder, {"optimizer": trainer.optimizer})


def _non_negative(name, **weights):
    if any(value < 0 for value in weights.values()):
        names = list(weights)
        listed = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
        raise ModelSettingsError(f"{name}: {listed} must not be negative")


def _attack_samples(name, attack_seconds, sample_rate, length, shortest):
    """A synthesiser's attack in samples, checked to fall inside a sound of at least ``shortest``."""
    attack = round(float(attack_seconds) * int(sample_rate))
    if not 0 < attack < length or length < shortest:
        raise ModelSettingsError(
            f"{name}: the attack ({attack_seconds} s) must fall inside the {length} samples, which must be at least {shortest}"
        )
    return attack


def _synth_vae_settings(
    *,
    shortest,
    name,
    length,
    sample_rate,
    attack_seconds,
    width,
    hidden,
    noise_seed,
    kl_factor,
    kl_ramp,
    learning_rate,
    loss,
    fft_sizes,
    waveform_weight,
):
    """The checked settings of a synth VAE (ddsp_vae) and its attack in samples.

    ``shortest`` is the fewest samples its analysis takes.
    """
    _non_negative(name, kl_ramp=kl_ramp, kl_factor=kl_factor)
    attack = _attack_samples(name, attack_seconds, sample_rate, length, shortest)
    settings = dict(
        name=name,
        length=length,
        sample_rate=int(sample_rate),
        attack_seconds=float(attack_seconds),
        width=int(width),
        hidden=tuple(int(h) for h in hidden),
        noise_seed=int(noise_seed),
        kl_factor=kl_factor,
        kl_ramp=int(kl_ramp),
        learning_rate=learning_rate,
        loss=_checked_loss(name, loss),
        fft_sizes=tuple(int(n) for n in fft_sizes),
        waveform_weight=float(waveform_weight),
    )
    return settings, attack


def _vae(settings, trainer, encoder, decoder, variables, *, callbacks=(), prepare=None):
    """A VAE trainer compiled with Adam (its optimizer built over ``variables``) as Networks."""
    trainer.compile(optimizer=_adam(settings))
    trainer.optimizer.build(variables)
    return Networks(
        "vae",
        settings,
        trainer,
        encoder,
        decoder,
        {"optimizer": trainer.optimizer},
        loss_names=("loss", "reconstruction_loss", "kl_loss"),
        callbacks=[KLWarmup(), *callbacks],
        prepare=prepare,
    )


def build_dense_ae(*, name, length, units, activation, learning_rate, loss):
    """The seed's dense autoencoder (encoder ``units``, decoder mirrored, linear output)."""
    units = tuple(int(u) for u in units)
    if length < 1 or not units or units[-1] != networks.LATENT_DIM:
        raise ModelSettingsError(f"{name}: units must end with the {networks.LATENT_DIM}-D latent and length be positive")
    settings = dict(
        name=name, length=length, units=units, activation=activation, learning_rate=learning_rate, loss=_checked_loss(name, loss)
    )
    encoder = networks.dense_encoder(length, units, activation, name)
    decoder = networks.dense_decoder(length, units, activation, name)
    return _autoencoder("dense_ae", settings, encoder, decoder)


def build_conv_ae(*, name, length, width, kernel_size, learning_rate, loss):
    """WaveGAN-style autoencoder. The decoder mirrors the encoder (leaky ReLU 0.2) and
    its last layer is linear, like the dense AEs' and unlike WaveGAN's tanh: the
    reconstruction loss compares signed audio (see :mod:`models.losses`), and a linear output
    neither clips loud samples nor flattens the gradient near +-1."""
    settings = dict(
        name=name, length=length, width=width, kernel_size=kernel_size, learning_rate=learning_rate, loss=_checked_loss(name, loss)
    )
    encoder = networks.conv_encoder(length, width, kernel_size, name)
    decoder = networks.conv_decoder(length, width, kernel_size, name, activation="leaky_relu", output_activation=None)
    return _autoencoder("conv_ae", settings, encoder, decoder)


def build_gan(*, name, length, width, kernel_size, phase_shuffle, n_critic, gp_weight, learning_rate, beta_1, beta_2, seed=None):
    """WaveGAN: ReLU generator with a tanh output (bounded audio for the critic, as in
    WaveGAN), leaky-ReLU critic with phase shuffle, WGAN-GP."""
    settings = dict(
        name=name,
        length=length,
        width=width,
        kernel_size=kernel_size,
        phase_shuffle=phase_shuffle,
        n_critic=n_critic,
        gp_weight=gp_weight,
        learning_rate=learning_rate,
        beta_1=beta_1,
        beta_2=beta_2,
    )
    generator = networks.conv_decoder(length, width, kernel_size, name, activation="relu", output_activation="tanh")
    discriminator = networks.wavegan_discriminator(length, width, kernel_size, phase_shuffle, name)
    trainer = WaveGAN(generator, discriminator, n_critic=n_critic, gp_weight=gp_weight, seed=seed, name=name)
    d_optimizer = _adam(settings, beta_1=beta_1, beta_2=beta_2, name="d_optimizer")
    g_optimizer = _adam(settings, beta_1=beta_1, beta_2=beta_2, name="g_optimizer")
    trainer.compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer)
    d_optimizer.build(discriminator.trainable_variables)
    g_optimizer.build(generator.trainable_variables)
    return Networks(
        "gan",
        settings,
        trainer,
        None,
        generator,
        {"d_optimizer": d_optimizer, "g_optimizer": g_optimizer},
        loss_names=("d_loss", "g_loss", "w_distance"),
        monitor=None,
    )


def build_vae(*, name, length, width, kernel_size, kl_factor, kl_ramp, learning_rate, loss):
    """The VAE (architecture and loss explained in :mod:`models.vae`)."""
    _non_negative(name, kl_ramp=kl_ramp, kl_factor=kl_factor)
    settings = dict(
        name=name,
        length=length,
        width=width,
        kernel_size=kernel_size,
        kl_factor=kl_factor,
        kl_ramp=int(kl_ramp),
        learning_rate=learning_rate,
        loss=_checked_loss(name, loss),
    )
    encoder = networks.vae_encoder(length, width, kernel_size, name)
    decoder = networks.conv_decoder(length, width, kernel_size, name, activation="leaky_relu", output_activation=None)
    trainer = VAE(encoder, decoder, kl_factor=kl_factor, kl_ramp=kl_ramp, loss=loss, name=name)
    return _vae(settings, trainer, encoder, decoder, trainer.trainable_variables)


def build_ddsp_vae(*, name, length, kl_factor, kl_ramp, loss, **synth):
    """The VAE with a synthesiser decoder (explained in :mod:`models.ddsp`); ``synth`` holds
    its other settings (see :func:`_synth_vae_settings`)."""
    settings, attack = _synth_vae_settings(
        shortest=ddsp.N_FFT, name=name, length=length, kl_factor=kl_factor, kl_ramp=kl_ramp, loss=loss, **synth
    )
    encoder = ddsp.ddsp_encoder(length, settings["sample_rate"], settings["width"], name)
    decoder = ddsp.ddsp_decoder(length, settings["sample_rate"], attack, settings["hidden"], settings["noise_seed"], name)
    trainer = VAE(
        encoder,
        decoder,
        kl_factor=kl_factor,
        kl_ramp=kl_ramp,
        loss=loss,
        fft_sizes=settings["fft_sizes"],
        waveform_weight=settings["waveform_weight"],
        name=name,
    )
    spread = ddsp.LatentSpread(settings["sample_rate"])

    def prepare(train_audio, resumed=False):
        if not resumed:  # a resumed run restored the statistics with the checkpoint
            ddsp.set_band_statistics(encoder, train_audio)
        chosen = np.random.default_rng(0).permutation(len(train_audio))[:256]
        spread.audio = np.asarray(train_audio[np.sort(chosen)], np.float32)

    return _vae(settings, trainer, encoder, decoder, trainer.trainable_variables, callbacks=[spread], prepare=prepare)


def build_ddsp_cvae(*, name, length, sample_rate, attack_seconds, width, hidden, noise_seed, code_dim, learning_rate, fft_sizes):
    """ddsp_cvae, stage 1 (issue 30 §2): the synth autoencoder at 44.1 kHz with a code of
    ``code_dim`` numbers and no family anywhere in the network (:mod:`models.synth_autoencoder`).
    The family is stage 2: a Gaussian per family over its training codes
    (:mod:`models.family_pads`), fitted when the model loads."""
    from models import synth_autoencoder

    attack = _attack_samples(name, attack_seconds, sample_rate, length, synth_autoencoder.SHORTEST)
    if isinstance(code_dim, bool) or not 2 <= int(code_dim) <= synth_autoencoder.MAX_CODE_DIM:
        raise ModelSettingsError(
            f"{name}: code_dim must be a whole number from 2 to {synth_autoencoder.MAX_CODE_DIM}, not {code_dim!r}"
        )
    settings = dict(
        name=name,
        length=length,
        sample_rate=int(sample_rate),
        attack_seconds=float(attack_seconds),
        width=int(width),
        hidden=tuple(int(h) for h in hidden),
        noise_seed=int(noise_seed),
        code_dim=int(code_dim),
        learning_rate=learning_rate,
        fft_sizes=tuple(int(n) for n in fft_sizes),
    )
    rate = settings["sample_rate"]
    encoder = synth_autoencoder.synth_encoder(length, rate, settings["width"], settings["code_dim"], name)
    decoder = synth_autoencoder.synth_decoder(
        settings["code_dim"], length, rate, attack, settings["hidden"], settings["noise_seed"], name
    )
    trainer = synth_autoencoder.SynthAutoencoder(encoder, decoder, fft_sizes=settings["fft_sizes"], name=name)
    trainer.compile(optimizer=_adam(settings))
    trainer.optimizer.build(encoder.trainable_variables + decoder.trainable_variables)

    def prepare(train_audio, resumed=False, families=()):
        if not np.isin(np.asarray(families).astype(str), DRUM_FAMILIES).any():
            raise ModelSettingsError(
                f"{name} needs training sounds labelled with a drum family ({', '.join(DRUM_FAMILIES)}): none has one"
            )
        if not resumed:  # a resumed run restored the statistics with the checkpoint
            ddsp.set_band_statistics(encoder, train_audio)

    optimizers = {"optimizer": trainer.optimizer}
    return Networks(
        "synth_ae", settings, trainer, encoder, decoder, optimizers, prepare=prepare, inputs=trainer.inputs, needs_families=True
    )
