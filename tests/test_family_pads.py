"""Family pads: a Gaussian per family over a model's training codes maps the pad onto that
family's region, for every model with codes (models.family_pads), through the NumPy runtime
and the real CLI (generate, play, kit), with the refusals in one line and no file changed."""

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from constants import DRUM_FAMILIES, FAMILY_PAD_SCALE, FAMILY_SHRINK_COUNT
from models.errors import ModelInputError
from models.family_pads import FamilyPads, main_axes
from models.trained_folder import LatentCodes

ROOT = Path(__file__).resolve().parents[1]
ZOO = ROOT / "trained"
PAD = (-3.0, 3.0, -3.0, 3.0)
GAN_REASON = "gan takes no family: it has no encoder, so none of its training sounds has a place on its pad"


def run_app(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def hashes(folder):
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(folder).rglob("*")) if p.is_file()
    }


def samples(path):
    return sf.read(path, dtype="float32")[0]


def make_codes(groups, validation=()):
    """LatentCodes from ``{family: (n, 2) points}`` (training) and ``[(family, points)]`` (held out)."""
    points, families, held = [], [], []
    for family, member in list(groups.items()) + list(validation):
        points.append(np.asarray(member, np.float32))
        families += [family] * len(member)
        held += [any(member is v for _, v in validation)] * len(member)
    points = np.concatenate(points)
    names = np.array([f"s{i}" for i in range(len(points))])
    return LatentCodes(points, np.array(families), names, names, np.array(held))


def spread_codes(rng):
    """Big families elongated along y, a five-sound clap elongated along x."""
    groups = {family: rng.normal([index, -index], [0.2, 1.5], (60, 2)) for index, family in enumerate(("kick", "snare", "hat", "tom"))}
    groups["clap"] = rng.normal([5.0, 5.0], [2.0, 0.05], (5, 2))
    return groups


# ----------------------------------------------------------------------------- the fit


def test_only_the_training_split_is_fitted(rng):
    training = rng.normal([1.0, 2.0], 0.3, (40, 2))
    held_out = rng.normal([50.0, -50.0], 0.3, (30, 2))
    pads = FamilyPads.fit("m", make_codes({"kick": training}, [("kick", held_out)]), PAD)
    gaussian = pads.gaussians["kick"]
    assert gaussian.count == 40
    np.testing.assert_allclose(gaussian.mean, training.astype(np.float32).mean(axis=0), atol=1e-6)


def test_codes_that_are_not_finite_are_left_out(rng):
    kick = rng.normal(0, 1, (20, 2))
    pads = FamilyPads.fit("m", make_codes({"kick": np.concatenate([kick, [[np.nan, 0.0], [np.inf, 1.0]]])}), PAD)
    assert pads.gaussians["kick"].count == 20 and np.isfinite(pads.gaussians["kick"].covariance).all()


def test_labels_that_are_no_drum_family_are_left_out(rng):
    codes = make_codes({"kick": rng.normal(0, 1, (20, 2)), "unknown": rng.normal(9, 1, (20, 2)), "other": rng.normal(-9, 1, (5, 2))})
    assert FamilyPads.fit("m", codes, PAD).families == ("kick",)


def test_a_five_sound_family_is_pulled_toward_the_pooled_covariance(rng):
    groups = spread_codes(rng)
    pads = FamilyPads.fit("m", make_codes(groups), PAD)
    own = np.cov(groups["clap"].astype(np.float32).T.astype(np.float64))
    members = [g.astype(np.float32).astype(np.float64) for g in groups.values()]
    pooled = sum((len(m) - 1) * np.cov(m.T) for m in members) / sum(len(m) - 1 for m in members)
    weight = 4 / (4 + FAMILY_SHRINK_COUNT)
    fitted = pads.gaussians["clap"].covariance
    np.testing.assert_allclose(fitted, weight * own + (1 - weight) * pooled, rtol=1e-9)
    # the clap's own shape is wide in x and thin in y; the pooled one the other way round
    assert np.linalg.norm(fitted - pooled) < np.linalg.norm(own - pooled) * 0.3
    # a family of 60 keeps most of its own covariance
    kick = np.cov(members[0].T)
    assert np.linalg.norm(pads.gaussians["kick"].covariance - kick) < np.linalg.norm(pooled - kick) * 0.2


