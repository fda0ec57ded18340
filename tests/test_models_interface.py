"""The one model interface (models.interface.ModelProtocol) and the registry's model facts:
every model answers the same attributes, callers read them without guessing, and each fact
a surface shows or acts on is the registry's, the same as before it moved there."""

import ast
import json
import re
from pathlib import Path

import pytest

from models.interface import ModelProtocol
from models.registry import DENSE_UNITS, REGISTRY, TRAINABLE_NAMES, get_spec

ROOT = Path(__file__).resolve().parent.parent
TRAINED = ROOT / "trained"
#: the model classes and their base: the only code that may look inside a model
MODEL_CLASSES = {"models/engine.py", "models/keras_loader.py", "models/trained_folder.py", "models/interface.py"}


def _product_files():
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.split("/")[0] in (".venv", "tests", "build", "site") or relative.startswith("."):
            continue
        yield relative, path


def test_no_caller_guesses_a_models_attributes_with_getattr():
    guesses = re.compile(r"\b(hasattr|getattr)\((model|served\.model|state\.model|self\.model)\b")
    found = [
        f"{relative}:{number}"
        for relative, path in _product_files()
        if relative not in MODEL_CLASSES
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if guesses.search(line)
    ]
    assert found == []


def test_no_caller_reads_the_card_as_a_dict():
    found = []
    for relative, path in _product_files():
        for node in ast.walk(ast.parse(path.read_text())):
            # model.card["..."], model.card.get(...)
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "card":
                found.append(f"{relative}:{node.lineno}")
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "get"
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "card"
            ):
                found.append(f"{relative}:{node.lineno}")
    assert found == []


@pytest.mark.parametrize("name", ["gan", "ae_small_tanh", "vae_a", "ddsp_vae"])
def test_a_shipped_model_on_the_engine_is_a_model_protocol(name):
    from models.card import ModelCard
    from models.engine import load_runtime

    model = load_runtime(name, TRAINED)
    assert isinstance(model, ModelProtocol)
    assert isinstance(model.card, ModelCard) and model.card.name == name
    assert model.spec is get_spec(name)
    assert model.has_noise_source == (name == "ddsp_vae")
    assert model.takes_family == (name != "gan") and (model.family_pads is None) == (name == "gan")


def test_the_test_doubles_are_model_protocols_too():
    from web_fakes import FakeModel as PageFake

    from gui_fakes import FakeConditionedModel
    from gui_fakes import FakeModel as WindowFake

    for model in (WindowFake("ae_small_tanh"), FakeConditionedModel(), PageFake()):
        assert isinstance(model, ModelProtocol)


def test_the_window_lists_models_in_the_groups_it_did():
    expected = {
        **{f"ae_{size}_{act}": f"Dense AE, {size}" for size in DENSE_UNITS for act in ("relu", "tanh", "sigmoid")},
        "conv_ae": "Convolutional",
        "gan": "Convolutional",
        "vae_a": "VAEs",
        "vae_b": "VAEs",
        "vae_c": "VAEs",
        "ddsp_vae": "Synth decoders",
        "ddsp_cvae": "Synth decoders",
    }
    assert {name: spec.list_group for name, spec in REGISTRY.items()} == expected


def test_the_page_words_are_the_registrys():
    from web_fakes import FakeModel

    from web.catalogue import kind_words

    assert kind_words(FakeModel("ae_big_relu")).startswith("A big dense network")
    assert kind_words(FakeModel("vae_b", "vae")).startswith("A variational network with a smooth map")
    assert kind_words(FakeModel("ddsp_vae", "vae")) == get_spec("ddsp_vae").words
    assert "Vary plays a new take" in get_spec("ddsp_vae").words
    assert "choose a family" in get_spec("ddsp_cvae").words
    assert all(get_spec(name).words for name in TRAINABLE_NAMES)


def test_the_priors_give_the_pads_and_cards_they_did():
    assert get_spec("gan").prior.square() == (-1.0, 1.0, -1.0, 1.0)
    assert get_spec("gan").prior.card_record() == {"prior": "uniform", "low": -1.0, "high": 1.0}
    for name in ("vae_a", "ddsp_vae", "ddsp_cvae"):
        assert get_spec(name).prior.square() == (-3.0, 3.0, -3.0, 3.0)
        assert get_spec(name).prior.card_record() == {"prior": "normal", "mean": 0.0, "std": 1.0}
    for name in ("ae_small_relu", "conv_ae"):
        assert get_spec(name).prior.square() is None and get_spec(name).prior.card_record() == {"prior": None}
    # what training writes is what the shipped cards recorded
    for card_path in sorted(TRAINED.glob("*/card.json")):
        card = json.loads(card_path.read_text())
        assert get_spec(card["name"]).prior.card_record() == card["latent"], card["name"]


def test_noise_sources_and_family_pads_are_registry_capabilities():
    assert [name for name in TRAINABLE_NAMES if get_spec(name).noise_source] == ["ddsp_vae", "ddsp_cvae"]
    pads = [name for name in TRAINABLE_NAMES if get_spec(name).family_pads]
    assert "gan" not in pads and "ddsp_cvae" not in pads and len(pads) == len(TRAINABLE_NAMES) - 2
    assert all(get_spec(name).takes_family for name in pads + ["ddsp_cvae"])


@pytest.mark.parametrize("name, spans_default", [("ae_small_tanh", True), ("vae_a", False)])
def test_a_damaged_codes_file_is_noted_with_where_the_pad_spans(tmp_path, name, spans_default):
    import shutil

    from models.zoo import model_status

    shutil.copytree(TRAINED / name, tmp_path / name)
    (tmp_path / name / "codes.npz").write_bytes(b"not an archive")
    status = model_status(name, tmp_path)
    assert status.trained and "has no training dots, family pads or nearest sounds" in status.note
    # an autoencoder's pad comes from its codes, so without them it spans the default square;
    # a VAE's comes from its prior
    assert status.note.endswith("its pad spans -1 to 1, not its codes' range") == spans_default
