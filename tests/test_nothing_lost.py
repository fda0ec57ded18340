"""Nothing the user owns is lost: ``-o`` never replaces a file without --force and never an
input, extreme points and empty names end in one line, and the small promises
(encode --channel, the models listing's checks). Each test runs the real command."""

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import app
from drums import kick, snare

ROOT = Path(__file__).resolve().parents[1]
ZOO = ROOT / "trained"
MODEL = "ae_small_tanh"


def one_line(capsys):
    err = capsys.readouterr().err.strip()
    assert err and "\n" not in err and "Traceback" not in err, err
    return err


@pytest.fixture
def user_wav(tmp_path):
    path = tmp_path / "mine.wav"
    sf.write(path, snare(seed=3, sr=22050, seconds=0.3), 22050)
    return path


# ----------------------------------------------------------------------------- encode -o


def test_encode_never_writes_over_its_input_even_with_force(user_wav, capsys):
    before = user_wav.read_bytes()
    for extra in ([], ["--force"]):
        assert app.main(["encode", MODEL, str(user_wav), "-o", str(user_wav), "--models", str(ZOO), *extra]) == 1
        err = one_line(capsys)
        assert str(user_wav) in err and "input" in err
    assert user_wav.read_bytes() == before


def test_encode_never_writes_over_a_link_to_its_input(user_wav, tmp_path, capsys):
    alias = tmp_path / "alias.wav"
    os.link(user_wav, alias)
    before = user_wav.read_bytes()
    assert app.main(["encode", MODEL, str(user_wav), "-o", str(alias), "--models", str(ZOO), "--force"]) == 1
    assert "is an input" in one_line(capsys)
    assert user_wav.read_bytes() == before


def test_encode_keeps_an_existing_reconstruction_without_force(user_wav, tmp_path, capsys):
    other = tmp_path / "other.wav"
    other.write_bytes(b"my own take")
    assert app.main(["encode", MODEL, str(user_wav), "-o", str(other), "--models", str(ZOO)]) == 1
    assert one_line(capsys) == f"app.py encode: {other}: already exists (pass --force to replace it)"
    assert other.read_bytes() == b"my own take"
    assert app.main(["encode", MODEL, str(user_wav), "-o", str(other), "--models", str(ZOO), "--force"]) == 0
    assert sf.info(str(other)).samplerate == 22050


def test_encode_takes_the_channel_it_is_given(tmp_path, capsys):
    stereo = tmp_path / "stereo.wav"
    left, right = kick(seed=1, sr=22050, seconds=0.3), snare(seed=2, sr=22050, seconds=0.3)
    sf.write(stereo, np.stack([left, right], axis=1), 22050)
    sf.write(tmp_path / "right.wav", right, 22050)
    assert app.main(["encode", MODEL, str(stereo), "--channel", "1", "--models", str(ZOO)]) == 0
    from_channel = capsys.readouterr().out.strip()
    assert app.main(["encode", MODEL, str(tmp_path / "right.wav"), "--models", str(ZOO)]) == 0
    assert capsys.readouterr().out.strip() == from_channel
    assert app.main(["encode", MODEL, str(stereo), "--channel", "-1", "--models", str(ZOO)]) == 2
    assert "--channel must be 0 or more" in one_line(capsys)


# ----------------------------------------------------------------------------- generate -o


def test_generate_keeps_an_existing_file_without_force(tmp_path, capsys):
    target = tmp_path / "snare.wav"
    target.write_bytes(b"keep me")
    assert app.main(["generate", MODEL, "--at", "0,0", "-o", str(target), "--models", str(ZOO)]) == 1
    assert one_line(capsys) == f"app.py generate: {target}: already exists (pass --force to replace it)"
    assert target.read_bytes() == b"keep me"
    assert app.main(["generate", MODEL, "--at", "0,0", "-o", str(target), "--models", str(ZOO), "--overwrite"]) == 0
    assert sf.info(str(target)).frames > 0


def test_generate_into_a_folder_keeps_same_named_files(tmp_path, capsys):
    folder = tmp_path / "out"
    argv = ["generate", MODEL, "--at", "0,0", "--at", "0.5,0.5", "-o", str(folder), "--models", str(ZOO)]
    assert app.main(argv) == 0
    capsys.readouterr()
    written = sorted(folder.iterdir())
    (folder / written[1].name).write_bytes(b"edited by hand")
    snapshot = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert app.main(argv) == 1
    assert written[0].name in one_line(capsys)  # the first one that would be replaced
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == snapshot


