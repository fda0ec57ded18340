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


_CONTENDER = """
import os, sys
from pathlib import Path
from safeio import FolderBusy, FolderLock
folder, rounds, start = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
while not start.exists():
    pass
held = both = 0
for _ in range(rounds):
    try:
        with FolderLock(folder, what="test run"):
            held += 1
            try:  # a second holder at this moment would find this file made
                os.close(os.open(folder / "holder", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                both += 1
                continue
            os.unlink(folder / "holder")
    except FolderBusy:
        pass
print(held, both)
"""


def test_two_processes_never_hold_one_lock_at_once(tmp_path):
    """Issue 17: a lock file seen before its pid was written was taken for a stale one."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    folder, start = tmp_path / "data", tmp_path / "start"
    folder.mkdir()
    env = {**os.environ, "PYTHONPATH": str(root)}
    contenders = [subprocess.Popen([sys.executable, "-c", _CONTENDER, str(folder), "1500", str(start)],
                                   env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    start.touch()
    results = [contender.communicate(timeout=600)[0].split() for contender in contenders]
    assert all(contender.returncode == 0 for contender in contenders)
    held, both = [sum(int(r[i]) for r in results) for i in (0, 1)]
    assert both == 0 and held > 0
    assert sorted(p.name for p in folder.iterdir()) == []  # no lock, no temporary left


def test_a_lock_file_appears_whole_with_its_pid(tmp_path, monkeypatch):
    seen = []
    real_link = os.link

    def link_and_look(source, target, **kwargs):
        real_link(source, target, **kwargs)
        seen.append(open(target).read())  # the first moment the lock's name exists

    monkeypatch.setattr(os, "link", link_and_look)
    with FolderLock(tmp_path):
        pass
    assert seen == [f"{os.getpid()}\n"]
    assert leftover_temporaries(tmp_path) == []


def test_without_hard_links_the_lock_still_holds_the_pid(tmp_path, monkeypatch):
    def no_links(source, target, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    with FolderLock(tmp_path):
        assert (tmp_path / ".lock").read_text() == f"{os.getpid()}\n"
        other = FolderLock(tmp_path)
        other._holder = lambda: 1  # pid 1 is always alive
        with pytest.raises(FolderBusy):
            other.acquire()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("content", ["", "12ab\n", "-5\n"])
def test_an_empty_or_garbled_lock_left_by_a_dead_writer_is_taken_over(tmp_path, content):
    (tmp_path / ".lock").write_text(content)
    with FolderLock(tmp_path):
        assert (tmp_path / ".lock").read_text() == f"{os.getpid()}\n"
    assert not (tmp_path / ".lock").exists()
