"""ddsp_vae's decoder with NumPy only: its ``synth.npz`` (the MLP's weights and the
synthesiser's config, judged by size and bounds before anything is built) and decoding latent
points with it, the MLP's raw output rendered by :mod:`models.drumsynth`. The engine runs the
same layers (:mod:`models.numpy_layers`); this is the plain reference a test holds it to."""

import json

import numpy as np

from models.drumsynth import F32, LEAKY_SLOPE, render, sources
from models.synth_settings import SynthSettingsError, checked_settings


def mlp(points, layers):
    """The decoder's MLP: leaky ReLU between ``Dense`` layers, the last one linear.

    Parameters
    ----------
    points : np.ndarray, shape (N, 2)
    layers : list of (kernel, bias)
    """
    x = np.asarray(points, dtype=np.float32)
    for i, (kernel, bias) in enumerate(layers):
        x = x @ kernel.astype(F32, copy=False) + bias.astype(F32, copy=False)
        if i < len(layers) - 1:
            x = np.where(x >= 0, x, LEAKY_SLOPE * x)
    return x


#: synth.npz's config is four numbers; a larger one is refused before it is loaded.
MAX_CONFIG_BYTES = 64 * 1024


def read_weights(path):
    """Load a synth.npz: ``(layers, config)`` for :func:`decode`.

    Its ``config`` is judged by its size before it is loaded, parsed without letting deep
    nesting recurse, and checked by :func:`checked_settings` before anything is built.

    Raises
    ------
    SynthSettingsError
        "PATH: REASON" for a config that is too large, not JSON, or out of bounds.
    """
    with np.load(path, allow_pickle=False) as archive:
        info = archive.zip.getinfo("config.npy")
        if info.file_size > 4 * MAX_CONFIG_BYTES:  # NumPy stores 4 bytes a character
            raise SynthSettingsError(f"{path}: its config is too large ({info.file_size:,} bytes)")
        try:
            config = json.loads(str(archive["config"]))
        except RecursionError:
            raise SynthSettingsError(f"{path}: its config is nested too deeply") from None
        except ValueError as error:
            raise SynthSettingsError(f"{path}: its config is not JSON ({error})") from None
        try:
            settings = checked_settings(config)
        except SynthSettingsError as error:
            raise SynthSettingsError(f"{path}: {error}") from None
        config = {**config, **settings}
        count = len([k for k in archive.files if k.endswith("/kernel")])
        layers = [(archive[f"dense/{i}/kernel"].astype(F32), archive[f"dense/{i}/bias"].astype(F32)) for i in range(count)]
    return layers, config


def decode(points, layers, config, variation=None, noise=None):
    """Audio for latent points with NumPy only.

    Parameters
    ----------
    points : np.ndarray, shape (N, 2)
    layers, config : from :func:`read_weights`
    variation : int or None
    noise : dict, optional
        Precomputed :func:`sources` (saves their FFTs on repeated calls).
    """
    if noise is None:
        noise = sources(config["seed"], variation, sample_rate=config["sample_rate"], length=config["length"], attack=config["attack"])
    return render(mlp(points, layers), noise, config["sample_rate"], config["length"], config["attack"])
