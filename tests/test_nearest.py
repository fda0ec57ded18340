"""`generate --nearest`: the training sounds nearest a point, in the latent plane and in sound
features, with a stand-in model whose decoded sounds are known training sounds."""

import sys
import types

import numpy as np
import pytest
import soundfile

import app
from drums import hat, kick, snare
from evaluation.nearest import NearSound, TrainingFeatures, kit_of, nearest_in_features, nearest_in_plane
from models.card import ModelCard
from models.registry import get_spec
from models.trained_folder import LatentPlane

LENGTH = 2048
SR = 22050


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """A preprocessed dataset of nine synthetic drums in one kit folder."""
    root = tmp_path_factory.mktemp("nearest")
    sources = root / "MiniKit"
    sources.mkdir()
    for i, make in enumerate([kick, snare, hat] * 3):
        soundfile.write(sources / f"{make.__name__}_{i}.wav", make(i, sr=SR, seconds=0.1), SR)
    folder = root / "dataset"
    assert app.main(["preprocess", str(sources), "-o", str(folder), "--length", str(LENGTH), "--jobs", "1"]) == 0
    from preprocessing.dataset import load_dataset

    return load_dataset(folder)


class Codes:
    def __init__(self, points, names, families, files):
        self.points, self.names, self.families, self.files = points, names, families, files

    def __len__(self):
        return len(self.points)


@pytest.fixture
def stand_in(monkeypatch, dataset):
    """models.engine with vae_c: point (i, 0) decodes to training sound i, whose code is
    at (i, 0); gan has no codes. The card names a dataset folder that is not there."""
    codes = Codes(np.array([[i, 0.0] for i in range(len(dataset))], np.float32), dataset.names, dataset.families, dataset.files)

    class Model(LatentPlane):
        sample_rate = SR

        def __init__(self, name):
            self.name, self.kind = name, get_spec(name).kind
            self.codes = None if name == "gan" else codes
            self.card = ModelCard(
                name=name,
                kind=self.kind,
                sample_rate=SR,
                sample_length=dataset.audio.shape[1],
                data={"folder": str(dataset.folder.parent / "elsewhere")},
            )

        def latent_range(self):
            return (0.0, float(len(dataset)), -1.0, 1.0)

        def decode(self, points):
            index = np.clip(np.rint(np.asarray(points)[:, 0]).astype(int), 0, len(dataset) - 1)
            return dataset.audio[index]

    module = types.ModuleType("models.engine")
    module.load_runtime = lambda name, folder="trained": Model(name)
    monkeypatch.setitem(sys.modules, "models.engine", module)


def test_nearest_in_the_plane_are_sorted_by_distance_with_name_kit_and_family():
    codes = Codes(
        np.array([[0, 0], [3, 4], [1, 0], [0, 2]], np.float32),
        np.array(["A", "B", "C", "D"]),
        np.array(["kick", "snare", "hat", "tom"]),
        np.array(["Kit1__A__a.wav", "Kit2__B__b.wav", "Kit1__C__c.wav", "d.wav"]),
    )
    near = nearest_in_plane(codes, (0, 0), count=3)
    assert near == [
        NearSound("A", "Kit1", "kick", "Kit1__A__a.wav", 0.0),
        NearSound("C", "Kit1", "hat", "Kit1__C__c.wav", 1.0),
        NearSound("D", "", "tom", "d.wav", 2.0),
    ]
    assert near[0].describe() == "A (kit Kit1, kick)  distance 0.000"
    assert kit_of("Audiophob__Snare__x.wav") == "Audiophob"


def test_a_decoded_training_sound_is_nearest_itself_in_features(dataset):
    training = TrainingFeatures.of_dataset(dataset)
    near = nearest_in_features(training, dataset.audio[4], SR)
    assert len(near) == 5 and near[0].file == dataset.files[4] and near[0].distance == pytest.approx(0, abs=1e-6)
    assert near[1].distance > 0.1 and near[0].kit == dataset.kits[4]


def test_features_of_a_dataset_in_chunks_are_those_of_it_whole(dataset):
    from evaluation.features import audio_features

    whole = audio_features(dataset.audio, int(dataset.settings.sample_rate))
    chunked = TrainingFeatures.of_dataset(dataset, chunk=2).features
    assert chunked.shape == whole.shape and len(dataset.audio) > 2
    np.testing.assert_allclose(chunked, whole, rtol=1e-9, atol=1e-9)


def test_generate_nearest_prints_both_lists(stand_in, dataset, tmp_path, capsys):
    assert (
        app.main(["generate", "vae_c", "--at", "4,0", "-o", str(tmp_path / "x.wav"), "--nearest", "--data", str(dataset.folder)]) == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "nearest training sounds to vae_c at 4,0:"
    assert lines[2] == "  in the latent plane:"
    assert lines[3] == f"    1. {dataset.names[4]} (kit {dataset.kits[4]}, {dataset.families[4]})  distance 0.000"
    assert lines[8] == "  in sound features:"
    assert lines[9].startswith(f"    1. {dataset.names[4]} (kit {dataset.kits[4]}, ") and lines[9].endswith("distance 0.000")
    assert len(lines) == 14


def test_generate_nearest_says_in_one_line_when_the_dataset_is_not_here(stand_in, dataset, tmp_path, capsys):
    assert app.main(["generate", "vae_c", "--at", "4,0", "-o", str(tmp_path / "x.wav"), "--nearest"]) == 0
    lines = capsys.readouterr().out.splitlines()
    missing = dataset.folder.parent / "elsewhere"
    assert lines[-1] == f"  in sound features: none, the dataset {missing} is not on this machine; pass --data DIR"
    assert len(lines) == 9


def test_generate_nearest_for_a_model_without_codes_says_so(stand_in, dataset, tmp_path, capsys):
    assert app.main(["generate", "gan", "--at", "1,0", "-o", str(tmp_path / "x.wav"), "--nearest", "--data", str(dataset.folder)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2] == "  in the latent plane: none, gan has no training codes"
    assert lines[3] == "  in sound features:"


def test_generate_nearest_says_why_when_the_dataset_folder_is_not_a_dataset(stand_in, tmp_path, capsys):
    (tmp_path / "notdata").mkdir()
    assert (
        app.main(["generate", "vae_c", "--at", "4,0", "-o", str(tmp_path / "x.wav"), "--nearest", "--data", str(tmp_path / "notdata")])
        == 0
    )
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("  in sound features: none, the dataset cannot be read: ")


def test_the_original_of_a_listed_sound_is_found_or_its_absence_said(dataset, tmp_path):
    from evaluation.nearest import original_sound

    near = NearSound(dataset.names[0], dataset.kits[0], dataset.families[0], dataset.files[0], 0.0)
    assert original_sound(near, dataset.folder) == (dataset.folder / dataset.files[0], None)
    assert original_sound(near, tmp_path / "gone") == (None, f"the dataset {tmp_path / 'gone'} is not on this machine")
    assert original_sound(near, None) == (None, "no dataset is known for this model")
    sneaky = NearSound("x", "k", "kick", "../../etc/passwd", 0.0)
    assert original_sound(sneaky, dataset.folder) == (None, f"../../etc/passwd is not in {dataset.folder}")
