"""``generate --family`` and ``--mix`` for a conditioned model (ddsp_cvae), run as a user
runs them: the real CLI, its exit status, its one line, and the files left as they were."""
import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from constants import DRUM_FAMILIES

ROOT = Path(__file__).resolve().parents[1]
FAMILIES_LINE = "the families are kick, snare, clap, hat, tom, cymbal, percussion"


def run_app(*args):
    return subprocess.run([sys.executable, str(ROOT / "app.py"), *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def hashes(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    """A tiny ddsp_cvae trained for one epoch on noise bursts labelled with every family."""
    from models.training import TrainingData, TrainOptions, train_model

    folder = tmp_path_factory.mktemp("zoo")
    rng = np.random.default_rng(0)
    length = 4096
    audio = (rng.standard_normal((28, length)) * np.exp(-np.arange(length) / 500)[None] * 0.5).astype(np.float32)
    data = TrainingData.from_arrays(audio, 44100, families=list(DRUM_FAMILIES) * 4)
    train_model("ddsp_cvae", data, folder, TrainOptions(epochs=1, batch_size=7, verbose=0),
                length=length, width=8, hidden=(16, 16))
    return folder


pytestmark = pytest.mark.slow


def test_a_family_names_the_file_and_the_line_and_plays_that_family(zoo, tmp_path):
    snare = run_app("generate", "ddsp_cvae", "--models", zoo, "--at", "0.2,-0.1", "--family", "snare", "-o", tmp_path)
    assert snare.returncode == 0, snare.stderr
    made = tmp_path / "ddsp_cvae_snare_x+0.20_y-0.10.wav"
    assert snare.stdout.strip() == f"{made}  (ddsp_cvae at 0.2,-0.1, snare; peak " + snare.stdout.split("peak ")[1].strip()
    audio, rate = sf.read(made, dtype="float32")
    assert rate == 44100 and audio.shape == (4096,)
    kick = run_app("generate", "ddsp_cvae", "--models", zoo, "--at", "0.2,-0.1", "--family", "kick", "-o", tmp_path)
    assert kick.returncode == 0, kick.stderr
    other, _ = sf.read(tmp_path / "ddsp_cvae_kick_x+0.20_y-0.10.wav", dtype="float32")
    assert np.max(np.abs(other - audio)) > 1e-3  # the family reaches the sound
    again = run_app("generate", "ddsp_cvae", "--models", zoo, "--at", "0.2,-0.1", "--family", "snare",
                    "-o", tmp_path / "again.wav")
    assert again.returncode == 0
    # the same samples, to the bit (the file's own header records when it was written)
    assert sf.read(tmp_path / "again.wav", dtype="float32")[0].tobytes() == audio.tobytes()


def test_a_mix_is_a_sound_of_its_own_and_its_variations_record_it(zoo, tmp_path):
    mixed = run_app("generate", "ddsp_cvae", "--models", zoo, "--at", "0,0", "--mix", "kick:0.6,tom:0.4", "-o", tmp_path)
    assert mixed.returncode == 0, mixed.stderr
    assert "kick:0.6,tom:0.4; peak" in mixed.stdout
    assert (tmp_path / "ddsp_cvae_kick0.6-tom0.4_x+0.00_y+0.00.wav").is_file()
    varied = run_app("generate", "ddsp_cvae", "--models", zoo, "--at", "0,0", "--mix", "kick:0.6,tom:0.4",
                     "--variations", "2", "--seed", "3", "-o", tmp_path / "v")
    assert varied.returncode == 0, varied.stderr
    sidecars = sorted((tmp_path / "v").glob("*.json"))
    assert len(sidecars) == 2 and all('"family": "kick:0.6,tom:0.4"' in s.read_text() for s in sidecars)


@pytest.mark.parametrize("args, reason", [
    (["--family", "kik"], f"--family: unknown family 'kik'; {FAMILIES_LINE}"),
    (["--mix", "kick:0.6,tom:0.6"], "--mix: family weights must sum to 1 (these sum to 1.2)"),
    (["--mix", "snare"], "--mix: give FAMILY:WEIGHT,FAMILY:WEIGHT (e.g. kick:0.6,tom:0.4), not 'snare'"),
    (["--mix", "kick:lots,tom:0"], "--mix: the weight of kick must be a number from 0 to 1, not 'lots'"),
])
def test_a_bad_family_exits_2_in_one_line_and_writes_nothing(zoo, tmp_path, args, reason):
    (tmp_path / "keep.wav").write_bytes(b"RIFF mine")
    before = hashes(tmp_path), hashes(zoo)
    result = run_app("generate", "ddsp_cvae", "--models", zoo, "--at", "0,0", *args, "-o", tmp_path)
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [f"app.py generate: {reason}"]
    assert (hashes(tmp_path), hashes(zoo)) == before


def test_a_family_for_a_model_without_one_exits_2(tmp_path):
    result = run_app("generate", "ae_small_tanh", "--at", "0,0", "--family", "snare", "-o", tmp_path / "x.wav")
    assert result.returncode == 2
    assert result.stderr.strip() == "app.py generate: --family: ae_small_tanh is not conditioned on a family (ddsp_cvae is)"
    assert not (tmp_path / "x.wav").exists()
