"""Playback on one background PortAudio stream: play once, loop with a gap, swap sounds live.

The GUI and the command line call a :class:`Player` from their own thread; PortAudio calls
the stream's callback from its audio thread. The two share no lock. What the callback should
play arrives as one immutable request (the prepared sound, loop flag, serial number), handed
over by assigning a single attribute. The callback copies frames from the request's sound
into preallocated scratch arrays, advances a position, and mixes the short fades that keep
every change free of clicks:

- a swap while looping takes effect at the next loop start (seamless: the sound's own edges
  are faded), or at once with a ``CROSSFADE_SECONDS`` crossfade when ``immediate=True``; an
  immediate swap keeps the loop position, so moving a latent point morphs the sound in time;
- a stop fades out over ``CROSSFADE_SECONDS``;
- a volume change glides over about ``VOLUME_GLIDE_SECONDS``.

The stream is opened once, started on the first play and stopped again by a small watcher
thread after ``IDLE_STOP_SECONDS`` of silence (an idle stream costs CPU, and on an ALSA null
device it spins). A missing PortAudio library, no output device or a device that fails to
open never raise: ``Player.available`` is False and ``Player.reason`` says why.
"""
import itertools
import math
import threading
import time
from typing import NamedTuple

import numpy as np

from audio.errors import AudioError
from constants import SAMPLE_RATE
from safeio import one_line

# Longest fade of a swap or a stop; the issue allows 5 ms.
CROSSFADE_SECONDS = 0.004
# Fade at both ends of every sound, so a loop seam or a sound's last sample cannot click.
# 2 ms stays well before a drum's attack (0.01 s into the preprocessed one-shots).
EDGE_FADE_SECONDS = 0.002
# One callback block; a swap waits at most this long for the callback to pick it up.
BLOCK_SECONDS = 0.01
# A full-scale volume change takes this long (no zipper noise).
VOLUME_GLIDE_SECONDS = 0.01
IDLE_STOP_SECONDS = 1.0
IDLE_CHECK_SECONDS = 0.2
MAX_CHANNELS = 2
# The rate of the models' sounds (the preprocessing default).
DEFAULT_SAMPLE_RATE = SAMPLE_RATE
# The callback mixes in chunks of at most this many frames; PortAudio normally passes one
# block (256 or 512 frames) at a time.
SCRATCH_FRAMES = 8192

_START, _SWAP_NOW, _SWAP_NEXT, _STOP = "start", "swap-now", "swap-next", "stop"


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


class _Request(NamedTuple):
    """What the callback should do next; immutable once handed over."""

    kind: str
    data: np.ndarray | None  # the sound plus its gap, faded at the edges, read-only
    looping: bool
    gap_frames: int
    serial: int
    base_serial: int  # for a swap: the request whose sound it replaces


class BlockCapture:
    """A test and benchmark tap: copies the first ``capacity`` frames the callback delivers.

    Pass one as ``Player(tap=...)``. The copy goes into an array allocated here, so the
    callback allocates nothing; :meth:`arm` starts a fresh capture.

    Parameters
    ----------
    capacity : int
        Frames to keep.
    """

    def __init__(self, capacity):
        self._samples = np.zeros(int(capacity), dtype=np.float32)
        self._armed = False
        self._count = 0
        self.start_frame = None

    def arm(self):
        """Forget what was captured and capture the next ``capacity`` frames."""
        self._armed = False
        self._count = 0
        self.start_frame = None
        self._armed = True

    def __call__(self, block, frame_index):
        if not self._armed:
            return
        if self.start_frame is None:
            self.start_frame = frame_index
        room = self._samples.shape[0] - self._count
        if room <= 0:
            return
        n = min(room, block.shape[0])
        self._samples[self._count:self._count + n] = block[:n]
        self._count += n

    @property
    def full(self):
        return self._count >= self._samples.shape[0]

    def samples(self):
        """The frames captured so far (a copy), starting at absolute frame ``start_frame``."""
        return self._samples[:self._count].copy()


