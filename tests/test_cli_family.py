"""``generate --family`` and ``--mix`` for a conditioned model (ddsp_cvae), run as a user
runs them: the real CLI, its exit status, its one line, and the files left as they were."""

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from constants import DRUM_FAMILIES

ROOT = Path(__file__).resolve().parents[1]
FAMILIES_LINE = "the families are kick, snare, clap, hat, tom, cymbal, percussion"
#: The GAN has no encoder, so no training codes and no family pads (every other model has them).
GAN_REASON = "--family: gan takes no family: it has no encoder, so none of its training sounds has a place on its pad"


def run_app(*args):
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


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
    train_model("ddsp_cvae", data, folder, TrainOptions(epochs=1, batch_size=7, verbose=0), length=length, width=8, hidden=(16, 16))
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
    again = run_app("generate", "ddsp_cvae", "--models", zoo, "--at", "0.2,-0.1", "--family", "snare", "-o", tmp_path / "again.wav")
    assert again.returncode == 0
    # the same samples, to the bit (the file's own header records when it was written)
    assert sf.read(tmp_path / "again.wav", dtype="float32")[0].tobytes() == audio.tobytes()


def test_a_mix_is_a_sound_of_its_own_and_its_variations_record_it(zoo, tmp_path):
    mixed = run_app("generate", "ddsp_cvae", "--models", zoo, "--at", "0,0", "--mix", "kick:0.6,tom:0.4", "-o", tmp_path)
    assert mixed.returncode == 0, mixed.stderr
    assert "kick:0.6,tom:0.4; peak" in mixed.stdout
    assert (tmp_path / "ddsp_cvae_kick0.6-tom0.4_x+0.00_y+0.00.wav").is_file()
    varied = run_app(
        "generate",
        "ddsp_cvae",
        "--models",
        zoo,
        "--at",
        "0,0",
        "--mix",
        "kick:0.6,tom:0.4",
        "--variations",
        "2",
        "--seed",
        "3",
        "-o",
        tmp_path / "v",
    )
    assert varied.returncode == 0, varied.stderr
    sidecars = sorted((tmp_path / "v").glob("*.json"))
    assert len(sidecars) == 2 and all('"family": "kick:0.6,tom:0.4"' in s.read_text() for s in sidecars)


@pytest.mark.parametrize(
    "args, reason",
    [
        (["--family", "kik"], f"--family: unknown family 'kik'; {FAMILIES_LINE}"),
        (["--mix", "kick:0.6,tom:0.6"], "--mix: family weights must sum to 1 (these sum to 1.2)"),
        (["--mix", "snare"], "--mix: give FAMILY:WEIGHT,FAMILY:WEIGHT (e.g. kick:0.6,tom:0.4), not 'snare'"),
        (["--mix", "kick:lots,tom:0"], "--mix: the weight of kick must be a number from 0 to 1, not 'lots'"),
    ],
)
def test_a_bad_family_exits_2_in_one_line_and_writes_nothing(zoo, tmp_path, args, reason):
    (tmp_path / "keep.wav").write_bytes(b"RIFF mine")
    before = hashes(tmp_path), hashes(zoo)
    result = run_app("generate", "ddsp_cvae", "--models", zoo, "--at", "0,0", *args, "-o", tmp_path)
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [f"app.py generate: {reason}"]
    assert (hashes(tmp_path), hashes(zoo)) == before


def test_a_family_for_a_model_without_one_exits_2(tmp_path):
    result = run_app("generate", "gan", "--at", "0,0", "--family", "snare", "-o", tmp_path / "x.wav")
    assert result.returncode == 2
    assert result.stderr.strip() == "app.py generate: " + GAN_REASON
    assert not (tmp_path / "x.wav").exists()


# ------------------------------------------------------------------- play, kit and encode


