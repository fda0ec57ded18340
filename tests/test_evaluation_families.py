"""The drum-family classifier: fitting, JSON round trip, errors, the shipped file, its CLI."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from drums import drum_batch, preprocessed_kits
from evaluation.families import FAMILIES, FamilyClassifier, FamilyFileError, family_histogram, main, recognisable
from evaluation.features import FEATURE_NAMES, audio_features

SR = 22050
LENGTH = 4096
ROOT = Path(__file__).resolve().parents[1]


def _blobs(seed, per_family=20):
    """Well-separated Gaussian blobs, one per family, in the feature space's dimension."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(99).normal(0, 5, (len(FAMILIES), len(FEATURE_NAMES)))
    features = np.concatenate([c + rng.normal(0, 1, (per_family, len(FEATURE_NAMES))) for c in centres])
    labels = np.repeat(FAMILIES, per_family)
    return features, labels


@pytest.fixture(scope="module")
def drums():
    train, train_labels = drum_batch(36, LENGTH, seed=5)
    test, test_labels = drum_batch(18, LENGTH, seed=6)
    return train, train_labels, test, test_labels


@pytest.fixture(scope="module")
def drum_classifier(drums):
    train, labels, _, _ = drums
    return FamilyClassifier.fit(audio_features(train, SR), labels, SR, LENGTH)


def test_families_are_the_preprocessing_families_without_other():
    from preprocessing.labels import FAMILIES as LABEL_FAMILIES

    assert FAMILIES == tuple(f for f in LABEL_FAMILIES if f != "other")


def test_separable_families_are_told_apart_and_other_and_unknown_are_dropped():
    features, labels = _blobs(0)
    noise = np.random.default_rng(1).normal(0, 5, (10, len(FEATURE_NAMES)))
    classifier = FamilyClassifier.fit(
        np.concatenate([features, noise]), np.concatenate([labels, ["other"] * 5 + ["unknown"] * 5]), SR, LENGTH
    )
    assert classifier.families == FAMILIES
    test_features, test_labels = _blobs(2)
    assert classifier.accuracy(test_features, test_labels) == 1.0
    probabilities = classifier.proba_of_features(test_features)
    assert probabilities.shape == (len(test_features), len(FAMILIES))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert recognisable(probabilities) > 0.9


def test_classifier_fitted_on_synthetic_drums_names_new_ones(drums, drum_classifier):
    _, _, test, test_labels = drums
    assert drum_classifier.families == ("kick", "snare", "hat")
    predicted = drum_classifier.predict(test, SR)
    assert np.mean(np.array(predicted) == np.array(test_labels)) >= 0.8


def test_sounds_at_another_rate_and_length_are_brought_to_the_classifiers(drums, drum_classifier):
    from scipy.signal import resample_poly

    _, _, test, _ = drums
    doubled = resample_poly(test, 2, 1, axis=1).astype(np.float32)  # 44.1 kHz, twice as long
    at_native = drum_classifier.predict_proba(test, SR)
    at_double = drum_classifier.predict_proba(doubled, 2 * SR)
    assert at_double.shape == at_native.shape
    assert np.mean(at_double.argmax(axis=1) == at_native.argmax(axis=1)) >= 0.8


def test_json_round_trip_gives_the_same_probabilities(tmp_path, drums, drum_classifier):
    _, _, test, _ = drums
    path = drum_classifier.save(tmp_path / "families.json")
    data = json.loads(path.read_text())
    assert data["format"] == "family-classifier" and data["families"] == ["kick", "snare", "hat"]
    loaded = FamilyClassifier.load(path)
    np.testing.assert_allclose(loaded.predict_proba(test, SR), drum_classifier.predict_proba(test, SR), atol=1e-12)


def test_save_refuses_to_replace_a_file_unless_asked(tmp_path, drum_classifier):
    from safeio import FileExistsRefused

    path = tmp_path / "families.json"
    path.write_text("mine")
    with pytest.raises(FileExistsRefused):
        drum_classifier.save(path, overwrite=False)
    assert path.read_text() == "mine"


