"""WAV export that producers can use, and the favourites folder with its recall data.

:func:`write_wav` resamples (soxr, 44.1 kHz by default), optionally peak-normalises, and
writes 16-bit, 24-bit or float WAV atomically: a temporary name in the same folder, then a
rename, so a reader never sees half a file and a failed write leaves nothing behind.

:class:`FavouritesFolder` saves sounds under names that say what they are
(``vae_c_x+0.52_y-1.20_003.wav``: model, latent point, counter; a variation is named by its
number instead, ``vae_c_x+0.52_y-1.20_v3.wav``), never overwrites a file (even with two savers
racing), and writes beside each WAV a JSON sidecar with the model, point, settings (a
variation's record), level, rates and date, so the app can reopen a favourite as it sounded
(:mod:`audio.recall` reads it back).
"""

import contextlib
import hashlib
import io
import json
import math
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from audio.errors import AudioError, OutputExists
from audio.level import AS_MADE, LevelError, apply_level, check_level
from audio.recall import read_recall, recorded_vector, variation_index
from constants import CD_SAMPLE_RATE
from safeio import FileExistsRefused, WriteFailed, atomic_write, interrupts_held

SUBTYPES = ("PCM_16", "PCM_24", "FLOAT")
DEFAULT_OUT_RATE = CD_SAMPLE_RATE
# Normalised peaks sit just under full scale, so a DAW's resampling does not clip them.
NORMALIZE_PEAK_DB = -0.1
RECALL_VERSION = 1
_COUNTER_DIGITS = 3


def write_wav(path, audio, sample_rate, *, out_rate=DEFAULT_OUT_RATE, subtype="PCM_16", normalize=False, overwrite=True):
    """Write ``audio`` to a WAV file atomically.

    Parameters
    ----------
    path : str or Path
        Where to write; the folder must exist. An existing file is replaced (atomically)
        only when ``overwrite`` is true.
    audio : np.ndarray, shape (n,) or (n, channels)
        Float samples, full scale at +-1. PCM formats clip beyond full scale.
    sample_rate : int
        Rate of ``audio``.
    out_rate : int or None
        Rate of the file (resampled with soxr); None keeps ``sample_rate``.
    subtype : {"PCM_16", "PCM_24", "FLOAT"}
    normalize : bool
        Scale so the absolute peak is ``NORMALIZE_PEAK_DB`` dBFS (silence stays silent).
    overwrite : bool
        False: refuse (:class:`OutputExists`) when ``path`` exists, decided atomically.

    Returns
    -------
    path : Path
        The file written.

    Raises
    ------
    OutputExists
        ``overwrite`` is false and ``path`` exists; the file is untouched.
    AudioError
        Bad audio or options, or the file cannot be written; the message says which.
    """
    path = Path(path)
    data, rate = render_for_file(audio, sample_rate, out_rate=out_rate, subtype=subtype, normalize=normalize)
    # Encoded in memory first: libsndfile's callbacks into a real file would print a
    # traceback of their own on a full disk; the atomic write then reports it in one line.
    try:
        encoded = wav_bytes(data, rate, subtype)
    except (OSError, RuntimeError) as error:  # libsndfile reports its failures as RuntimeError
        raise AudioError(f"{path}: cannot write ({getattr(error, 'strerror', None) or error})") from error
    _write_file(path, lambda file: file.write(encoded), overwrite=overwrite)
    return path


def render_for_file(audio, sample_rate, *, out_rate=DEFAULT_OUT_RATE, subtype="PCM_16", normalize=False):
    """The samples and rate :func:`write_wav` would write (validated, resampled, normalised).

    Returns
    -------
    data : np.ndarray, float32, shape (m,) or (m, channels)
    rate : int
    """
    if subtype not in SUBTYPES:
        raise AudioError(f"unknown WAV format {subtype!r}; choose from {', '.join(SUBTYPES)}")
    sample_rate = _positive_rate(sample_rate, "sample rate")
    rate = sample_rate if out_rate is None else _positive_rate(out_rate, "output rate")
    data = np.asarray(audio, dtype=np.float32)
    if data.ndim not in (1, 2) or data.shape[0] == 0 or (data.ndim == 2 and data.shape[1] == 0):
        raise AudioError(f"audio to save must be a non-empty (samples,) or (samples, channels) array, not shape {data.shape}")
    if not np.all(np.isfinite(data)):
        raise AudioError("audio to save contains NaN or infinite samples")
    if rate != sample_rate:
        import soxr

        data = soxr.resample(data, sample_rate, rate, quality="HQ").astype(np.float32)
    if normalize:
        peak = float(np.max(np.abs(data)))
        if peak > 0:
            data = data * np.float32(10 ** (NORMALIZE_PEAK_DB / 20) / peak)
    return data, rate


