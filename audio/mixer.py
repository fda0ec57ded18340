"""The mixer: what the player's stream plays, rendered into an array with no device.

A :class:`Mixer` prepares sounds, takes requests and renders samples, so tests drive it
frame by frame; :class:`audio.player.Player` calls it from its stream's callback. The two
threads share no lock: what to play arrives as one immutable request (the prepared sound,
loop flag, serial number), handed over by assigning a single attribute. Rendering copies
frames into preallocated scratch arrays and mixes the short fades that keep every change
free of clicks:

- a swap while looping takes effect at the next loop start (seamless: the sound's own edges
  are faded), or at once with a ``CROSSFADE_SECONDS`` crossfade when ``immediate=True``; an
  immediate swap keeps the loop position, so moving a latent point morphs the sound in time;
- a stop fades out over ``CROSSFADE_SECONDS``; a volume change glides over about
  ``VOLUME_GLIDE_SECONDS``;
- a step pattern (:mod:`audio.pattern`) plays beside the sound, each hit from the exact frame
  of its step in a voice of its own; a changed pattern takes effect at its next hit.
"""

import itertools
from typing import NamedTuple

import numpy as np

from audio.errors import AudioError
from audio.pattern import step_frame

CROSSFADE_SECONDS = 0.004  # the longest fade of a swap or a stop; the issue allows 5 ms
# Fade at both ends of every sound, so a loop seam or a sound's last sample cannot click.
# 2 ms stays well before a drum's attack (0.01 s into the preprocessed one-shots).
EDGE_FADE_SECONDS = 0.002
VOLUME_GLIDE_SECONDS = 0.01  # a full-scale volume change takes this long (no zipper noise)
# Frames rendered per chunk at most (PortAudio normally passes 256 or 512 at a time).
SCRATCH_FRAMES = 8192

_START, _SWAP_NOW, _SWAP_NEXT, _STOP = "start", "swap-now", "swap-next", "stop"
#: Hits of a pattern that may sound at once (each rings out to its end); a hit beyond them
#: takes the voice of the oldest.
PATTERN_VOICES = 16


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
        self.request: _Request | None = None
        self.pattern_request: _PatternRequest | None = None
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
            data[n - edge : n] *= ramp[::-1]
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
        self.pattern_request = _PatternRequest(
            tuple(sounds), tuple(tuple(s) for s in hits), int(tempo), bool(restart), next(self._serials)
        )

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
            self._render_chunk(out[i : i + SCRATCH_FRAMES], frame + i)

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
        np.multiply(out[:m], self._ramp_in[k : k + m], out=out[:m])
        np.multiply(fade, self._ramp_out[k : k + m], out=fade)
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
        assert request is not None  # called when a request differs from the one seen
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
        np.multiply(ringing, self._ramp_out[k : k + m], out=ringing)
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
            np.add(out[start : start + k], data[pos : pos + k], out=out[start : start + k])
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
            out[i : i + k] = data[self.pos : self.pos + k]
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


def _fill(program, pos, out):
    """Copy ``program``'s sound from ``pos`` into ``out`` (looping, or zeros after its end);
    returns the position after the copy."""
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
        out[i : i + k] = data[pos : pos + k]
        i += k
        pos += k
    return pos
