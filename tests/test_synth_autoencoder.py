"""Issue 30 §2 stage 1: the synth autoencoder with a D-dimensional code and no family input."""

import numpy as np
import pytest

from models.synth_autoencoder import OCTAVE_PIVOT_HZ, octave_weights

RATE = 44100


def octave_share(weights, n_fft, low, high):
    freqs = np.fft.rfftfreq(n_fft, 1 / RATE)
    return weights[(freqs >= low) & (freqs < high)].sum() / weights.sum()


@pytest.mark.parametrize("n_fft", [256, 2048, 8192])
def test_the_top_octave_weighs_what_the_octave_above_the_pivot_weighs(n_fft):
    weights = octave_weights(n_fft, RATE)
    assert weights.mean() == pytest.approx(1.0, rel=1e-5)
    top = octave_share(weights, n_fft, RATE / 4, RATE / 2 + 1)
    above_pivot = octave_share(weights, n_fft, OCTAVE_PIVOT_HZ, 2 * OCTAVE_PIVOT_HZ)
    assert top < 0.2  # unweighted, it is half of every STFT
    assert top == pytest.approx(above_pivot, rel=0.25)


def test_a_hiss_in_the_top_octave_costs_less_than_unweighted_and_a_copy_costs_nothing():
    from models.losses import reconstruction_error
    from models.synth_autoencoder import octave_weighted_error

    rng = np.random.default_rng(0)
    length, sizes = 4096, (1024, 512, 256)
    t = np.arange(length) / RATE
    kick = (np.sin(2 * np.pi * 60 * t) * np.exp(-t / 0.05)).astype(np.float32)[None]
    spectrum = np.fft.rfft(rng.standard_normal(length))
    spectrum[np.fft.rfftfreq(length, 1 / RATE) < RATE / 4] = 0
    hissed = (kick + 0.01 * np.fft.irfft(spectrum, n=length)).astype(np.float32)
    weighted = np.asarray(octave_weighted_error(kick, hissed, sizes, RATE))
    plain = np.asarray(reconstruction_error("spectral_floored", kick, hissed, sizes, waveform_weight=0.0))
    assert weighted[0] < 0.5 * plain[0]
    assert np.asarray(octave_weighted_error(kick, kick, sizes, RATE))[0] == pytest.approx(0.0, abs=1e-5)


def test_the_targets_magnitudes_computed_once_give_the_loss_computed_each_step():
    from models.synth_autoencoder import octave_weighted_error, target_magnitudes

    rng = np.random.default_rng(3)
    length, sizes = 4096, (8192, 1024, 256)  # 8192 is longer than the sound: left out, as each step does
    decay = np.exp(-np.arange(length) / 600.0)[None]
    target = (0.4 * rng.standard_normal((5, length)) * decay).astype(np.float32)
    estimate = (0.3 * rng.standard_normal((5, length)) * decay).astype(np.float32)
    once = target_magnitudes(target, sizes, RATE, batch_size=2)  # in batches, as for a whole dataset
    assert sorted(once) == ["stft_1024", "stft_256"]
    each_step = np.asarray(octave_weighted_error(target, estimate, sizes, RATE))
    precomputed = np.asarray(octave_weighted_error(target, estimate, sizes, RATE, targets=once))
    assert np.allclose(precomputed, each_step, rtol=1e-5) and each_step.min() > 0.1


@pytest.mark.slow
def test_a_tiny_synth_autoencoder_trains_has_no_family_input_and_the_numpy_engine_plays_it(tmp_path):
    import keras

    from models.synth_autoencoder import SynthAutoencoder, synth_decoder, synth_encoder

    length, code_dim = 4096, 4
    rng = np.random.default_rng(1)
    decay = np.exp(-np.arange(length) / 400.0)[None]
    audio = (0.5 * rng.standard_normal((8, length)) * decay).astype(np.float32)
    encoder = synth_encoder(length, RATE, 8, code_dim, "tiny")
    decoder = synth_decoder(code_dim, length, RATE, 441, (16, 16), 3, "tiny")
    model = SynthAutoencoder(encoder, decoder, fft_sizes=(1024, 512, 256), name="tiny")
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = model.fit(audio, epochs=2, batch_size=4, verbose=0).history["loss"]
    assert len(history) == 2 and np.all(np.isfinite(history))
    assert [tuple(i.shape) for i in encoder.inputs] == [(None, length)]  # audio only: no family
    assert [tuple(i.shape) for i in decoder.inputs] == [(None, code_dim)]
    codes = np.asarray(encoder(audio))
    assert codes.shape == (8, code_dim) and np.all(np.isfinite(codes))
    sounds = np.asarray(decoder(codes))
    assert sounds.shape == (8, length) and np.all(np.max(np.abs(sounds), axis=1) < 0.99)
    decoder.save(tmp_path / "decoder.keras")
    encoder.save(tmp_path / "encoder.keras")
    again = keras.saving.load_model(tmp_path / "decoder.keras", safe_mode=True)
    assert np.max(np.abs(np.asarray(again(codes)) - sounds)) < 1e-6
    # the NumPy engine (what the window, the page and the CLI play) runs both, D wide
    from models.engine import load_network

    assert np.max(np.abs(load_network(tmp_path / "decoder.keras")(codes) - sounds)) < 1e-4
    assert np.max(np.abs(load_network(tmp_path / "encoder.keras")(audio) - codes)) < 1e-4
