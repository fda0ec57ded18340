"""The models' verbs end to end: train, generate, encode, models -- their outputs and exit
statuses (0 done, 2 usage error, 1 nothing could be done)."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import app
from drums import kick_and_snare_files

LENGTH = 1024
SR = 22050


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """Sources -> a dataset folder (the preprocess verb) -> a zoo with ae_small_tanh and a
    tiny gan (the train verb)."""
    root = tmp_path_factory.mktemp("cli")
    sources = kick_and_snare_files(root / "sources")
    dataset = root / "dataset"
    assert app.main(["preprocess", str(sources), "-o", str(dataset), "--length", str(LENGTH), "--jobs", "1"]) == 0
    zoo = root / "zoo"
    assert (
        app.main(
            [
                "train",
                "ae_small_tanh",
                "--data",
                str(dataset),
                "--epochs",
                "1",
                "--batch-size",
                "4",
                "--out",
                str(zoo),
                "--verbose",
                "0",
                "--float16",
            ]
        )
        == 0
    )
    assert (
        app.main(
            [
                "train",
                "gan",
                "--data",
                str(dataset),
                "--epochs",
                "1",
                "--width",
                "2",
                "--batch-size",
                "4",
                "--out",
                str(zoo),
                "--verbose",
                "0",
                "--no-validation",
            ]
        )
        == 0
    )
    return {"root": root, "sources": sources, "dataset": dataset, "zoo": zoo}


def run(*argv):
    return app.main([str(a) for a in argv])


# ----------------------------------------------------------------------------- train


def test_train_writes_the_model_files_and_card(workspace):
    folder = workspace["zoo"] / "ae_small_tanh"
    assert {"decoder.keras", "encoder.keras", "codes.npz", "card.json", "history.csv", "loss.png"} <= {
        p.name for p in folder.iterdir()
    }
    card = json.loads((folder / "card.json").read_text())
    assert (folder.parent / card["data"]["folder"]).resolve() == Path(workspace["dataset"]).resolve()
    assert not Path(card["data"]["folder"]).is_absolute()  # relative to the zoo: both may move
    assert card["preprocessing"]["length"] == LENGTH and card["sample_rate"] == SR
    assert card["training"]["float16"] is True and card["epochs"] == 1


def test_train_records_the_registrys_latent_prior_in_the_card(workspace):
    latent = {name: json.loads((workspace["zoo"] / name / "card.json").read_text())["latent"] for name in ("ae_small_tanh", "gan")}
    assert latent == {"ae_small_tanh": {"prior": None}, "gan": {"prior": "uniform", "low": -1.0, "high": 1.0}}


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "ae_tiny_relu", "--data", "."],
        ["train", "--data", "."],
        ["train", "gan", "--all", "--data", "."],
        ["train", "gan", "--data", ".", "--epochs", "0"],
    ],
)
def test_train_usage_errors_exit_2(argv, capsys):
    assert run(*argv) == 2
    assert capsys.readouterr().err.startswith("app.py train: ")


def test_train_records_the_chosen_loss_in_the_card(workspace, tmp_path):
    assert (
        run(
            "train",
            "ae_small_relu",
            "--data",
            workspace["dataset"],
            "--epochs",
            "1",
            "--batch-size",
            "4",
            "--out",
            tmp_path,
            "--verbose",
            "0",
            "--loss",
            "spectral",
        )
        == 0
    )
    card = json.loads((tmp_path / "ae_small_relu" / "card.json").read_text())
    assert card["config"]["loss"] == "spectral"  # not the default, spectral_floored
    assert np.isfinite(card["losses"]["loss"])


def test_train_with_an_unknown_loss_exits_2_naming_the_choices(capsys):
    with pytest.raises(SystemExit) as stop:
        run("train", "ae_small_relu", "--data", ".", "--loss", "l1")
    assert stop.value.code == 2
    assert "spectral_floored" in capsys.readouterr().err


def test_train_unknown_name_lists_the_valid_names(capsys):
    assert run("train", "ae_tiny_relu", "--data", ".") == 2
    assert "valid names: ae_small_relu" in capsys.readouterr().err


def test_train_with_a_missing_data_folder_exits_1(tmp_path, capsys):
    assert run("train", "gan", "--data", tmp_path / "nowhere", "--out", tmp_path) == 1
    assert "nowhere: no such" in capsys.readouterr().err


def test_train_on_a_folder_that_is_not_a_dataset_exits_1(tmp_path, capsys):
    assert run("train", "gan", "--data", tmp_path, "--out", tmp_path / "zoo") == 1
    assert "not a dataset" in capsys.readouterr().err


def test_train_resume_to_the_epochs_it_has_is_nothing_to_train(workspace, capsys):
    # asking for the epochs the checkpoint already has is success, not an error
    assert (
        run(
            "train",
            "ae_small_tanh",
            "--data",
            workspace["dataset"],
            "--epochs",
            "1",
            "--resume",
            "--out",
            workspace["zoo"],
            "--verbose",
            "0",
        )
        == 0
    )
    out = capsys.readouterr().out.strip()
    assert "nothing to train: the checkpoint has 1 epochs already" in out


# ----------------------------------------------------------------------------- models


def test_models_lists_all_sixteen_with_their_state(workspace, capsys):
    assert run("models", "--folder", workspace["zoo"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "trained", "parameters", "size", "data", "epochs"]
    rows = {line.split()[0]: line for line in lines[1:17]}
    assert len(rows) == 16
    assert rows["ae_small_tanh"].split()[1] == "yes" and rows["ae_small_tanh"].split()[-1] == "1"
    assert "dataset" in rows["gan"]
    assert "no: not trained" in rows["vae_b"]
    assert "no: not trained" in rows["ddsp_vae"] and "no: not trained" in rows["ddsp_cvae"]
    assert lines[-1].startswith("2 of 16 trained")


# ----------------------------------------------------------------------------- generate


def test_generate_one_point_writes_that_file(workspace, tmp_path):
    out = tmp_path / "one.wav"
    assert run("generate", "ae_small_tanh", "--at", "0.1,-0.2", "-o", out, "--folder", workspace["zoo"]) == 0
    audio, rate = sf.read(out, dtype="float32")
    assert rate == SR and audio.shape == (LENGTH,) and sf.info(out).subtype == "FLOAT"


def test_generate_several_points_writes_a_folder_named_by_point(workspace, tmp_path):
    out = tmp_path / "many"
    assert (
        run("generate", "gan", "--at", "-0.5,1", "--at", "0.25,0.5", "--at", "0.251,0.5", "-o", out, "--folder", workspace["zoo"]) == 0
    )
    names = sorted(p.name for p in out.iterdir())
    assert names == ["gan_x+0.25_y+0.50.wav", "gan_x+0.25_y+0.50_2.wav", "gan_x-0.50_y+1.00.wav"]


@pytest.mark.parametrize("at", ["1", "a,b", "nan,0", "1,2,3"])
def test_generate_with_a_malformed_point_exits_2(workspace, tmp_path, at, capsys):
    assert run("generate", "gan", "--at", at, "-o", tmp_path / "x.wav", "--folder", workspace["zoo"]) == 2
    assert "--at" in capsys.readouterr().err


def test_generate_several_points_into_a_wav_name_exits_2(workspace, tmp_path):
    assert run("generate", "gan", "--at", "0,0", "--at", "1,1", "-o", tmp_path / "x.wav", "--folder", workspace["zoo"]) == 2


def test_generate_unknown_model_exits_2(tmp_path, capsys):
    assert run("generate", "wavenet", "--at", "0,0", "-o", tmp_path / "x.wav") == 2
    assert "valid names" in capsys.readouterr().err


def test_generate_untrained_model_exits_1_with_the_reason(workspace, tmp_path, capsys):
    assert run("generate", "vae_c", "--at", "0,0", "-o", tmp_path / "x.wav", "--folder", workspace["zoo"]) == 1
    assert "vae_c is unavailable" in capsys.readouterr().err
    assert not (tmp_path / "x.wav").exists()


# ----------------------------------------------------------------------------- encode


def test_encode_prints_the_point_and_writes_the_reconstruction(workspace, tmp_path, capsys):
    source = workspace["sources"] / "snare_01.wav"
    recon = tmp_path / "recon.wav"
    assert run("encode", "ae_small_tanh", source, "-o", recon, "--folder", workspace["zoo"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    x, y = (float(v) for v in first.split(","))
    # The same point as the training code of that file (same preprocessing).
    with np.load(workspace["zoo"] / "ae_small_tanh" / "codes.npz") as codes:
        i = list(codes["names"]).index("snare_01")
        np.testing.assert_allclose([x, y], codes["points"][i], atol=1e-4)
    audio, rate = sf.read(recon)
    assert rate == SR and audio.shape == (LENGTH,)


def test_encode_with_the_gan_exits_1_saying_it_has_no_encoder(workspace, capsys):
    assert run("encode", "gan", workspace["sources"] / "kick_00.wav", "--folder", workspace["zoo"]) == 1
    assert "gan has no encoder" in capsys.readouterr().err


def test_encode_a_file_that_is_not_audio_exits_1_naming_it(workspace, tmp_path, capsys):
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio")
    assert run("encode", "ae_small_tanh", bad, "--folder", workspace["zoo"]) == 1
    assert "notes.wav" in capsys.readouterr().err


def test_encode_unknown_model_exits_2(workspace):
    assert run("encode", "ae_tiny", workspace["sources"] / "kick_00.wav") == 2
