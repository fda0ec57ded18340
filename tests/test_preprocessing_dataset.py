"""Loading a dataset folder: arrays, labels, settings, the cache, and the fixed kit split."""

import numpy as np
import pytest
import soundfile as sf

from drums import hat, kick, snare
from preprocessing import dataset as ds
from preprocessing.dataset import load_dataset
from preprocessing.errors import DatasetError
from preprocessing.pipeline import preprocess
from preprocessing.settings import PreprocessSettings
from preprocessing.split import choose_validation_kits

SETTINGS = PreprocessSettings(length=1024)


def make_kits(root, kits=7, per_kit=3):
    generators = [kick, snare, hat]
    for k in range(kits):
        folder = root / f"kit{k}"
        folder.mkdir(parents=True)
        for i in range(per_kit):
            make = generators[i % 3]
            sf.write(folder / f"{make.__name__}{i}.wav", make(seed=10 * k + i, sr=22050, seconds=0.1), 22050)
    return root


@pytest.fixture
def folder(tmp_path):
    make_kits(tmp_path / "src")
    preprocess([tmp_path / "src"], tmp_path / "data", SETTINGS, jobs=1)
    return tmp_path / "data"


def test_load_gives_arrays_labels_and_settings(folder):
    data = load_dataset(folder)
    assert data.audio.shape == (21, 1024) and data.audio.dtype == np.float32
    assert len(data) == 21 and data.settings == SETTINGS
    for field in (data.families, data.names, data.files, data.sources, data.kits, data.is_validation):
        assert field.shape == (21,)
    assert set(data.families) == {"kick", "snare", "hat"}
    assert data.names[0] == "hat2" and data.files[0] == "kit0__hat2.wav" and data.kits[0] == "kit0"
    assert np.all(np.argmax(np.abs(data.audio), axis=1) == SETTINGS.attack_samples)
    first, _ = sf.read(folder / data.files[0], dtype="float32")
    np.testing.assert_array_equal(data.audio[0], first)


def test_split_holds_out_whole_kits(folder):
    data = load_dataset(folder)
    train, validation = data.train(), data.validation()
    assert len(train) + len(validation) == len(data) and len(validation) > 0
    assert not set(train.kits) & set(validation.kits)
    assert sorted(set(validation.kits)) == data.validation_kits == validation.validation_kits
    assert validation.is_validation.all() and not train.is_validation.any()
    assert len(validation) / len(data) <= 0.15


def test_split_is_fixed_and_near_fifteen_percent():
    counts = {f"kit{i}": n for i, n in enumerate([14, 86, 27, 32, 124, 86, 65, 15, 16, 52, 40, 16, 106, 16, 27, 131])}
    chosen = choose_validation_kits(counts)
    assert chosen == choose_validation_kits(dict(reversed(list(counts.items()))))  # order-free
    share = sum(counts[k] for k in chosen) / sum(counts.values())
    assert 0.10 <= share <= 0.15
    assert choose_validation_kits({"only": 50}) == []
    assert choose_validation_kits({"big": 50, "small": 10}) == ["small"]  # nothing fits 15%: smallest
    assert choose_validation_kits({"a": 50, "b": 50}) == ["a"] or choose_validation_kits({"a": 50, "b": 50}) == ["b"]


def test_cache_is_used_and_invalidated_when_the_manifest_changes(folder, monkeypatch):
    caches = list(folder.glob("cache-*.npy"))
    assert len(caches) == 1  # written by the batch
    real_read = sf.read
    monkeypatch.setattr(ds.sf, "read", lambda *a, **k: pytest.fail("WAVs read despite a current cache"))
    cached = load_dataset(folder)
    monkeypatch.setattr(ds.sf, "read", real_read)

    manifest = folder / "manifest.csv"
    rows = manifest.read_text().splitlines()
    victim = rows[1].split(",")[0]
    manifest.write_text("\n".join([rows[0]] + rows[2:]) + "\n")  # drop one sample
    reloaded = load_dataset(folder)
    assert len(reloaded) == len(cached) - 1 and victim not in reloaded.files
    assert [p.name for p in folder.glob("cache-*.npy")] != [c.name for c in caches]
    assert len(list(folder.glob("cache-*.npy"))) == 1  # the old cache is gone


def test_cache_is_invalidated_when_a_wav_changes(folder):
    data = load_dataset(folder)
    sf.write(folder / data.files[3], np.zeros(1024, dtype=np.float32), 22050, subtype="FLOAT")
    assert np.all(load_dataset(folder).audio[3] == 0)


def test_not_a_dataset_is_a_dataset_error(tmp_path):
    with pytest.raises(DatasetError, match="no such dataset folder"):
        load_dataset(tmp_path / "nowhere")
    (tmp_path / "plain").mkdir()
    with pytest.raises(DatasetError, match="not a dataset .no manifest.csv.; make one with: python app.py preprocess"):
        load_dataset(tmp_path / "plain")
    (tmp_path / "plain" / "manifest.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DatasetError, match="damaged dataset"):
        load_dataset(tmp_path / "plain")


def test_missing_or_wrong_wav_is_a_dataset_error(folder):
    data = load_dataset(folder)
    for cache in folder.glob("cache-*.npy"):
        cache.unlink()
    sf.write(folder / data.files[1], np.zeros(10, dtype=np.float32), 22050)
    with pytest.raises(DatasetError, match="expected 1024 at 22050 Hz; run preprocess again"):
        load_dataset(folder)
    (folder / data.files[1]).unlink()
    with pytest.raises(DatasetError, match="listed in manifest.csv but missing"):
        load_dataset(folder)


def test_dataset_with_no_usable_samples_is_an_error(tmp_path):
    (tmp_path / "src").mkdir()
    sf.write(tmp_path / "src" / "quiet.wav", np.zeros(2000, dtype=np.float32), 22050)
    preprocess([tmp_path / "src"], tmp_path / "data", SETTINGS, jobs=1)
    with pytest.raises(DatasetError, match="no usable samples"):
        load_dataset(tmp_path / "data")
