"""The model registry: the single place where each of the models is named.

Each name maps to a :class:`ModelSpec`: its kind, the builder that makes it (a function in
:mod:`models.architectures`, imported only when a model is built, so that reading the
registry never loads TensorFlow) and its default settings, and every fact the surfaces show
or act on: the window's list group, the words the page shows, its latent prior and the
square its pad spans, whether it has a noise source (Vary plays new noise) and whether it
has family pads. A fact about a model goes here, and callers read it from the spec: no
surface tells one model from another by its name or kind. Sample length and width (the
conv stacks' base filter count) are settings, so tests build tiny versions of every model.
"""

import importlib
from dataclasses import dataclass, field
from types import MappingProxyType

from constants import (
    ATTACK_SECONDS,
    DEFAULT_LOSS,
    GAN_PRIOR_BOUND,
    HIRES_SAMPLE_LENGTH,
    HIRES_SAMPLE_RATE,
    SAMPLE_LENGTH,
    SAMPLE_RATE,
    SYNTH_CODE_DIM,
)
from models.errors import ModelSettingsError, UnknownModelError

KINDS = ("dense_ae", "conv_ae", "gan", "vae", "synth_ae", "imported")
#: A model a researcher brought (``app.py import-model``): named by its folder's card, not
#: by this registry (:mod:`models.imported`).
IMPORTED_KIND = "imported"


# Encoder units of the seed's dense autoencoders (the decoder mirrors them).
DENSE_UNITS = {"small": (9, 2), "medium": (96, 24, 2), "big": (384, 96, 24, 2)}
DENSE_ACTIVATIONS = ("relu", "tanh", "sigmoid")


# The seed's three KL factors; the warm-up ramp multiplies them.
VAE_FACTORS = {"vae_a": 0.01, "vae_b": 0.001, "vae_c": 0.0001}


#: A VAE's pad spans its N(0, 1) prior to this many standard deviations per axis.
VAE_PRIOR_SIGMAS = 3.0


@dataclass(frozen=True)
class LatentPrior:
    """The distribution a model's latent points come from, and the square its pad spans.

    Attributes
    ----------
    distribution : str or None
        ``"uniform"`` (the GAN: on ``[low, high]`` per axis), ``"normal"`` (a VAE: N(mean,
        std) per axis) or None (an autoencoder: no prior, its training codes place its pad).
    low, high : float
        The uniform prior's bounds.
    mean, std : float
        The normal prior's; its pad spans ``mean +- sigmas * std``.
    sigmas : float
    """

    distribution: str | None = None
    low: float = -GAN_PRIOR_BOUND
    high: float = GAN_PRIOR_BOUND
    mean: float = 0.0
    std: float = 1.0
    sigmas: float = VAE_PRIOR_SIGMAS

    def square(self):
        """The pad ``(xmin, xmax, ymin, ymax)`` the prior gives, or None for a model without
        one (its codes' range; :func:`models.trained_folder.latent_range`)."""
        if self.distribution == "uniform":
            return (self.low, self.high, self.low, self.high)
        if self.distribution == "normal":
            low, high = self.mean - self.sigmas * self.std, self.mean + self.sigmas * self.std
            return (low, high, low, high)
        return None

    def card_record(self):
        """What a model card's ``latent`` records of it."""
        if self.distribution == "uniform":
            return {"prior": "uniform", "low": self.low, "high": self.high}
        if self.distribution == "normal":
            return {"prior": "normal", "mean": self.mean, "std": self.std}
        return {"prior": None}


#: The GAN's (WaveGAN's uniform prior, on [-GAN_PRIOR_BOUND, GAN_PRIOR_BOUND] per axis), a
#: VAE's, and an autoencoder's (none: its codes place it).
UNIFORM_PRIOR = LatentPrior("uniform", low=-GAN_PRIOR_BOUND, high=GAN_PRIOR_BOUND)
NORMAL_PRIOR = LatentPrior("normal", mean=0.0, std=1.0)
NO_PRIOR = LatentPrior(None)


