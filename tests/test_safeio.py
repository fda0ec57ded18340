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
    one_line,
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
        (tmp_path / ".lock").write_text("1\n")  # pid 1 is always alive and started first
        other = FolderLock(tmp_path, what="training")
        with pytest.raises(FolderBusy, match="in use by another training"):
            other.acquire()
        (tmp_path / ".lock").unlink()
    assert not (tmp_path / ".lock").exists()
    (tmp_path / ".lock").write_text("999999999\n")
    with FolderLock(tmp_path):
        assert (tmp_path / ".lock").read_text().split()[0] == str(os.getpid())


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
    """A lock file seen before its pid was written was taken for a stale one."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    folder, start = tmp_path / "data", tmp_path / "start"
    folder.mkdir()
    env = {**os.environ, "PYTHONPATH": str(root)}
    contenders = [
        subprocess.Popen(
            [sys.executable, "-c", _CONTENDER, str(folder), "1500", str(start)], env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
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
    assert [text.split()[0] for text in seen] == [str(os.getpid())] and seen[0].endswith("\n")
    assert leftover_temporaries(tmp_path) == []


def test_without_hard_links_the_lock_still_holds_the_pid(tmp_path, monkeypatch):
    def no_links(source, target, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    with FolderLock(tmp_path):
        assert (tmp_path / ".lock").read_text().split()[0] == str(os.getpid())
        (tmp_path / ".lock").write_text("1\n")  # pid 1 is always alive and started first
        with pytest.raises(FolderBusy):
            FolderLock(tmp_path).acquire()
        (tmp_path / ".lock").unlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("content", ["", "12ab\n", "-5\n"])
def test_an_empty_or_garbled_lock_left_by_a_dead_writer_is_taken_over(tmp_path, content):
    (tmp_path / ".lock").write_text(content)
    with FolderLock(tmp_path):
        assert (tmp_path / ".lock").read_text().split()[0] == str(os.getpid())
    assert not (tmp_path / ".lock").exists()


def _sleeper():
    import subprocess
    import time

    process = subprocess.Popen(["sleep", "60"])
    time.sleep(0.05)
    return process


def test_a_lock_whose_pid_now_belongs_to_another_process_is_stale(tmp_path):
    """A reused pid once blocked for good; the start time in the lock tells them apart."""
    other = _sleeper()
    try:
        (tmp_path / ".lock").write_text(f"{other.pid} 1\n")  # a start time that is not the sleeper's
        with FolderLock(tmp_path, what="training run") as lock:
            assert (tmp_path / ".lock").read_text().split()[0] == str(os.getpid())
        assert any("removed a stale lock" in note for note in lock.notes)
    finally:
        other.kill()
        other.wait()


def test_a_pid_only_lock_older_than_its_process_is_stale(tmp_path):
    lock_file = tmp_path / ".lock"
    lock_file.write_text("0\n")
    os.utime(lock_file, (1_000_000, 1_000_000))  # written long before the sleeper started
    other = _sleeper()
    try:
        lock_file.write_text(f"{other.pid}\n")
        os.utime(lock_file, (1_000_000, 1_000_000))
        with FolderLock(tmp_path):
            pass
        lock_file.write_text(f"{other.pid}\n")  # written now, while it runs: it may be the holder
        with pytest.raises(FolderBusy) as refused:
            FolderLock(tmp_path, what="training run").acquire()
        message = str(refused.value)
        assert f"pid {other.pid}" in message and str(lock_file) in message and "remove that file" in message
    finally:
        other.kill()
        other.wait()


def test_dead_temporaries_go_and_live_ones_stay(tmp_path):
    from safeio import remove_dead_temporaries, removed_line

    dead = tmp_path / ".kick.wav.999999999.0123abcd.tmp"
    live = tmp_path / f".kick.wav.{os.getpid()}.0123abcd.tmp"
    other = tmp_path / ".notes.txt.999999999.0123abcd.tmp"
    for path in (dead, live, other):
        path.write_bytes(b"x")
    removed = remove_dead_temporaries(tmp_path, of=lambda name: name.endswith(".wav"))
    assert removed == [dead] and live.exists() and other.exists()
    assert removed_line(tmp_path, removed).startswith(f"{tmp_path}: removed 1 leftover file")


def test_a_marker_cut_short_is_not_a_complete_set(tmp_path):
    from safeio import finish_interrupted_swaps, staging_folder

    target = tmp_path / "model"
    target.mkdir()
    (target / "card.json").write_text("old")
    staged = staging_folder(target, "train")
    (staged / "card.json").write_text("")  # a full disk mid-save
    (staged / f".complete-{staged.name}").write_bytes(b"")  # the marker as a full disk left it
    finish_interrupted_swaps(target, "train")
    assert (target / "card.json").read_text() == "old" and not staged.exists()


def test_a_marker_left_in_a_swapped_folder_is_removed(tmp_path):
    from safeio import finish_interrupted_swaps

    target = tmp_path / "model"
    target.mkdir()
    (target / ".complete-.model.1.0123abcd.new").write_bytes(b"# complete\n")
    lines = finish_interrupted_swaps(target, "train")
    assert list(target.iterdir()) == [] and "leftover marker" in lines[0]


def test_a_failed_swap_before_its_marker_removes_the_staging_folder(tmp_path, monkeypatch):
    from safeio import WriteFailed, staging_folder, swap_in

    target = tmp_path / "model"
    staged = staging_folder(target, "train")
    (staged / "card.json").write_text("new")
    real_open = open

    def full_disk(path, *args, **kwargs):
        if ".complete-" in str(path):
            raise OSError(28, "No space left on device")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", full_disk)
    with pytest.raises(WriteFailed, match="No space left"):
        swap_in(staged, target)
    monkeypatch.undo()
    assert not staged.exists() and not target.exists()


def test_read_json_bounds_depth_and_size(tmp_path):
    from safeio import UnreadableJson, read_json

    deep = tmp_path / "card.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(UnreadableJson, match="card.json: nested deeper than 64 levels"):
        read_json(deep)
    big = tmp_path / "big.json"
    big.write_text('"' + "x" * 2000 + '"')
    with pytest.raises(UnreadableJson, match="too large"):
        read_json(big, max_bytes=1000)
    assert read_json(tmp_path / "big.json") == "x" * 2000


def test_a_swap_killed_after_its_exchange_is_reported_as_the_old_set_removed(tmp_path):
    from safeio import finish_interrupted_swaps

    target = tmp_path / "model"
    target.mkdir()
    old = tmp_path / ".model.999999999.0123abcd.new"  # the old set, after the exchange
    old.mkdir()
    (old / "card.json").write_text("old")
    (target / "card.json").write_text("new")
    (target / f".complete-{old.name}").write_bytes(b"# complete\n")
    lines = finish_interrupted_swaps(target, "train")
    assert "removed the set an interrupted save had replaced" in lines[0]
    assert not old.exists() and (target / "card.json").read_text() == "new"
    assert sorted(p.name for p in target.iterdir()) == ["card.json"]


def test_one_line_says_an_os_error_without_its_number_and_folds_a_long_message():
    assert one_line(OSError(errno.ENOSPC, "No space left on device", "/x/a.wav")) == "No space left on device"
    assert one_line(ValueError("bad\n  header\tbytes")) == "bad header bytes"
    assert one_line(KeyError()) == "KeyError"
    long = one_line(ValueError("x" * 500), limit=120)
    assert len(long) == 120 and long.endswith("...")


def _marked_set(staged, files):
    staged.mkdir()
    for name, text in files.items():
        (staged / name).write_text(text)
    (staged / f".complete-{staged.name}").write_bytes(b"# complete\n")  # an older version's marker


def test_a_verb_finishes_only_its_own_staging_folders_and_an_older_versions_by_their_files(tmp_path):
    from safeio import finish_interrupted_swaps

    target = tmp_path / "K"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    kits = tmp_path / ".K.kit.999999999.0123abcd.new"
    old_kit = tmp_path / ".K.999999999.0badf00d.new"  # an older version's, no verb in its name
    _marked_set(kits, {"kit.json": "new kit"})
    _marked_set(old_kit, {"kit.json": "older kit"})
    assert finish_interrupted_swaps(target, "evaluate", kind_file="report.md") == []
    assert kits.is_dir() and old_kit.is_dir() and sorted(p.name for p in target.iterdir()) == ["notes.txt"]
    lines = finish_interrupted_swaps(target, "kit", kind_file="kit.json")
    assert lines == [f"{target}: finished an interrupted save"] * 2
    assert not kits.exists() and not old_kit.exists()
    assert (target / "notes.txt").read_text() == "mine" and (target / "kit.json").is_file()
