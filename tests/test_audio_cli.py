"""`app.py play`: exit statuses and messages, with WAV files, stand-in models and no device."""

import sys
import types

import numpy as np
import pytest
import soundfile

import app
import drums
from audio import player as player_module


@pytest.fixture
def wav(tmp_path):
    path = tmp_path / "snare.wav"
    soundfile.write(str(path), drums.snare(seed=1, sr=44100, seconds=0.1), 44100)
    return path


@pytest.fixture
def fake_models(monkeypatch):
    """A stand-in for models.engine (the real one needs trained models)."""
    from models.errors import ModelUnavailableError, UnknownModelError

    decoded, folders = [], []

    class Model:
        sample_rate = 22050

        def decode(self, points, variation=None):
            decoded.append(np.array(points))
            return np.tile(drums.kick(seed=2, sr=22050, seconds=0.05), (len(points), 1))

    def load_runtime(name, folder="trained"):
        folders.append(folder)
        if name == "gan":
            raise ModelUnavailableError("trained/gan/decoder.keras: damaged (bad zip)")
        if name != "vae_c":
            raise UnknownModelError(f"unknown model '{name}'")
        return Model()

    module = types.ModuleType("models.engine")
    module.load_runtime = load_runtime
    monkeypatch.setitem(sys.modules, "models.engine", module)
    return types.SimpleNamespace(decoded=decoded, folders=folders)


def test_a_wav_file_plays_once(wav, capsys):
    assert app.main(["play", str(wav)]) == 0
    assert "snare.wav: played once" in capsys.readouterr().out


def test_a_wav_file_loops_for_the_given_seconds(wav, capsys):
    assert app.main(["play", str(wav), "--loop", "0.2", "--gap", "0.05", "--volume", "0.5"]) == 0
    assert "looped for 0.2 s" in capsys.readouterr().out


def test_a_model_point_is_decoded_and_played(fake_models, capsys):
    assert app.main(["play", "vae_c", "--at", "-0.5,1.25", "--folder", "zoo"]) == 0
    assert fake_models.decoded[0].tolist() == [[-0.5, 1.25]] and fake_models.folders == ["zoo"]
    assert "vae_c at (-0.5, 1.25): played once" in capsys.readouterr().out


def test_without_a_device_a_model_is_not_even_loaded(fake_models, capsys):
    assert app.main(["play", "vae_c", "--at", "0,0", "--device", "no such device 4711"]) == 1
    assert fake_models.folders == []
    assert "cannot play" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["play", "vae_c", "--at", "1;2"],
        ["play", "vae_c", "--at", "1,2,3"],
        ["play", "vae_c", "--at", "nan,1"],
        ["play", "vae_c"],
        ["play"],
        ["play", "nosuchmodel", "--at", "0,0"],
        ["play", "WAV", "--at", "0,0"],
        ["play", "WAV", "--volume", "2"],
        ["play", "WAV", "--loop", "0"],
        ["play", "WAV", "--gap", "-1"],
    ],
)
def test_usage_errors_exit_2_with_a_reason(argv, wav, fake_models, capsys):
    argv = [str(wav) if a == "WAV" else a for a in argv]
    assert app.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("app.py play: ") and len(err.strip().splitlines()) == 1


def test_unknown_model_message_lists_the_valid_names(fake_models, capsys):
    assert app.main(["play", "nosuchmodel", "--at", "0,0"]) == 2
    assert "vae_c" in capsys.readouterr().err
    assert fake_models.folders == []


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("missing.wav", "no such file"),
        ("notaudio.wav", "not a readable audio file"),
        ("empty.wav", "no samples"),
    ],
)
def test_unplayable_files_exit_1_with_a_reason(tmp_path, capsys, target, reason):
    (tmp_path / "notaudio.wav").write_text("hello")
    soundfile.write(str(tmp_path / "empty.wav"), np.zeros(0), 22050)
    assert app.main(["play", str(tmp_path / target)]) == 1
    assert reason in capsys.readouterr().err


def test_a_damaged_model_exits_1(fake_models, capsys):
    assert app.main(["play", "gan", "--at", "0,0"]) == 1
    assert "gan is unavailable: trained/gan/decoder.keras: damaged" in capsys.readouterr().err


def test_no_such_device_exits_1_with_the_reason(wav, capsys):
    assert app.main(["play", str(wav), "--device", "no such device 4711"]) == 1
    assert "cannot play: output device 'no such device 4711'" in capsys.readouterr().err


def test_missing_portaudio_exits_1_with_the_reason(wav, capsys, monkeypatch):
    monkeypatch.setattr(player_module, "_import_sounddevice", lambda: (None, "the PortAudio library is not installed (test)"))
    assert app.main(["play", str(wav)]) == 1
    assert "cannot play: the PortAudio library is not installed" in capsys.readouterr().err
    assert app.main(["play", "--list-devices"]) == 1


def test_devices_are_listed(capsys):
    assert app.main(["play", "--list-devices"]) == 0
    assert "default" in capsys.readouterr().out
