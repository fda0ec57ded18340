"""Variations of a point: seeded offsets or noise seeds, `generate --variations N`, and exact
recall from the sidecars (on a tiny trained model, so the real decode path is what recalls)."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile

import app
from audio.recall import read_recall
from drums import drum_batch
from models.trained_folder import LatentPlane
from models.variation import (
    VARIATION_SPREAD,
    Variation,
    decode_recall,
    decode_variation,
    has_noise_source,
    plan_variations,
    variation_from_recall,
)

LENGTH = 1024


class OffsetModel(LatentPlane):
    """A stand-in without a noise source: the sound is a function of the point."""

    name, kind = "ae_small_tanh", "dense_ae"
    sample_rate = 22050

    def latent_range(self):
        return (-1.0, 3.0, -2.0, 2.0)

    def decode(self, points):
        points = np.asarray(points, np.float32)
        t = np.arange(LENGTH, dtype=np.float32) / self.sample_rate
        return np.sin(2 * np.pi * (200 + 50 * points[:, :1]) * t) * np.exp(-t * (20 + points[:, 1:]))


class VaeModel(OffsetModel):
    """A VAE without a noise source (the registry, not the kind, says which has one)."""

    name, kind = "vae_a", "vae"


class NoiseModel(OffsetModel):
    """A stand-in with a noise source, as ddsp_vae's decode(points, variation=int)."""

    name, kind = "ddsp_vae", "vae"  # as the registry has it

    def __init__(self):
        self.seen = []

    def decode(self, points, variation=0):
        self.seen.append(variation)
        noise = np.random.default_rng(variation).standard_normal((len(points), LENGTH)) * 0.01
        return super().decode(points) + noise.astype(np.float32)


def test_variation_zero_is_the_sound_itself_and_the_others_are_seeded_offsets():
    variations = plan_variations(OffsetModel(), (0.5, 0.0), 4, seed=9)
    assert variations[0] == Variation(0, 9, (0.0, 0.0), None)
    offsets = np.array([v.offset for v in variations[1:]])
    assert np.all(offsets != 0) and len({tuple(o) for o in offsets}) == 3
    # Scaled to the range: a few spreads of the span (4 wide in x and y) at most.
    assert np.all(np.abs(offsets) < 5 * VARIATION_SPREAD * 4)
    assert plan_variations(OffsetModel(), (0.5, 0.0), 4, seed=9) == variations
    assert plan_variations(OffsetModel(), (0.5, 0.0), 2, seed=9, first=2)[0] == variations[2]
    assert plan_variations(OffsetModel(), (0.5, 0.0), 4, seed=10)[1] != variations[1]


def test_a_variation_at_the_edge_stays_on_the_map():
    for variation in plan_variations(OffsetModel(), (3.0, -2.0), 20, seed=1, first=1):
        x, y = variation.point((3.0, -2.0))
        assert -1.0 <= x <= 3.0 and -2.0 <= y <= 2.0


def test_a_model_with_a_noise_source_varies_its_noise_not_its_point():
    model = NoiseModel()
    assert has_noise_source(model) and not has_noise_source(OffsetModel())
    # the registry tells, not the kind: vae_a is a VAE without a noise source
    assert not has_noise_source(VaeModel())
    variations = plan_variations(model, (0.5, 0.0), 3, seed=4, first=1)
    assert all(v.offset == (0.0, 0.0) for v in variations)
    seeds = [v.noise_seed for v in variations]
    assert len(set(seeds)) == 3
    sounds = [decode_variation(model, (0.5, 0.0), v) for v in variations]
    assert model.seen == seeds and not np.allclose(sounds[0], sounds[1])


def test_a_variation_record_round_trips_and_a_bad_one_is_refused():
    variation = plan_variations(OffsetModel(), (0.5, 0.0), 1, seed=3, first=1)[0]
    record = json.loads(json.dumps(variation.to_dict((0.5, 0.0))))
    assert Variation.from_dict(record) == variation
    assert record["decoded_point"] == list(variation.point((0.5, 0.0)))
    with pytest.raises(ValueError, match="not a variation record"):
        Variation.from_dict({"index": "x", "seed": 1})
    with pytest.raises(ValueError, match="two finite numbers"):
        Variation.from_dict({"index": 1, "seed": 1, "offset": [1.0, float("nan")]})
    assert variation_from_recall({"settings": None}) is None