def test_generate_never_writes_into_the_model_files(tmp_path, capsys):
    assert (
        app.main(["generate", MODEL, "--at", "0,0", "-o", str(ZOO / MODEL / "card.json"), "--models", str(ZOO), "--force"]) == 2
    )  # not a .wav: a usage error first
    capsys.readouterr()


def test_generate_with_an_empty_output_name_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert app.main(["generate", MODEL, "--at", "0,0", "-o", "", "--models", str(ZOO)]) == 2
    assert "not an empty one" in one_line(capsys)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("at", ["1e300,0", "0,-1e39", "-inf,0", "nan,1", "-1e300,5"])
def test_extreme_points_exit_2_with_one_line(at, tmp_path, capsys):
    assert app.main(["generate", MODEL, "--at", at, "-o", str(tmp_path / "x.wav"), "--models", str(ZOO)]) == 2
    assert "--at" in one_line(capsys)
    assert not (tmp_path / "x.wav").exists()


def test_a_negative_point_still_parses(tmp_path, capsys):
    assert app.main(["generate", MODEL, "--at", "-0.5,1", "-o", str(tmp_path / "n.wav"), "--models", str(ZOO)]) == 0
    assert (tmp_path / "n.wav").is_file()


# ----------------------------------------------------------------------------- models


def test_models_on_a_missing_folder_exits_1(tmp_path, capsys):
    assert app.main(["models", "--models", str(tmp_path / "nonexistent")]) == 1
    assert "no such folder" in one_line(capsys)


def test_models_says_no_for_an_archive_damaged_inside(tmp_path, capsys):
    zoo = tmp_path / "zoo"
    (zoo / MODEL).mkdir(parents=True)
    for path in (ZOO / MODEL).iterdir():
        (zoo / MODEL / path.name).write_bytes(path.read_bytes())
    decoder = zoo / MODEL / "decoder.keras"
    with zipfile.ZipFile(decoder) as archive:
        info = archive.getinfo("model.weights.h5")
    data = bytearray(decoder.read_bytes())
    middle = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    data[middle] ^= 0xFF  # one flipped byte inside the weights: still a zip
    decoder.write_bytes(bytes(data))
    assert zipfile.is_zipfile(decoder)
    assert app.main(["models", "--models", str(zoo)]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith(MODEL + " "))
    assert "no: " in row and "damaged" in row


# ----------------------------------------------------------------------------- preprocess -o


def test_preprocess_keeps_a_same_named_user_file(tmp_path, capsys):
    sources = tmp_path / "kit"
    sources.mkdir()
    for i in range(3):
        sf.write(sources / f"kick_{i}.wav", kick(seed=i, seconds=0.1), 44100)
    first = tmp_path / "first"
    assert app.main(["preprocess", str(sources), "-o", str(first), "--length", "1024", "--jobs", "1"]) == 0
    names = sorted(p.name for p in first.glob("*.wav"))
    out = tmp_path / "out"
    out.mkdir()
    (out / names[0]).write_bytes(b"the user's own file")
    assert app.main(["preprocess", str(sources), "-o", str(out), "--length", "1024", "--jobs", "1"]) == 0
    capsys.readouterr()
    assert (out / names[0]).read_bytes() == b"the user's own file"
    rows = [line.split(",")[0] for line in (out / "manifest.csv").read_text().splitlines()[1:]]
    assert len(rows) == 3 and names[0] not in rows and all((out / r).is_file() for r in rows)
    # and a second run keeps it too (it is still not listed as ours)
    assert app.main(["preprocess", str(sources), "-o", str(out), "--length", "1024", "--jobs", "1"]) == 0
    assert (out / names[0]).read_bytes() == b"the user's own file"


def test_preprocess_into_a_folder_with_a_foreign_manifest_touches_nothing(tmp_path, capsys):
    sources = tmp_path / "kit"
    sources.mkdir()
    sf.write(sources / "kick.wav", kick(seed=0, seconds=0.1), 44100)
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.csv").write_text("title,artist\nsong,me\n")
    assert app.main(["preprocess", str(sources), "-o", str(out), "--length", "1024", "--jobs", "1"]) == 1
    assert "not a dataset of this tool" in one_line(capsys)
    assert (out / "manifest.csv").read_text() == "title,artist\nsong,me\n"


# ----------------------------------------------------------------------------- favourites


def test_a_favourite_never_replaces_an_unrelated_sidecar(tmp_path):
    from audio.export import FavouritesFolder, favourite_stem

    stem = favourite_stem("gan", (0.5, 0.5))
    unrelated = tmp_path / f"{stem}_001.json"
    unrelated.write_text(json.dumps({"mine": True}))
    path = FavouritesFolder(tmp_path).save(snare(seed=1, sr=22050, seconds=0.2), 22050, model="gan", point=(0.5, 0.5))
    assert json.loads(unrelated.read_text()) == {"mine": True}
    assert path.name == f"{stem}_002.wav" and path.with_suffix(".json").is_file()
    assert not (tmp_path / f"{stem}_001.wav").exists()


