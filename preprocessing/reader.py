"""Reading one source file and turning it into one training sample.

This is the thin layer around the pure steps of ``preprocessing.signal``: it opens the
file with soundfile, checks it against the acceptance rules below, resamples exactly as
``librosa.resample`` does by default (soxr, "soxr_hq"), and raises ``AudioInputError``
with a one-line reason for anything unusable.

Acceptance rules (each a constant here, each with a reason string a user can act on):

- at least ``MIN_SECONDS`` long: a single sample, or a few, is not a drum hit;
- at most ``MAX_SECONDS`` long, judged from the header before reading: one-shots are
  seconds long, a ten-minute file is a song or a loop, and reading it all is wasted work;
- a sample rate of at least the target rate: upsampling cannot bring back the highs above
  the source's Nyquist frequency, so an 8 kHz hat would train the models on a dull copy;
  higher rates (96, 192 kHz) are resampled down;
- mono or stereo, or any channel count with ``channel`` set: mixing six channels of a
  surround or multi-microphone file into one is a guess that smears the transient
  (comb filtering), so it is refused with a hint to pick a channel instead;
- finite samples (float files can hold NaN or infinity), and not silent;
- complete: libsndfile quietly reads what is there of a cut-off WAV or AIFF, so its header
  log is checked for a data chunk longer than the file (before the length rules: a cut-off
  file is "truncated", not "too short");
- a regular file: a FIFO (named pipe) or a device under the name is refused before it is
  read, where a plain open would wait for a writer for good.
"""

import math
import os
import re
from dataclasses import dataclass

import numpy as np
import soundfile as sf
import soxr

from constants import MAX_ONE_SHOT_SECONDS
from preprocessing.errors import TOO_MANY_CHANNELS, AudioInputError
from preprocessing.settings import PreprocessSettings
from preprocessing.signal import align_peak, fix_length, mix_to_mono, normalize_peak
from safeio import NotARegularFile, open_regular

MIN_SECONDS = 0.005
MAX_SECONDS = MAX_ONE_SHOT_SECONDS
MAX_MIXDOWN_CHANNELS = 2
MAX_SAMPLE_RATE = 768_000
SILENCE_DBFS = -80.0