def test_codes_that_all_sit_at_one_point_have_no_pads():
    codes = make_codes({"kick": np.full((10, 2), 0.98), "hat": np.full((10, 2), 0.98)})
    with pytest.raises(ModelInputError, match="^m takes no family: its training sounds all encode to one point$"):
        FamilyPads.fit("m", codes, PAD)


def test_main_axes_put_the_longer_axis_first_pointing_right():
    sigmas, axes = main_axes([[1.0, 0.0], [0.0, 4.0]])
    np.testing.assert_allclose(sigmas, [2.0, 1.0])
    np.testing.assert_allclose(axes, [[0.0, 1.0], [-1.0, 0.0]], atol=1e-12)
    angle = np.radians(30)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    sigmas, axes = main_axes(rotation @ np.diag([9.0, 0.25]) @ rotation.T)
    np.testing.assert_allclose(sigmas, [3.0, 0.5])
    np.testing.assert_allclose(axes[0], [np.cos(angle), np.sin(angle)])
    assert np.linalg.det(axes) == pytest.approx(1.0)


# ----------------------------------------------------------------------------- the mapping


def test_the_pads_centre_is_the_familys_mean_and_its_corners_lie_at_s_sigmas(rng):
    pads = FamilyPads.fit("m", make_codes(spread_codes(rng)), (-2.0, 6.0, 0.0, 1.0))
    for family in pads.families:
        axes = pads.axes(family)
        centre, corner, other = pads.to_latent([[2.0, 0.5], [6.0, 1.0], [-2.0, 1.0]], family).astype(np.float64)
        np.testing.assert_allclose(centre, pads.gaussians[family].mean, atol=1e-5)
        along = (corner - axes.mean) @ axes.axes.T  # the corner in the main axes' frame
        np.testing.assert_allclose(along, FAMILY_PAD_SCALE * axes.sigmas, rtol=1e-5)
        np.testing.assert_allclose((other - axes.mean) @ axes.axes.T, FAMILY_PAD_SCALE * axes.sigmas * [-1, 1], rtol=1e-5)


def test_a_half_and_half_hybrid_lies_between_its_families(rng):
    pads = FamilyPads.fit("m", make_codes(spread_codes(rng)), PAD)
    kick, tom = pads.gaussians["kick"], pads.gaussians["tom"]
    hybrid = pads.axes("kick:0.5,tom:0.5")
    np.testing.assert_allclose(hybrid.mean, (kick.mean + tom.mean) / 2)
    blended = (kick.covariance + tom.covariance) / 2
    np.testing.assert_allclose(hybrid.axes.T @ np.diag(hybrid.sigmas**2) @ hybrid.axes, blended, rtol=1e-9)
    np.testing.assert_allclose(pads.to_latent([[0.0, 0.0]], {"kick": 0.5, "tom": 0.5})[0], hybrid.mean, atol=1e-5)


def test_per_point_families_map_each_point_on_its_own_pad(rng):
    pads = FamilyPads.fit("m", make_codes(spread_codes(rng)), PAD)
    rows = np.eye(len(DRUM_FAMILIES), dtype=np.float32)[[0, 3, 0]]  # kick, hat, kick
    latent = pads.to_latent([[1.0, -2.0], [1.0, -2.0], [0.5, 0.5]], rows)
    np.testing.assert_array_equal(latent[0], pads.to_latent([[1.0, -2.0]], "kick")[0])
    np.testing.assert_array_equal(latent[1], pads.to_latent([[1.0, -2.0]], "hat")[0])
    np.testing.assert_array_equal(latent[2], pads.to_latent([[0.5, 0.5]], "kick")[0])


def test_to_pad_undoes_to_latent(rng):
    pads = FamilyPads.fit("m", make_codes(spread_codes(rng)), PAD)
    points = rng.uniform(-3, 3, (20, 2))
    for family in ("clap", "snare:0.3,hat:0.7"):
        np.testing.assert_allclose(pads.to_pad(pads.to_latent(points, family), family), points, atol=1e-5)