def test_play_with_a_family_plays_that_family_and_says_so(zoo):
    played = run_app("play", "ddsp_cvae", "--models", zoo, "--at", "0.2,-0.1", "--family", "clap")
    assert played.returncode == 0, played.stderr
    assert played.stdout.strip() == "ddsp_cvae at (0.2, -0.1), clap: played once (0.09 s at 44100 Hz)"
    mixed = run_app("play", "ddsp_cvae", "--models", zoo, "--at", "0,0", "--mix", "kick:0.5,tom:0.5")
    assert mixed.returncode == 0 and "ddsp_cvae at (0, 0), kick:0.5,tom:0.5: played once" in mixed.stdout


@pytest.mark.parametrize(
    "args, reason",
    [
        (["ddsp_cvae", "--at", "0,0", "--family", "bell"], f"--family: unknown family 'bell'; {FAMILIES_LINE}"),
        (["gan", "--at", "0,0", "--family", "snare"], GAN_REASON),
    ],
)
def test_play_with_a_bad_family_exits_2_in_one_line(zoo, args, reason):
    result = run_app("play", *args, "--models", zoo)
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [f"app.py play: {reason}"]


def test_a_file_is_played_as_it_is_so_a_family_for_it_is_refused(tmp_path):
    sound = tmp_path / "hit.wav"
    sf.write(sound, np.zeros(100, np.float32), 44100)
    result = run_app("play", sound, "--family", "snare")
    assert result.returncode == 2
    assert result.stderr.strip() == "app.py play: --family is for a model; an audio file is played as it is"


