"""The one atomic-write helper and the folder lock."""
import errno
import os

import pytest

from safeio import (
    FileExistsRefused,
    FolderBusy,
    FolderLock,
    WriteFailed,
    atomic_write,
    atomic_write_bytes,
    leftover_temporaries,
    temporary_name,
)


def test_write_replaces_whole_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "a.bin"
    atomic_write_bytes(target, b"one")
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    assert leftover_temporaries(tmp_path) == []


def test_no_overwrite_refuses_and_keeps_the_file(tmp_path):
    target = tmp_path / "mine.wav"
    target.write_bytes(b"user data")
    with pytest.raises(FileExistsRefused, match="mine.wav: already exists"):
        atomic_write_bytes(target, b"new", overwrite=False)
    assert target.read_bytes() == b"user data"
    assert leftover_temporaries(tmp_path) == []


def test_failing_writer_leaves_target_and_no_temporary(tmp_path):
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")

    def write(file):
        file.write(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(WriteFailed, match=r"a.bin: cannot write \(No space left on device\)"):
        atomic_write(target, write)
    assert target.read_bytes() == b"old"
    assert leftover_temporaries(tmp_path) == []


def test_temporary_names_carry_pid_and_random_part(tmp_path):
    first, second = temporary_name(tmp_path / "x"), temporary_name(tmp_path / "x")
    assert first != second and f".{os.getpid()}." in first.name
    first.write_bytes(b"")
    assert leftover_temporaries(tmp_path) == [first]


def test_lock_refuses_a_live_holder_and_takes_over_a_stale_one(tmp_path):
    with FolderLock(tmp_path, what="training"):
        other = FolderLock(tmp_path, what="training")
        other._holder = lambda: 1  # pid 1 is always alive
        with pytest.raises(FolderBusy, match="in use by another training"):
            other.acquire()
    assert not (tmp_path / ".lock").exists()
    (tmp_path / ".lock").write_text("999999999\n")
    with FolderLock(tmp_path):
        assert (tmp_path / ".lock").read_text().strip() == str(os.getpid())