# libsndfile's header log says "data : 88200 (should be 44078)" for a cut-off WAV and
# "Chunk size 88208 > file length 44127" for a cut-off AIFF; it reads what is there anyway.
_DATA_SHOULD_BE = re.compile(r"^\s*data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)
_CHUNK_PAST_END = re.compile(r"Chunk size (\d+) > file length (\d+)")
# Streaming writers that never went back to fill in the size leave these placeholders.
_UNKNOWN_SIZES = {0, 0xFFFFFFFF}

# libsndfile's open errors, in the words a user needs.
_OPEN_ERRORS = (
    ("Format not recognised", "not audio", "not an audio file (format not recognised)"),
    ("No 'data' chunk", "truncated", "truncated or damaged: the header has no audio data chunk"),
    ("unimplemented format", "unreadable", "unreadable: an audio format libsndfile cannot decode"),
)


@dataclass(frozen=True)
class SourceInfo:
    """What a source file's header says.

    Attributes
    ----------
    sample_rate : int
    channels : int
    frames : int
    format : str
        libsndfile's container name, e.g. ``"WAV"``, ``"FLAC"``.
    subtype : str
        e.g. ``"PCM_16"``, ``"FLOAT"``.
    """

    sample_rate: int
    channels: int
    frames: int
    format: str = ""
    subtype: str = ""

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.frames / self.sample_rate if self.sample_rate else 0.0


def _open_error(error):
    """Turn a soundfile exception raised while opening into an AudioInputError."""
    message = getattr(error, "error_string", None) or str(error)
    for needle, kind, reason in _OPEN_ERRORS:
        if needle in message:
            return AudioInputError(reason, kind=kind)
    return AudioInputError(f"unreadable (libsndfile: {message.strip().rstrip('.')})", kind="unreadable")


#: The containers whose header declares the data chunk's size (checked by :func:`truncation`).
SIZED_CONTAINERS = ("WAV", "WAVEX", "AIFF", "RF64", "W64")


def truncation(handle):
    """Why an open sound file was cut off (its header promises more audio than it holds),
    as a reason, or None.

    Parameters
    ----------
    handle : soundfile.SoundFile

    Returns
    -------
    str or None
        "truncated: the header promises 44100 bytes of audio, the file holds 112".
    """
    if handle.format not in SIZED_CONTAINERS:
        return None
    return _truncation(handle.extra_info)


def _truncation(extra_info):
    """The header-log evidence that a WAV/AIFF was cut off, as a reason, or None."""
    for declared, actual in _DATA_SHOULD_BE.findall(extra_info):
        declared, actual = int(declared), int(actual)
        if declared not in _UNKNOWN_SIZES and actual < declared:
            return f"truncated: the header promises {declared} bytes of audio, the file holds {actual}"
    match = _CHUNK_PAST_END.search(extra_info)
    if match:
        return f"truncated: a {match.group(1)}-byte chunk runs past the end of the {match.group(2)}-byte file"
    return None


def check_source(info, settings=PreprocessSettings()):
    """Apply the acceptance rules that need only the header.

    Parameters
    ----------
    info : SourceInfo
    settings : PreprocessSettings

    Raises
    ------
    AudioInputError
        With ``kind`` one of "empty", "too short", "too long", "sample rate", "channels".
    """
    if info.frames <= 0:
        raise AudioInputError("empty: the file holds no audio frames", kind="empty")
    if not 0 < info.sample_rate <= MAX_SAMPLE_RATE:
        raise AudioInputError(f"implausible sample rate {info.sample_rate} Hz in the header", kind="sample rate")
    if info.sample_rate < settings.sample_rate:
        raise AudioInputError(
            f"sample rate {info.sample_rate} Hz is below the {settings.sample_rate} Hz target "
            f"(upsampling cannot restore the highs above {info.sample_rate // 2} Hz)",
            kind="sample rate too low",
        )
    if info.duration < MIN_SECONDS:
        frames = "1 sample" if info.frames == 1 else f"{info.frames} samples"
        raise AudioInputError(
            f"too short: {frames} ({info.duration * 1000:.2f} ms; a drum hit needs at least {MIN_SECONDS * 1000:g} ms)",
            kind="too short",
        )
    if info.duration > MAX_SECONDS:
        raise AudioInputError(
            f"too long: {info.duration:.1f} s (one-shots up to {MAX_SECONDS:g} s are accepted; is it a loop or a song?)",
            kind="too long",
        )
    if settings.channel is None and info.channels > MAX_MIXDOWN_CHANNELS:
        raise AudioInputError(
            f"{info.channels} channels: only mono and stereo are mixed down; pass --channel N to take one channel",
            kind=TOO_MANY_CHANNELS,
        )


def read_source(path, settings=PreprocessSettings()):
    """Open, check and read a source file.

    Parameters
    ----------
    path : str or os.PathLike
    settings : PreprocessSettings

    Returns
    -------
    data : np.ndarray, shape (frames, channels), float32
    info : SourceInfo

    Raises
    ------
    AudioInputError
        Empty, not audio, truncated, damaged, or refused by ``check_source``.
    """
    try:
        # By the open file, not the name: soundfile cannot encode a str path holding bytes
        # that are not UTF-8 (Linux allows any bytes in a file name), and a FIFO is refused
        # here instead of blocking the open.
        file = open_regular(path)
    except NotARegularFile as error:
        raise AudioInputError(error.strerror, kind="not a file") from None
    except OSError as error:
        raise AudioInputError(f"cannot be opened: {error.strerror}", kind="unreadable") from None
    with file:
        if os.fstat(file.fileno()).st_size == 0:
            raise AudioInputError("empty file (0 bytes)", kind="empty")
        return _read_open(file, settings)


def _read_open(file, settings):
    """(data, SourceInfo) of an open audio file (a file on disk, or bytes in memory)."""
    try:
        handle = sf.SoundFile(file)
    except sf.SoundFileError as error:
        raise _open_error(error) from None
    with handle:
        info = SourceInfo(handle.samplerate, handle.channels, handle.frames, handle.format, handle.subtype)
        try:
            return _read_checked(handle, info, settings), info
        except AudioInputError as error:
            error.info = info  # the header facts still go into the manifest
            raise


def prepare_bytes(data, settings=PreprocessSettings()):
    """``prepare_file`` for a file's bytes held in memory (an upload), never written anywhere.

    Parameters
    ----------
    data : bytes
        A whole audio file (WAV, FLAC, OGG... whatever libsndfile reads).
    settings : PreprocessSettings

    Returns
    -------
    y : np.ndarray, shape (settings.length,), float32

    Raises
    ------
    AudioInputError
        Empty, not audio, truncated, damaged, too long, silent...: ``str(error)`` says why.
    """
    import io

    if not data:
        raise AudioInputError("empty file (0 bytes)", kind="empty")
    audio, info = _read_open(io.BytesIO(data), settings)
    return prepare_audio(audio, info.sample_rate, settings)


def _read_checked(handle, info, settings):
    # Before the length rules: libsndfile counts the frames the cut-off file still holds,
    # so a WAV cut to a few samples would otherwise be called "too short".
    truncated = truncation(handle)
    if truncated:
        raise AudioInputError(truncated, kind="truncated")
    check_source(info, settings)
    try:
        data = handle.read(dtype="float32", always_2d=True)
    except sf.SoundFileError as error:
        message = (getattr(error, "error_string", None) or str(error)).strip().rstrip(".")
        raise AudioInputError(f"truncated or damaged: decoding failed ({message})", kind="truncated") from None
    if data.shape[0] < info.frames:
        raise AudioInputError(
            f"truncated: the header promises {info.frames} frames, only {data.shape[0]} could be read",
            kind="truncated",
        )
    # One float64 sum is finite exactly when every sample is (float32 values cannot add up
    # to an overflow in float64), and it needs no array of flags as large as the audio.
    if not np.isfinite(data.sum(dtype=np.float64)):
        raise AudioInputError("contains NaN or infinite samples", kind="not finite")
    return data


def prepare_audio(data, sample_rate, settings=PreprocessSettings()):
    """The seed's steps on decoded audio: mono, silence check, resample, align, length.

    Parameters
    ----------
    data : np.ndarray, shape (frames, channels) or (frames,)
    sample_rate : int
        Rate of ``data`` in Hz.
    settings : PreprocessSettings

    Returns
    -------
    y : np.ndarray, shape (settings.length,), float32
        Its absolute peak is at index ``settings.attack_samples`` (when that is inside).

    Raises
    ------
    AudioInputError
        No such channel, or silent.
    """
    mono = mix_to_mono(np.asarray(data, dtype=np.float32), settings.channel)
    peak = max(float(mono.max()), -float(mono.min())) if mono.size else 0.0
    if peak < 10 ** (SILENCE_DBFS / 20):
        level = "-inf" if peak == 0 else f"{20 * math.log10(peak):.0f}"
        raise AudioInputError(f"silent (peak {level} dBFS, below {SILENCE_DBFS:g} dBFS)", kind="silent")
    if sample_rate != settings.sample_rate:
        mono = resample(mono, sample_rate, settings.sample_rate)
    y = fix_length(align_peak(mono, settings.attack_samples), settings.length)
    if settings.normalize == "peak":
        y = normalize_peak(y)
    return np.ascontiguousarray(y, dtype=np.float32)


def prepare_file_with_info(path, settings=PreprocessSettings()):
    """``prepare_file`` that also returns the source's header facts.

    Returns
    -------
    y : np.ndarray, shape (settings.length,), float32
    info : SourceInfo
    """
    data, info = read_source(path, settings)
    try:
        return prepare_audio(data, info.sample_rate, settings), info
    except AudioInputError as error:
        error.info = info
        raise


def prepare_file(path, settings=PreprocessSettings()):
    """Read, validate, mix to mono, resample, align the peak and fix the length of one file.

    Parameters
    ----------
    path : str or os.PathLike
    settings : PreprocessSettings

    Returns
    -------
    y : np.ndarray, shape (settings.length,), float32

    Raises
    ------
    AudioInputError
        The file cannot become a sample; ``str(error)`` says why in one line.
    """
    return prepare_file_with_info(path, settings)[0]


def resample(y, orig_sr, target_sr):
    """Band-limited resampling, sample for sample what the seed's ``librosa.resample`` gives.

    librosa's default ``res_type="soxr_hq"`` calls ``soxr.resample(y, orig_sr, target_sr,
    quality="soxr_hq")`` and then fixes the length to ``ceil(n * target_sr / orig_sr)``;
    this does the same two steps without importing librosa's core, which takes over a
    second and would be paid by every run and every worker (tests check the equality).

    Parameters
    ----------
    y : np.ndarray, shape (n,)
    orig_sr, target_sr : int

    Returns
    -------
    np.ndarray, shape (ceil(n * target_sr / orig_sr),), dtype of ``y``
    """
    resampled = soxr.resample(y, orig_sr, target_sr, quality="soxr_hq")
    return fix_length(resampled, int(np.ceil(y.shape[0] * float(target_sr) / orig_sr)))
