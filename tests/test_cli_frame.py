"""``play`` and ``kit`` of a whole vector of ddsp_cvae's family frame (issue 35), run as a user
runs them on the shipped model: the real CLI, its exit status, its one line, what the sound
device was given (ALSA's file plugin), the kit's files (kit.json's vector and family, each
sample the one ``generate`` writes for that vector and family, and the real Hydrogen's
``h2cli --check``), and on a refusal the user's files left as they were, nothing written."""

import hashlib
import json
from pathlib import Path

import hydrogen
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


def kit_record(folder):
    return json.loads((folder / "kit.json").read_text())


def h2cli_accepts(home, path):
    if hydrogen.H2CLI is None:
        pytest.skip("h2cli (Debian package hydrogen) is not installed")
    checked = hydrogen.h2cli(home, "--check", path)
    assert checked.returncode == 0, checked.stdout[-2000:] + checked.stderr[-2000:]
    assert "is valid" in checked.stdout + checked.stderr, checked.stdout[-2000:]


def test_kit_holds_each_vector_as_generate_makes_it_records_the_vector_and_family_and_hydrogen_accepts_it(tmp_path):
    from audio.export import vector_tag, wav_bytes
    from audio.kit import KIT_RATE, KIT_SUBTYPE, extract_h2drumkit, kit_sample

    at = ["--family", "snare", "--at", at_text(VECTOR), "--at", "0.5,-1.2", "--mix", MIX, "--at", at_text(OTHER)]
    folder, kit = tmp_path / "Frame", tmp_path / "Frame.h2drumkit"
    for output, what in ((folder, "kit folder"), (kit, "Hydrogen kit")):
        status, out, err = run_app("kit", NAME, *at, "--seed", "7", "-o", output, home=tmp_path / "home")
        assert status == 0, err
        assert one_line(out) == f"{output}: {what} 'Frame', 3 instruments, 3 samples (seed 7)"
    record = kit_record(folder)
    # a pad point among vectors is its whole vector (the other axes at the centre), as generate has it
    centre = (0.5, -1.2) + (0.0,) * 14
    wanted = [(VECTOR, "snare", ("--family", "snare")), (centre, "snare", ("--family", "snare")), (OTHER, MIX, ("--mix", MIX))]
    assert [i["point"] for i in record["instruments"]] == [list(values) for values, _, _ in wanted]
    assert [i["family"] for i in record["instruments"]] == ["snare", "snare", "kick0.6-tom0.4"]
    extracted = extract_h2drumkit(kit, tmp_path / "out")
    for instrument, (values, family, option) in zip(record["instruments"], wanted):
        layer = instrument["layers"][0]
        assert layer["recall"]["point"] == list(values) and layer["recall"]["family"] == family
        assert instrument["name"].endswith(f"{NAME} ({values[0]:.2f}, {values[1]:.2f}) {vector_tag(values)}")
        samples, rate = generated(tmp_path, values, *option)
        assert rate == KIT_RATE
        # the same sound: generate's samples at the kit's peak, to the kit's 24 bits
        in_kit, kit_rate = sf.read(folder / layer["file"], dtype="float64")
        assert kit_rate == KIT_RATE and in_kit.shape == samples.shape
        peak = 10 ** (-1 / 20) / np.max(np.abs(samples.astype(np.float64)))
        assert np.max(np.abs(in_kit - samples * peak)) <= 2.0**-23
        assert (folder / layer["file"]).read_bytes() == wav_bytes(kit_sample(samples, rate), KIT_RATE, KIT_SUBTYPE)
        assert (extracted / layer["file"]).read_bytes() == (folder / layer["file"]).read_bytes()
    names = [name for name, _ in hydrogen.kit_instruments(extracted / "drumkit.xml")]
    assert names == [instrument["name"] for instrument in record["instruments"]]
    h2cli_accepts(tmp_path / "h2home", folder)
    h2cli_accepts(tmp_path / "h2home", kit)


