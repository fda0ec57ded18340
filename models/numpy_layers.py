"""The Keras layers the shipped models are made of, as NumPy functions (no TensorFlow).

One table, :data:`LAYER_BUILDERS`, maps a Keras class name (``class_name`` in a .keras
``config.json``; ``registered_name`` for the project's own layers, e.g. ``mlsg>Sampling``)
to a builder. A builder takes the layer's config and its weights (float32 arrays in the
order Keras saves them) and returns the layer as a function of NumPy arrays. A new kind of
layer (the ddsp_vae's synthesiser) is one more :func:`layer_builder` entry.

Convolutions are matrix products:

- ``Conv1D`` gathers each output step's receptive field (``taps`` consecutive steps of the
  padded input: one contiguous run of memory, so the gathering is a plain copy, made
  even where a view would do, since BLAS takes only a matrix whose rows do not overlap) and
  multiplies them by the kernel reshaped to a ``(taps * channels, filters)`` matrix;
- ``Conv1DTranspose`` of stride ``s`` runs in its polyphase form (see
  :func:`polyphase_weights`): one VALID ``Conv1D`` of about ``K/s`` taps with ``s * filters``
  outputs, whose ``s`` phases are then interleaved (a reshape).

Padding follows TensorFlow's "same": ``max((out - 1) * s + K - n, 0)`` zeros in total,
the smaller half on the left.
"""

import re
import threading
from collections.abc import Callable

import numpy as np
from numpy.lib.stride_tricks import as_strided


class UnsupportedLayerError(ValueError):
    """A layer (or a setting of one) the NumPy engine does not implement; the message
    names it."""


LAYER_BUILDERS: dict[str, Callable] = {}


def layer_builder(*class_names):
    """Register a builder ``(config, weights) -> function`` under Keras class names."""

    def register(builder):
        for class_name in class_names:
            LAYER_BUILDERS[class_name] = builder
        return builder

    return register


