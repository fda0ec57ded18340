"""Full and read-only disks: every write path ends in one line
naming the file and the reason, leaves no temporary file, and never hides the reason.

A small tmpfs (and a read-only one) is mounted where the machine allows it (CI runs as root);
elsewhere those tests skip and the injected-OSError tests below still run.
"""

import errno
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from disks import remount_read_only, tmpfs

import app
from drums import kick, snare

ROOT = Path(__file__).resolve().parents[1]
ZOO = ROOT / "trained"
MODEL = "ae_small_tanh"


def _fill(folder):
    """Fill a disk to the last byte."""
    fd = os.open(folder / "filler", os.O_CREAT | os.O_WRONLY, 0o644)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as error:
        assert error.errno == errno.ENOSPC
    finally:
        os.close(fd)


def all_files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def temporaries(folder):
    return [name for name in all_files(folder) if name.split("/")[-1].endswith((".tmp", ".new"))]


@pytest.fixture
def full_disk(tmp_path):
    with tmpfs(tmp_path / "full", "1m") as point:
        (point / "out").mkdir()
        _fill(point)
        yield point


@pytest.fixture
def read_only_disk(tmp_path):
    with tmpfs(tmp_path / "ro", "1m") as point:
        (point / "kept.wav").write_bytes(b"the user's file")
        remount_read_only(point)
        yield point


def one_line(capsys):
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and "\n" not in err, err
    return err


# ----------------------------------------------------------------------------- full


def test_generate_onto_a_full_disk_says_so_and_leaves_nothing(full_disk, capsys):
    target = full_disk / "out" / "x.wav"
    assert app.main(["generate", MODEL, "--at", "0,0", "-o", str(target), "--models", str(ZOO)]) == 1
    err = one_line(capsys)
    assert str(target) in err and "No space left on device" in err
    assert all_files(full_disk) == ["filler", "out"]


def test_training_onto_a_full_disk_stops_with_one_line_and_no_temporaries(full_disk, tmp_path, capsys):
    sources = tmp_path / "kit"
    sources.mkdir()
    for i in range(8):
        sf.write(sources / f"{'kick' if i % 2 else 'snare'}_{i}.wav", (kick if i % 2 else snare)(seed=i, seconds=0.1), 44100)
    data = tmp_path / "data"
    assert app.main(["preprocess", str(sources), "-o", str(data), "--length", "1024", "--jobs", "1"]) == 0
    capsys.readouterr()
    (full_disk / "filler").unlink()
    ballast = os.open(full_disk / "ballast", os.O_CREAT | os.O_WRONLY, 0o644)
    os.write(ballast, b"\0" * (1024 * 1024 - 64 * 1024))  # 64 KiB left: the first checkpoint fails
    os.close(ballast)
    zoo = full_disk / "out"
    status = app.main(["train", MODEL, "--data", str(data), "--epochs", "2", "--batch-size", "4", "--out", str(zoo), "--verbose", "0"])
    assert status == 1
    err = one_line(capsys)
    assert "No space left on device" in err and str(zoo) in err
    assert temporaries(full_disk) == []


def test_preprocess_onto_a_full_disk_stops_with_one_line_and_leaves_nothing(full_disk, tmp_path, capsys):
    sources = tmp_path / "kit"
    sources.mkdir()
    for i in range(3):
        sf.write(sources / f"kick_{i}.wav", kick(seed=i, seconds=0.1), 44100)
    out = full_disk / "out" / "data"
    assert app.main(["preprocess", str(sources), "-o", str(out), "--length", "1024", "--jobs", "1"]) == 1
    err = one_line(capsys)
    assert err.startswith("app.py preprocess: ") and "No space left on device" in err and str(out) in err
    assert temporaries(full_disk) == [] and not list(out.iterdir())