def _positive_rate(value, what):
    try:
        rate = int(value)
    except (TypeError, ValueError):
        raise AudioError(f"{what} must be a whole number of Hz, not {value!r}") from None
    if rate <= 0 or rate != value:
        raise AudioError(f"{what} must be a positive whole number of Hz, not {value!r}")
    return rate


def _write_wav_to(file, data, rate, subtype):
    import soundfile

    with interrupts_held():  # cffi swallows a Ctrl+C raised in soundfile's callbacks: 3 of 12 kit exports ended in an AssertionError
        soundfile.write(file, data, rate, subtype=subtype, format="WAV")


def wav_bytes(data, rate, subtype):
    """A WAV file's bytes, written in memory.

    Parameters
    ----------
    data : np.ndarray, shape (n,) or (n, channels)
    rate : int
    subtype : str
        soundfile's sample format, e.g. ``"PCM_24"``.

    Returns
    -------
    bytes
    """
    buffer = io.BytesIO()
    _write_wav_to(buffer, data, rate, subtype)
    return buffer.getvalue()


def _write_file(path, write, *, overwrite=True):
    """The project's one atomic write (:mod:`safeio`), its errors as AudioError."""
    try:
        return atomic_write(path, write, overwrite=overwrite)
    except FileExistsRefused as error:
        raise OutputExists(str(error)) from None
    except WriteFailed as error:
        raise AudioError(str(error)) from None


def _remove_quietly(path):
    # Only our own just-written file; a failure here (read-only) must not hide the reason.
    with contextlib.suppress(OSError):
        os.unlink(path)


def favourite_stem(model, point):
    """The name of a favourite without its counter: ``vae_c_x+0.52_y-1.20``.

    Parameters
    ----------
    model : str
    point : (float, float)
    """
    x, y = _point(point)
    safe_model = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(model)).strip("._") or "sound"
    return f"{safe_model}_x{_coordinate(x)}_y{_coordinate(y)}"


def vector_tag(vector):
    """A whole latent vector's short name: its size and a digest of its numbers
    (``d8-1a2b3c4d``), beside its pad point in file and instrument names."""
    digest = hashlib.sha256(",".join(f"{v:.9g}" for v in vector).encode()).hexdigest()[:8]
    return f"d{len(vector)}-{digest}"


def _coordinate(value):
    text = f"{value:+.2f}"
    return "+0.00" if text == "-0.00" else text


def _point(point):
    try:
        x, y = (float(v) for v in point)
    except (TypeError, ValueError):
        raise AudioError(f"a latent point must be two numbers, not {point!r}") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise AudioError(f"a latent point must be finite, not {point!r}")
    return x, y


@dataclass(frozen=True)
class Favourite:
    """One saved favourite, as :meth:`FavouritesFolder.entries` finds it.

    Attributes
    ----------
    path : Path
        The WAV file.
    recall : dict or None
        Its sidecar, as :func:`read_recall` returns it; None when it cannot be read.
    reason : str or None
        Why ``recall`` is None.
    """

    path: Path
    recall: dict | None
    reason: str | None

    @property
    def model(self):
        return None if self.recall is None else self.recall["model"]

    @property
    def point(self):
        return None if self.recall is None else self.recall["point"]

    @property
    def vector(self):
        """What it was decoded from: a wide latent's whole vector (its sidecar's
        ``settings["latent"]``), else its point (:func:`audio.recall.recorded_vector`)."""
        if self.recall is None:
            return None
        return recorded_vector(self.recall["point"], self.recall.get("settings"))

    @property
    def date(self):
        return None if self.recall is None else self.recall.get("date")