@dataclass(frozen=True)
class ModelSpec:
    """What a registry name stands for.

    Attributes
    ----------
    name : str
        The registry name, used for files, cards, the CLI and the GUI.
    kind : str
        One of ``KINDS``; the kind decides the trainer and what inference offers.
    group : str
        The family of models it belongs to (a card records it).
    builder : str
        Name of the function in :mod:`models.architectures` that builds it.
    defaults : mapping
        Default settings; ``settings(**overrides)`` starts from these.
    summary : str
        One line saying what the model is.
    conditioned : bool
        True when it also takes a family (a weight vector over ``constants.DRUM_FAMILIES``).
    listed : bool
        False while a model is registered for training but not yet shipped in ``trained/``
        (ddsp_cvae, whose long training runs in the background with checkpoints): it is
        left out of ``MODEL_NAMES``, so the window, the page and the listings stay as they
        are until its model lands.
    list_group : str
        The group the window's model list shows it under ("" for ``group``).
    words : str
        What a listener can expect of it, in plain words (the page's picker).
    prior : LatentPrior
        Its latent prior and the square its pad spans.
    noise_source : bool
        Its sound has a random part that ``decode(..., variation=seed)`` sets (ddsp_vae), so
        a variation may be new noise at the same point (:mod:`models.variation`).
    family_pads : bool
        It maps a family onto its pad by a Gaussian per family over its training codes
        (:mod:`models.family_pads`): every model with an encoder and no family input.
    """

    name: str
    kind: str
    group: str
    builder: str
    defaults: MappingProxyType = field(repr=False)
    summary: str = ""
    conditioned: bool = False
    listed: bool = True
    list_group: str = ""
    words: str = ""
    prior: LatentPrior = NO_PRIOR
    noise_source: bool = False

    def __post_init__(self):
        if not self.list_group:
            object.__setattr__(self, "list_group", self.group)

    @property
    def has_encoder(self):
        return self.kind != "gan"

    @property
    def family_pads(self):
        """True when it has family pads over its training codes (:mod:`models.family_pads`):
        it encodes, so its training sounds have places, and takes no family as an input."""
        return self.has_encoder and not self.conditioned

    @property
    def takes_family(self):
        """True when a family may be asked of it: a conditioned model takes one as an input,
        a model with family pads maps one onto its pad (its codes may still refuse, e.g.
        when they collapsed)."""
        return self.conditioned or self.family_pads

    def settings(self, **overrides):
        """The defaults with ``overrides`` applied; unknown keys raise ModelSettingsError."""
        unknown = sorted(set(overrides) - set(self.defaults))
        if unknown:
            raise ModelSettingsError(
                f"{self.name} has no setting {', '.join(unknown)}; its settings are {', '.join(sorted(self.defaults))}"
            )
        merged = dict(self.defaults)
        merged.update(overrides)
        return merged

    def build(self, **overrides):
        """Build the model's networks (imports TensorFlow).

        Returns
        -------
        models.architectures.Networks
        """
        architectures = importlib.import_module("models.architectures")
        return getattr(architectures, self.builder)(**self.settings(**overrides))


def _dense_spec(size, activation):
    name = f"ae_{size}_{activation}"
    units = DENSE_UNITS[size]
    return ModelSpec(
        name=name,
        kind="dense_ae",
        group="Dense autoencoders",
        builder="build_dense_ae",
        defaults=MappingProxyType(
            {
                "name": name,
                "length": SAMPLE_LENGTH,
                "units": units,
                "activation": activation,
                "learning_rate": 1e-3,
                "loss": DEFAULT_LOSS,
            }
        ),
        summary=f"dense autoencoder, encoder {'-'.join(map(str, units))}, {activation}",
        list_group=f"Dense AE, {size}",  # grouped by size: the activations are the rows
        words=f"A {size} dense network that learned to rebuild the training drums; each one sits at a point.",
    )


def _conv_ae_spec():
    return ModelSpec(
        name="conv_ae",
        kind="conv_ae",
        group="Convolutional",
        builder="build_conv_ae",
        defaults=MappingProxyType(
            {"name": "conv_ae", "length": SAMPLE_LENGTH, "width": 16, "kernel_size": 25, "learning_rate": 1e-4, "loss": DEFAULT_LOSS}
        ),
        summary="WaveGAN-style convolutional autoencoder (5 strided convolutions + dense)",
        words="A convolutional network that rebuilds the training drums in detail; each one sits at a point.",
    )


def _gan_spec():
    return ModelSpec(
        name="gan",
        kind="gan",
        group="Convolutional",
        builder="build_gan",
        defaults=MappingProxyType(
            {
                "name": "gan",
                "length": SAMPLE_LENGTH,
                "width": 16,
                "kernel_size": 25,
                "phase_shuffle": 2,
                "n_critic": 5,
                "gp_weight": 10.0,
                "learning_rate": 1e-4,
                "beta_1": 0.5,
                "beta_2": 0.9,
            }
        ),
        summary="WaveGAN generator and discriminator, WGAN-GP, 2-D uniform latent",
        words="A WaveGAN generator: every point is a drum it invents; it has no map of training sounds.",
        prior=UNIFORM_PRIOR,
    )


