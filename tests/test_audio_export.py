"""WAV export and the favourites folder: round trips, atomic writes, no overwrites, recall."""

import errno
import json
import os
from datetime import datetime

import numpy as np
import pytest
import soundfile
import soxr

import drums
from audio import export
from audio.errors import AudioError
from audio.export import FavouritesFolder, favourite_stem, write_wav
from audio.recall import read_recall

RATE = 22050
# The largest error a format may add to a sample in [-1, 1].
TOLERANCE = {"PCM_16": 1.01 / 32768, "PCM_24": 1.01 / 2**23, "FLOAT": 0.0}


@pytest.fixture
def snare():
    return drums.snare(seed=3, sr=RATE, seconds=0.2)


def leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "FLOAT"])
@pytest.mark.parametrize("out_rate", [44100, None])
def test_wav_round_trip_keeps_format_rate_and_samples(tmp_path, snare, subtype, out_rate):
    path = write_wav(tmp_path / "s.wav", snare, RATE, out_rate=out_rate, subtype=subtype)
    info = soundfile.info(str(path))
    assert info.subtype == subtype and info.format == "WAV" and info.channels == 1
    expected = snare if out_rate is None else soxr.resample(snare, RATE, 44100, quality="HQ")
    assert info.samplerate == (out_rate or RATE)
    read, _ = soundfile.read(str(path), dtype="float32")
    assert read.shape == expected.shape
    assert np.max(np.abs(read - expected)) <= TOLERANCE[subtype]
    assert leftovers(tmp_path) == []


def test_default_export_is_16_bit_at_44100(tmp_path, snare):
    info = soundfile.info(str(write_wav(tmp_path / "s.wav", snare, RATE)))
    assert (info.samplerate, info.subtype) == (44100, "PCM_16")


def test_normalize_puts_the_peak_at_minus_0_1_dbfs(tmp_path, snare):
    path = write_wav(tmp_path / "n.wav", snare * 0.1, RATE, out_rate=None, subtype="FLOAT", normalize=True)
    read, _ = soundfile.read(str(path), dtype="float32")
    assert np.max(np.abs(read)) == pytest.approx(10 ** (-0.1 / 20), rel=1e-6)
    silence = write_wav(tmp_path / "z.wav", np.zeros(100), RATE, out_rate=None, normalize=True)
    assert not np.any(soundfile.read(str(silence))[0])


