"""`app.py kit`: Hydrogen kits and kit folders, checked by a real client (h2cli), with a
stand-in decoder (clean synthetic drums) so no TensorFlow or trained zoo is needed."""

import hashlib
import io
import json
import sys
import tarfile
import types

import hydrogen
import numpy as np
import pytest
import soundfile
import test_layering

import app
import drums
from audio.errors import AudioError
from audio.export import FavouritesFolder
from audio.kit import KIT_PEAK_DB, extract_h2drumkit, safe_kit_name, safe_part
from models.trained_folder import LatentPlane

SR = 22050
needs_h2cli = pytest.mark.skipif(hydrogen.H2CLI is None, reason="h2cli (Debian package hydrogen) is not installed")


class FakeModel(LatentPlane):
    """vae_c's stand-in: decodes x < 0 to a kick and x >= 0 to a hat; y shifts the decay a
    little (the base class gives it the rest of the model interface)."""

    name, kind = "vae_c", "vae"
    sample_rate = SR

    def __init__(self, calls):
        self.calls = calls

    def latent_range(self):
        return (-2.0, 2.0, -2.0, 2.0)

    def decode(self, points):
        points = np.asarray(points, dtype=np.float64)
        self.calls.append(points)
        out = []
        for x, y in points:
            if y > 1.9:  # a broken corner of the map
                out.append(np.full(int(0.4 * SR), np.nan, np.float32))
                continue
            make = drums.kick if x < 0 else drums.hat
            seed = int(abs(x * 1000) + abs(y * 1000)) % 10_000
            sound = make(seed, sr=SR, seconds=0.4, onset=0.01)
            out.append(sound * np.float32(0.5 + 0.1 * np.tanh(y)))
        return np.asarray(out, dtype=np.float32)


@pytest.fixture
def fake_models(monkeypatch, tmp_path_factory):
    """A stand-in for models.engine: vae_c decodes; gan is damaged; others untrained. The
    tests run in an empty folder, so the default zoo (trained/) holds no family classifier
    and instruments are named "sound" unless a test gives a classifier."""
    from models.errors import ModelUnavailableError

    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))

    calls = []

    def load_trained(name, folder="trained"):
        if name == "gan":
            raise ModelUnavailableError("trained/gan/decoder.keras: damaged (bad zip)")
        if name != "vae_c":
            raise ModelUnavailableError(f"trained/{name}/card.json: missing")
        return FakeModel(calls)

    module = types.ModuleType("models.engine")
    module.load_runtime = load_trained
    monkeypatch.setitem(sys.modules, "models.engine", module)
    return calls


def run(*argv):
    return app.main([str(a) for a in argv])


