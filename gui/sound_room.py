"""The sound room: the one thread that owns the player and makes every call on it.

The GUI thread hands it the sound effects (play, loop, swap, stop, volume, the beat, a new
player) and it carries them out in order; it reports back a sound played once, the player
opened (whether there is sound, and why not) and each awaited swap of Vary's loop once the
loop came round to it (a watcher thread of its own reads the player's ``stats()`` meanwhile).
"""

import threading
import time

from gui import effects as fx
from gui import events
from gui.threads import JobWorker, guarded

#: How often the sound room looks whether a loop came round to a waiting swap (a seam is
#: known to the window within this; a repetition lasts 50 ms or more).
SEAM_POLL_SECONDS = 0.005


class SoundRoom:
    """The sound output in a room of its own: one thread owns the player and calls it.

    The GUI thread only submits effects (``Play``, ``Swap``, ``Stop``, ``SetVolume``,
    ``PlayPattern``, ``StopPattern``, ``MakePlayer``); they are carried out in order, so a
    Stop never overtakes the Play before it. A sound played once is reported back as
    ``events.PlayStarted`` with its duration. A tagged ``Swap`` (Vary's next repetition) is
    reported back as ``events.SwapSettled`` when the loop comes round to it, or when it never
    will: while such a swap waits, a watcher thread reads ``player.stats()``
    (``audio.player.PlayerStats``: the request now sounding and the latest one the stream has
    acted on), so the window learns the real seam, not a timer's guess of it.

    Parameters
    ----------
    backend : gui.backend.PackageBackend or a test double
        Makes the player (``make_player``) and names its device (``device_name``).
    post : callable(record)
    """

    def __init__(self, backend, post):
        self.backend = backend
        self.post = post
        self.player = None  # only the room's thread sets it or calls it (tests may read it)
        self._worker = JobWorker("sound")
        self._awaited = {}  # request serial -> tag of the tagged swaps not yet settled
        self._awaited_player = None  # the player those serials belong to
        self._awaiting = threading.Condition()
        self._watcher = None
        self._calls = {
            fx.Play: self._play,
            fx.Swap: self._swap,
            fx.Stop: self._stop,
            fx.SetVolume: self._set_volume,
            fx.MakePlayer: self._make_player,
            fx.PlayPattern: self._play_pattern,
            fx.StopPattern: self._stop_pattern,
        }

    def submit(self, effect):
        """Carry out a sound effect in the room (returns at once)."""
        call = self._calls[type(effect)]
        self._worker.submit(guarded("sound device", lambda: call(effect), self.post, self.backend.user_errors))

    def _working(self):
        player = self.player
        return player if player is not None and player.available else None

    def _play(self, effect):
        player = self._working()
        if player is None:
            return
        if effect.loop:
            player.loop(effect.audio)
            return
        player.play(effect.audio)
        self.post(events.PlayStarted(effect.token, len(effect.audio) / player.sample_rate))

    def _swap(self, effect):
        player = self._working()
        if player is None:
            return
        before = player.stats().requested_serial if effect.tag else 0
        player.swap(effect.audio, immediate=effect.immediate)
        if effect.tag:
            serial = player.stats().requested_serial
            if serial != before:  # else nothing was playing: the loop has ended, and so has Vary's chain
                self._await(player, serial, effect.tag)

    def _await(self, player, serial, tag):
        with self._awaiting:
            if self._awaited_player is not player:
                self._awaited, self._awaited_player = {}, player
            self._awaited[serial] = tag
            if self._watcher is None:
                self._watcher = threading.Thread(target=self._watch_swaps, name="gui-sound-seams", daemon=True)
                self._watcher.start()
            self._awaiting.notify()

    def _watch_swaps(self):
        """Report each awaited swap once it began, or once a later request took its place."""
        while True:
            with self._awaiting:
                while not self._awaited:
                    if not self._awaiting.wait(timeout=5.0):
                        self._watcher = None  # idle a while: the next tagged swap starts another
                        return
                player, awaited = self._awaited_player, dict(self._awaited)
                if not player.available:  # closed: none of them will sound
                    self._awaited = {}
                    continue
            stats = player.stats()
            began, seen = stats.began_serial, stats.seen_serial
            settled = {serial: tag for serial, tag in awaited.items() if serial == began or serial < seen}
            if settled:
                with self._awaiting:
                    for serial in settled:
                        self._awaited.pop(serial, None)
                for serial, tag in sorted(settled.items()):
                    self.post(events.SwapSettled(tag, serial == began))
            time.sleep(SEAM_POLL_SECONDS)

    def _stop(self, _effect):
        player = self._working()
        if player is not None:
            player.stop()

    def _play_pattern(self, effect):
        player = self._working()
        if player is not None:
            player.play_pattern(effect.sounds, effect.steps, effect.tempo, restart=effect.restart)

    def _stop_pattern(self, effect):
        player = self._working()
        if player is not None:
            player.stop_pattern(cut=effect.cut)

    def _set_volume(self, effect):
        player = self._working()
        if player is not None:
            player.volume = effect.volume

    def _make_player(self, effect):
        with self._awaiting:  # the old player's swaps never sound: the window asks again
            self._awaited, self._awaited_player = {}, None
        old, self.player = self.player, None  # silent until the new one is open
        if old is not None:
            old.close()
        self.player = self.backend.make_player(effect.sample_rate, effect.device)
        self.post(events.PlayerOpened(bool(self.player.available), self.player.reason or "", self.backend.device_name(effect.device)))

    def _close(self):
        with self._awaiting:
            self._awaited, self._awaited_player = {}, None
        player, self.player = self.player, None
        if player is not None:
            player.close()

    def request_stop(self):
        """Close the player in the room, then end the room's thread; returns at once."""
        self._worker.submit(self._close)
        self._worker.request_stop()

    def close(self):
        """Close the player here if the room's thread has ended without closing it."""
        if not self._worker.alive:
            self._close()

    @property
    def alive(self):
        return self._worker.alive

    @property
    def idle(self):
        return self._worker.idle

    @property
    def _thread(self):
        return self._worker._thread