def test_a_family_without_training_codes_is_refused_in_words(rng):
    pads = FamilyPads.fit("m", make_codes({"kick": rng.normal(0, 1, (20, 2))}), PAD)
    assert pads.missing_reason("kick") is None
    assert pads.missing_reason("kick:0.5,clap:0.5") == "m has no clap among its training sounds"
    with pytest.raises(ModelInputError, match="^m has no cymbal among its training sounds$"):
        pads.to_latent([[0.0, 0.0]], "cymbal")


# ----------------------------------------------------------------------------- the runtime


@pytest.fixture(scope="module")
def ddsp_vae():
    from models.engine import load_runtime

    return load_runtime("ddsp_vae", ZOO)


def test_every_shipped_model_with_codes_takes_each_family_and_the_gan_says_why():
    from models.engine import load_runtime
    from models.registry import MODEL_NAMES

    for name in MODEL_NAMES:
        model = load_runtime(name, ZOO)
        if name == "gan":
            assert (model.takes_family, model.no_family_reason) == (False, GAN_REASON)
        elif name == "ae_big_sigmoid":  # its shipped codes collapsed to one point
            assert model.no_family_reason == "ae_big_sigmoid takes no family: its training sounds all encode to one point"
        else:
            assert model.takes_family and model.families == DRUM_FAMILIES, name


def test_the_runtime_decodes_a_family_at_its_pads_latent_point(ddsp_vae):
    point = np.array([[1.0, -2.0]], np.float32)
    latent = ddsp_vae.family_pads.to_latent(point, "tom")
    np.testing.assert_array_equal(ddsp_vae.pad_to_latent(point, "tom"), latent)
    assert ddsp_vae.decode(point, family="tom").tobytes() == ddsp_vae.decode(latent).tobytes()
    assert ddsp_vae.decode(point).tobytes() != ddsp_vae.decode(point, family="tom").tobytes()
    assert ddsp_vae.checked_family(None) is None  # no family: the plain pad


# ----------------------------------------------------------------------------- the CLI


def test_generate_with_a_family_writes_a_kick_at_the_kick_pads_centre(ddsp_vae, tmp_path):
    from audio.kit import FamilyNamer
    from evaluation.families import shipped_classifier

    (tmp_path / "keep.wav").write_bytes(b"RIFF mine")
    before = hashes(ZOO / "ddsp_vae"), (tmp_path / "keep.wav").read_bytes()
    result = run_app("generate", "ddsp_vae", "--family", "kick", "--at", "0,0", "-o", tmp_path / "kick.wav")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines() == [
        f"{tmp_path / 'kick.wav'}  (ddsp_vae at 0,0, kick; peak " + result.stdout.split("peak ")[1].strip()
    ]
    kick = samples(tmp_path / "kick.wav")
    mean = ddsp_vae.family_pads.gaussians["kick"].mean
    assert kick.tobytes() == ddsp_vae.decode(mean.astype(np.float32)[None]).tobytes()
    namer = FamilyNamer(*shipped_classifier(ZOO))
    assert namer.family(kick, ddsp_vae.sample_rate) == "kick"
    plain = run_app("generate", "ddsp_vae", "--at", "0,0", "-o", tmp_path / "plain.wav")
    assert plain.returncode == 0 and samples(tmp_path / "plain.wav").tobytes() != kick.tobytes()
    assert (hashes(ZOO / "ddsp_vae"), (tmp_path / "keep.wav").read_bytes()) == before


def test_the_same_point_and_mix_give_the_same_bytes_twice_and_other_families_other_sounds(tmp_path):
    made, said = {}, {}
    for name, family in (
        ("a", ["--mix", "kick:0.6,tom:0.4"]),
        ("b", ["--mix", "kick:0.6,tom:0.4"]),
        ("hat", ["--family", "hat"]),
        ("snare", ["--family", "snare"]),
    ):
        result = run_app("generate", "ddsp_vae", *family, "--at", "1.2,-0.7", "-o", tmp_path / f"{name}.wav")
        assert result.returncode == 0, result.stderr
        made[name], said[name] = samples(tmp_path / f"{name}.wav").tobytes(), result.stdout
    assert "(ddsp_vae at 1.2,-0.7, kick:0.6,tom:0.4; peak" in said["a"]
    assert made["a"] == made["b"]
    assert len({made["a"], made["hat"], made["snare"]}) == 3


