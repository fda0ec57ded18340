"""Playback on one background PortAudio stream: play once, loop with a gap, swap sounds live.

A :class:`Player` owns the stream, the device and the statistics (:meth:`Player.stats`, a
:class:`PlayerStats` snapshot), and calls a :class:`~audio.mixer.Mixer` from the stream's
callback; the mixer is pure, and says how a swap, a stop, a volume change and a step pattern
sound.

The GUI and the command line call a :class:`Player` from their own thread; PortAudio calls
the stream's callback from its audio thread. The two share no lock: each play method hands
one immutable request to the mixer by assigning a single attribute.

The stream is opened once, started on the first play and stopped again by a small watcher
thread after ``IDLE_STOP_SECONDS`` of silence (an idle stream costs CPU, and on an ALSA null
device it spins). A missing PortAudio library, no output device or a device that fails to
open never raise: ``Player.available`` is False and ``Player.reason`` says why.
"""

import math
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from audio.errors import AudioError
from audio.mixer import SCRATCH_FRAMES, Mixer
from constants import SAMPLE_RATE
from safeio import one_line

# One callback block; a swap waits at most this long for the callback to pick it up.
BLOCK_SECONDS = 0.01
IDLE_STOP_SECONDS = 1.0
IDLE_CHECK_SECONDS = 0.2
MAX_CHANNELS = 2
# The rate of the models' sounds (the preprocessing default).
DEFAULT_SAMPLE_RATE = SAMPLE_RATE


def _import_sounddevice():
    """Import sounddevice, or say why it cannot be used.

    Returns
    -------
    module : module or None
    reason : str or None
        Why there is no module (sounddevice raises OSError when PortAudio is missing).
    """
    try:
        import sounddevice
    except OSError as error:
        return None, f"the PortAudio library is not installed ({error})"
    except ImportError as error:
        return None, f"the sounddevice package is not installed ({error})"
    return sounddevice, None


def list_output_devices():
    """List the sound devices that can play.

    Returns
    -------
    devices : list of (int, str)
        ``(index, name)`` pairs, in PortAudio's order; empty when PortAudio is missing.
    """
    sd, _ = _import_sounddevice()
    if sd is None:
        return []
    try:
        devices = sd.query_devices()
    except sd.PortAudioError:
        return []
    return [(int(d["index"]), str(d["name"])) for d in devices if d["max_output_channels"] > 0]


def block_frames(rate):
    """The stream's block size at ``rate``: the power of two nearest ``BLOCK_SECONDS``."""
    return 2 ** max(6, round(math.log2(rate * BLOCK_SECONDS)))


@dataclass(frozen=True)
class PlayerStats:
    """What the stream has done, at one moment: for the window's seam watcher, the
    benchmarks and the tests (:meth:`Player.stats`).

    Attributes
    ----------
    requested_serial : int
        Serial number of the latest request (play, loop, swap, stop); 0 before any.
    began_serial : int
        Serial number of the request now sounding: the latest start or immediate swap, or a
        swap for the next repetition once the loop came round to it (0 before any).
    seen_serial : int
        Serial number of the latest request the callback has acted on (0 before any). A swap
        for the next repetition older than it that has not begun never will.
    sounding : (int, int, float)
        ``(serial, frame_index, seconds)``: the latest sound to begin leaving the callback,
        the absolute index of its first frame, and the ``time.perf_counter()`` at which that
        callback returned.
    picked_up : (int, int)
        ``(serial, frame_index)``: the latest request the callback acted on, and the absolute
        index of the first frame of the block in which it did.
    frames_delivered : int
        Frames the callback has handed to PortAudio since the player was made.
    underruns : int
        Callbacks for which PortAudio reported an output underflow.
    callback_error : Exception or None
        The exception a callback caught (a bug: it played silence instead).
    callback_calls : int
        Callbacks timed since the player was made or :meth:`Player.reset_callback_stats`.
    callback_seconds_max, callback_seconds_mean : float
        Their longest and mean duration, a tap's time left out.
    latency_seconds : float
        PortAudio's output latency of the open stream (0 when unavailable).
    block_frames : int
        The stream's block size.
    """

    requested_serial: int = 0
    began_serial: int = 0
    seen_serial: int = 0
    sounding: tuple = (0, 0, 0.0)
    picked_up: tuple = (0, 0)
    frames_delivered: int = 0
    underruns: int = 0
    callback_error: BaseException | None = None
    callback_calls: int = 0
    callback_seconds_max: float = 0.0
    callback_seconds_mean: float = 0.0
    latency_seconds: float = 0.0
    block_frames: int = 0


