"""The one model-card schema: every shipped card reads unchanged, a wrong-typed field makes
only that model unavailable with one line, unknown keys survive, and no TensorFlow loads."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import app
from models.card import CARD_VERSION, CardError, ModelCard, read_card
from models.errors import ModelUnavailableError
from models.registry import MODEL_NAMES

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "trained"


def shipped_card(name="ae_small_tanh"):
    return json.loads((SHIPPED / name / "card.json").read_text())


def zoo_copy(tmp_path):
    """The shipped zoo with links to its model files and real copies of its cards."""
    zoo = tmp_path / "zoo"
    for name in MODEL_NAMES:
        (zoo / name).mkdir(parents=True)
        for path in (SHIPPED / name).iterdir():
            if path.name == "card.json":
                (zoo / name / path.name).write_bytes(path.read_bytes())
            elif path.is_file():
                os.symlink(path, zoo / name / path.name)
    return zoo


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_shipped_card_reads_and_round_trips(name):
    path = SHIPPED / name / "card.json"
    card = read_card(path, expected_kind=None)
    written = card.to_dict()
    shipped = json.loads(path.read_text())
    # the fifteen were shipped before the schema had a version; ddsp_cvae after
    assert written.pop("version") == shipped.pop("version", 1)
    # the dataset is recorded relative to the zoo and read as the folder itself (ddsp_cvae's
    # the same kits prepared at 44.1 kHz)
    kits = "kits44" if name == "ddsp_cvae" else "kits"
    assert shipped["data"]["folder"] == f"../data/{kits}"
    assert written["data"].pop("folder") == os.path.normpath(SHIPPED / f"../data/{kits}") == str(ROOT / "data" / kits)
    shipped["data"].pop("folder")
    assert written == shipped


def test_a_card_records_its_dataset_relative_to_the_zoo_so_both_can_move(tmp_path):
    from models.card import write_card

    zoo, data = tmp_path / "here" / "zoo", tmp_path / "here" / "data" / "kits"
    (zoo / "ae_small_tanh").mkdir(parents=True)
    values = {**shipped_card(), "data": {**shipped_card()["data"], "folder": str(data)}}
    write_card(zoo / "ae_small_tanh" / "card.json", values)
    assert json.loads((zoo / "ae_small_tanh" / "card.json").read_text())["data"]["folder"] == "../data/kits"
    (tmp_path / "here").rename(tmp_path / "moved")
    moved = read_card(tmp_path / "moved" / "zoo" / "ae_small_tanh" / "card.json")
    assert moved.data_folder == str(tmp_path / "moved" / "data" / "kits")


def test_a_card_with_an_absolute_dataset_folder_reads_as_it_is(tmp_path):
    (tmp_path / "ae_small_tanh").mkdir()
    values = {**shipped_card(), "data": {**shipped_card()["data"], "folder": "/elsewhere/kits"}}
    (tmp_path / "ae_small_tanh" / "card.json").write_text(json.dumps(values))
    assert read_card(tmp_path / "ae_small_tanh" / "card.json").data_folder == "/elsewhere/kits"


@pytest.mark.parametrize(
    "field, value, reason",
    [
        ("sample_rate", "fast", "sample_rate must be a whole number of Hz"),
        ("sample_rate", 22050.5, "sample_rate must be a whole number of Hz"),
        ("sample_rate", 0, "sample_rate must be a whole number of Hz from 1000 to 384000"),
        ("sample_length", True, "sample_length must be a whole number of samples"),
        ("data", "kits", "data must be an object"),
        ("epochs", -3, "epochs must be a whole number 0 or more"),
        ("kind", "banjo", "kind must be one of dense_ae"),
        ("losses", {"loss": "low"}, "losses.loss must be a finite number"),
        ("preprocessing", {"length": "x"}, "preprocessing.length must be a whole number of samples"),
        ("preprocessing", {"length": 8192}, "preprocessing.length (8192) differs from sample_length"),
        ("version", 0, "version must be a whole number 1 or more"),
    ],
)
def test_a_wrong_field_is_refused_with_one_line(field, value, reason):
    values = shipped_card()
    values[field] = value
    with pytest.raises(CardError) as caught:
        ModelCard.from_dict(values)
    assert str(caught.value).startswith(reason)
    assert "\n" not in str(caught.value)


def test_unknown_keys_are_kept_for_newer_writers():
    values = {**shipped_card(), "version": CARD_VERSION + 1, "mood": {"bright": True}}
    card = ModelCard.from_dict(values)
    assert card.extra == {"mood": {"bright": True}}
    assert card.to_dict()["mood"] == {"bright": True} and card.version == CARD_VERSION + 1


def test_a_kind_the_registry_gains_later_is_valid(monkeypatch):
    import models.registry

    monkeypatch.setattr(models.registry, "KINDS", (*models.registry.KINDS, "ddsp_vae"))
    assert ModelCard.from_dict({**shipped_card(), "kind": "ddsp_vae"}).kind == "ddsp_vae"


def test_the_card_is_frozen_and_its_dict_is_a_copy():
    card = ModelCard.from_dict(shipped_card())
    with pytest.raises(AttributeError):
        card.sample_rate = 44100
    card.to_dict()["data"]["folder"] = "elsewhere"
    assert card.data_folder == "../data/kits"


def test_a_damaged_card_file_names_the_file(tmp_path):
    path = tmp_path / "card.json"
    path.write_text("{not json")
    with pytest.raises(ModelUnavailableError, match=r"card.json: damaged"):
        read_card(path)
    path.write_text(json.dumps({**shipped_card(), "kind": "gan"}))
    with pytest.raises(CardError, match=r"card.json: kind is 'gan', the registry's model is 'dense_ae'"):
        read_card(path, expected_kind="dense_ae")


def test_reading_a_card_imports_no_tensorflow():
    code = (
        "import sys; from models.card import read_card; from models.zoo import list_models;"
        f"read_card({str(SHIPPED / 'gan' / 'card.json')!r}); list_models({str(SHIPPED)!r});"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    assert out.stdout.split() == ["False", "False"]


def test_one_wrong_card_leaves_the_other_fifteen_listed(tmp_path, capsys):
    zoo = zoo_copy(tmp_path)
    card_path = zoo / "ae_small_tanh" / "card.json"
    card_path.write_text(json.dumps({**shipped_card(), "data": "kits"}))
    assert app.main(["models", "--models", str(zoo)]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("ae_small_tanh "))
    assert "no: " in row and "card.json: data must be an object" in row
    assert "15 of 16 trained" in out


@pytest.mark.parametrize("verb", ["generate", "encode"])
def test_a_card_with_a_text_sample_rate_makes_generate_and_encode_exit_1(verb, tmp_path, capsys):
    zoo = zoo_copy(tmp_path)
    card_path = zoo / "ae_small_tanh" / "card.json"
    card_path.write_text(json.dumps({**shipped_card(), "sample_rate": "fast"}))
    source = tmp_path / "in.wav"
    import numpy as np
    import soundfile as sf

    sf.write(source, np.zeros(2000, np.float32), 22050)
    argv = (
        ["generate", "ae_small_tanh", "--at", "0,0", "-o", str(tmp_path / "out.wav")]
        if verb == "generate"
        else ["encode", "ae_small_tanh", str(source)]
    )
    assert app.main([*argv, "--models", str(zoo)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [err]
    assert "ae_small_tanh is unavailable:" in err
    assert "card.json: sample_rate must be a whole number of Hz" in err
    assert not (tmp_path / "out.wav").exists()