def test_kit_layers_of_a_vector_are_its_variations_each_recording_the_whole_vector(tmp_path):
    at = ["--family", "snare", "--at", at_text(VECTOR)]
    status, out, err = run_app("kit", NAME, *at, "--layers", "2", "--seed", "7", "-o", tmp_path / "Kit/", home=tmp_path)
    assert status == 0, err
    layers = kit_record(tmp_path / "Kit")["instruments"][0]["layers"]
    assert [layer["recall"]["variation"]["index"] for layer in layers] == [0, 1]
    assert all(layer["recall"]["point"] == list(VECTOR) and layer["recall"]["family"] == "snare" for layer in layers)
    assert all(layer["recall"]["variation"]["decoded_point"] == list(VECTOR) for layer in layers)
    first, second = (sf.read(tmp_path / "Kit" / layer["file"])[0] for layer in layers)
    assert np.max(np.abs(first - second)) > 1e-3  # a new realisation of the same vector


@pytest.mark.parametrize(
    "model, at, reason",
    [
        (NAME, ["--at", "0,0", "--at", "1,2,3,4,5"], WRONG_COUNT),
        ("vae_a", ["--at", at_text(VECTOR)], f"--at '{at_text(VECTOR)}': {NO_FRAME}"),
        ("gan", ["--at", at_text(VECTOR)], f"--at '{at_text(VECTOR)}': {NO_FRAME}"),
    ],
    ids=["five numbers", "vae_a", "gan"],
)
def test_kit_refuses_a_vector_of_another_size_or_for_a_model_without_a_frame_and_writes_nothing(tmp_path, model, at, reason):
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("mine")
    (work / "Old.h2drumkit").write_bytes(b"an old kit")
    before = hashes(work), hashes(ZOO / model)
    for output in (work / "Old.h2drumkit", work / "New.h2drumkit", work / "Folder/"):
        status, out, err = run_app("kit", model, *at, "--force", "-o", output, home=tmp_path / "home")
        assert status == 2 and out == "" and one_line(err) == f"app.py kit: {reason}"
    assert (hashes(work), hashes(ZOO / model)) == before


def test_a_kit_of_a_wide_favourite_varies_its_whole_vector_and_records_it(tmp_path):
    # a favourite saved in the window on ddsp_cvae: its file's point is the pad's, its settings
    # the whole vector; the kit's softer layers are variations of that vector, not of the pad point
    from audio.export import FavouritesFolder
    from audio.kit import KIT_RATE
    from models.engine import load_runtime
    from models.families import family_vector
    from models.variation import Variation, decode_variation

    model = load_runtime(NAME, ZOO)
    favourites = FavouritesFolder(tmp_path / "favs")
    made = model.decode(np.asarray([VECTOR], np.float32), family="snare")[0]
    favourites.save(made, model.sample_rate, model=NAME, point=VECTOR[:2], settings={"latent": list(VECTOR), "family": "snare"})
    before = hashes(tmp_path / "favs")
    status, out, err = run_app(
        "kit", "--favourites", tmp_path / "favs", "--layers", "3", "--seed", "5", "-o", tmp_path / "Kit/", home=tmp_path / "home"
    )
    assert status == 0 and err == "", err
    assert hashes(tmp_path / "favs") == before
    (instrument,) = kit_record(tmp_path / "Kit")["instruments"]
    assert instrument["point"] == list(VECTOR)
    layers = instrument["layers"]
    assert len(layers) == 3
    for layer in layers[1:]:
        recall = layer["recall"]
        assert recall["point"] == list(VECTOR) and recall["family"] == "snare"
        variation = Variation.from_dict(recall["variation"])
        expected = decode_variation(model, VECTOR, variation, family=np.asarray(family_vector("snare")))
        in_kit, rate = sf.read(tmp_path / "Kit" / layer["file"], dtype="float64")
        assert rate == KIT_RATE == model.sample_rate and in_kit.shape == expected.shape
        correlation = np.dot(in_kit, expected) / (np.linalg.norm(in_kit) * np.linalg.norm(expected))
        assert correlation > 0.9999, correlation  # that variation's sound, at the layer's level
        pad_only = decode_variation(model, VECTOR[:2], variation, family=np.asarray(family_vector("snare")))
        assert np.dot(in_kit, pad_only) / (np.linalg.norm(in_kit) * np.linalg.norm(pad_only)) < correlation
