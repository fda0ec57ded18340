"""The sound room's report of a loop's tagged swaps (Vary's next repetition), with the fakes'
player, which keeps a loop's time as a player does."""

import queue
import time

import numpy as np
import pytest

from gui import effects as fx
from gui import events as ev
from gui.sound_room import SoundRoom
from gui_fakes import FakeBackend

RATE = 22050


def settled(posted, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            record = posted.get(timeout=0.05)
        except queue.Empty:
            continue
        if isinstance(record, ev.SwapSettled):
            return record
    return None


def room_with_a_loop():
    posted = queue.Queue()
    room = SoundRoom(FakeBackend(), posted.put)
    room.submit(fx.MakePlayer(RATE))
    room.submit(fx.Play(np.ones(2205, np.float32), loop=True, token=1))  # 100 ms repetitions
    return room, posted


def test_a_tagged_swap_is_reported_when_the_loop_comes_round_to_it():
    room, posted = room_with_a_loop()
    try:
        room.submit(fx.Swap(np.zeros(2205, np.float32), immediate=False, tag=7))
        assert settled(posted) == ev.SwapSettled(7, True)
    finally:
        room.request_stop()


def test_a_tagged_swap_overtaken_or_stopped_is_reported_as_never_sounding():
    room, posted = room_with_a_loop()
    try:
        room.submit(fx.Swap(np.zeros(2205, np.float32), immediate=False, tag=1))
        room.submit(fx.Swap(np.zeros(2205, np.float32), immediate=True))  # a new point, at once
        assert settled(posted) == ev.SwapSettled(1, False)
        room.submit(fx.Swap(np.zeros(2205, np.float32), immediate=False, tag=2))
        room.submit(fx.Stop())
        assert settled(posted) == ev.SwapSettled(2, False)
        room.submit(fx.Swap(np.zeros(2205, np.float32), immediate=False, tag=3))  # nothing plays
        assert settled(posted, timeout=0.5) is None
    finally:
        room.request_stop()


@pytest.mark.slow
def test_the_watcher_ends_once_nothing_waits():
    room, posted = room_with_a_loop()
    room.submit(fx.Swap(np.zeros(2205, np.float32), immediate=False, tag=1))
    assert settled(posted) is not None
    watcher = room._watcher
    assert watcher is not None
    room.request_stop()
    watcher.join(timeout=10)
    assert not watcher.is_alive()