# ----------------------------------------------------------------------------- the real thing


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    from models.training import TrainingData, TrainOptions, train_model

    folder = tmp_path_factory.mktemp("zoo")
    audio, labels = drum_batch(24, LENGTH, seed=5)
    data = TrainingData.from_arrays(audio, 22050, is_validation=np.arange(24) % 6 == 0, families=labels, folder="synthetic")
    train_model("ae_small_tanh", data, folder, TrainOptions(epochs=1, batch_size=8, verbose=0))
    return folder


def test_generate_variations_are_recalled_exactly_from_their_sidecars(zoo, tmp_path, capsys):
    from models.engine import load_runtime

    out = tmp_path / "vars"
    assert (
        app.main(
            [
                "generate",
                "ae_small_tanh",
                "--at",
                "0.1,-0.2",
                "--at",
                "0.3,0.1",
                "--variations",
                "3",
                "--seed",
                "21",
                "-o",
                str(out),
                "--models",
                str(zoo),
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 6 and "variation 1 of seed 21: offset" in lines[0]
    wavs = sorted(out.glob("*.wav"))
    assert [w.name for w in wavs][:3] == [f"ae_small_tanh_x+0.10_y-0.20_v{i}.wav" for i in (1, 2, 3)]
    model = load_runtime("ae_small_tanh", zoo)  # the decoder generate itself uses
    sounds = []
    for wav in wavs:
        recall = read_recall(wav)
        assert recall["settings"]["variation"]["seed"] == 21
        saved, rate = soundfile.read(str(wav), dtype="float32")
        assert rate == 22050
        np.testing.assert_array_equal(decode_recall(model, recall), saved)
        sounds.append(saved)
    assert not np.array_equal(sounds[0], sounds[1])  # they are variations, not copies


def test_the_same_seed_gives_the_same_files(zoo, tmp_path):
    for name in ("a", "b"):
        assert (
            app.main(
                [
                    "generate",
                    "ae_small_tanh",
                    "--at",
                    "0,0",
                    "--variations",
                    "2",
                    "--seed",
                    "8",
                    "-o",
                    str(tmp_path / name),
                    "--models",
                    str(zoo),
                ]
            )
            == 0
        )

    # Float WAVs carry a PEAK chunk with a time stamp, so the samples are compared, not bytes.
    def samples(name):
        return [soundfile.read(str(p), dtype="float32")[0] for p in sorted((tmp_path / name).glob("*.wav"))]

    for a, b in zip(samples("a"), samples("b"), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "argv, reason",
    [
        (["--variations", "0", "-o", "out/"], "--variations must be 1 to 1000, not 0"),
        (["--seed", "3", "-o", "out/"], "--seed needs --variations N"),
        (["--variations", "2", "-o", "one.wav"], "2 variations need a folder, not a .wav file"),
    ],
)
def test_variation_usage_errors_exit_2_and_write_nothing(zoo, tmp_path, capsys, monkeypatch, argv, reason):
    monkeypatch.chdir(tmp_path)
    assert app.main(["generate", "ae_small_tanh", "--at", "0,0", *argv, "--models", str(zoo)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        len(err) == 1
        and err[0].startswith("app.py generate: -o one.wav: " if "folder" in reason else "app.py generate: ")
        and err[0].endswith(reason)
    )
    assert list(tmp_path.iterdir()) == []


def test_a_loop_plays_a_new_variation_each_repetition_and_none_at_amount_zero():
    from models.variation import LoopVariations

    loop = LoopVariations(OffsetModel(), amount=1.0, seed=5)
    played = [loop.next((0.5, 0.0)) for _ in range(4)]
    assert [v.index for v in played] == [1, 2, 3, 4] and len({v.offset for v in played}) == 4
    assert played[0] == plan_variations(OffsetModel(), (0.5, 0.0), 1, seed=5, first=1)[0]
    wider = LoopVariations(OffsetModel(), amount=3.0, seed=5).next((0.5, 0.0))
    assert np.allclose(np.array(wider.offset), 3 * np.array(played[0].offset))
    still = LoopVariations(OffsetModel(), amount=0.0, seed=5)
    assert {still.next((0.5, 0.0)).offset for _ in range(3)} == {(0.0, 0.0)}
    with pytest.raises(ValueError, match="0 or more"):
        LoopVariations(OffsetModel(), amount=-1, seed=5)


def test_variations_into_a_folder_that_cannot_be_made_exit_1(zoo, tmp_path, capsys):
    (tmp_path / "file").write_text("not a folder")
    assert (
        app.main(
            [
                "generate",
                "ae_small_tanh",
                "--at",
                "0,0",
                "--variations",
                "2",
                "-o",
                str(tmp_path / "file" / "out"),
                "--models",
                str(zoo),
            ]
        )
        == 1
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"app.py generate: {tmp_path / 'file' / 'out'}: cannot make the folder (Not a directory)"]
    assert (tmp_path / "file").read_text() == "not a folder"


def test_saving_with_variations_writes_favourites_that_recall_exactly(tmp_path):
    from audio.export import FavouritesFolder
    from gui.vary import save_with_variations

    model = OffsetModel()
    paths = save_with_variations(
        FavouritesFolder(tmp_path),
        model,
        "vae_c",
        (0.5, 0.0),
        3,
        seed=2,
        settings={"gap_seconds": 0.25},
        out_rate=None,
        subtype="FLOAT",
    )
    assert len(paths) == 3
    for path in paths:
        recall = read_recall(path)
        assert recall["settings"]["gap_seconds"] == 0.25
        saved, _ = soundfile.read(str(path), dtype="float32")
        np.testing.assert_array_equal(decode_recall(model, recall), saved)
    assert [read_recall(p)["settings"]["variation"]["index"] for p in paths] == [0, 1, 2]


def test_the_amount_scales_the_offset_for_every_model_and_a_noise_model_draws_new_noise_from_1():
    from models.variation import NEW_NOISE_AMOUNT

    for model in (OffsetModel(), NoiseModel()):
        small, large = (plan_variations(model, (0.5, 0.0), 1, seed=3, first=1, amount=a)[0] for a in (0.5, 2.0))
        assert np.allclose(np.array(large.offset), 4 * np.array(small.offset)) and small.offset != (0.0, 0.0)
    below, above = (
        plan_variations(NoiseModel(), (0.5, 0.0), 1, seed=3, first=1, amount=a)[0] for a in (NEW_NOISE_AMOUNT - 0.5, NEW_NOISE_AMOUNT)
    )
    assert below.noise_seed == 0 and above.noise_seed not in (None, 0)  # 0: the model's own noise
    assert plan_variations(OffsetModel(), (0.5, 0.0), 1, seed=3, first=1, amount=1.0)[0].noise_seed is None


def log_spectrum(audio, frame=1024, hop=256):
    frames = np.lib.stride_tricks.sliding_window_view(np.asarray(audio, np.float64), frame)[::hop] * np.hanning(frame)
    return np.log(np.abs(np.fft.rfft(frames, axis=1)) + 1e-5)


def spectral_distance(a, b):
    """Mean absolute difference of two sounds' log magnitude spectrograms (nepers)."""
    return float(np.mean(np.abs(log_spectrum(a) - log_spectrum(b))))


SHIPPED = Path(__file__).resolve().parent.parent / "trained"


@pytest.mark.skipif(not (SHIPPED / "ddsp_vae" / "card.json").exists(), reason="no shipped ddsp_vae")
def test_on_ddsp_vae_a_larger_vary_amount_moves_the_sound_further_from_the_plain_one():
    from models.engine import load_runtime
    from models.variation import LoopVariations

    model = load_runtime("ddsp_vae", SHIPPED)
    points = np.random.default_rng(0).uniform(-2, 2, (5, 2))
    distances = {}
    for amount in (0.5, 1.0, 2.0, 3.0):
        found = []
        for point in points:
            plain = model.decode([point])[0]
            loop = LoopVariations(model, amount=amount, seed=11)
            found += [spectral_distance(decode_variation(model, point, loop.next(point)), plain) for _ in range(4)]
        distances[amount] = np.mean(found)
    values = [distances[a] for a in sorted(distances)]
    assert all(a < b for a, b in zip(values, values[1:])), distances  # graded, not one jump
    assert values[-1] > 2 * values[0], distances