def test_a_variations_sidecar_records_the_family_and_reopens_to_the_same_sound(ddsp_vae, tmp_path):
    from audio.recall import read_recall
    from models.variation import decode_recall

    result = run_app(
        "generate", "ddsp_vae", "--mix", "hat:0.5,cymbal:0.5", "--at", "-1,2", "--variations", "2", "--seed", "3", "-o", tmp_path
    )
    assert result.returncode == 0, result.stderr
    wavs = sorted(tmp_path.glob("ddsp_vae_hat0.5-cymbal0.5_x-1.00_y+2.00_v*.wav"))
    assert len(wavs) == 2
    for wav in wavs:
        recall = read_recall(wav)
        assert recall["settings"]["family"] == "hat:0.5,cymbal:0.5"
        assert decode_recall(ddsp_vae, recall).tobytes() == samples(wav).tobytes()


def test_play_with_a_family_plays_it_and_says_so():
    played = run_app("play", "ddsp_vae", "--at", "0.5,-1", "--family", "tom")
    assert played.returncode == 0, played.stderr
    assert played.stdout.strip() == "ddsp_vae at (0.5, -1), tom: played once (0.74 s at 22050 Hz)"


def test_kit_names_each_instrument_after_the_family_it_was_asked_for(tmp_path):
    result = run_app(
        "kit",
        "ddsp_vae",
        "--family",
        "kick",
        "--at",
        "0,0",
        "--family",
        "snare",
        "--at",
        "0,0",
        "--seed",
        "1",
        "--models",
        ZOO,
        "-o",
        "Pads/",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    listing = json.loads((tmp_path / "Pads" / "kit.json").read_text())
    assert [(i["family"], i["layers"][0]["recall"]["family"]) for i in listing["instruments"]] == [
        ("kick", "kick"),
        ("snare", "snare"),
    ]
    kick, snare = (samples(tmp_path / "Pads" / i["layers"][0]["file"]) for i in listing["instruments"])
    assert np.max(np.abs(kick - snare)) > 1e-3


@pytest.mark.parametrize(
    "args, reason",
    [
        (["generate", "gan", "--family", "kick", "--at", "0,0", "-o", "x.wav"], f"--family: {GAN_REASON}"),
        (
            ["generate", "ae_big_sigmoid", "--mix", "kick:0.5,tom:0.5", "--at", "0,0", "-o", "x.wav"],
            "--mix: ae_big_sigmoid takes no family: its training sounds all encode to one point",
        ),
        (["play", "gan", "--family", "kick", "--at", "0,0"], f"--family: {GAN_REASON}"),
        (["kit", "gan", "--family", "kick", "--at", "0,0", "-o", "K.h2drumkit"], f"--family: {GAN_REASON}"),
        (
            ["encode", "ddsp_vae", "hit.wav", "--family", "kick"],
            "--family: ddsp_vae encodes without a family (a family picks a region of its pad, for generate, play and kit)",
        ),
    ],
)
def test_a_model_without_family_pads_refuses_a_family_in_one_line(tmp_path, args, reason):
    sf.write(tmp_path / "hit.wav", np.zeros(1000, np.float32), 22050)
    before = hashes(tmp_path), hashes(ZOO)
    result = run_app(*args, "--models", ZOO, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"app.py {args[0]}: {reason}"]
    assert (hashes(tmp_path), hashes(ZOO)) == before


@pytest.fixture(scope="module")
def zoo_without_claps(tmp_path_factory):
    """ddsp_vae as shipped, but its codes say none of its training sounds is a clap."""
    zoo = tmp_path_factory.mktemp("zoo")
    shutil.copytree(ZOO / "ddsp_vae", zoo / "ddsp_vae")
    with np.load(ZOO / "ddsp_vae" / "codes.npz") as archive:
        arrays = dict(archive)
    arrays["families"] = np.where(arrays["families"] == "clap", "unknown", arrays["families"])
    np.savez(zoo / "ddsp_vae" / "codes.npz", **arrays)
    return zoo


@pytest.mark.parametrize(
    "args",
    [
        ["generate", "ddsp_vae", "--family", "clap", "--at", "0,0", "-o", "x.wav"],
        ["generate", "ddsp_vae", "--mix", "kick:0.5,clap:0.5", "--at", "0,0", "-o", "x.wav"],
        ["play", "ddsp_vae", "--family", "clap", "--at", "0,0"],
        ["kit", "ddsp_vae", "--family", "kick", "--at", "0,0", "--family", "clap", "--at", "1,1", "-o", "K.h2drumkit"],
    ],
)
def test_a_family_the_model_has_no_training_sound_of_is_refused_in_one_line(zoo_without_claps, tmp_path, args):
    (tmp_path / "keep.wav").write_bytes(b"RIFF mine")
    before = hashes(tmp_path), hashes(zoo_without_claps)
    result = run_app(*args, "--models", zoo_without_claps, cwd=tmp_path)
    option = args[2]
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"app.py {args[0]}: {option}: ddsp_vae has no clap among its training sounds"]
    assert (hashes(tmp_path), hashes(zoo_without_claps)) == before