# ----------------------------------------------------------------------------- metrics cache


def test_a_metrics_file_of_the_one_record_form_reads_as_the_training_data_entry(tmp_path):
    from evaluation.cache import cache_key, load_cached_metrics, save_metrics

    shipped = json.loads((ZOO / MODEL / "metrics.json").read_text())
    (entry,) = [e for e in shipped["entries"].values() if e["training_data"]]
    assert load_cached_metrics(ZOO / MODEL)["metrics"] == entry["metrics"]
    # the form metrics.json had before it kept one entry per dataset
    legacy = {key: value for key, value in entry.items() if key not in ("training_data", "data_folder")}
    folder = tmp_path / MODEL
    folder.mkdir()
    (folder / "metrics.json").write_text(json.dumps(legacy))
    assert load_cached_metrics(folder)["metrics"] == legacy["metrics"]
    assert load_cached_metrics(folder, legacy["key"])["metrics"] == legacy["metrics"]
    other_key = cache_key(legacy["key"]["model"], "another dataset", legacy["key"]["options"])
    save_metrics(folder, {"metrics": {"frechet": 1.0}}, other_key, training_data=False)
    assert load_cached_metrics(folder)["metrics"] == legacy["metrics"]  # the window's entry stays
    assert load_cached_metrics(folder, other_key)["metrics"] == {"frechet": 1.0}
    assert load_cached_metrics(folder, legacy["key"])["metrics"] == legacy["metrics"]


# ----------------------------------------------------------------------------- preprocess skips


def test_preprocess_names_fifos_and_broken_or_looping_links(tmp_path, capsys):
    sources = tmp_path / "kit"
    sources.mkdir()
    sf.write(sources / "kick.wav", kick(seed=0, seconds=0.1), 44100)
    os.mkfifo(sources / "pipe.wav")
    os.symlink(sources / "gone.wav", sources / "broken.wav")
    os.symlink(sources / "loop_b.wav", sources / "loop_a.wav")
    os.symlink(sources / "loop_a.wav", sources / "loop_b.wav")
    os.symlink(tmp_path, sources / "elsewhere")
    out = tmp_path / "out"
    assert app.main(["preprocess", str(sources), "-o", str(out), "--length", "1024", "--jobs", "1"]) == 0
    skipped = sorted(line for line in capsys.readouterr().err.splitlines() if line.startswith("skipped: "))
    assert skipped == sorted(
        [
            f"skipped: {sources / 'pipe.wav'}: a FIFO (named pipe), not a file",
            f"skipped: {sources / 'broken.wav'}: a broken link (what it points to is missing)",
            f"skipped: {sources / 'loop_a.wav'}: a link that loops",
            f"skipped: {sources / 'loop_b.wav'}: a link that loops",
            f"skipped: {sources / 'elsewhere'}: a link to a folder (links to folders are not followed)",
        ]
    )


# ----------------------------------------------------------------------------- big batches


def test_many_points_are_decoded_and_written_a_chunk_at_a_time(tmp_path, monkeypatch, capsys):
    import commands.generate as generate

    batches = []

    class ShortModel:
        sample_rate = 22050

        def decode(self, points):
            batches.append(len(points))
            return np.tile(np.linspace(-0.5, 0.5, 64, dtype=np.float32), (len(points), 1))

    monkeypatch.setattr(generate, "load_or_fail", lambda name, folder: ShortModel())
    count = 2 * generate.DECODE_CHUNK + 7
    argv = ["generate", MODEL, "-o", str(tmp_path / "many"), "--models", str(ZOO)]
    for i in range(count):
        argv += ["--at", f"{i / count:.6f},0.5"]
    assert app.main(argv) == 0
    assert batches == [generate.DECODE_CHUNK, generate.DECODE_CHUNK, 7]
    assert len(list((tmp_path / "many").glob("*.wav"))) == count
    assert len(capsys.readouterr().out.splitlines()) == count


def test_the_mlsg_command_is_declared_and_runs_app_main(tmp_path):
    import configparser
    import subprocess
    import sys

    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    assert config["options.entry_points"]["console_scripts"].split() == ["mlsg", "=", "app:main"]
    done = subprocess.run(
        [sys.executable, "-c", "import sys, app; sys.exit(app.main(['models', '--models', sys.argv[1]]))", str(ZOO)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0 and "16 of 16 trained" in done.stdout