def test_stereo_is_written_as_stereo(tmp_path, snare):
    stereo = np.stack([snare, -snare], axis=1)
    read, rate = soundfile.read(str(write_wav(tmp_path / "st.wav", stereo, RATE, subtype="FLOAT")))
    assert read.shape[1] == 2 and rate == 44100
    np.testing.assert_allclose(read[:, 0], -read[:, 1])


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"subtype": "MP3"}, "unknown WAV format"),
        ({"audio": np.zeros(0)}, "non-empty"),
        ({"audio": np.zeros((2, 2, 2))}, "non-empty"),
        ({"audio": np.array([0.0, np.nan])}, "NaN"),
        ({"sample_rate": 0}, "sample rate"),
        ({"sample_rate": 22050.5}, "sample rate"),
        ({"out_rate": -1}, "output rate"),
    ],
)
def test_bad_audio_or_options_are_refused_with_a_reason(tmp_path, snare, kwargs, reason):
    arguments = {"audio": snare, "sample_rate": RATE, **kwargs}
    with pytest.raises(AudioError, match=reason):
        write_wav(tmp_path / "bad.wav", arguments.pop("audio"), arguments.pop("sample_rate"), **arguments)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, snare, monkeypatch):
    path = write_wav(tmp_path / "keep.wav", snare, RATE)
    before = path.read_bytes()

    def disk_full(file, data, rate, subtype):
        file.write(b"RIFF partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export, "_write_wav_to", disk_full)
    with pytest.raises(AudioError, match="No space left"):
        write_wav(path, snare * 0.5, RATE)
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_a_missing_folder_is_reported(tmp_path, snare):
    with pytest.raises(AudioError, match="cannot write"):
        write_wav(tmp_path / "nope" / "s.wav", snare, RATE)


def test_favourite_names_say_model_point_and_counter(tmp_path, snare):
    folder = FavouritesFolder(tmp_path / "favs")
    first = folder.save(snare, RATE, model="vae_c", point=(0.5213, -1.2))
    second = folder.save(snare, RATE, model="vae_c", point=(0.5213, -1.2))
    assert first.name == "vae_c_x+0.52_y-1.20_001.wav"
    assert second.name == "vae_c_x+0.52_y-1.20_002.wav"
    assert first.with_suffix(".json").is_file()
    assert favourite_stem("a/b c", (-0.001, 3)) == "a_b_c_x+0.00_y+3.00"
    assert leftovers(tmp_path / "favs") == []


def test_saving_never_overwrites_an_existing_file(tmp_path, snare):
    folder = FavouritesFolder(tmp_path)
    taken = tmp_path / "gan_x+0.00_y+0.00_001.wav"
    taken.write_bytes(b"someone else's file")
    path = folder.save(snare, RATE, model="gan", point=(0, 0))
    assert path.name.endswith("_002.wav")
    assert taken.read_bytes() == b"someone else's file"


def test_a_name_taken_between_scan_and_write_is_skipped(tmp_path, snare, monkeypatch):
    # Two savers racing: both scanned the folder before either wrote.
    folder = FavouritesFolder(tmp_path)
    monkeypatch.setattr(FavouritesFolder, "_next_counter", lambda self, stem: 1)
    first = folder.save(snare, RATE, model="gan", point=(1, 1))
    first_bytes = first.read_bytes()
    second = folder.save(snare * 0.5, RATE, model="gan", point=(1, 1))
    assert (first.name[-7:], second.name[-7:]) == ("001.wav", "002.wav")
    assert first.read_bytes() == first_bytes


def test_without_hard_links_names_are_still_never_reused(tmp_path, snare, monkeypatch):
    def no_links(source, target):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    monkeypatch.setattr(FavouritesFolder, "_next_counter", lambda self, stem: 1)
    folder = FavouritesFolder(tmp_path)
    first = folder.save(snare, RATE, model="gan", point=(1, 1))
    first_bytes = first.read_bytes()
    second = folder.save(snare * 0.5, RATE, model="gan", point=(1, 1))
    assert second != first and first.read_bytes() == first_bytes
    assert soundfile.info(str(second)).frames > 0
    assert leftovers(tmp_path) == []


def test_the_sidecar_reads_back_model_point_settings_rates_and_date(tmp_path, snare):
    settings = {"gap_seconds": 0.25, "volume": 0.8, "preprocess": {"sample_rate": RATE}}
    path = FavouritesFolder(tmp_path).save(
        snare, RATE, model="ae_small_relu", point=(-0.25, 2.5), settings=settings, out_rate=None, subtype="PCM_24"
    )
    recall = read_recall(path)
    assert recall["model"] == "ae_small_relu"
    assert recall["point"] == (-0.25, 2.5)
    assert recall["settings"] == settings
    assert recall["sample_rate"] == RATE and recall["file_rate"] == RATE
    assert recall["subtype"] == "PCM_24"
    assert datetime.fromisoformat(recall["date"]).tzinfo is not None
    assert read_recall(path.with_suffix(".json")) == recall


def test_entries_list_newest_first(tmp_path, snare):
    folder = FavouritesFolder(tmp_path)
    saved = [folder.save(snare, RATE, model="vae_a", point=(k, 0)) for k in range(3)]
    assert [entry.path for entry in folder.entries()] == saved[::-1]
    entry = folder.entries()[0]
    assert (entry.model, entry.point, entry.reason) == ("vae_a", (2.0, 0.0), None)
    assert FavouritesFolder(tmp_path / "not yet").entries() == []


@pytest.mark.parametrize(
    ("sidecar", "reason"),
    [
        (None, "no recall data"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"point": [0, 0]}', "no model name"),
        ('{"model": "gan", "point": [0]}', "no latent point"),
        ('{"model": "gan", "point": [0, "x"]}', "no latent point"),
        ('{"model": "gan", "point": [0, 0], "settings": 3}', "settings"),
        ('{"model": "gan", "point": [0, 0], "sample_rate": -5}', "sample rate"),
    ],
)
def test_a_bad_sidecar_gives_a_reason_not_a_crash(tmp_path, snare, sidecar, reason):
    folder = FavouritesFolder(tmp_path)
    good = folder.save(snare, RATE, model="gan", point=(0, 1))
    bad = folder.save(snare, RATE, model="gan", point=(0, 2))
    if sidecar is None:
        bad.with_suffix(".json").unlink()
    else:
        bad.with_suffix(".json").write_text(sidecar)
    with pytest.raises(AudioError, match=reason) as caught:
        read_recall(bad)
    assert bad.stem in str(caught.value)
    entries = {entry.path: entry for entry in folder.entries()}
    assert entries[bad].recall is None and reason in entries[bad].reason
    assert entries[good].recall["point"] == (0.0, 1.0)


def test_unsaveable_settings_or_points_write_nothing(tmp_path, snare):
    folder = FavouritesFolder(tmp_path)
    with pytest.raises(AudioError, match="JSON"):
        folder.save(snare, RATE, model="gan", point=(0, 0), settings={"f": object()})
    with pytest.raises(AudioError, match="latent point"):
        folder.save(snare, RATE, model="gan", point=(0, float("nan")))
    with pytest.raises(AudioError, match="latent point"):
        folder.save(snare, RATE, model="gan", point=(1, 2, 3))
    assert list(tmp_path.iterdir()) == []


def test_a_favourites_root_that_is_a_file_is_reported(tmp_path, snare):
    root = tmp_path / "file"
    root.write_text("x")
    with pytest.raises(AudioError, match="favourites folder"):
        FavouritesFolder(root).save(snare, RATE, model="gan", point=(0, 0))


def test_sidecar_is_plain_json(tmp_path, snare):
    path = FavouritesFolder(tmp_path).save(snare, RATE, model="gan", point=(0.5, 0.5))
    data = json.loads(path.with_suffix(".json").read_text())
    assert set(data) >= {"model", "point", "settings", "sample_rate", "date"}


def test_a_variation_is_named_by_its_number_and_the_level_is_recorded(tmp_path):
    from audio.level import NORMALISED, loudness_db

    folder = FavouritesFolder(tmp_path)
    quiet = (0.01 * np.sin(np.linspace(0, 400, 8000))).astype(np.float32)
    plain = folder.save(quiet, 22050, model="vae_c", point=(0.5, -1.2), level=NORMALISED)
    third = folder.save(quiet, 22050, model="vae_c", point=(0.5, -1.2), settings={"variation": {"index": 3, "seed": 1}})
    again = folder.save(quiet, 22050, model="vae_c", point=(0.5, -1.2), settings={"variation": {"index": 3, "seed": 2}})
    assert [p.name for p in (plain, third, again)] == [
        "vae_c_x+0.50_y-1.20_001.wav",
        "vae_c_x+0.50_y-1.20_v3.wav",
        "vae_c_x+0.50_y-1.20_v3_002.wav",
    ]
    assert read_recall(plain)["level"] == NORMALISED and read_recall(third)["level"] == "as made"
    saved, _ = soundfile.read(plain, dtype="float32")
    assert abs(loudness_db(saved) - (-18.0)) < 0.5


def test_a_sidecar_with_an_unknown_level_is_refused_with_its_reason(tmp_path):

    wav = FavouritesFolder(tmp_path).save(np.full(100, 0.1, np.float32), 22050, model="m", point=(0, 0))
    recall = json.loads(wav.with_suffix(".json").read_text())
    wav.with_suffix(".json").write_text(json.dumps({**recall, "level": "loud"}))
    with pytest.raises(AudioError, match="recall level must be one of as made, normalised, not 'loud'"):
        read_recall(wav)