def tree_digest(folder):
    """Names and bytes of every file under ``folder``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def one_line(capsys):
    captured = capsys.readouterr()
    return captured.out.strip().splitlines(), captured.err.strip().splitlines()


@pytest.fixture
def kit(fake_models, tmp_path, capsys):
    """A three-instrument, two-layer kit made from points (no family classifier in its zoo)."""
    path = tmp_path / "out" / "Test Kit.h2drumkit"
    zoo = tmp_path / "zoo"
    assert (
        run(
            "kit",
            "vae_c",
            "--at",
            "-0.5,0.2",
            "--at",
            "0.5,0.2",
            "--at",
            "-1.5,-1",
            "--layers",
            "2",
            "--seed",
            "7",
            "-o",
            path,
            "--models",
            zoo,
        )
        == 0
    )
    out, _err = one_line(capsys)
    assert out == [
        (
            f"{path}: Hydrogen kit 'Test Kit', 3 instruments, 6 samples (seed 7; families unknown, "
            f"{zoo / 'families.json'}: cannot be read (No such file or directory))"
        )
    ]
    return path


# ----------------------------------------------------------------------------- the real client


@needs_h2cli
def test_h2cli_check_accepts_the_exported_kit(kit, tmp_path):
    result = hydrogen.h2cli(tmp_path / "home", "--check", kit)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert f"Provided drumkit [{kit}] is valid" in result.stdout + result.stderr


@needs_h2cli
def test_h2cli_check_rejects_a_broken_kit(tmp_path):
    # The check must be able to fail, or passing it means nothing.
    broken = tmp_path / "Broken.h2drumkit"
    data = b"<drumkit_info><name>Broken</name></drumkit_info>"
    with tarfile.open(broken, "w:gz") as archive:
        info = tarfile.TarInfo("Broken/drumkit.xml")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    result = hydrogen.h2cli(tmp_path / "home", "--check", broken)
    assert result.returncode != 0 and "is INVALID" in result.stdout + result.stderr


@needs_h2cli
@pytest.mark.slow
def test_hydrogen_renders_a_song_with_the_kit_where_its_notes_are(kit, tmp_path):
    home = tmp_path / "home"
    installed = hydrogen.h2cli(home, "--install", kit)
    assert installed.returncode == 0, installed.stderr[-2000:]
    kit_folder = home / ".hydrogen" / "data" / "drumkits" / "Test Kit"
    instruments = hydrogen.kit_instruments(kit_folder / "drumkit.xml")
    assert [name for name, _ in instruments] == ["sound vae_c (-0.50, 0.20)", "sound vae_c (0.50, 0.20)", "sound vae_c (-1.50, -1.00)"]
    # 60 bpm: a beat (48 ticks) is one second; the last note is soft (the second layer).
    notes = [(0, 0, 0.9), (48, 1, 0.9), (96, 2, 0.9), (144, 0, 0.3)]
    song = hydrogen.write_song(tmp_path / "test.h2song", "Test Kit", instruments, notes, bpm=60)
    rendered = tmp_path / "out.wav"
    result = hydrogen.h2cli(home, "-s", song, "-k", "Test Kit", "-o", rendered)
    assert result.returncode == 0, result.stderr[-2000:]
    audio, rate = soundfile.read(rendered)
    assert rate == 44100 and audio.shape[0] > 3.9 * rate  # four beats
    found = hydrogen.onsets(audio, rate)
    assert len(found) == len(notes)
    for (tick, _, _), onset in zip(notes, found):
        assert abs(onset - tick / 48) < 0.03  # each note starts its hit (attack 10 ms)
    loud = [20 * np.log10(np.max(np.abs(audio[int(t * rate) : int((t + 0.5) * rate)]))) for t in range(4)]
    assert min(loud[:3]) > -6  # velocity 0.9 on a -1 dBFS sample
    assert -30 < loud[3] < loud[0] - 9  # velocity 0.3 on the softer layer


# ----------------------------------------------------------------------------- what is in the kit


def test_the_archive_holds_one_folder_of_24_bit_44k_wavs_peaking_at_minus_1_dbfs(kit, tmp_path):
    with tarfile.open(kit) as archive:
        names = archive.getnames()
    assert all(name == "Test Kit" or name.startswith("Test Kit/") for name in names)
    folder = extract_h2drumkit(kit, tmp_path / "x")
    wavs = sorted(folder.glob("*.wav"))
    assert len(wavs) == 6
    assert [w.name for w in wavs][:2] == ["01_sound_vae_c_x-0.50_y+0.20_v1.wav", "01_sound_vae_c_x-0.50_y+0.20_v2.wav"]
    for wav in wavs:
        info = soundfile.info(str(wav))
        assert (info.samplerate, info.subtype, info.channels) == (44100, "PCM_24", 1)
        data, _ = soundfile.read(str(wav))
        assert 20 * np.log10(np.max(np.abs(data))) == pytest.approx(KIT_PEAK_DB, abs=0.01)
    instruments = hydrogen.kit_instruments(folder / "drumkit.xml")
    assert [len(files) for _, files in instruments] == [2, 2, 2]


def test_layers_are_variations_with_lower_velocity_ranges_and_gains(kit, tmp_path):
    import xml.etree.ElementTree as ET

    folder = extract_h2drumkit(kit, tmp_path / "x")
    ns = {"h2": "http://www.hydrogen-music.org/drumkit"}
    layers = ET.parse(folder / "drumkit.xml").getroot().findall(".//h2:instrument[1]//h2:layer", ns)
    ranges = [
        (
            float(l.findtext("h2:min", namespaces=ns)),
            float(l.findtext("h2:max", namespaces=ns)),
            float(l.findtext("h2:gain", namespaces=ns)),
        )
        for l in layers
    ]
    assert ranges == [(0.5, 1.0, 1.0), (0.0, 0.5, pytest.approx(10 ** (-3 / 20), abs=1e-3))]
    top, soft = (soundfile.read(str(folder / l.findtext("h2:filename", namespaces=ns)))[0] for l in layers)
    assert not np.allclose(top, soft)  # a variation, not a copy


@pytest.fixture
def classifier_zoo(tmp_path):
    """A zoo folder holding a families.json fitted on synthetic kicks, snares and hats."""
    from evaluation.families import SHIPPED_FILE, FamilyClassifier
    from evaluation.features import audio_features

    length = int(0.4 * SR)
    audio, labels = drums.drum_batch(60, length, seed=3, sr=SR)
    classifier = FamilyClassifier.fit(audio_features(audio, SR), labels, SR, length)
    (tmp_path / "zoo").mkdir()
    classifier.save(tmp_path / "zoo" / SHIPPED_FILE)
    return tmp_path / "zoo"


def test_instruments_are_named_after_the_family_the_classifier_hears(fake_models, classifier_zoo, tmp_path, capsys):
    out = tmp_path / "K.h2drumkit"
    assert run("kit", "vae_c", "--at", "-0.5,0.2", "--at", "0.5,0.2", "--seed", "1", "-o", out, "--models", classifier_zoo) == 0
    assert one_line(capsys)[0] == [f"{out}: Hydrogen kit 'K', 2 instruments, 2 samples (seed 1)"]
    folder = extract_h2drumkit(out, tmp_path / "x")
    assert hydrogen.kit_instruments(folder / "drumkit.xml") == [
        ("kick vae_c (-0.50, 0.20)", ["01_kick_vae_c_x-0.50_y+0.20.wav"]),
        ("hat vae_c (0.50, 0.20)", ["02_hat_vae_c_x+0.50_y+0.20.wav"]),
    ]


def test_a_damaged_classifier_file_names_nothing_and_says_why(fake_models, tmp_path, capsys):
    (tmp_path / "zoo").mkdir()
    (tmp_path / "zoo" / "families.json").write_text("{not json")
    assert run("kit", "vae_c", "--at", "-0.5,0.2", "-o", tmp_path / "K/", "--models", tmp_path / "zoo") == 0
    line = one_line(capsys)[0][0]
    assert line.endswith(f"families unknown, {tmp_path / 'zoo' / 'families.json'}: not a family classifier (not JSON))")
    assert (tmp_path / "K" / "01_sound_vae_c_x-0.50_y+0.20.wav").is_file()


def test_the_folder_export_has_wavs_kit_json_and_a_listing(fake_models, tmp_path, capsys):
    out = tmp_path / "MyKit"
    assert (
        run(
            "kit", "vae_c", "--at", "-0.5,0.2", "--at", "0.5,0.2", "--layers", "3", "--seed", "11", "--name", "My Kit", "-o", f"{out}/"
        )
        == 0
    )
    lines, _ = one_line(capsys)
    assert lines[0].startswith(f"{out}: kit folder 'My Kit', 2 instruments, 6 samples (seed 11")
    names = {p.name for p in out.iterdir()}
    assert {"kit.json", "README.txt", "drumkit.xml"} <= names and len(names) == 9
    record = json.loads((out / "kit.json").read_text())
    assert record["name"] == "My Kit" and record["sample_rate"] == 44100
    first = record["instruments"][0]
    assert first["model"] == "vae_c" and first["point"] == [-0.5, 0.2]
    assert [layer["recall"]["variation"]["index"] for layer in first["layers"]] == [0, 1, 2]
    assert all(layer["recall"]["variation"]["seed"] == 11 for layer in first["layers"])
    listing = (out / "README.txt").read_text()
    assert "sound vae_c (-0.50, 0.20)" in listing and "01_sound_vae_c_x-0.50_y+0.20_v3.wav" in listing
    if hydrogen.H2CLI is not None:  # the folder is a Hydrogen kit folder too
        checked = hydrogen.h2cli(tmp_path / "home", "--check", out)
        assert checked.returncode == 0 and f"Provided drumkit [{out}] is valid" in checked.stdout + checked.stderr


def test_the_same_seed_makes_the_same_kit(fake_models, tmp_path, capsys):
    for name in ("a", "b"):
        assert run("kit", "vae_c", "--at", "0.5,0.5", "--layers", "3", "--seed", "3", "-o", tmp_path / f"{name}/") == 0

    def wavs(name):
        return [p.read_bytes() for p in sorted((tmp_path / name).glob("*.wav"))]

    assert wavs("a") == wavs("b")


def test_favourites_become_a_kit_and_stay_unchanged(fake_models, tmp_path, capsys):
    favourites = FavouritesFolder(tmp_path / "favs")
    model = FakeModel([])
    for point in [(-0.5, 0.0), (0.7, 0.3)]:
        favourites.save(model.decode([point])[0], SR, model="vae_c", point=point)
    before = tree_digest(tmp_path / "favs")
    out = tmp_path / "Favs.h2drumkit"
    assert run("kit", "--favourites", tmp_path / "favs", "--layers", "2", "--seed", "1", "-o", out) == 0
    assert tree_digest(tmp_path / "favs") == before
    folder = extract_h2drumkit(out, tmp_path / "x")
    instruments = hydrogen.kit_instruments(folder / "drumkit.xml")
    assert [name for name, _ in instruments] == ["sound vae_c (-0.50, 0.00)", "sound vae_c (0.70, 0.30)"]
    assert all(len(files) == 2 for _, files in instruments)


def test_a_favourite_without_recall_data_is_skipped_with_its_reason(fake_models, tmp_path, capsys):
    favourites = FavouritesFolder(tmp_path / "favs")
    saved = favourites.save(drums.hat(1, sr=SR, seconds=0.2), SR, model="vae_c", point=(0.1, 0.1))
    soundfile.write(str(tmp_path / "favs" / "loose.wav"), drums.kick(2, sr=SR, seconds=0.2), SR)
    assert run("kit", "--favourites", tmp_path / "favs", "-o", tmp_path / "K/") == 0
    _, err = one_line(capsys)
    assert err == ["loose.wav: skipped (loose.json: no recall data beside loose.wav)"]
    assert len(list((tmp_path / "K").glob("*.wav"))) == 1 and saved.exists()


def test_a_favourite_whose_model_is_gone_keeps_one_layer(fake_models, tmp_path, capsys):
    favourites = FavouritesFolder(tmp_path / "favs")
    favourites.save(drums.hat(1, sr=SR, seconds=0.2), SR, model="gan", point=(0.1, 0.1))
    assert run("kit", "--favourites", tmp_path / "favs", "--layers", "3", "-o", tmp_path / "K/") == 0
    _, err = one_line(capsys)
    assert len(err) == 1 and "one layer only (gan is unavailable: trained/gan/decoder.keras: damaged" in err[0]
    assert len(list((tmp_path / "K").glob("*.wav"))) == 1


# ----------------------------------------------------------------------------- nothing lost


def test_an_existing_kit_is_not_replaced_without_force(kit, capsys):
    before = kit.read_bytes()
    assert run("kit", "vae_c", "--at", "1,1", "-o", kit) == 1
    _, err = one_line(capsys)
    assert err == [f"app.py kit: {kit}: already exists (pass --force to replace it)"]
    assert kit.read_bytes() == before
    assert run("kit", "vae_c", "--at", "1,1", "-o", kit, "--force") == 0
    assert kit.read_bytes() != before
    assert [p.name for p in kit.parent.iterdir()] == [kit.name]  # no temporary left


def test_a_folder_with_files_is_not_replaced_even_with_force_unless_it_is_a_kit(fake_models, tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "song.txt").write_text("my notes")
    assert run("kit", "vae_c", "--at", "1,1", "-o", f"{folder}/") == 1
    assert one_line(capsys)[1] == [f"app.py kit: {folder}: already exists (pass --force to replace it)"]
    assert run("kit", "vae_c", "--at", "1,1", "-o", f"{folder}/", "--force") == 1
    assert one_line(capsys)[1] == [
        (f"app.py kit: {folder}: a folder with other files in it, not a kit (no kit.json); not replaced even with --force")
    ]
    assert [p.name for p in folder.iterdir()] == ["song.txt"] and (folder / "song.txt").read_text() == "my notes"


def test_a_kit_folder_is_replaced_whole_with_force(fake_models, tmp_path, capsys):
    folder = tmp_path / "kit"
    assert run("kit", "vae_c", "--at", "1,1", "--at", "-1,1", "-o", f"{folder}/") == 0
    assert run("kit", "vae_c", "--at", "1,1", "-o", f"{folder}/") == 1
    assert len(list(folder.glob("*.wav"))) == 2
    assert run("kit", "vae_c", "--at", "0.5,0.5", "-o", f"{folder}/", "--force") == 0
    assert [p.name for p in folder.glob("*.wav")] == ["01_sound_vae_c_x+0.50_y+0.50.wav"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kit"]  # nothing temporary left


def test_the_current_folder_is_never_emptied(fake_models, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "thesis.tex").write_text("years of work")
    assert run("kit", "vae_c", "--at", "1,1", "-o", ".", "--force") == 2
    assert one_line(capsys)[1] == ["app.py kit: -o .: give the kit a folder name of its own (e.g. -o MyKit/)"]
    assert (tmp_path / "thesis.tex").read_text() == "years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis.tex"]


def test_an_empty_folder_is_filled(fake_models, tmp_path):
    (tmp_path / "empty").mkdir()
    assert run("kit", "vae_c", "--at", "1,1", "-o", tmp_path / "empty") == 0
    assert (tmp_path / "empty" / "kit.json").is_file()


def test_the_favourites_folder_is_never_the_output(fake_models, tmp_path, capsys):
    FavouritesFolder(tmp_path / "favs").save(drums.hat(1, sr=SR, seconds=0.2), SR, model="vae_c", point=(0, 0))
    before = tree_digest(tmp_path / "favs")
    assert run("kit", "--favourites", tmp_path / "favs", "-o", tmp_path / "favs", "--force") == 2
    assert "would replace the favourites" in one_line(capsys)[1][0]
    assert tree_digest(tmp_path / "favs") == before


def test_unsafe_names_cannot_leave_the_kit_folder(fake_models, tmp_path, capsys):
    favourites = tmp_path / "favs"
    FavouritesFolder(favourites).save(drums.hat(1, sr=SR, seconds=0.2), SR, model="../../evil/x", point=(0, 0))
    out = tmp_path / "k.h2drumkit"
    assert run("kit", "--favourites", favourites, "--name", "../../etc/My/Kit", "-o", out) == 0
    with tarfile.open(out) as archive:
        names = archive.getnames()
    assert names[0] == "etc My Kit"
    assert all(".." not in name and name.count("/") <= 1 and not name.startswith("/") for name in names)
    assert any(name.endswith("_evil_x_x+0.00_y+0.00.wav") for name in names)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["favs", "k.h2drumkit"]


def test_safe_names_keep_only_plain_characters():
    assert safe_part("../../etc/passwd") == "etc_passwd"
    assert safe_part("a..b") == "a.b" and safe_part("..") == "sound"
    assert safe_kit_name("My Kit / 2") == "My Kit 2" and safe_kit_name("..") == "Kit"


def test_kit_names_keep_letters_of_any_script_but_no_separators_or_controls():
    assert safe_kit_name("Drüms 漢字 ü") == "Drüms 漢字 ü"
    assert safe_kit_name("Dru\u0308ms") == "Drüms"  # a combining accent is composed, not dropped
    assert safe_kit_name("Ударные/Кит\\2\x00\x07\n\t") == "Ударные Кит 2"
    assert safe_kit_name("\u202e..\u200b") == "Kit"  # format characters are no letters


def test_reading_an_archive_refuses_members_outside_its_folder(tmp_path):
    hostile = tmp_path / "hostile.h2drumkit"
    with tarfile.open(hostile, "w:gz") as archive:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 2
        archive.addfile(info, io.BytesIO(b"hi"))
    with pytest.raises(AudioError, match="not a readable Hydrogen kit"):
        extract_h2drumkit(hostile, tmp_path / "into")
    assert not (tmp_path / "escaped.txt").exists()


# ----------------------------------------------------------------------------- usage and failures


@pytest.mark.parametrize(
    "argv, reason",
    [
        (["vae_c", "--at", "1,x"], "--at '1,x': a point is two numbers X,Y"),
        (["vae_c", "--at", "inf,0"], "--at 'inf,0': the coordinates must be finite numbers"),
        (["vae_c"], "vae_c: give at least one --at X,Y"),
        ([], "give NAME --at X,Y [--at X,Y ...] or --favourites [DIR]"),
        (["vae_c", "--at", "0,0", "--favourites"], "give either --favourites [DIR] or NAME --at X,Y, not both"),
        (["vae_c", "--at", "0,0", "--layers", "0"], "--layers must be 1 to 16, not 0"),
        (["wavenet", "--at", "0,0"], "unknown model"),
    ],
)
def test_usage_errors_exit_2_with_one_line_and_write_nothing(fake_models, tmp_path, capsys, argv, reason):
    assert run("kit", *argv, "-o", tmp_path / "K.h2drumkit") == 2
    out, err = one_line(capsys)
    assert out == [] and len(err) == 1 and err[0].startswith("app.py kit: ") and reason in err[0]
    assert list(tmp_path.iterdir()) == []


def test_an_output_that_is_neither_kit_nor_folder_exits_2(fake_models, tmp_path, capsys):
    assert run("kit", "vae_c", "--at", "0,0", "-o", tmp_path / "kit.zip") == 2
    assert one_line(capsys)[1] == [(f"app.py kit: -o {tmp_path / 'kit.zip'}: give a .h2drumkit file, or a folder name ending in /")]


def test_a_damaged_model_exits_1_with_the_reason(fake_models, tmp_path, capsys):
    assert run("kit", "gan", "--at", "0,0", "-o", tmp_path / "K.h2drumkit") == 1
    assert one_line(capsys)[1] == ["app.py kit: gan is unavailable: trained/gan/decoder.keras: damaged (bad zip)"]
    assert list(tmp_path.iterdir()) == []


def test_no_favourites_folder_exits_1(fake_models, tmp_path, capsys):
    assert run("kit", "--favourites", tmp_path / "none", "-o", tmp_path / "K.h2drumkit") == 1
    assert one_line(capsys)[1] == [f"app.py kit: {tmp_path / 'none'}: no such favourites folder"]


def test_favourites_that_cannot_be_read_are_skipped_with_their_reasons(fake_models, tmp_path, capsys):
    favourites = FavouritesFolder(tmp_path / "favs")
    good = favourites.save(drums.hat(1, sr=SR, seconds=0.2), SR, model="vae_c", point=(0.1, 0.1))
    garbage = favourites.save(drums.kick(1, sr=SR, seconds=0.2), SR, model="vae_c", point=(0.2, 0.2))
    garbage.write_bytes(b"RIFF not really a wav")
    odd = favourites.save(
        drums.kick(2, sr=SR, seconds=0.2), SR, model="vae_c", point=(0.3, 0.3), settings={"variation": {"index": "first"}}
    )
    assert run("kit", "--favourites", tmp_path / "favs", "--layers", "2", "-o", tmp_path / "K/") == 0
    err = sorted(one_line(capsys)[1])
    assert len(err) == 2
    assert err[0].startswith(f"{garbage.name}: skipped (not readable audio: ")
    assert err[1].startswith(f"{odd.name}: skipped (not a variation record: ")
    assert len(list((tmp_path / "K").glob("*.wav"))) == 2 and good.exists()


def test_favourites_of_which_none_can_be_used_exit_1(fake_models, tmp_path, capsys):
    (tmp_path / "favs").mkdir()
    soundfile.write(str(tmp_path / "favs" / "loose.wav"), drums.kick(2, sr=SR, seconds=0.2), SR)
    assert run("kit", "--favourites", tmp_path / "favs", "-o", tmp_path / "K.h2drumkit") == 1
    assert one_line(capsys)[1][-1] == f"app.py kit: {tmp_path / 'favs'}: no favourites that can go in a kit"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["favs"]


def test_a_model_that_decodes_nan_exits_1_and_writes_nothing(fake_models, tmp_path, capsys):
    assert run("kit", "vae_c", "--at", "0,1.95", "-o", tmp_path / "K.h2drumkit") == 1
    assert one_line(capsys)[1] == ["app.py kit: audio to save contains NaN or infinite samples"]
    assert list(tmp_path.iterdir()) == []


def test_an_output_folder_that_cannot_be_made_exits_1(fake_models, tmp_path, capsys):
    (tmp_path / "file").write_text("not a folder")
    assert run("kit", "vae_c", "--at", "0,0", "-o", tmp_path / "file" / "K.h2drumkit") == 1
    line = one_line(capsys)[1]
    assert len(line) == 1 and line[0].startswith(f"app.py kit: {tmp_path / 'file'}: cannot make the folder (")
    assert (tmp_path / "file").read_text() == "not a folder"


def test_an_archive_without_a_drumkit_xml_is_not_a_kit(tmp_path):
    empty = tmp_path / "empty.h2drumkit"
    with tarfile.open(empty, "w:gz") as archive:
        info = tarfile.TarInfo("Kit/readme.txt")
        info.size = 2
        archive.addfile(info, io.BytesIO(b"hi"))
    with pytest.raises(AudioError, match="not a Hydrogen kit \\(no drumkit.xml in it\\)"):
        extract_h2drumkit(empty, tmp_path / "into")


def test_layer_counts_outside_1_to_16_are_refused():
    from audio.kit import velocity_layers

    assert velocity_layers(1) == [(0.0, 1.0, 1.0)]
    with pytest.raises(AudioError, match="1 to 16 velocity layers, not 17"):
        velocity_layers(17)


# ----------------------------------------------------------------------------- the shipped zoo

# test_layering's fixture (a tensorflow package that refuses to import), found by pytest here.
fixture_without_tensorflow = test_layering.without_tensorflow
needs_zoo, run_app = test_layering.needs_zoo, test_layering.run_app


@needs_zoo
@needs_h2cli
def test_kit_on_the_shipped_zoo_runs_without_tensorflow_and_hydrogen_accepts_it(fixture_without_tensorflow, tmp_path):
    out = tmp_path / "Zoo Kit.h2drumkit"
    done = run_app(
        fixture_without_tensorflow, "kit", "vae_c", "--at", "0.5,-1.2", "--at=-1,0.3", "--layers", "2", "--seed", "3", "-o", out
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{out}: Hydrogen kit 'Zoo Kit', 2 instruments, 4 samples (seed 3")
    checked = hydrogen.h2cli(tmp_path / "home", "--check", out)
    assert checked.returncode == 0 and "is valid" in checked.stdout + checked.stderr


def test_favourite_sounds_reports_progress_for_the_window(tmp_path):
    from audio.kit import favourite_sounds

    folder = FavouritesFolder(tmp_path / "favs")
    for point in [(0.1, 0.1), (0.2, 0.2), (0.3, 0.3)]:
        folder.save(drums.hat(1, sr=SR, seconds=0.2), SR, model="vae_c", point=point)
    steps, lines = [], []
    extra = [(drums.hat(2, sr=SR, seconds=0.2), SR, {"variation": {"index": 1}})]
    sounds = favourite_sounds(
        folder.entries(),
        layers=2,
        extra_layers=lambda fav, n: (extra * n, None),
        family_of=lambda audio, rate: "hat",
        report=lines.append,
        progress=lambda done, total: steps.append((done, total)),
    )
    assert steps == [(1, 3), (2, 3), (3, 3)] and lines == []
    assert [len(s.layers) for s in sounds] == [2, 2, 2] and {s.family for s in sounds} == {"hat"}


# ----------------------------------------------------------------------------- samples kept as heard


def _heard_layer(rate, seed):
    from audio.export import wav_bytes
    from audio.kit import KitLayer

    audio = np.random.default_rng(seed).uniform(-0.5, 0.5, 2048).astype(np.float32)
    return KitLayer(audio, rate, {"take": seed}, wav=wav_bytes(audio, rate, "PCM_16"))


def test_a_layer_carrying_the_wav_heard_is_kept_byte_for_byte_and_said_so():
    from audio.kit import KitSound, kit_files

    layers = [_heard_layer(44100, 1), _heard_layer(48000, 2)]
    sounds = [KitSound("snare", "vae_c", (0.5, 0.5), (layers[0],)), KitSound("kick", "gan", (0.0, 0.0), (layers[1],))]
    kit = kit_files("Heard", sounds)
    assert [kit.files[n] for n in sorted(kit.files) if n.endswith(".wav")] == [layer.wav for layer in layers]
    record = json.loads(kit.files["kit.json"])
    assert (record["as_heard"], record["sample_rate"], record["subtype"], record["peak_db"]) == (True, None, "PCM_16", None)
    assert [i["layers"][0]["sample_rate"] for i in record["instruments"]] == [44100, 48000]
    assert "as they were heard, byte for byte" in kit.files["README.txt"].decode()


def test_a_kit_mixing_heard_and_rendered_samples_is_refused_in_one_line():
    from audio.kit import KitLayer, KitSound, kit_files

    rendered = KitLayer(np.ones(512, np.float32) * 0.1, 22050)
    sounds = [KitSound("snare", "vae_c", (0.5, 0.5), (_heard_layer(44100, 1), rendered))]
    with pytest.raises(AudioError, match="^a kit's samples are all kept as heard or all rendered, not some of each$"):
        kit_files("Mixed", sounds)