def test_kit_with_families_names_each_instrument_after_its_family_and_hydrogen_loads_it(zoo, tmp_path):
    import hydrogen

    kit = tmp_path / "Fam.h2drumkit"
    made = run_app(
        "kit",
        "ddsp_cvae",
        "--models",
        zoo,
        "--family",
        "kick",
        "--at",
        "0,0",
        "--at",
        "1,1",
        "--family",
        "snare",
        "--at",
        "0,0",
        "--mix",
        "kick:0.6,tom:0.4",
        "--at",
        "-1,0.5",
        "--seed",
        "1",
        "-o",
        kit,
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip().startswith(f"{kit}: Hydrogen kit 'Fam', 4 instruments, 4 samples (seed 1")
    from audio.kit import extract_h2drumkit

    folder = extract_h2drumkit(kit, tmp_path / "out")
    names = [name for name, _ in hydrogen.kit_instruments(folder / "drumkit.xml")]
    assert names == [
        "kick ddsp_cvae (0.00, 0.00)",
        "kick ddsp_cvae (1.00, 1.00)",
        "snare ddsp_cvae (0.00, 0.00)",
        "kick0.6-tom0.4 ddsp_cvae (-1.00, 0.50)",
    ]
    kick, snare = (sf.read(next(folder.glob(f"*_{family}_ddsp_cvae_x+0.00_y+0.00.wav")))[0] for family in ("kick", "snare"))
    assert np.max(np.abs(kick - snare)) > 1e-3  # the family reached the decoder
    if hydrogen.H2CLI:
        checked = hydrogen.h2cli(tmp_path / "home", "--check", kit)
        assert checked.returncode == 0 and f"Provided drumkit [{kit}] is valid" in checked.stdout + checked.stderr


@pytest.mark.parametrize(
    "args, reason",
    [
        (["ddsp_cvae", "--at", "0,0", "--family", "snare"], "--family snare names no point: give it before the --at points it is for"),
        (["ddsp_cvae", "--family", "snar", "--at", "0,0"], f"--family: unknown family 'snar'; {FAMILIES_LINE}"),
        (["gan", "--family", "snare", "--at", "0,0"], GAN_REASON),
        (
            ["--favourites", "favs", "--family", "snare"],
            "--family and --mix are for NAME --at X,Y; favourites keep the family they were saved with",
        ),
    ],
)
def test_kit_with_a_bad_family_exits_2_in_one_line_and_writes_nothing(zoo, tmp_path, args, reason):
    (tmp_path / "favs").mkdir()
    before = hashes(tmp_path)
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "kit", *args, "--models", str(zoo), "-o", "K.h2drumkit"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [f"app.py kit: {reason}"]
    assert hashes(tmp_path) == before


def test_encode_reports_the_family_it_encoded_with(zoo, tmp_path):
    sound = tmp_path / "hit.wav"
    rng = np.random.default_rng(1)
    sf.write(sound, (rng.standard_normal(4096) * np.exp(-np.arange(4096) / 300) * 0.4).astype(np.float32), 44100)
    asked = run_app("encode", "ddsp_cvae", sound, "--models", zoo, "--family", "hat")
    assert asked.returncode == 0, asked.stderr
    assert re.fullmatch(r"\S+,\S+  \(hat, as asked; code (\S+,){3}\S+\)", asked.stdout.strip())
    snare = run_app("encode", "ddsp_cvae", sound, "--models", zoo, "--family", "snare")
    assert asked.stdout.split()[0] != snare.stdout.split()[0]  # a family's pad places the code its own way
    assert asked.stdout.split("code ")[1] == snare.stdout.split("code ")[1]  # the code itself has no family


def test_encode_says_the_likeliest_family_and_plays_back_the_whole_code(zoo, tmp_path):
    from models.engine import load_runtime

    sound, out = tmp_path / "hit.wav", tmp_path / "again.wav"
    rng = np.random.default_rng(2)
    sf.write(sound, (rng.standard_normal(4096) * np.exp(-np.arange(4096) / 300) * 0.4).astype(np.float32), 44100)
    before = hashes(tmp_path)
    result = run_app("encode", "ddsp_cvae", sound, "--models", zoo, "-o", out)
    assert result.returncode == 0, result.stderr
    from commands.encode import preprocess_settings
    from preprocessing.reader import prepare_file

    model = load_runtime("ddsp_cvae", zoo)
    audio = prepare_file(sound, preprocess_settings(model))[None, :]  # as encode reads it
    family = model.likeliest_families(audio)[0]
    point = model.encode(audio, family=family)[0]
    first, second = result.stdout.strip().splitlines()
    assert first.startswith(f"{point[0]:.6g},{point[1]:.6g}  ({family}, the likeliest under its Gaussian per family; code ")
    assert second == f"reconstruction: {out}"
    # the reconstruction plays the whole code, not the pad point (which drops the other axes)
    played = sf.read(out, dtype="float32")[0]
    assert np.array_equal(played, model.decode_code(model.encode_code(audio))[0])
    assert not np.array_equal(played, model.decode(point[None], family=family)[0])
    assert {k: v for k, v in hashes(tmp_path).items() if k != out.name} == before  # the source is untouched


# --------------------------------------------------------------------------- --seconds


def test_seconds_renders_a_longer_sound_that_ends_without_a_click(zoo, tmp_path):
    def cymbal(out):
        return run_app("generate", "ddsp_cvae", "--models", zoo, "--at", "0.3,0.3", "--family", "cymbal", "--seconds", "3", "-o", out)

    made = cymbal(tmp_path / "long.wav")
    assert made.returncode == 0, made.stderr
    audio, rate = sf.read(tmp_path / "long.wav", dtype="float32")
    assert rate == 44100 and audio.shape == (132300,)
    peak = np.max(np.abs(audio))
    assert peak > 0 and np.max(np.abs(audio[-441:])) <= peak * 10 ** (-60 / 20)
    assert np.all(np.isfinite(audio)) and peak <= 1.0
    again = cymbal(tmp_path / "again.wav")
    assert again.returncode == 0 and sf.read(tmp_path / "again.wav", dtype="float32")[0].tobytes() == audio.tobytes()
    played = run_app("play", "ddsp_cvae", "--models", zoo, "--at", "0,0", "--seconds", "1.5")
    assert played.returncode == 0 and played.stdout.strip().endswith("played once (1.50 s at 44100 Hz)")


@pytest.mark.parametrize(
    "verb, args, reason",
    [
        (
            "generate",
            ["ae_small_tanh", "--at", "0,0", "--seconds", "2"],
            "--seconds: ae_small_tanh renders only its 0.74 s window (ddsp_cvae renders any length)",
        ),
        ("generate", ["ddsp_cvae", "--at", "0,0", "--seconds", "10"], "--seconds: must be between 0.05 and 6 seconds (got 10)"),
        (
            "play",
            ["ae_small_tanh", "--at", "0,0", "--seconds", "2"],
            "--seconds: ae_small_tanh renders only its 0.74 s window (ddsp_cvae renders any length)",
        ),
    ],
)
def test_seconds_for_a_model_that_cannot_or_out_of_range_exits_2(zoo, tmp_path, verb, args, reason):
    import shutil

    models = tmp_path / "zoo"
    shutil.copytree(zoo, models)
    (models / "ae_small_tanh").symlink_to(ROOT / "trained" / "ae_small_tanh", target_is_directory=True)
    before = hashes(tmp_path)
    extra = ["-o", tmp_path / "x.wav"] if verb == "generate" else []
    result = run_app(verb, *args, "--models", models, *extra)
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [f"app.py {verb}: {reason}"]
    assert hashes(tmp_path) == before


# --------------------------------------------------------------------------- evaluate


def evaluate_cvae(models, tmp_path, cwd):
    """``app.py evaluate ddsp_cvae`` of ``models`` on ``tmp_path/data`` (a 4 x 4 grid), its
    report in ``tmp_path/report`` and its cache in ``tmp_path/cache``, run from ``cwd``."""
    import os

    command = [sys.executable, str(ROOT / "app.py"), "evaluate", "ddsp_cvae", "--models", str(models)]
    command += ["--data", str(tmp_path / "data"), "--grid", "4", "-o", str(tmp_path / "report")]
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600, env=env)