def _vae_spec(name, factor):
    return ModelSpec(
        name=name,
        kind="vae",
        group="Variational autoencoders",
        builder="build_vae",
        defaults=MappingProxyType(
            {
                "name": name,
                "length": SAMPLE_LENGTH,
                "width": 8,
                "kernel_size": 25,
                "kl_factor": factor,
                "kl_ramp": 30000,
                "learning_rate": 1e-4,
                "loss": DEFAULT_LOSS,
            }
        ),
        summary=f"convolutional VAE, KL factor {factor:g} ramped in linearly",
        list_group="VAEs",
        words="A variational network with a smooth map: sounds change gradually as you move.",
        prior=NORMAL_PRIOR,
    )


# A VAE by its training, but what a listener hears is a synthesiser.
SYNTH_WORDS = "A drum synthesiser steered by a variational network: every point is a drum, and Vary plays a new take."
FAMILY_SYNTH_WORDS = (
    "A drum synthesiser at 44.1 kHz played from a 16-number code: choose a family and every point is one of its drums;"
    " Vary plays another of the same family."
)
#: The window's group of both synth-decoder models.
SYNTH_LIST_GROUP = "Synth decoders"


def _ddsp_vae_spec():
    return ModelSpec(
        name="ddsp_vae",
        kind="vae",
        group="Synth-decoder VAE",
        list_group=SYNTH_LIST_GROUP,
        builder="build_ddsp_vae",
        defaults=MappingProxyType(
            {
                "name": "ddsp_vae",
                "length": SAMPLE_LENGTH,
                "sample_rate": SAMPLE_RATE,
                "attack_seconds": ATTACK_SECONDS,
                "width": 128,
                "hidden": (256, 256, 256),
                "noise_seed": 13,
                "kl_factor": 0.01,
                "kl_ramp": 600,
                "learning_rate": 5e-4,
                "loss": DEFAULT_LOSS,
                "fft_sizes": (4096, 2048, 1024, 512, 256),
                "waveform_weight": 0.0,
            }
        ),
        summary="log-mel VAE whose decoder plays a percussive synthesiser (modes, band noise, click)",
        words=SYNTH_WORDS,
        prior=NORMAL_PRIOR,
        noise_source=True,
    )


def _ddsp_cvae_spec():
    return ModelSpec(
        name="ddsp_cvae",
        kind="synth_ae",
        group="Synth-decoder autoencoder",
        list_group=SYNTH_LIST_GROUP,
        builder="build_ddsp_cvae",
        defaults=MappingProxyType(
            {
                "name": "ddsp_cvae",
                "length": HIRES_SAMPLE_LENGTH,
                "sample_rate": HIRES_SAMPLE_RATE,
                "attack_seconds": ATTACK_SECONDS,
                "width": 128,
                "hidden": (256, 256, 256),
                "noise_seed": 17,
                "code_dim": SYNTH_CODE_DIM,
                "learning_rate": 5e-4,
                "fft_sizes": (8192, 4096, 2048, 1024, 512, 256, 128),
            }
        ),
        summary="synth autoencoder at 44.1 kHz with a wide code: ask for a kick, a snare... or a mix",
        conditioned=True,
        listed=True,
        words=FAMILY_SYNTH_WORDS,
        prior=NORMAL_PRIOR,
        noise_source=True,
    )


def _all_specs():
    specs = [_dense_spec(size, act) for size in DENSE_UNITS for act in DENSE_ACTIVATIONS]
    specs += [_conv_ae_spec(), _gan_spec()]
    specs += [_vae_spec(name, factor) for name, factor in VAE_FACTORS.items()]
    specs += [_ddsp_vae_spec(), _ddsp_cvae_spec()]
    return specs


REGISTRY = MappingProxyType({spec.name: spec for spec in _all_specs()})

#: The zoo's models in display order: the dense AEs by size then activation, conv_ae, gan,
#: the VAEs, ddsp_vae. The window, the page, the listings and ``--all`` show these.
MODEL_NAMES = tuple(name for name, spec in REGISTRY.items() if spec.listed)
#: Every name ``train``, ``evaluate`` and :func:`get_spec` take: the zoo's, and those still
#: in training (ddsp_cvae).
TRAINABLE_NAMES = tuple(REGISTRY)


def get_spec(name):
    """The spec of a registry name.

    Raises
    ------
    UnknownModelError
        The name is not one of ``TRAINABLE_NAMES``; the message lists them.
    """
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownModelError(f"unknown model '{name}'; valid names: {', '.join(TRAINABLE_NAMES)}") from None