class Player:
    """Plays mono sounds on one background output stream.

    Parameters
    ----------
    sample_rate : int
        Rate of the buffers handed to :meth:`play`, :meth:`loop` and :meth:`swap` (unless a
        call gives its own). The stream runs at this rate when the device allows, otherwise
        at the device's default rate, and buffers are resampled (outside the callback).
    device : int or str or None
        PortAudio device index or a part of its name; None for the default output.
    tap : callable or None
        ``tap(block, frame_index)`` is called from the callback with each delivered mono
        block (after volume; valid only during the call) and the absolute index of its
        first frame. For tests and benchmarks (see :class:`BlockCapture`). It should
        neither allocate nor block; its time is left out of the callback statistics.

    Attributes
    ----------
    mixer : Mixer
        What the callback renders; the play methods hand their requests to it.
    available : bool
        Whether sound can be played. Never raises when False: the play methods do nothing.
    reason : str
        Why the player is unavailable ("" when available).
    """

    def __init__(self, sample_rate=DEFAULT_SAMPLE_RATE, device=None, *, tap=None):
        self.sample_rate = int(sample_rate)
        self.device = device
        self.available = False
        self.reason = ""
        self.stream_rate = self.sample_rate
        self._tap = tap
        self._sd: Any = None  # sounddevice, imported when the stream opens
        self._stream: Any = None  # its OutputStream, while open
        self._underruns = 0
        self._frames_delivered = 0
        self._sounding = (0, 0, 0.0)
        self._callback_error = None
        self._callback_max = 0.0
        self._callback_total = 0.0
        self._callback_calls = 0
        self._control = threading.Lock()  # GUI-side methods and the idle watcher; never the callback
        self._watcher = None
        self._closed = False
        self._block = np.zeros(SCRATCH_FRAMES, dtype=np.float32)  # the callback's mono scratch
        self.mixer = Mixer(self.sample_rate)
        self._open()

    # -- opening ---------------------------------------------------------------------------

    def _open(self):
        sd, reason = _import_sounddevice()
        if sd is None:
            self.reason = reason
            return
        self._sd = sd
        try:
            info = sd.query_devices(self.device, kind="output")
        except (sd.PortAudioError, ValueError) as error:
            self.reason = self._device_reason(error)
            return
        channels = min(MAX_CHANNELS, int(info["max_output_channels"]))
        if channels < 1:
            self.reason = f"output device '{info['name']}' has no output channels"
            return
        rates = [self.sample_rate]
        if int(info["default_samplerate"]) != self.sample_rate:
            rates.append(int(info["default_samplerate"]))
        failure = None
        for rate in rates:
            try:
                self._stream = sd.OutputStream(
                    samplerate=rate,
                    blocksize=block_frames(rate),
                    device=info["index"],
                    channels=channels,
                    dtype="float32",
                    latency="low",
                    callback=self._callback,
                )
            except (sd.PortAudioError, ValueError) as error:
                failure = error
                continue
            self.stream_rate = rate
            self.mixer = Mixer(rate, source_rate=self.sample_rate)
            self.available = True
            return
        self.reason = f"output device '{info['name']}' cannot be opened ({one_line(failure)})"

    def _device_reason(self, error):
        if self.device is None:
            if "device -1" in str(error):  # PortAudio's "no device": the system has no default output
                return "no sound output was found on this machine"
            return f"no sound output device ({one_line(error)})"
        return f"output device {self.device!r} is not usable ({one_line(error)})"

    # -- what the GUI calls ----------------------------------------------------------------

    def play(self, buffer, *, sample_rate=None):
        """Play ``buffer`` once, from its start (crossfading out whatever was playing).

        Parameters
        ----------
        buffer : np.ndarray, shape (n,) or (n, channels)
            The sound; channels are mixed to mono, NaN becomes 0, samples clip to [-1, 1].
        sample_rate : int or None
            Its rate, when it differs from the player's ``sample_rate``.
        """
        self._start(buffer, sample_rate, looping=False, gap_seconds=0.0)

    def loop(self, buffer, gap_seconds=0.0, *, sample_rate=None):
        """Loop ``buffer`` from its start: the sound, then ``gap_seconds`` of silence, again.

        Parameters
        ----------
        buffer : np.ndarray, shape (n,) or (n, channels)
        gap_seconds : float
            Silence between the end of one hit and the start of the next (>= 0).
        sample_rate : int or None
        """
        self._start(buffer, sample_rate, looping=True, gap_seconds=gap_seconds)

    def swap(self, buffer, immediate=False, *, sample_rate=None):
        """Replace the sound that is playing, keeping the mode (loop and gap, or once).

        While looping, the new sound starts at the next loop start; with ``immediate`` it
        takes over at once, at the same position in the loop, with a short crossfade. A
        sound playing once is replaced at once. Does nothing when nothing plays.
        """
        base = self.mixer.replaceable()
        if not self.available or base is None:
            return
        data = self.mixer.prepare(buffer, sample_rate, base.gap_frames)
        self._submit(self.mixer.swap, base, data, immediate=immediate)

    def stop(self):
        """Fade out over ``CROSSFADE_SECONDS`` and go silent."""
        if not self.available or self.mixer.request is None:
            return
        self._submit(self.mixer.stop)

    def play_pattern(self, sounds, steps, tempo, *, restart=True):
        """Loop a step pattern on the stream, beside whatever :meth:`play` plays.

        Parameters
        ----------
        sounds : sequence of ((np.ndarray, int) or None)
            Per lane, a sound and its rate (None: the lane is silent).
        steps : sequence of sequence of bool
            ``steps[lane][step]``, as :class:`audio.pattern.Pattern` holds them.
        tempo : int
            BPM.
        restart : bool
            True: from the first step now. False: replace the pattern that plays at its
            next step, keeping the beat (lanes whose sound changed play the new one from
            their next hit).
        """
        if not self.available:
            return
        prepared = [None if sound is None else self.mixer.prepare(sound[0], sound[1]) for sound in sounds]
        hits = [[lane for lane, row in enumerate(steps) if row[step]] for step in range(len(steps[0]))]
        if not restart and not self.mixer.pattern_playing:
            restart = True
        self._submit(self.mixer.start_pattern, prepared, hits, tempo, restart=restart)

    def stop_pattern(self, *, cut=False):
        """End the pattern: no more hits (those sounding ring out, or with ``cut`` fade out
        over ``CROSSFADE_SECONDS``)."""
        if not self.available or not self.mixer.pattern_playing:
            return
        self._submit(self.mixer.stop_pattern, cut=cut)

    @property
    def pattern_playing(self):
        return self._stream is not None and self.mixer.pattern_playing

    @property
    def volume(self):
        """Output gain, 0..1; a change glides over about ``VOLUME_GLIDE_SECONDS``."""
        return self.mixer.volume

    @volume.setter
    def volume(self, value):
        value = float(value)
        if not math.isfinite(value):
            raise AudioError(f"volume must be a number between 0 and 1, not {value}")
        self.mixer.volume = min(1.0, max(0.0, value))

    @property
    def is_playing(self):
        """True from a play/loop call until the sound ends or :meth:`stop` is called."""
        return self._stream is not None and self.mixer.playing

    @property
    def is_looping(self):
        request = self.mixer.request
        return self.is_playing and request is not None and request.looping

    def stats(self):
        """A snapshot of the stream's counters and serial numbers (:class:`PlayerStats`)."""
        mixer, stream, calls = self.mixer, self._stream, self._callback_calls
        request = mixer.request
        return PlayerStats(
            requested_serial=0 if request is None else request.serial,
            began_serial=mixer.began_serial,
            seen_serial=mixer.seen_serial,
            sounding=self._sounding,
            picked_up=mixer.picked_up,
            frames_delivered=self._frames_delivered,
            underruns=self._underruns,
            callback_error=self._callback_error,
            callback_calls=calls,
            callback_seconds_max=self._callback_max,
            callback_seconds_mean=self._callback_total / calls if calls else 0.0,
            latency_seconds=float(stream.latency) if stream is not None else 0.0,
            block_frames=block_frames(self.stream_rate),
        )

    def reset_callback_stats(self):
        """Start the callback duration statistics afresh (e.g. after a warm-up)."""
        self._callback_max = 0.0
        self._callback_total = 0.0
        self._callback_calls = 0

    def close(self):
        """Fade out, stop and close the stream; the player is unavailable afterwards."""
        if self._closed:
            return
        if self.is_playing and self._stream is not None and self._stream.active:
            self.stop()
            deadline = time.monotonic() + 0.2
            while not self.mixer.settled:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.002)
        with self._control:
            self._closed = True
            stream, self._stream = self._stream, None
            if self.available:
                self.available = False
                self.reason = "the player is closed"
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except self._sd.PortAudioError:
                pass  # closing a device that has gone away: nothing left to release
        watcher = self._watcher
        if watcher is not None:
            watcher.join(timeout=2 * IDLE_CHECK_SECONDS)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # -- GUI-side plumbing -----------------------------------------------------------------

    def _start(self, buffer, sample_rate, *, looping, gap_seconds):
        gap_seconds = float(gap_seconds)
        if not math.isfinite(gap_seconds) or gap_seconds < 0:
            raise AudioError(f"the gap between hits must be 0 or more seconds, not {gap_seconds}")
        if not self.available:
            return
        gap_frames = int(round(gap_seconds * self.stream_rate))
        data = self.mixer.prepare(buffer, sample_rate, gap_frames)
        self._submit(self.mixer.start, data, looping=looping, gap_frames=gap_frames)

    def _submit(self, hand_over, *args, **kwargs):
        """Call the mixer's ``hand_over(*args, **kwargs)`` and make sure the stream runs,
        unless the player is closed or its stream has failed."""
        with self._control:
            if self._closed or self._stream is None:
                return
            hand_over(*args, **kwargs)
            self._ensure_running()

    def _ensure_running(self):
        """Start the stream if it is stopped (called with ``_control`` held)."""
        stream = self._stream
        if not stream.active:
            try:
                if not stream.stopped:
                    stream.stop()
                stream.start()
            except self._sd.PortAudioError as error:
                self._stream = None
                self.available = False
                self.reason = f"sound output failed ({one_line(error)})"
                return
        if self._watcher is None:
            self._watcher = threading.Thread(target=self._watch_idle, name="player-idle-watch", daemon=True)
            self._watcher.start()

    def _watch_idle(self):
        """Stop the stream once the callback has been silent for ``IDLE_STOP_SECONDS``."""
        idle_limit = int(IDLE_STOP_SECONDS * self.stream_rate)
        while True:
            time.sleep(IDLE_CHECK_SECONDS)
            with self._control:
                stream = self._stream
                if self._closed or stream is None or not stream.active:
                    self._watcher = None
                    return
                # The callback has seen the latest request and is silent: nothing can start
                # while we hold the lock, so stopping cannot lose a request.
                if self.mixer.silent_frames >= idle_limit:
                    try:
                        stream.stop()
                    except self._sd.PortAudioError:
                        pass  # the next play restarts it or reports the device as failed
                    self._watcher = None
                    return

    # -- the audio thread ------------------------------------------------------------------

    def _callback(self, outdata, frames, time_info, status):
        started = time.perf_counter()
        if status.output_underflow:
            self._underruns += 1
        mixer = self.mixer
        began = mixer.began_serial
        tap_seconds = 0.0  # a test or benchmark tap's time is not the callback's own
        try:
            done = 0
            while done < frames:
                n = min(frames - done, SCRATCH_FRAMES)
                block = self._block[:n]
                first_frame = self._frames_delivered
                mixer.render(block, first_frame)
                outdata[done : done + n] = block[:, None]
                done += n
                self._frames_delivered = first_frame + n
                if self._tap is not None:
                    tap_started = time.perf_counter()
                    self._tap(block, first_frame)
                    tap_seconds += time.perf_counter() - tap_started
        except Exception as error:  # noqa: BLE001 -- a bug must not kill the stream
            # PortAudio would abort the stream on an exception and the GUI would never know;
            # play silence, keep the error for `callback_error`, start from a clean state.
            outdata.fill(0)
            self._frames_delivered += frames - done
            self._callback_error = error
            mixer.recover()
        self._record_timing(mixer, began, started, time.perf_counter() - tap_seconds)

    def _record_timing(self, mixer, began, started, finished):
        if mixer.began_serial != began:
            self._sounding = (mixer.began_serial, mixer.began_frame, finished)
        elapsed = finished - started
        if elapsed > self._callback_max:
            self._callback_max = elapsed
        self._callback_total += elapsed
        self._callback_calls += 1