def test_a_wav_that_cannot_be_written_stops_the_run_and_leaves_no_dataset(tmp_path, monkeypatch):
    """A full disk is the disk's fault, not the source's: no dataset short of samples."""
    import preprocessing.pipeline as pipeline
    import preprocessing.workers as workers
    from preprocessing.settings import PreprocessSettings
    from safeio import WriteFailed

    sources = tmp_path / "kit"
    sources.mkdir()
    for i in range(3):
        sf.write(sources / f"kick_{i}.wav", kick(seed=i, seconds=0.1), 44100)
    real_write = workers.atomic_write_bytes

    def full_for_the_second(path, data, **kwargs):
        if str(path).endswith("kick_1.wav"):
            raise WriteFailed(errno.ENOSPC, f"{path}: cannot write (No space left on device)")
        return real_write(path, data, **kwargs)

    monkeypatch.setattr(workers, "atomic_write_bytes", full_for_the_second)
    with pytest.raises(pipeline.DatasetWriteError, match="No space left on device"):
        pipeline.preprocess([sources], tmp_path / "out", PreprocessSettings(length=1024), jobs=1)
    assert all_files(tmp_path / "out") == [] and [p.name for p in tmp_path.iterdir()] == ["kit", "out"]


# ----------------------------------------------------------------------------- read-only


@pytest.mark.parametrize("verb", ["generate", "encode"])
def test_writing_onto_a_read_only_disk_names_the_real_reason(verb, read_only_disk, tmp_path, capsys):
    source = tmp_path / "in.wav"
    sf.write(source, snare(seed=1, sr=22050, seconds=0.3), 22050)
    target = read_only_disk / "new.wav"
    argv = ["generate", MODEL, "--at", "0,0"] if verb == "generate" else ["encode", MODEL, str(source)]
    assert app.main([*argv, "-o", str(target), "--models", str(ZOO)]) == 1
    err = one_line(capsys)
    assert str(target) in err and "Read-only file system" in err
    assert all_files(read_only_disk) == ["kept.wav"]


def test_saving_a_favourite_onto_a_read_only_disk_is_one_audio_error(read_only_disk):
    from audio.errors import AudioError
    from audio.export import FavouritesFolder

    with pytest.raises(AudioError, match="Read-only file system") as caught:
        FavouritesFolder(read_only_disk).save(snare(seed=2, sr=22050, seconds=0.2), 22050, model="gan", point=(0, 0))
    assert "\n" not in str(caught.value)
    assert (read_only_disk / "kept.wav").read_bytes() == b"the user's file"


# ----------------------------------------------------------------------------- injected


def test_a_cleanup_that_fails_never_hides_the_first_error(tmp_path, monkeypatch):
    import safeio.atomic
    from safeio import WriteFailed, atomic_write

    real_unlink = os.unlink

    def read_only_unlink(path, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    def disk_full(file):
        file.write(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(safeio.atomic.os, "unlink", read_only_unlink)
    try:
        with pytest.raises(WriteFailed, match="No space left on device") as caught:
            atomic_write(tmp_path / "x.bin", disk_full)
    finally:
        monkeypatch.setattr(safeio.atomic.os, "unlink", real_unlink)
    assert caught.value.errno == errno.ENOSPC and str(caught.value).startswith(str(tmp_path / "x.bin"))


def test_a_full_disk_during_a_checkpoint_is_one_line(tmp_path, monkeypatch):
    import models.checkpoint as checkpoint
    from safeio import WriteFailed, leftover_temporaries

    def savez_full(file, **arrays):
        file.write(b"PK partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    class Fake:
        class trainer:
            weights = []

        optimizers = {}

    monkeypatch.setattr(checkpoint.np, "savez", savez_full)
    path = tmp_path / "m" / "checkpoint" / "checkpoint.npz"
    with pytest.raises(WriteFailed) as caught:
        checkpoint.save_checkpoint(path, Fake, {"epoch": 1})
    assert str(caught.value) == f"{path}: cannot write (No space left on device)"
    assert leftover_temporaries(path.parent) == [] and not path.exists()
    assert np.__name__ == "numpy"