def to_snake_case(name):
    """Keras' own ``to_snake_case``: the name a layer's weights are stored under in
    ``model.weights.h5`` (``Conv1DTranspose`` -> ``conv1d_transpose``)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


# ----------------------------------------------------------------------------- activations


def _sigmoid(x):
    # The tanh form cannot overflow, unlike 1 / (1 + exp(-x)).
    x = np.multiply(x, 0.5)
    np.tanh(x, out=x)
    x += 1.0
    x *= 0.5
    return x


def _relu(x):
    return np.maximum(x, 0.0, out=x)


def _leaky(slope):
    slope = np.float32(slope)

    def leaky_relu(x):
        return np.maximum(x, x * slope, out=x) if slope <= 1 else np.minimum(x, x * slope, out=x)

    return leaky_relu


def _identity(x):
    return x


ACTIVATIONS = {
    None: _identity,
    "linear": _identity,
    "relu": _relu,
    "tanh": lambda x: np.tanh(x, out=x),
    "sigmoid": _sigmoid,
    "leaky_relu": _leaky(0.2),  # keras.activations.leaky_relu's default slope
}


def activation(name):
    """The NumPy function of a Keras activation name (it may work in place)."""
    if isinstance(name, dict):  # a serialised activation object
        name = name.get("config", {}).get("name", name.get("class_name"))
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise UnsupportedLayerError(f"activation {name!r} is not supported") from None


def _check_weights(config, weights, shapes):
    if len(weights) != len(shapes) or any(w.shape != tuple(s) for w, s in zip(weights, shapes) if s is not None):
        got = ", ".join(str(w.shape) for w in weights) or "none"
        raise UnsupportedLayerError(f"layer {config.get('name')!r}: weights of shapes {got} do not fit its config")


def _single(value):
    return int(np.ravel(value)[0])


def _check_conv_config(config):
    if config.get("data_format", "channels_last") != "channels_last":
        raise UnsupportedLayerError(f"layer {config.get('name')!r}: only channels_last is supported")
    if _single(config.get("dilation_rate", 1)) != 1 or int(config.get("groups", 1)) != 1:
        raise UnsupportedLayerError(f"layer {config.get('name')!r}: dilation and groups are not supported")
    if config.get("padding") not in ("same", "valid"):
        raise UnsupportedLayerError(f"layer {config.get('name')!r}: padding {config.get('padding')!r} is not supported")


# ----------------------------------------------------------------------------- layers


@layer_builder("InputLayer")
def build_input(config, weights):
    return returns_view(_identity)


@layer_builder("Dense")
def build_dense(config, weights):
    units = int(config["units"])
    use_bias = config.get("use_bias", True)
    _check_weights(config, weights, [(None if not weights else weights[0].shape[0], units)] + ([(units,)] if use_bias else []))
    kernel = np.ascontiguousarray(weights[0])
    then = activation(config.get("activation"))
    if use_bias:
        bias = weights[1]

        def dense(x):
            return then(np.matmul(x, kernel) + bias)  # (…, in) -> (…, units)
    else:

        def dense(x):
            return then(np.matmul(x, kernel))

    return dense


@layer_builder("Reshape")
def build_reshape(config, weights):
    shape = tuple(int(v) for v in config["target_shape"])
    return returns_view(lambda x: x.reshape((x.shape[0],) + shape))


@layer_builder("Flatten")
def build_flatten(config, weights):
    if config.get("data_format", "channels_last") != "channels_last":
        raise UnsupportedLayerError(f"layer {config.get('name')!r}: only channels_last is supported")
    return returns_view(lambda x: x.reshape(x.shape[0], int(np.prod(x.shape[1:]))))


def returns_view(function):
    """Mark a layer function whose output shares its input's memory (a reshape, the
    identity), so the engine knows who else reads an array before working on it in place."""
    function = _wrapped(function)
    function.returns_view = True
    return function


def in_place(function):
    """Mark a layer function that overwrites its input; the engine hands it a copy when
    the input is also needed elsewhere (or is the caller's array)."""
    if function is _identity:
        return returns_view(function)
    function = _wrapped(function)
    function.in_place = True
    return function


def _wrapped(function):
    return lambda x: function(x)


@layer_builder("Activation")
def build_activation(config, weights):
    return in_place(activation(config.get("activation")))


@layer_builder("LeakyReLU")
def build_leaky_relu(config, weights):
    # Keras 3 calls the slope negative_slope; Keras 2 called it alpha.
    return in_place(_leaky(config.get("negative_slope", config.get("alpha", 0.3))))


@layer_builder("ReLU")
def build_relu(config, weights):
    if config.get("max_value") is not None or config.get("threshold", 0.0) != 0.0 or config.get("negative_slope", 0.0) != 0.0:
        raise UnsupportedLayerError(f"layer {config.get('name')!r}: only a plain ReLU is supported")
    return in_place(_relu)


@layer_builder("Dropout", "mlsg>PhaseShuffle")
def build_training_only(config, weights):
    """Layers that change nothing at inference (phase shuffle only acts in training)."""
    return returns_view(_identity)


@layer_builder("mlsg>Sampling")
def build_sampling(config, weights):
    """The VAE's sampling layer gives its mean at inference: the engine's encoder returns
    ``z_mean`` (output 0), as :class:`models.keras_loader.TrainedModel` does."""
    return returns_view(lambda inputs: inputs[0])


@layer_builder("Add")
def build_add(config, weights):
    def add(inputs):
        total = inputs[0] + inputs[1]
        for more in inputs[2:]:
            total += more
        return total

    return add


@layer_builder("Concatenate")
def build_concatenate(config, weights):
    axis = int(config.get("axis", -1))
    return lambda inputs: np.concatenate(inputs, axis=axis)


def same_padding(length, stride, size):
    """TensorFlow's "same" padding of a strided convolution: (left, right) zeros."""
    steps = -(-length // stride)
    total = max((steps - 1) * stride + size - length, 0)
    return total // 2, total - total // 2


def padded_windows(x, left, right, taps, stride=1):
    """Every ``taps``-step window of ``x`` zero-padded by (left, right) steps, ``stride``
    steps apart, as a matrix: (batch * windows, taps * channels), windows in order."""
    batch, steps, channels = x.shape
    padded = np.zeros((batch, steps + left + right, channels), np.float32)
    padded[:, left : left + steps] = x
    count = (steps + left + right - taps) // stride + 1
    s_batch, s_step, s_channel = padded.strides
    windows = as_strided(padded, (batch, count, taps, channels), (s_batch, stride * s_step, s_step, s_channel), writeable=False)
    # A copy, always: for one sound (batch 1) at stride 1 the reshape is a view whose rows
    # overlap, which BLAS cannot take, and NumPy's matmul then falls back to a loop of its
    # own that is 1.5-2x slower than copying first (conv_ae's last two layers).
    return np.ascontiguousarray(windows.reshape(batch * count, taps * channels)), count


@layer_builder("Conv1D")
def build_conv1d(config, weights):
    _check_conv_config(config)
    size, stride, filters = _single(config["kernel_size"]), _single(config["strides"]), int(config["filters"])
    use_bias = config.get("use_bias", True)
    _check_weights(
        config, weights, [(size, None if not weights else weights[0].shape[1], filters)] + ([(filters,)] if use_bias else [])
    )
    in_channels = weights[0].shape[1]
    matrix = np.ascontiguousarray(weights[0].reshape(size * in_channels, filters))
    bias = weights[1] if use_bias else np.zeros(filters, np.float32)
    padding = config["padding"]
    then = activation(config.get("activation"))

    def conv1d(x):  # (batch, steps, in_channels) -> (batch, out_steps, filters)
        left, right = same_padding(x.shape[1], stride, size) if padding == "same" else (0, 0)
        windows, count = padded_windows(x, left, right, size, stride)
        y = np.matmul(windows, matrix)
        y += bias
        return then(y.reshape(x.shape[0], count, filters))

    return conv1d


def polyphase_weights(kernel, bias, stride):
    """Rewrite a "same" ``Conv1DTranspose`` as a VALID ``Conv1D`` plus depth-to-space.

    A transposed convolution with stride ``s`` and kernel ``K`` scatters every input step
    over ``K`` outputs. Output ``s*m + r`` only ever sees kernel taps ``r + p + s*j``
    (``p`` the "same" padding's left part), so the layer equals one ordinary convolution of
    about ``K/s`` taps with ``s * filters`` outputs, followed by interleaving the phases.

    Parameters
    ----------
    kernel : np.ndarray, shape (K, filters, in_channels)
        Keras' transposed-convolution kernel.
    bias : np.ndarray, shape (filters,) or None
    stride : int

    Returns
    -------
    weights : np.ndarray, shape (taps, in_channels, stride * filters)
    bias : np.ndarray, shape (stride * filters,)
    pad : (int, int)
        Zero padding of the input steps (left, right) before the VALID convolution.
    """
    size, filters, in_channels = kernel.shape
    p = (size - stride) // 2  # left part of TensorFlow's "same" padding, K - s in total
    # j ranges over the input offsets m - j that reach output phase r.
    j_low = min(-((r + p) // stride) for r in range(stride))
    j_high = max((size - 1 - r - p) // stride for r in range(stride))
    taps = j_high - j_low + 1
    weights = np.zeros((taps, in_channels, stride * filters), dtype=np.float32)
    for u in range(taps):
        j = j_high - u
        for r in range(stride):
            k = stride * j + r + p
            if 0 <= k < size:
                weights[u, :, r * filters : (r + 1) * filters] = kernel[k].T
    bias = np.zeros(filters, np.float32) if bias is None else np.asarray(bias, np.float32)
    return weights, np.tile(bias, stride), (j_high, -j_low)


@layer_builder("Conv1DTranspose")
def build_conv1d_transpose(config, weights):
    _check_conv_config(config)
    size, stride, filters = _single(config["kernel_size"]), _single(config["strides"]), int(config["filters"])
    use_bias = config.get("use_bias", True)
    _check_weights(
        config, weights, [(size, filters, None if not weights else weights[0].shape[2])] + ([(filters,)] if use_bias else [])
    )
    if config["padding"] != "same" or config.get("output_padding") is not None or size < stride:
        raise UnsupportedLayerError(
            f"layer {config.get('name')!r}: only a 'same' Conv1DTranspose whose kernel is at least its stride is supported"
        )
    taps_weights, bias, (left, right) = polyphase_weights(weights[0], weights[1] if use_bias else None, stride)
    taps, in_channels, outputs = taps_weights.shape
    matrix = np.ascontiguousarray(taps_weights.reshape(taps * in_channels, outputs))
    then = activation(config.get("activation"))

    def conv1d_transpose(x):  # (batch, steps, in_channels) -> (batch, stride * steps, filters)
        windows, steps = padded_windows(x, left, right, taps)
        y = np.matmul(windows, matrix)
        y += bias
        return then(y.reshape(x.shape[0], steps * stride, filters))

    return conv1d_transpose


# ----------------------------------------------------------------------------- ddsp_vae

#: Noise sources of this many variations stay in memory (each is 66 x length floats: the
#: bands inside their stacked copy, and the two clicks).
VARIATION_CACHE = 16


def _drumsynth():
    try:
        from models import drumsynth
    except ImportError:
        raise UnsupportedLayerError("the synthesiser needs models/drumsynth.py (ddsp_vae)") from None
    return drumsynth


def _synth_builder(render, *, extends=False):
    """A synthesiser layer's builder: its settings from the config, its noise sources per
    variation (None or 0: the model's own noise, kept; up to ``VARIATION_CACHE`` others),
    and ``render(raw, noise, rate, length, attack, n_modes=...)``. The layer takes the
    decode's variation, so it is marked ``takes_variation``. With ``extends`` (ddsp_cvae's
    synthesiser) it also renders other lengths than its trained window (``length=``), and
    is marked ``extends``; the others refuse them."""

    def build(config, weights):
        drumsynth = _drumsynth()
        rate, length, attack, seed = (int(config[key]) for key in ("sample_rate", "length", "attack", "seed"))
        n_modes = int(config.get("n_modes", drumsynth.N_MODES))
        n_bands = int(config.get("n_bands", drumsynth.N_BANDS))
        cache: dict[tuple[int, int], np.ndarray] = {}
        lock = threading.Lock()

        def sources(variation, samples=length):
            key = (int(variation or 0), samples)
            with lock:
                noise = cache.get(key)
            if noise is None:
                noise = drumsynth.sources(seed, key[0], sample_rate=rate, length=samples, attack=attack, n_bands=n_bands)
                with lock:
                    if len(cache) >= VARIATION_CACHE:
                        cache.pop(next(k for k in cache if k != (0, length)))  # the model's own noise stays
                    cache[key] = noise
            return noise

        sources(0)
        draw = render()

        def synth(raw, variation=None, samples=None):  # (batch, parameters) -> (batch, samples)
            if samples is None or samples == length:
                return draw(raw, sources(variation), rate, length, attack, n_modes=n_modes)
            if not extends:
                raise UnsupportedLayerError(f"this synthesiser renders only its trained {length} samples")
            return draw(raw, sources(variation, samples), rate, length, attack, length=samples, n_modes=n_modes)

        # what the engine asks of a step (models.numpy_network.NumpyNetwork)
        synth.takes_variation = True  # type: ignore[attr-defined]
        synth.extends = extends  # type: ignore[attr-defined]
        return synth

    return build


def _drumsynth_render():
    return _drumsynth().render


def _fullband_render():
    from models import fullband

    return fullband.render


#: ddsp_vae's synthesiser, by its NumPy twin :mod:`models.drumsynth`.
build_drum_synth = layer_builder("mlsg>DrumSynth")(_synth_builder(_drumsynth_render))
#: ddsp_cvae's synthesiser, by its NumPy twin :mod:`models.fullband`.
build_full_band_synth = layer_builder("mlsg>FullBandSynth")(_synth_builder(_fullband_render, extends=True))


@layer_builder("mlsg>LogMel")
def build_log_mel(config, weights):
    """ddsp_vae's encoder front end: a log-mel spectrogram (periodic Hann window, no
    centring, as ``keras.ops.stft``) in dB, normalised per band by its stored statistics."""
    drumsynth = _drumsynth()
    mel_filterbank = getattr(drumsynth, "mel_filterbank", None)
    if mel_filterbank is None:
        raise UnsupportedLayerError("the log-mel layer needs mel_filterbank in models/drumsynth.py")
    rate, n_fft, hop, n_mels = (int(config[key]) for key in ("sample_rate", "n_fft", "hop", "n_mels"))
    bank = np.asarray(mel_filterbank(rate, n_fft, n_mels), np.float32)
    _check_weights(config, weights, [(n_mels,), (n_mels,)])
    mean, std = weights
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)
    scale = np.float32((4.0 / n_fft) ** 2)

    def log_mel(audio):  # (batch, length) -> (batch, frames, n_mels)
        audio = np.ascontiguousarray(audio, np.float32)
        batch, length = audio.shape
        frames = (length - n_fft) // hop + 1
        s_batch, s_sample = audio.strides
        framed = as_strided(audio, (batch, frames, n_fft), (s_batch, hop * s_sample, s_sample), writeable=False)
        spectrum = np.fft.rfft(framed * window, axis=-1)
        power = (spectrum.real**2 + spectrum.imag**2).astype(np.float32) * scale
        decibels = 10.0 * np.log10(np.matmul(power, bank) + np.float32(1e-10))
        return ((decibels - mean) / std).astype(np.float32)

    return log_mel