class FavouritesFolder:
    """A folder of saved sounds, each with a JSON recall sidecar.

    Parameters
    ----------
    root : str or Path
        The folder; made on the first save.
    """

    def __init__(self, root):
        self.root = Path(root)

    def save(  # noqa: PLR0913 (keywords: the file's format, as write_wav's)
        self,
        audio,
        sample_rate,
        *,
        model,
        point,
        settings=None,
        out_rate=DEFAULT_OUT_RATE,
        subtype="PCM_16",
        normalize=False,
        level=AS_MADE,
    ):
        """Save a sound under a new name; never overwrites.

        Parameters
        ----------
        audio : np.ndarray, shape (n,) or (n, channels)
        sample_rate : int
            Rate of ``audio`` (the model's rate).
        model : str
            The model's registry name.
        point : (float, float)
            The latent point it was decoded from.
        settings : dict or None
            Anything the app needs to recreate the sound (JSON-serialisable). A variation's
            record (``settings["variation"]``, ``models.variation.Variation.to_dict``) with
            an index above 0 names the file by it: ``..._v3.wav``.
        out_rate, subtype, normalize
            As for :func:`write_wav`.
        level : {"as made", "normalised"}
            Applied to ``audio`` first (:func:`audio.level.apply_level`) and recorded.

        Returns
        -------
        Path
            The new WAV file; its sidecar is the same name with ``.json``.
        """
        x, y = _point(point)
        try:
            audio = apply_level(audio, check_level(level))
        except LevelError as error:
            raise AudioError(str(error)) from None
        data, rate = render_for_file(audio, sample_rate, out_rate=out_rate, subtype=subtype, normalize=normalize)
        sidecar_text = recall_text(
            model=model,
            point=(x, y),
            settings=settings,
            sample_rate=sample_rate,
            file_rate=rate,
            subtype=subtype,
            normalize=normalize,
            level=level,
        )
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise AudioError(f"{self.root}: cannot make the favourites folder ({error.strerror or error})") from error
        stem = favourite_stem(model, (x, y))
        wav = wav_bytes(data, rate, subtype)
        sidecar = sidecar_text.encode("utf-8")
        for name in self._free_names(stem, variation_index(settings)):
            # The WAV and its sidecar are claimed together: a name is taken only when
            # neither file exists, so an unrelated NAME_001.json is never replaced.
            target = self.root / f"{name}.wav"
            try:
                _write_file(target, lambda file: file.write(wav), overwrite=False)
            except OutputExists:
                continue
            try:
                _write_file(target.with_suffix(".json"), lambda file: file.write(sidecar), overwrite=False)
            except OutputExists:
                _remove_quietly(target)
                continue
            except AudioError:
                _remove_quietly(target)
                raise
            return target
        raise AssertionError("unreachable: the names never run out")  # pragma: no cover

    def _free_names(self, stem, variation):
        """The names to try, in order: ``STEM_vN`` then ``STEM_vN_002``... for variation N,
        else ``STEM_001``... from one past the highest counter in use."""
        if variation:
            stem = f"{stem}_v{variation}"
            yield stem
            counter = max(self._next_counter(stem), 2)
        else:
            counter = self._next_counter(stem)
        while True:
            yield f"{stem}_{counter:0{_COUNTER_DIGITS}d}"
            counter += 1

    def _next_counter(self, stem):
        """One past the highest counter in use for ``stem``, WAV or sidecar (a hint; linking
        decides)."""
        pattern = re.compile(re.escape(stem) + r"_(\d+)\.(?:wav|json)$")
        used = [int(m.group(1)) for p in self.root.iterdir() if (m := pattern.match(p.name))]
        return max(used, default=0) + 1

    def entries(self):
        """The favourites in the folder, newest first.

        Returns
        -------
        list of Favourite
            Empty when the folder does not exist yet. A WAV whose sidecar is missing or
            damaged is listed with ``recall=None`` and the ``reason``.
        """
        if not self.root.is_dir():
            return []
        found = []
        for path in self.root.glob("*.wav"):
            if path.name.startswith("."):
                continue
            try:
                recall, reason = read_recall(path), None
            except AudioError as error:
                recall, reason = None, str(error)
            found.append(Favourite(path, recall, reason))
        return sorted(found, key=_newest_first_key, reverse=True)


def _newest_first_key(favourite):
    when = None
    if favourite.date is not None:
        try:
            when = datetime.fromisoformat(favourite.date)
        except ValueError:
            when = None
        if when is not None and when.tzinfo is None:
            when = when.astimezone()
    if when is None:
        try:
            when = datetime.fromtimestamp(favourite.path.stat().st_mtime, timezone.utc)
        except OSError:
            when = datetime.fromtimestamp(0, timezone.utc)
    return when, favourite.path.name


def recall_text(*, model, point, settings, sample_rate, file_rate, subtype, normalize, level=AS_MADE):
    """The JSON text of a recall sidecar (what :func:`read_recall` reads back).

    Parameters
    ----------
    model : str
    point : (float, float)
    settings : dict or None
        Anything needed to recreate the sound exactly (a variation's seed and offset).
    sample_rate, file_rate : int
        The model's rate and the file's.
    subtype : str
    normalize : bool
    level : {"as made", "normalised"}
        The level the file's samples were brought to (:mod:`audio.level`).

    Raises
    ------
    AudioError
        ``settings`` cannot be written as JSON.
    """
    x, y = _point(point)
    recall = {
        "version": RECALL_VERSION,
        "model": str(model),
        "point": [x, y],
        "settings": settings,
        "sample_rate": _positive_rate(sample_rate, "sample rate"),
        "file_rate": _positive_rate(file_rate, "file rate"),
        "subtype": subtype,
        "normalized": bool(normalize),
        "level": str(level),
        "date": datetime.now(timezone.utc).astimezone().isoformat(),
    }
    try:
        return json.dumps(recall, indent=2, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise AudioError(f"settings cannot be saved as JSON ({error})") from error