class _CallbackState:
    """Everything the callback changes; only the callback touches it while the stream runs."""

    def __init__(self, rate):
        self.crossfade_frames = max(1, int(round(CROSSFADE_SECONDS * rate)))
        fade_in = np.sin(0.5 * np.pi * (np.arange(self.crossfade_frames) + 0.5) / self.crossfade_frames) ** 2
        self.ramp_in = fade_in.astype(np.float32)
        self.ramp_out = (1.0 - fade_in).astype(np.float32)
        self.counting = np.arange(1, SCRATCH_FRAMES + 1, dtype=np.float32)
        self.mix = np.zeros(SCRATCH_FRAMES, dtype=np.float32)
        self.fade_buf = np.zeros(SCRATCH_FRAMES, dtype=np.float32)
        self.gain_buf = np.zeros(SCRATCH_FRAMES, dtype=np.float32)
        self.gain_step = 1.0 / max(1.0, VOLUME_GLIDE_SECONDS * rate)
        self.reset()

    def reset(self):
        self.seen = None
        self.seen_serial = 0
        self.current = None
        self.pos = 0
        self.pending = None
        self.fading = None
        self.fading_pos = 0
        self.fade_left = 0
        self.gain = 1.0
        self.idle_frames = 0
        self.began_serial = 0
        self.began_frame = 0


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
        self._sd = None
        self._stream = None
        self._request = None
        self._serials = itertools.count(1)
        self._volume = 1.0
        self._underruns = 0
        self._frames_delivered = 0
        self._finished_serial = 0
        self._sounding = (0, 0, 0.0)
        self._picked_up = (0, 0)
        self._callback_error = None
        self._callback_max = 0.0
        self._callback_total = 0.0
        self._callback_calls = 0
        self._control = threading.Lock()  # GUI-side methods and the idle watcher; never the callback
        self._watcher = None
        self._closed = False
        self._state = _CallbackState(self.sample_rate)
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
                    samplerate=rate, blocksize=block_frames(rate), device=info["index"],
                    channels=channels, dtype="float32", latency="low", callback=self._callback,
                )
            except (sd.PortAudioError, ValueError) as error:
                failure = error
                continue
            self.stream_rate = rate
            self._state = _CallbackState(rate)
            self.available = True
            return
        self.reason = f"output device '{info['name']}' cannot be opened ({one_line(failure)})"

    def _device_reason(self, error):
        if self.device is None:
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
        base = self._request
        if not self.available or base is None or base.kind == _STOP:
            return
        if not base.looping and self._finished_serial >= base.serial:
            return
        data = self._prepare(buffer, sample_rate, base.gap_frames)
        kind = _SWAP_NEXT if base.looping and not immediate else _SWAP_NOW
        self._submit(_Request(kind, data, base.looping, base.gap_frames, next(self._serials), base.serial))

    def stop(self):
        """Fade out over ``CROSSFADE_SECONDS`` and go silent."""
        if not self.available or self._request is None:
            return
        self._submit(_Request(_STOP, None, False, 0, next(self._serials), 0))

    @property
    def volume(self):
        """Output gain, 0..1; a change glides over about ``VOLUME_GLIDE_SECONDS``."""
        return self._volume

    @volume.setter
    def volume(self, value):
        value = float(value)
        if not math.isfinite(value):
            raise AudioError(f"volume must be a number between 0 and 1, not {value}")
        self._volume = min(1.0, max(0.0, value))

    @property
    def is_playing(self):
        """True from a play/loop call until the sound ends or :meth:`stop` is called."""
        request = self._request
        if self._stream is None or request is None or request.kind == _STOP:
            return False
        return request.looping or self._finished_serial < request.serial

    @property
    def is_looping(self):
        request = self._request
        return self.is_playing and request.looping

    @property
    def underruns(self):
        """Callbacks for which PortAudio reported an output underflow."""
        return self._underruns

    @property
    def frames_delivered(self):
        """Frames the callback has handed to PortAudio since the player was made."""
        return self._frames_delivered

    @property
    def callback_error(self):
        """The exception a callback caught (a bug: it played silence instead), or None."""
        return self._callback_error

    @property
    def callback_seconds_max(self):
        return self._callback_max

    @property
    def callback_seconds_mean(self):
        return self._callback_total / self._callback_calls if self._callback_calls else 0.0

    def reset_callback_stats(self):
        """Start the callback duration statistics afresh (e.g. after a warm-up)."""
        self._callback_max = 0.0
        self._callback_total = 0.0
        self._callback_calls = 0

    @property
    def callback_calls(self):
        return self._callback_calls

    @property
    def requested_serial(self):
        """Serial number of the latest request (play, loop, swap, stop); 0 before any."""
        request = self._request
        return 0 if request is None else request.serial

    @property
    def sounding(self):
        """``(serial, frame_index, seconds)``: the latest sound to begin leaving the callback.

        ``frame_index`` is the absolute index of its first frame; ``seconds`` the
        ``time.perf_counter()`` at which that callback returned. For benchmarks and tests.
        """
        return self._sounding

    @property
    def picked_up(self):
        """``(serial, frame_index)``: the latest request the callback acted on, and the
        absolute index of the first frame of the block in which it did. For benchmarks."""
        return self._picked_up

    @property
    def latency_seconds(self):
        """PortAudio's output latency of the open stream (0 when unavailable)."""
        return float(self._stream.latency) if self._stream is not None else 0.0

    @property
    def block_frames(self):
        return block_frames(self.stream_rate)

    def close(self):
        """Fade out, stop and close the stream; the player is unavailable afterwards."""
        if self._closed:
            return
        if self.is_playing and self._stream is not None and self._stream.active:
            self.stop()
            deadline = time.monotonic() + 0.2
            while self._state.seen is not self._request or self._state.fade_left:
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
        data = self._prepare(buffer, sample_rate, gap_frames)
        self._submit(_Request(_START, data, looping, gap_frames, next(self._serials), 0))

    def _prepare(self, buffer, sample_rate, gap_frames):
        """The sound as the callback wants it: mono float32 at the stream rate, edges faded,
        gap appended, read-only. Runs on the caller's thread, so it may allocate."""
        audio = np.asarray(buffer, dtype=np.float32)
        if audio.ndim == 2:
            audio = audio.mean(axis=1)
        if audio.ndim != 1 or audio.shape[0] == 0:
            raise AudioError(f"a sound to play must be a non-empty (samples,) array, not shape {audio.shape}")
        rate = self.sample_rate if sample_rate is None else int(sample_rate)
        if rate <= 0:
            raise AudioError(f"sample rate must be positive, not {rate}")
        if rate != self.stream_rate:
            import soxr

            audio = soxr.resample(audio, rate, self.stream_rate).astype(np.float32)
        n = audio.shape[0]
        data = np.zeros(n + gap_frames, dtype=np.float32)
        np.clip(np.nan_to_num(audio, nan=0.0, posinf=0.0, neginf=0.0), -1.0, 1.0, out=data[:n])
        edge = min(int(round(EDGE_FADE_SECONDS * self.stream_rate)), n // 2)
        if edge > 0:
            ramp = (np.sin(0.5 * np.pi * (np.arange(edge) + 0.5) / edge) ** 2).astype(np.float32)
            data[:edge] *= ramp
            data[n - edge:n] *= ramp[::-1]
        data.flags.writeable = False
        return data

    def _submit(self, request):
        with self._control:
            if self._closed or self._stream is None:
                return
            self._request = request
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
                state = self._state
                # The callback has seen the latest request and is silent: nothing can start
                # while we hold the lock, so stopping cannot lose a request.
                if state.seen is self._request and state.idle_frames >= idle_limit:
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
        state = self._state
        began = state.began_serial
        tap_seconds = 0.0  # a test or benchmark tap's time is not the callback's own
        try:
            done = 0
            while done < frames:
                n = min(frames - done, SCRATCH_FRAMES)
                block = state.mix[:n]
                first_frame = self._frames_delivered
                self._render(state, block, first_frame)
                outdata[done:done + n] = block[:, None]
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
            state.reset()
            state.seen = self._request
        finished = time.perf_counter() - tap_seconds
        if state.began_serial != began:
            self._sounding = (state.began_serial, state.began_frame, finished)
        elapsed = finished - started
        if elapsed > self._callback_max:
            self._callback_max = elapsed
        self._callback_total += elapsed
        self._callback_calls += 1

    def _render(self, s, out, frame_index):
        n = out.shape[0]
        if s.fade_left == 0:
            request = self._request
            if request is not s.seen:
                self._take(s, request, frame_index)
        self._fill_current(s, out, frame_index)
        if s.fade_left:
            m = min(n, s.fade_left)
            k = s.crossfade_frames - s.fade_left
            fade = s.fade_buf[:m]
            s.fading_pos = _fill(s.fading, s.fading_pos, fade)
            np.multiply(out[:m], s.ramp_in[k:k + m], out=out[:m])
            np.multiply(fade, s.ramp_out[k:k + m], out=fade)
            np.add(out[:m], fade, out=out[:m])
            s.fade_left -= m
            if s.fade_left == 0:
                s.fading = None
        target = self._volume
        if s.gain != target:
            reach = s.gain_step * n
            end = min(max(target, s.gain - reach), s.gain + reach)
            gains = s.gain_buf[:n]
            np.multiply(s.counting[:n], (end - s.gain) / n, out=gains)
            np.add(gains, s.gain, out=gains)
            np.multiply(out, gains, out=out)
            s.gain = end
        elif target != 1.0:
            np.multiply(out, target, out=out)
        if s.current is None and s.fading is None:
            s.idle_frames += n
        else:
            s.idle_frames = 0

    def _take(self, s, request, frame_index):
        """Act on a new request (at the start of a block, never during a crossfade)."""
        s.seen = request
        last_seen_serial, s.seen_serial = s.seen_serial, request.serial
        self._picked_up = (request.serial, frame_index)
        if request.kind == _STOP:
            s.pending = None
            if s.current is not None:
                self._crossfade_from_current(s)
                s.current = None
            return
        if request.kind == _SWAP_NEXT and s.current is not None and s.current.looping:
            s.pending = request  # latest wins until the loop comes round
            return
        if request.kind == _START:
            pos = 0
        elif s.current is not None:
            pos = s.pos  # an immediate swap keeps the place in the loop
            if pos >= request.data.shape[0]:
                if not request.looping:
                    self._finished_serial = request.serial  # the new sound is already over
                    self._crossfade_from_current(s)
                    s.current = None
                    return
                pos = 0
        elif request.base_serial > last_seen_serial:
            pos = 0  # the sound it replaces was never started: start this one instead
        else:
            self._finished_serial = request.serial  # what it would replace has ended
            return
        if s.current is not None:
            self._crossfade_from_current(s)
        s.current = request
        s.pos = pos
        s.pending = None
        s.began_serial = request.serial
        s.began_frame = frame_index

    @staticmethod
    def _crossfade_from_current(s):
        s.fading = s.current
        s.fading_pos = s.pos
        s.fade_left = s.crossfade_frames

    def _fill_current(self, s, out, frame_index):
        n = out.shape[0]
        i = 0
        while i < n:
            program = s.current
            if program is None:
                out[i:].fill(0.0)
                return
            data = program.data
            k = min(n - i, data.shape[0] - s.pos)
            out[i:i + k] = data[s.pos:s.pos + k]
            i += k
            s.pos += k
            if s.pos == data.shape[0]:
                s.pos = 0
                if not program.looping:
                    s.current = None
                    self._finished_serial = program.serial
                elif s.pending is not None:
                    s.current, s.pending = s.pending, None
                    s.began_serial = s.current.serial
                    s.began_frame = frame_index + i


def _fill(program, pos, out):
    """Copy ``program``'s sound from ``pos`` into ``out`` (looping, or zeros after its end).

    Returns the position after the copy.
    """
    n = out.shape[0]
    i = 0
    data = program.data
    while i < n:
        if pos >= data.shape[0]:
            if not program.looping:
                out[i:].fill(0.0)
                return pos
            pos = 0
        k = min(n - i, data.shape[0] - pos)
        out[i:i + k] = data[pos:pos + k]
        i += k
        pos += k
    return pos
