"""Playback on one background PortAudio stream: play once, loop with a gap, swap sounds live.

Two halves. A :class:`Mixer` is pure: it prepares sounds, takes requests and renders
samples into an array, with no device, so tests drive it frame by frame. A :class:`Player`
owns the stream, the device and the statistics, and calls the mixer from the stream's
callback.

The GUI and the command line call a :class:`Player` from their own thread; PortAudio calls
the stream's callback from its audio thread. The two share no lock. What the callback should
play arrives as one immutable request (the prepared sound, loop flag, serial number), handed
over by assigning a single attribute. The mixer copies frames from the request's sound
into preallocated scratch arrays, advances a position, and mixes the short fades that keep
every change free of clicks:

- a swap while looping takes effect at the next loop start (seamless: the sound's own edges
  are faded), or at once with a ``CROSSFADE_SECONDS`` crossfade when ``immediate=True``; an
  immediate swap keeps the loop position, so moving a latent point morphs the sound in time;
- a stop fades out over ``CROSSFADE_SECONDS``;
- a volume change glides over about ``VOLUME_GLIDE_SECONDS``;
- a step pattern (:mod:`audio.pattern`) plays beside the sound: each hit starts at the exact
  frame its step falls on, counted from the pattern's start, and rings out in a voice of its
  own; a changed pattern (a step, a lane's sound, the tempo) takes effect at its next hit,
  keeping the beat.

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
from audio.pattern import step_frame
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
#: Hits of a pattern that may sound at once (each rings out to its end); a hit beyond them
#: takes the voice of the oldest.
PATTERN_VOICES = 16


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


class _PatternRequest(NamedTuple):
    """A step pattern for the callback to play; immutable once handed over."""

    sounds: tuple | None  # per lane: prepared data (read-only) or None; None stops the pattern
    hits: tuple  # per step: the lanes that hit on it
    tempo: int
    restart: bool  # from its first step now, or keeping the beat of the one it replaces
    serial: int
    cut: bool = False  # a stop that also fades out the hits still ringing (Stop, Esc)


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


class Mixer:
    """Renders the latest request into samples: the player without a device.

    Two threads share a mixer without a lock. The controlling thread prepares sounds
    (:meth:`prepare`) and hands requests over (:meth:`start`, :meth:`swap`, :meth:`stop`,
    :attr:`volume`); the rendering thread (the stream's callback, or a test) calls
    :meth:`render`, which allocates nothing. A request is handed over by assigning one
    attribute, so the renderer sees either the old request or the new one, whole.

    Parameters
    ----------
    rate : int
        The rate the mixer renders at.
    source_rate : int or None
        The rate of sounds given to :meth:`prepare` without a rate of their own; ``rate``
        when None.

    Attributes
    ----------
    request : _Request or None
        The latest request handed over (None before the first).
    volume : float
        The gain :meth:`render` glides to, 0..1 (the caller checks the range).
    finished_serial : int
        Serial number of the latest sound that played to its end.
    picked_up : (int, int)
        ``(serial, frame)``: the latest request :meth:`render` acted on, and the first frame
        of the block in which it did.
    """

    def __init__(self, rate, *, source_rate=None):
        self.rate = int(rate)
        self.source_rate = self.rate if source_rate is None else int(source_rate)
        self.request = None
        self.pattern_request = None
        self.volume = 1.0
        self.finished_serial = 0
        self.picked_up = (0, 0)
        self._serials = itertools.count(1)
        self.crossfade_frames = max(1, int(round(CROSSFADE_SECONDS * self.rate)))
        fade_in = np.sin(0.5 * np.pi * (np.arange(self.crossfade_frames) + 0.5) / self.crossfade_frames) ** 2
        self._ramp_in = fade_in.astype(np.float32)
        self._ramp_out = (1.0 - fade_in).astype(np.float32)
        self._counting = np.arange(1, SCRATCH_FRAMES + 1, dtype=np.float32)
        self._fade_buf = np.zeros(SCRATCH_FRAMES, dtype=np.float32)
        self._voice_buf = np.zeros(SCRATCH_FRAMES, dtype=np.float32)
        self._gain_buf = np.zeros(SCRATCH_FRAMES, dtype=np.float32)
        self._gain_step = 1.0 / max(1.0, VOLUME_GLIDE_SECONDS * self.rate)
        self.reset()

    def reset(self):
        """Forget what is sounding: silence, full gain, no request seen."""
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
        self.pattern_seen = None
        self.pattern = None  # the pattern request being played
        self.pattern_began = (0, 0)  # (serial, frame of its first step) of the latest started
        self._origin_frame = 0  # the frame of step _origin_step of the pattern's timeline
        self._origin_step = 0
        self._next_step = 0  # counted from the pattern's start, across bars
        self._voice_data = [None] * PATTERN_VOICES  # the hits sounding: their data and place
        self._voice_pos = [0] * PATTERN_VOICES
        self._voices = 0
        self._voices_fade_left = 0  # a cut stop: frames left of the ringing hits' fade-out

    def recover(self):
        """Start from a clean state after a failed render, skipping the request it was on."""
        self.reset()
        self.seen = self.request
        self.pattern_seen = self.pattern_request

    # -- the controlling thread ------------------------------------------------------------

    def prepare(self, buffer, sample_rate=None, gap_frames=0):
        """The sound as :meth:`render` wants it: mono float32 at ``rate``, edges faded, gap
        appended, read-only. Runs on the caller's thread, so it may allocate.

        Parameters
        ----------
        buffer : np.ndarray, shape (n,) or (n, channels)
            The sound; channels are mixed to mono, NaN becomes 0, samples clip to [-1, 1].
        sample_rate : int or None
            Its rate; ``source_rate`` when None. Resampled to ``rate`` when they differ.
        gap_frames : int
            Silent frames appended (the gap between the hits of a loop).

        Returns
        -------
        data : np.ndarray, shape (m + gap_frames,)
            ``m`` is the sound's length at ``rate``.
        """
        audio = np.asarray(buffer, dtype=np.float32)
        if audio.ndim == 2:
            audio = audio.mean(axis=1)
        if audio.ndim != 1 or audio.shape[0] == 0:
            raise AudioError(f"a sound to play must be a non-empty (samples,) array, not shape {audio.shape}")
        rate = self.source_rate if sample_rate is None else int(sample_rate)
        if rate <= 0:
            raise AudioError(f"sample rate must be positive, not {rate}")
        if rate != self.rate:
            import soxr

            audio = soxr.resample(audio, rate, self.rate).astype(np.float32)
        n = audio.shape[0]
        data = np.zeros(n + gap_frames, dtype=np.float32)
        np.clip(np.nan_to_num(audio, nan=0.0, posinf=0.0, neginf=0.0), -1.0, 1.0, out=data[:n])
        edge = min(int(round(EDGE_FADE_SECONDS * self.rate)), n // 2)
        if edge > 0:
            ramp = (np.sin(0.5 * np.pi * (np.arange(edge) + 0.5) / edge) ** 2).astype(np.float32)
            data[:edge] *= ramp
            data[n - edge:n] *= ramp[::-1]
        data.flags.writeable = False
        return data

    def start(self, data, *, looping, gap_frames):
        """Hand over a prepared sound to play from its start, once or looping."""
        self.request = _Request(_START, data, looping, gap_frames, next(self._serials), 0)

    def replaceable(self):
        """The request a :meth:`swap` would replace, or None when nothing plays."""
        base = self.request
        if base is None or base.kind == _STOP:
            return None
        if not base.looping and self.finished_serial >= base.serial:
            return None
        return base

    def swap(self, base, data, *, immediate):
        """Hand over a prepared sound that replaces ``base`` (from :meth:`replaceable`).

        While looping it starts at the next loop start, or with ``immediate`` at once, at
        the same place in the loop; a sound playing once is replaced at once.
        """
        kind = _SWAP_NEXT if base.looping and not immediate else _SWAP_NOW
        self.request = _Request(kind, data, base.looping, base.gap_frames, next(self._serials), base.serial)

    def stop(self):
        """Hand over a stop: fade out over ``CROSSFADE_SECONDS`` and go silent."""
        self.request = _Request(_STOP, None, False, 0, next(self._serials), 0)

    def start_pattern(self, sounds, hits, tempo, *, restart):
        """Hand over a step pattern to loop beside the sound.

        Parameters
        ----------
        sounds : sequence of (np.ndarray or None)
            Per lane, a sound from :meth:`prepare` (None: the lane is silent).
        hits : sequence of sequence of int
            Per step, the lanes that hit on it; its length is the steps in a bar.
        tempo : int
            BPM; a step is a sixteenth note (:func:`audio.pattern.step_frame`).
        restart : bool
            True: from its first step at once. False: it replaces the pattern playing at
            that pattern's next step, keeping the beat (a changed step, sound or tempo);
            hits already sounding ring out with the sound they began with.
        """
        self.pattern_request = _PatternRequest(tuple(sounds), tuple(tuple(s) for s in hits), int(tempo),
                                               bool(restart), next(self._serials))

    def stop_pattern(self, *, cut=False):
        """Hand over the pattern's end: no more hits; those sounding ring out, or with
        ``cut`` fade out over ``CROSSFADE_SECONDS`` (silence at once, with no click)."""
        self.pattern_request = _PatternRequest(None, (), 0, True, next(self._serials), cut)

    @property
    def pattern_playing(self):
        """True from :meth:`start_pattern` until :meth:`stop_pattern`."""
        request = self.pattern_request
        return request is not None and request.sounds is not None

    @property
    def playing(self):
        """True from a start until the sound ends or a stop is handed over."""
        request = self.request
        if request is None or request.kind == _STOP:
            return False
        return request.looping or self.finished_serial < request.serial

    @property
    def settled(self):
        """True once :meth:`render` has acted on the latest request and no fade is left."""
        return self.seen is self.request and self.fade_left == 0

    @property
    def silent_frames(self):
        """Frames rendered silent since the latest request was seen (0 while one waits)."""
        seen = self.seen is self.request and self.pattern_seen is self.pattern_request
        return self.idle_frames if seen else 0

    # -- the rendering thread --------------------------------------------------------------

    def render(self, out, frame):
        """Fill ``out`` with the next frames, allocating nothing.

        Parameters
        ----------
        out : np.ndarray, shape (n,), float32
            Overwritten with the mono samples.
        frame : int
            The absolute index of ``out``'s first frame (for :attr:`picked_up` and the
            frame a sound began at).
        """
        for i in range(0, out.shape[0], SCRATCH_FRAMES):
            self._render_chunk(out[i:i + SCRATCH_FRAMES], frame + i)

    def _render_chunk(self, out, frame_index):
        n = out.shape[0]
        if self.fade_left == 0:
            request = self.request
            if request is not self.seen:
                self._take(request, frame_index)
        self._fill_current(out, frame_index)
        if self.fade_left:
            self._mix_fade(out)
        if self.pattern_request is not self.pattern_seen:
            self._take_pattern(frame_index)
        if self._voices_fade_left:
            self._fade_voices(out)
        elif self.pattern is not None or self._voices:
            self._mix_pattern(out, frame_index)
        self._apply_gain(out)
        if self.current is None and self.fading is None and self.pattern is None and not self._voices:
            self.idle_frames += n
        else:
            self.idle_frames = 0

    def _mix_fade(self, out):
        """Crossfade the sound fading out into ``out``'s first frames."""
        m = min(out.shape[0], self.fade_left)
        k = self.crossfade_frames - self.fade_left
        fade = self._fade_buf[:m]
        self.fading_pos = _fill(self.fading, self.fading_pos, fade)
        np.multiply(out[:m], self._ramp_in[k:k + m], out=out[:m])
        np.multiply(fade, self._ramp_out[k:k + m], out=fade)
        np.add(out[:m], fade, out=out[:m])
        self.fade_left -= m
        if self.fade_left == 0:
            self.fading = None

    def _apply_gain(self, out):
        """Scale ``out`` by the volume, gliding towards a new one by at most one step a frame."""
        n = out.shape[0]
        target = self.volume
        if self.gain != target:
            reach = self._gain_step * n
            end = min(max(target, self.gain - reach), self.gain + reach)
            gains = self._gain_buf[:n]
            np.multiply(self._counting[:n], (end - self.gain) / n, out=gains)
            np.add(gains, self.gain, out=gains)
            np.multiply(out, gains, out=out)
            self.gain = end
        elif target != 1.0:
            np.multiply(out, target, out=out)

    def _take(self, request, frame_index):
        """Act on a new request (at the start of a block, never during a crossfade)."""
        self.seen = request
        last_seen_serial, self.seen_serial = self.seen_serial, request.serial
        self.picked_up = (request.serial, frame_index)
        if request.kind == _STOP:
            self.pending = None
            if self.current is not None:
                self._crossfade_from_current()
                self.current = None
            return
        if request.kind == _SWAP_NEXT and self.current is not None and self.current.looping:
            self.pending = request  # latest wins until the loop comes round
            return
        if request.kind == _START:
            pos = 0
        elif self.current is not None:
            pos = self.pos  # an immediate swap keeps the place in the loop
            if pos >= request.data.shape[0]:
                if not request.looping:
                    self.finished_serial = request.serial  # the new sound is already over
                    self._crossfade_from_current()
                    self.current = None
                    return
                pos = 0
        elif request.base_serial > last_seen_serial:
            pos = 0  # the sound it replaces was never started: start this one instead
        else:
            self.finished_serial = request.serial  # what it would replace has ended
            return
        if self.current is not None:
            self._crossfade_from_current()
        self.current = request
        self.pos = pos
        self.pending = None
        self.began_serial = request.serial
        self.began_frame = frame_index

    def _take_pattern(self, frame_index):
        """Act on a new pattern request at the start of a block."""
        request = self.pattern_request
        self.pattern_seen = request
        if request.sounds is None:
            self.pattern = None
            if request.cut and self._voices:
                self._voices_fade_left = self.crossfade_frames
            return
        old = self.pattern
        if request.restart or old is None:
            self._origin_frame, self._origin_step, self._next_step = frame_index, 0, 0
            self.pattern_began = (request.serial, frame_index)
        elif request.tempo != old.tempo:  # the new tempo counts from the old one's next step
            self._origin_frame = self._step_start(old.tempo)
            self._origin_step = self._next_step
        self.pattern = request

    def _step_start(self, tempo):
        """The frame at which the pattern's next step begins, at ``tempo``."""
        return self._origin_frame + step_frame(self._next_step - self._origin_step, tempo, self.rate)

    def _mix_pattern(self, out, frame_index):
        """Add the pattern's voices to ``out``, starting each hit on its exact frame."""
        n = out.shape[0]
        done = 0
        pattern = self.pattern
        while pattern is not None:
            at = self._step_start(pattern.tempo) - frame_index
            if at >= n:
                break
            at = max(at, done)
            self._mix_voices(out, done, at)
            done = at
            for lane in pattern.hits[self._next_step % len(pattern.hits)]:
                if pattern.sounds[lane] is not None:
                    self._start_voice(pattern.sounds[lane])
            self._next_step += 1
        self._mix_voices(out, done, n)

    def _fade_voices(self, out):
        """A cut stop: the ringing hits' next frames, fading out, then none of them."""
        m = min(out.shape[0], self._voices_fade_left)
        k = self.crossfade_frames - self._voices_fade_left
        ringing = self._voice_buf[:m]
        ringing.fill(0.0)
        self._mix_voices(ringing, 0, m)
        np.multiply(ringing, self._ramp_out[k:k + m], out=ringing)
        np.add(out[:m], ringing, out=out[:m])
        self._voices_fade_left -= m
        if self._voices_fade_left == 0:
            for i in range(PATTERN_VOICES):
                self._voice_data[i] = None
            self._voices = 0

    def _start_voice(self, data):
        slot, oldest = 0, -1
        for i in range(PATTERN_VOICES):
            if self._voice_data[i] is None:
                slot = i
                break
            if self._voice_pos[i] > oldest:
                slot, oldest = i, self._voice_pos[i]
        if self._voice_data[slot] is None:
            self._voices += 1
        self._voice_data[slot] = data
        self._voice_pos[slot] = 0

    def _mix_voices(self, out, start, end):
        """Add every sounding voice's next ``end - start`` frames to ``out[start:end]``."""
        if end <= start or not self._voices:
            return
        for i in range(PATTERN_VOICES):
            data = self._voice_data[i]
            if data is None:
                continue
            pos = self._voice_pos[i]
            k = min(end - start, data.shape[0] - pos)
            np.add(out[start:start + k], data[pos:pos + k], out=out[start:start + k])
            pos += k
            if pos >= data.shape[0]:
                self._voice_data[i] = None
                self._voices -= 1
                pos = 0
            self._voice_pos[i] = pos

    def _crossfade_from_current(self):
        self.fading = self.current
        self.fading_pos = self.pos
        self.fade_left = self.crossfade_frames

    def _fill_current(self, out, frame_index):
        n = out.shape[0]
        i = 0
        while i < n:
            program = self.current
            if program is None:
                out[i:].fill(0.0)
                return
            data = program.data
            k = min(n - i, data.shape[0] - self.pos)
            out[i:i + k] = data[self.pos:self.pos + k]
            i += k
            self.pos += k
            if self.pos == data.shape[0]:
                self.pos = 0
                if not program.looping:
                    self.current = None
                    self.finished_serial = program.serial
                elif self.pending is not None:
                    self.current, self.pending = self.pending, None
                    self.began_serial = self.current.serial
                    self.began_frame = frame_index + i


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
        self._sd = None
        self._stream = None
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
                    samplerate=rate, blocksize=block_frames(rate), device=info["index"],
                    channels=channels, dtype="float32", latency="low", callback=self._callback,
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
        return self.is_playing and self.mixer.request.looping

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
        request = self.mixer.request
        return 0 if request is None else request.serial

    @property
    def began_serial(self):
        """Serial number of the request now sounding: the latest start or immediate swap, or
        a swap for the next repetition once the loop came round to it (0 before any)."""
        return self.mixer.began_serial

    @property
    def seen_serial(self):
        """Serial number of the latest request the callback has acted on (0 before any). A
        swap for the next repetition older than it that has not begun never will."""
        return self.mixer.seen_serial

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
        return self.mixer.picked_up

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