def test_evaluate_measures_a_conditioned_model_per_family(zoo, tmp_path):
    from drums import preprocessed_kits

    preprocessed_kits(tmp_path / "sources", tmp_path / "data", 36, 2048, seed=31)  # 22.05 kHz data, the model's 0.093 s at 44.1 kHz
    before = hashes(zoo)
    result = evaluate_cvae(zoo, tmp_path, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    report = (tmp_path / "report" / "report.md").read_text()
    assert "## ddsp_cvae: one plane per family" in report and "union of 36 points on each of the 7" in report
    assert "### Control accuracy" in report and "### The top octave" in report
    assert all((tmp_path / "report" / f"contact_ddsp_cvae_{family}.png").is_file() for family in DRUM_FAMILIES)
    assert hashes(zoo) == before  # other data than its own: cached outside the zoo


def test_the_top_octave_sets_the_model_beside_its_own_datas_held_out_sounds(zoo, tmp_path):
    """A card names its dataset relative to its zoo, as `train` writes it, and the zoo is named
    relative to where the user is (as the default `trained` is): the report finds that 44.1 kHz
    data and gives the real held-out sounds' median beside the model's, per family."""
    import json
    import shutil

    from drums import preprocessed_kits

    own = tmp_path / "zoo"
    shutil.copytree(zoo / "ddsp_cvae", own / "ddsp_cvae")
    preprocessed_kits(tmp_path / "sources44", tmp_path / "data44", 36, 4096, seed=5, sr=44100)
    card_path = own / "ddsp_cvae" / "card.json"
    card = json.loads(card_path.read_text())
    card["data"]["folder"] = "../data44"
    card_path.write_text(json.dumps(card))
    preprocessed_kits(tmp_path / "sources", tmp_path / "data", 36, 2048, seed=31)
    result = evaluate_cvae("zoo", tmp_path, cwd=tmp_path)  # the zoo named relative to the user
    assert result.returncode == 0, result.stderr[-3000:]
    report = (tmp_path / "report" / "report.md").read_text()
    octave = report[report.index("### The top octave") :]
    assert "beside the real held-out sounds' median" in octave and "were not available" not in octave
    rows = [line.split("|")[1:-1] for line in octave.splitlines() if line.startswith("| ") and "family" not in line]
    assert any(cells[2].strip() not in ("", "–") for cells in rows), rows  # a real median is there
