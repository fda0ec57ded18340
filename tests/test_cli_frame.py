"""``play`` of a whole vector of ddsp_cvae's family frame (issue 35), run as a user runs it on
the shipped model: the real CLI, its exit status, its one line, what the sound device was given
(ALSA's file plugin), and on a refusal the model's files left as they were."""

import hashlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from import_fixtures import one_line, played_through_alsa, run_app

ROOT = Path(__file__).resolve().parents[1]
ZOO = ROOT / "trained"
NAME = "ddsp_cvae"
#: The pad's point, then offsets along the family's other 14 main axes (pad units).
VECTOR = (0.5, -1.2, 0.0, 3.0, 0.0, 0.0, -1.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.25)
OTHER = (-1.0, 0.5, -2.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.0)
MIX = "kick:0.6,tom:0.4"

pytestmark = pytest.mark.slow


def at_text(values):
    return ",".join(f"{v:g}" for v in values)


def hashes(folder):
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(folder).rglob("*")) if p.is_file()
    }


def generated(tmp_path, values, *family):
    """The samples ``generate`` writes for ``values`` with ``family`` (float WAV)."""
    path = tmp_path / f"generated_{len(list(tmp_path.glob('generated_*')))}.wav"
    status, _, err = run_app("generate", NAME, "--at", at_text(values), *family, "-o", path, home=tmp_path / "home")
    assert status == 0, err
    samples, rate = sf.read(path, dtype="float32")
    return samples, rate


def as_played(samples, rate, stream_rate):
    """``samples`` as the player hands them to a stream at ``stream_rate`` (resampled, edges faded)."""
    from audio.mixer import Mixer

    return np.asarray(Mixer(stream_rate).prepare(samples, rate))


def test_play_sounds_a_whole_frame_vector_as_generate_makes_it_and_says_every_number(tmp_path):
    from audio.player import DEFAULT_SAMPLE_RATE

    for values, family, said in ((VECTOR, ("--family", "snare"), "snare"), (OTHER, ("--mix", MIX), MIX)):
        samples, rate = generated(tmp_path, values, *family)
        status, out, err, played = played_through_alsa(tmp_path, NAME, "--at", at_text(values), *family)
        assert status == 0, err
        shown = ", ".join(f"{v:g}" for v in values)
        assert one_line(out) == f"{NAME} at ({shown}), {said}: played once (0.74 s at 44100 Hz)"
        expected = as_played(samples, rate, DEFAULT_SAMPLE_RATE)
        start = np.flatnonzero(played)[0]
        assert np.allclose(played[start : start + len(expected)], expected, atol=1e-6)
    # the frame's centre is the pad point, which plays and reads as it always did
    status, out, err, played = played_through_alsa(tmp_path, NAME, "--at", "0.5,-1.2", "--family", "snare")
    assert status == 0 and one_line(out) == f"{NAME} at (0.5, -1.2), snare: played once (0.74 s at 44100 Hz)", err
    centre, rate = generated(tmp_path, (0.5, -1.2) + (0.0,) * 14, "--family", "snare")
    expected = as_played(centre, rate, DEFAULT_SAMPLE_RATE)
    start = np.flatnonzero(played)[0]
    assert np.allclose(played[start : start + len(expected)], expected, atol=1e-6)


WRONG_COUNT = "--at '1,2,3,4,5': ddsp_cvae takes X,Y (its pad) or 16 numbers (the pad and its family's other 14 axes), not 5"
NO_FRAME = "a point is two numbers X,Y (e.g. --at 0.5,-1.2)"


@pytest.mark.parametrize(
    "model, at, reason",
    [
        (NAME, "1,2,3,4,5", WRONG_COUNT),
        ("vae_a", at_text(VECTOR), f"--at '{at_text(VECTOR)}': {NO_FRAME}"),
        ("ddsp_vae", at_text(VECTOR), f"--at '{at_text(VECTOR)}': {NO_FRAME}"),
    ],
    ids=["five numbers", "vae_a", "ddsp_vae"],
)
def test_play_refuses_a_vector_of_another_size_or_for_a_model_without_a_frame_in_one_line(tmp_path, model, at, reason):
    before = hashes(ZOO / model)
    status, out, err, played = played_through_alsa(tmp_path, model, "--at", at, "--family", "snare")
    assert status == 2 and out == "" and one_line(err) == f"app.py play: {reason}"
    assert not played.any() and hashes(ZOO / model) == before