@pytest.mark.slow
def test_nearest_on_a_family_pad_lists_the_neighbours_of_where_the_point_plays(tmp_path):
    kick = run_app("generate", "ddsp_vae", "--family", "kick", "--at", "0,0", "-o", tmp_path / "k.wav", "--nearest")
    plain = run_app("generate", "ddsp_vae", "--at", "0,0", "-o", tmp_path / "p.wav", "--nearest")
    assert kick.returncode == 0 == plain.returncode, kick.stderr + plain.stderr
    first = [result.stdout.splitlines()[3] for result in (kick, plain)]
    assert first[0].endswith(", kick)  distance " + first[0].rsplit("distance ", 1)[1])
    assert first[0] != first[1]


# ----------------------------------------------------------------------- a wide code (ddsp_cvae)


def wide_codes(rng, width=6):
    """Codes of ``width`` numbers per family, each family stretched along its own axes."""
    groups = {}
    for family in DRUM_FAMILIES:
        shape = rng.standard_normal((width, width)) * 0.3 + np.diag(np.linspace(1.5, 0.2, width))
        groups[family] = rng.standard_normal((30, width)) @ shape + 2.0 * rng.standard_normal(width)
    points = np.concatenate(list(groups.values())).astype(np.float32)
    labels = np.repeat(list(groups), [len(g) for g in groups.values()])
    names = np.array([f"s{i}" for i in range(len(points))])
    return LatentCodes(points, labels, names, names, np.zeros(len(points), bool))


def test_a_wide_codes_pad_spans_the_familys_two_main_axes_and_a_variation_moves_only_off_the_pad(rng):
    codes = wide_codes(rng)
    pads = FamilyPads.fit("wide", codes, PAD)
    assert pads.latent_dim == 6
    pad = pads.axes("snare")
    assert pad.axes.shape == (6, 6) and np.allclose(pad.axes @ pad.axes.T, np.eye(6), atol=1e-9)
    assert np.all(np.diff(pad.sigmas) <= 0)  # the longest axis first
    # each axis is turned so that its largest part is positive: the same codes, the same pads
    assert np.all(pad.axes[np.arange(6), np.argmax(np.abs(pad.axes), axis=1)] > 0)
    points = np.array([[0.0, 0.0], [3.0, 0.0], [-1.5, 2.0]])
    latent = pads.to_latent(points, "snare")
    assert latent.shape == (3, 6)
    assert np.allclose(latent[0], pad.mean) and np.allclose(
        latent[1] - pad.mean, FAMILY_PAD_SCALE * pad.sigmas[0] * pad.axes[0], atol=1e-5
    )
    assert np.allclose(pads.to_pad(latent, "snare"), points, atol=1e-5)
    # a variation draws the other four axes, reproducibly, and stays at the same place on the pad
    varied = pads.varied(latent, "snare", 5)
    assert np.array_equal(varied, pads.varied(latent, "snare", 5)) and not np.allclose(varied, latent)
    assert np.allclose(pads.to_pad(varied, "snare"), points, atol=1e-4)
    assert np.array_equal(pads.varied(latent, "snare", 0), latent)
    # the map's codes sit on a family's pad by their whole code, and each on its own family's
    assert np.allclose(pads.places(codes, "kick"), pads.to_pad(codes.points, "kick"))
    own, families = pads.own_places(codes.points, codes.families)
    assert families == list(codes.families) and np.allclose(own[:30], pads.to_pad(codes.points[:30], "kick"), atol=1e-5)
    assert pads.likeliest(pads.axes("tom").mean)[0] == "tom"