def test_one_family_is_not_enough_to_fit():
    features, _ = _blobs(0)
    with pytest.raises(ValueError, match="two families or more, got kick"):
        FamilyClassifier.fit(features, ["kick"] * len(features), SR, LENGTH)


@pytest.mark.parametrize(
    "content, reason",
    [
        (None, "cannot be read"),
        ("{not json", "not JSON"),
        ('{"format": "something else"}', "not a family classifier"),
        ('{"format": "family-classifier", "version": 99}', "format 99"),
        ('{"format": "family-classifier", "version": 1, "feature_names": ["x"]}', "other features"),
    ],
)
def test_unreadable_classifier_files_are_refused_with_their_reason(tmp_path, content, reason):
    path = tmp_path / "families.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(FamilyFileError) as caught:
        FamilyClassifier.load(path)
    assert str(caught.value).startswith(f"{path}: ") and reason in str(caught.value)


def test_classifier_file_with_arrays_of_the_wrong_shape_is_damaged(tmp_path, drum_classifier):
    data = drum_classifier.to_dict()
    data["coef"] = data["coef"][:1]
    path = tmp_path / "families.json"
    path.write_text(json.dumps(data))
    with pytest.raises(FamilyFileError, match="damaged"):
        FamilyClassifier.load(path)


def test_family_histogram_names_every_family_and_sums_to_one():
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.6, 0.3, 0.1]])
    histogram = family_histogram(probabilities, ("kick", "snare", "hat"))
    assert list(histogram) == list(FAMILIES)
    assert histogram["kick"] == pytest.approx(2 / 3) and histogram["snare"] == pytest.approx(1 / 3)
    assert histogram["tom"] == 0.0 and sum(histogram.values()) == pytest.approx(1.0)
    assert recognisable(probabilities) == pytest.approx((0.7 + 0.8 + 0.6) / 3)


def test_shipped_classifier_loads_and_names_sounds_without_tensorflow():
    script = (
        "import sys, numpy as np\n"
        "from evaluation.families import FamilyClassifier, FAMILIES\n"
        "c = FamilyClassifier.load('trained/families.json')\n"
        "assert c.families == FAMILIES, c.families\n"
        "p = c.predict_proba(np.random.default_rng(0).normal(0, .1, (2, 16384)), 22050)\n"
        "assert p.shape == (2, 7) and np.allclose(p.sum(axis=1), 1)\n"
        "assert c.facts['validation_accuracy'] > 0.5\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        check=False,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def dataset_folder(tmp_path_factory):
    """A preprocessed data set of six synthetic kits of mixed drums (one held out)."""
    root = tmp_path_factory.mktemp("families-cli")
    return preprocessed_kits(root / "sources", root / "data", 36, LENGTH, seed=41, kit_of=lambda i: f"kit_{i // 6}", sr=SR)


def test_cli_fits_on_a_data_set_and_saves_the_classifier(dataset_folder, tmp_path, capsys):
    out = tmp_path / "families.json"
    assert main([str(dataset_folder), "-o", str(out)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{out}: 3 families, held-out accuracy ")
    loaded = FamilyClassifier.load(out)
    assert loaded.sample_rate == SR and loaded.length == LENGTH
    assert loaded.facts["data"] == str(dataset_folder)


def test_cli_keeps_an_existing_file_without_force(dataset_folder, tmp_path, capsys):
    out = tmp_path / "families.json"
    out.write_text("mine")
    assert main([str(dataset_folder), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err == f"{out}: already exists (pass --force to replace it)\n"
    assert out.read_text() == "mine"
    assert main([str(dataset_folder), "-o", str(out), "--force"]) == 0
    assert FamilyClassifier.load(out).families == ("kick", "snare", "hat")


def test_cli_on_a_folder_that_is_not_a_data_set_fails_with_its_reason(tmp_path, capsys):
    assert main([str(tmp_path / "nowhere"), "-o", str(tmp_path / "f.json")]) == 1
    err = capsys.readouterr().err
    assert "nowhere" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "f.json").exists()
