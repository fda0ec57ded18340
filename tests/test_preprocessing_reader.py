"""Reading one file: every kind of bad input becomes a one-line reason, never a traceback."""

import numpy as np
import pytest
import soundfile as sf

from drums import hat, snare
from preprocessing.errors import AudioInputError
from preprocessing.reader import MAX_SECONDS, prepare_file, prepare_file_with_info
from preprocessing.settings import PreprocessSettings


def write(path, data, sr=44100, subtype="PCM_16", format=None):
    sf.write(path, data, sr, subtype=subtype, format=format)
    return path


def reason_for(path, settings=PreprocessSettings()):
    with pytest.raises(AudioInputError) as caught:
        prepare_file(path, settings)
    reason = str(caught.value)
    assert reason and "\n" not in reason and "Traceback" not in reason
    return caught.value


def test_good_file_becomes_one_sample(tmp_path):
    path = write(tmp_path / "snare.wav", snare(seed=1))
    y, info = prepare_file_with_info(path)
    assert y.shape == (16384,) and y.dtype == np.float32
    assert (info.sample_rate, info.channels, info.frames) == (44100, 1, 22050)
    assert int(np.argmax(np.abs(y))) == 220


def test_empty_file_is_rejected_with_reason(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    error = reason_for(tmp_path / "empty.wav")
    assert str(error) == "empty file (0 bytes)" and error.kind == "empty"


def test_header_without_frames_is_rejected_as_empty(tmp_path):
    path = write(tmp_path / "noframes.wav", np.zeros(0, dtype=np.float32))
    assert reason_for(path).kind == "empty"


def test_not_audio_is_rejected_with_reason(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("these are my drum notes, not a recording\n" * 20)
    error = reason_for(path)
    assert error.kind == "not audio" and "not an audio file" in str(error)


def test_truncated_wav_is_rejected_with_reason(tmp_path):
    path = write(tmp_path / "cut.wav", snare(seed=2))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    error = reason_for(path)
    assert error.kind == "truncated" and "header promises" in str(error)


def test_truncated_header_is_rejected_with_reason(tmp_path):
    path = write(tmp_path / "cut-header.wav", snare(seed=2))
    path.write_bytes(path.read_bytes()[:30])
    assert reason_for(path).kind == "truncated"


def test_truncated_aiff_and_flac_are_rejected_with_reason(tmp_path):
    for name in ("cut.aiff", "cut.flac"):
        path = write(tmp_path / name, snare(seed=4, seconds=1.0))
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        error = reason_for(path)
        assert error.kind == "truncated", (name, str(error))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_infinite_samples_are_rejected(tmp_path, bad):
    y = snare(seed=1)
    y[100] = bad
    path = write(tmp_path / "bad.wav", y, subtype="FLOAT")
    error = reason_for(path)
    assert str(error) == "contains NaN or infinite samples" and error.kind == "not finite"


def test_silence_is_rejected_with_its_level(tmp_path):
    error = reason_for(write(tmp_path / "silence.wav", np.zeros(4410, dtype=np.float32)))
    assert error.kind == "silent" and "-inf dBFS" in str(error)
    quiet = write(tmp_path / "quiet.wav", 1e-5 * snare(seed=1), subtype="FLOAT")
    assert "silent (peak -102 dBFS" in str(reason_for(quiet))


def test_one_sample_file_is_too_short(tmp_path):
    error = reason_for(write(tmp_path / "one.wav", np.array([0.5], dtype=np.float32)))
    assert error.kind == "too short" and "1 sample" in str(error)


def test_six_channels_are_refused_by_default_with_a_hint(tmp_path):
    block = np.zeros((8820, 6), dtype=np.float32)
    block[:, 3] = snare(seed=1, seconds=0.2)
    path = write(tmp_path / "surround.wav", block)
    error = reason_for(path)
    assert error.kind == "too many channels"
    assert str(error) == "6 channels: only mono and stereo are mixed down; pass --channel N to take one channel"
    # with a channel chosen, the same file is fine
    y = prepare_file(path, PreprocessSettings(channel=3))
    assert int(np.argmax(np.abs(y))) == 220
    assert reason_for(path, PreprocessSettings(channel=0)).kind == "silent"  # channel 0 holds nothing
    assert reason_for(path, PreprocessSettings(channel=6)).kind == "no such channel"


def test_stereo_file_mixes_down_and_channel_picks_one(tmp_path):
    left, right = snare(seed=1, seconds=0.3), hat(seed=2, seconds=0.3)
    path = write(tmp_path / "stereo.wav", np.stack([left, right], axis=1), sr=22050, subtype="FLOAT")
    mixed = prepare_file(path, PreprocessSettings(length=2048))
    right_only = prepare_file(path, PreprocessSettings(length=2048, channel=1))
    expected = np.zeros(2048, dtype=np.float32)
    source = (left + right) / 2
    peak = int(np.argmax(np.abs(source)))
    part = source[peak - 220 : peak - 220 + 2048]
    expected[: part.size] = part
    np.testing.assert_allclose(mixed, expected, atol=1e-7)
    assert int(np.argmax(np.abs(right_only))) == 220
    assert not np.allclose(mixed, right_only)


def test_8khz_is_refused_because_upsampling_cannot_add_highs(tmp_path):
    error = reason_for(write(tmp_path / "phone.wav", snare(seed=1, sr=8000), sr=8000))
    assert error.kind == "sample rate too low"
    assert str(error) == "sample rate 8000 Hz is below the 22050 Hz target (upsampling cannot restore the highs above 4000 Hz)"
    # what is refused depends on the target: at --sr 8000 it is fine
    assert prepare_file(tmp_path / "phone.wav", PreprocessSettings(sample_rate=8000)).shape == (16384,)


def test_192khz_is_resampled(tmp_path):
    path = write(tmp_path / "hires.wav", snare(seed=1, sr=192000, seconds=0.3), sr=192000, subtype="PCM_24")
    y, info = prepare_file_with_info(path)
    assert info.sample_rate == 192000
    assert y.shape == (16384,) and int(np.argmax(np.abs(y))) == 220


def test_ten_minute_file_is_refused_before_reading_it(tmp_path, monkeypatch):
    path = tmp_path / "song.wav"
    with sf.SoundFile(path, "w", 22050, 1, subtype="PCM_16") as handle:
        handle.write(np.zeros(22050 * 600, dtype=np.int16))
    monkeypatch.setattr(sf.SoundFile, "read", lambda *a, **k: pytest.fail("a too-long file was read"))
    error = reason_for(path)
    assert error.kind == "too long" and str(error).startswith("too long: 600.0 s")
    assert error.info.frames == 22050 * 600  # the header facts still reach the manifest
    assert MAX_SECONDS < 600


def test_names_with_spaces_and_non_ascii_are_read(tmp_path):
    folder = tmp_path / "Kit ü 鼓"
    folder.mkdir()
    path = write(folder / "Snare drüm 1 ✓.wav", snare(seed=1))
    assert prepare_file(path).shape == (16384,)


def test_missing_file_is_a_reason(tmp_path):
    error = reason_for(tmp_path / "gone.wav")
    assert error.kind == "unreadable" and "cannot be opened" in str(error)
