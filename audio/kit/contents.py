"""What a kit holds, in memory: its instruments (:class:`KitSound`), their velocity layers
(:class:`KitLayer`), and the files made of them (:func:`kit_files`: the WAVs, ``drumkit.xml``,
``kit.json`` and the ``README.txt`` listing).

Samples are the DAW convention: 44.1 kHz 24-bit WAV, peak at -1 dBFS, except a layer that
carries the WAV a listener heard (the page's sound), which the kit holds byte for byte.
Favourites become instruments here (:func:`favourite_sounds`), each WAV checked before it is
read (:func:`read_favourite_audio`).
"""

import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from audio.errors import AudioError
from audio.export import render_for_file, vector_tag, wav_bytes
from audio.kit.hydrogen import DRUMKIT_XML, FIRST_NOTE, LAST_NOTE, MAX_INSTRUMENTS, drumkit_xml
from audio.kit.naming import recorded_family, safe_kit_name, safe_part
from audio.level import NORMALISED, apply_level
from audio.recall import variation_index
from constants import CD_SAMPLE_RATE, MAX_ONE_SHOT_SECONDS
from safeio import NotARegularFile, open_regular

KIT_RATE = CD_SAMPLE_RATE
KIT_SUBTYPE = "PCM_24"
KIT_PEAK_DB = -1.0
#: Each softer velocity layer plays this much quieter than the one above it.
LAYER_STEP_DB = 3.0
MAX_LAYERS = 16
KIT_JSON = "kit.json"
KIT_LISTING = "README.txt"
KIT_JSON_VERSION = 1


def _coordinate(value: float) -> str:
    text = f"{value:+.2f}"
    return "+0.00" if text == "-0.00" else text


@dataclass(frozen=True)
class KitLayer:
    """One sample of an instrument.

    Attributes
    ----------
    audio : np.ndarray, shape (n,)
        Float samples at ``sample_rate``.
    sample_rate : int
    recall : dict
        What made it (JSON-serialisable: variation index, seed, offset...), for ``kit.json``.
    wav : bytes or None
        See below.
    """

    audio: np.ndarray
    sample_rate: int
    recall: dict[str, Any] = field(default_factory=dict)
    #: The WAV file as a listener heard it (the web page's sound, byte for byte): the kit holds
    #: these bytes as they are, at their own rate and level. None: rendered from ``audio`` to
    #: the kit's 44.1 kHz 24-bit at -1 dBFS.
    wav: bytes | None = None


@dataclass(frozen=True)
class KitSound:
    """One instrument: what it is, where it came from, and its layers (loudest first).

    Attributes
    ----------
    family : str
        What it is ("snare", "kick"; "sound" when unknown).
    model : str or None
        The model's registry name.
    point : tuple of float or None
        The latent point it was decoded from: (x, y), or the whole vector of a model whose
        latent has more than two axes (named by its first two numbers and its
        :func:`audio.export.vector_tag`).
    layers : tuple of KitLayer
        The first plays at the highest velocities, each next one softer.
    source : str or None
        A favourite's file name, when it came from one.
    """

    family: str
    model: str | None
    point: tuple[float, ...] | None
    layers: tuple[KitLayer, ...]
    source: str | None = None
    variation: int = 0  # a favourite's variation number (0: the point's own sound)

    @property
    def label(self) -> str:
        """``family model (x, y)``, ``... v3`` for a variation: the instrument's name in the kit."""
        if self.model is not None and self.point is not None:
            suffix = f" v{self.variation}" if self.variation else ""
            wide = f" {vector_tag(self.point)}" if len(self.point) > 2 else ""
            return f"{self.family} {self.model} ({self.point[0]:.2f}, {self.point[1]:.2f}){wide}{suffix}"
        if self.source is not None:
            return f"{self.family} {Path(self.source).stem}"
        return self.family

    @property
    def file_stem(self) -> str:
        """``family_model_x+0.52_y-1.20``, safe as a file name."""
        parts = [safe_part(self.family)]
        if self.model is not None:
            parts.append(safe_part(self.model))
        if self.point is not None:
            parts.append(f"x{_coordinate(self.point[0])}_y{_coordinate(self.point[1])}")
            if len(self.point) > 2:
                parts.append(vector_tag(self.point))
            if self.variation:
                parts.append(f"var{self.variation}")  # not _vN: that names a velocity layer
        elif self.source is not None:
            parts.append(safe_part(Path(self.source).stem))
        return "_".join(parts)


#: ``extra_layers(favourite, count) -> (layers or None, reason or None)``: a layer is
#: ``(samples, rate, recall)``.
ExtraLayers = Callable[[Any, int], tuple[list[tuple[np.ndarray, int, dict[str, Any]]] | None, str | None]]


def favourite_sounds(
    entries: Sequence[Any],
    *,
    layers: int,
    extra_layers: ExtraLayers,
    family_of: Callable[[np.ndarray, int], str],
    report: Callable[[str], object],
    progress: Callable[[int, int], object] | None = None,
) -> list[KitSound]:
    """One :class:`KitSound` per usable favourite: its own WAV on top, then variations.

    Parameters
    ----------
    entries : sequence of audio.export.Favourite
        In kit order.
    layers : int
        Velocity layers wanted per instrument.
    extra_layers : callable
        ``extra_layers(favourite, count) -> (list of (samples, rate, recall), reason)``: the
        softer layers (decoded variations), or ``([], reason)`` when they cannot be made.
    family_of : callable
        ``family_of(samples, rate) -> str``.
    report : callable
        ``report(line)`` for each favourite skipped or left with fewer layers (one line each).
    progress : callable, optional
        ``progress(done, total)`` after each favourite.

    Returns
    -------
    list of KitSound
        Possibly empty, when no favourite could be used.
    """
    import soundfile

    sounds = []
    for done, favourite in enumerate(entries, start=1):
        sound = _favourite_sound(favourite, layers, extra_layers, family_of, report, soundfile)
        if sound is not None:
            sounds.append(sound)
        if progress is not None:
            progress(done, len(entries))
    return sounds


def _favourite_sound(
    favourite: Any,
    layers: int,
    extra_layers: ExtraLayers,
    family_of: Callable[[np.ndarray, int], str],
    report: Callable[[str], object],
    soundfile: Any,
) -> KitSound | None:
    name = favourite.path.name
    if favourite.recall is None:
        report(f"{name}: skipped ({favourite.reason})")
        return None
    try:
        audio, rate = read_favourite_audio(favourite.path, soundfile)
    except AudioError as error:
        report(f"{name}: skipped ({error})")
        return None
    recall = {
        "model": favourite.model,
        "point": list(favourite.point),
        "favourite": name,
        "settings": favourite.recall.get("settings"),
    }
    found = [KitLayer(audio.mean(axis=1), int(rate), recall)]
    if layers > 1:
        extra, reason = extra_layers(favourite, layers - 1)
        if reason is not None:
            report(f"{name}: {'skipped' if extra is None else 'one layer only'} ({reason})")
            if extra is None:
                return None
        found += [KitLayer(samples, rate, layer_recall) for samples, rate, layer_recall in extra or []]
    family = recorded_family(favourite.recall) or family_of(found[0].audio, found[0].sample_rate)
    return KitSound(
        family,
        favourite.model,
        tuple(favourite.vector),  # a wide latent's whole vector, as kit NAME --at records it
        tuple(found),
        source=name,
        variation=variation_index(favourite.recall.get("settings")),
    )


def read_favourite_audio(path: Path, soundfile: Any) -> tuple[np.ndarray, int]:
    """A favourite's WAV as one drum hit: checked by its header first, then read.

    Anything may have been saved or copied under a favourite's name: a FIFO (which a plain
    open would wait on for good), a ten-minute song, a WAV cut off in the copy, a
    six-channel recording. Each is refused with its reason, so the kit goes on without it.

    Parameters
    ----------
    path : Path
    soundfile : module
        The soundfile module (imported by the caller, when a kit is made).

    Returns
    -------
    audio : np.ndarray, shape (n, channels), float32
        One or two channels, finite, at most ``MAX_ONE_SHOT_SECONDS`` long.
    rate : int

    Raises
    ------
    AudioError
        The reason alone: "a FIFO (named pipe), not a file", "truncated: the header
        promises 44100 bytes of audio, the file holds 112", "6 channels: ...",
        "too long: 600.0 s ...", "not readable audio: ...", "empty or not finite audio".
    """
    # Where the rules of a source live: preprocessing reads the same cut-off files.
    from preprocessing.reader import truncation

    try:
        file = open_regular(path)
    except NotARegularFile as error:
        raise AudioError(error.strerror) from None
    except OSError as error:
        raise AudioError(f"cannot be read ({error.strerror or error})") from None
    with file:
        try:
            with soundfile.SoundFile(file) as handle:
                cut = truncation(handle)
                if cut:
                    raise AudioError(cut)
                if handle.channels not in (1, 2):
                    raise AudioError(f"{handle.channels} channels: a kit takes mono or stereo sounds")
                seconds = handle.frames / handle.samplerate if handle.samplerate > 0 else 0.0
                if seconds > MAX_ONE_SHOT_SECONDS:
                    raise AudioError(
                        f"too long: {seconds:.1f} s (a drum hit is at most {MAX_ONE_SHOT_SECONDS:g} s; is it a loop or a song?)"
                    )
                rate = int(handle.samplerate)
                audio = handle.read(dtype="float32", always_2d=True)
        except (soundfile.LibsndfileError, RuntimeError, OSError) as error:
            # libsndfile's own words: str(error) would quote the file object's repr
            reason = (getattr(error, "error_string", None) or str(error)).strip().rstrip(".")
            raise AudioError(f"not readable audio: {reason}") from None
    if audio.shape[0] == 0 or not np.all(np.isfinite(audio)):
        raise AudioError("empty or not finite audio")
    return audio, rate


def velocity_layers(count: int) -> list[tuple[float, float, float]]:
    """The velocity range and gain of each of ``count`` layers, loudest first.

    Parameters
    ----------
    count : int
        1 to ``MAX_LAYERS``.

    Returns
    -------
    list of (min, max, gain)
        Layer k (0 = loudest) covers velocities ``[(count-1-k)/count, (count-k)/count]`` and
        plays ``LAYER_STEP_DB * k`` dB quieter.
    """
    if not 1 <= int(count) <= MAX_LAYERS:
        raise AudioError(f"a kit instrument has 1 to {MAX_LAYERS} velocity layers, not {count}")
    count = int(count)
    return [((count - 1 - k) / count, (count - k) / count, 10 ** (-LAYER_STEP_DB * k / 20)) for k in range(count)]


def kit_sample(audio: np.ndarray, sample_rate: int, level: str | None = None) -> np.ndarray:
    """A layer's samples as the kit's WAV holds them: 44.1 kHz, peak at ``KIT_PEAK_DB``, or
    at one loudness with ``level="normalised"`` (:func:`audio.level.apply_level`).

    Returns
    -------
    np.ndarray, shape (m,), float32
        Silence stays silent.
    """
    data, _ = render_for_file(audio, sample_rate, out_rate=KIT_RATE, subtype=KIT_SUBTYPE)
    if level == NORMALISED:
        return np.asarray(apply_level(data, NORMALISED), dtype=np.float32)
    peak = float(np.max(np.abs(data)))
    if peak > 0:
        data = data * np.float32(10 ** (KIT_PEAK_DB / 20) / peak)
    return data.astype(np.float32)


@dataclass(frozen=True)
class KitFiles:
    """Everything a kit writes, in memory: ``{file name: bytes}`` plus the kit's name, which
    is also its folder's."""

    name: str
    files: dict[str, bytes]


def kit_files(name: str, sounds: Sequence[KitSound], *, level: str | None = None) -> KitFiles:
    """Render a kit: WAV bytes, drumkit.xml, kit.json and the README listing.

    Parameters
    ----------
    name : str
        The kit's name; made safe (:func:`safe_kit_name`), it is also the kit's folder.
    sounds : sequence of KitSound
    level : {None, "as made", "normalised"}
        "normalised" brings every layer to one loudness instead of one peak (recorded).

    Returns
    -------
    KitFiles

    Raises
    ------
    AudioError
        No sounds, or a sound without layers or with unusable audio.
    """
    name = safe_kit_name(name)
    if not sounds:
        raise AudioError("a kit needs at least one sound")
    if len(sounds) > MAX_INSTRUMENTS:
        raise AudioError(
            f"a kit holds at most {MAX_INSTRUMENTS} instruments (one MIDI note each, {FIRST_NOTE} to {LAST_NOTE}), not {len(sounds)}"
        )
    files: dict[str, bytes] = {}
    entries: list[dict[str, Any]] = []
    used: set[str] = set()
    heard: list[tuple[int, str]] = []  # (rate, subtype) of each layer kept as heard
    for index, sound in enumerate(sounds, start=1):
        if not sound.layers:
            raise AudioError(f"{sound.label}: no samples to put in the kit")
        stem = f"{index:02d}_{sound.file_stem}"
        layers = []
        for layer_number, (layer, (low, high, gain)) in enumerate(zip(sound.layers, velocity_layers(len(sound.layers))), start=1):
            file_name = f"{stem}_v{layer_number}.wav" if len(sound.layers) > 1 else f"{stem}.wav"
            while file_name in used:  # the index prefix makes this rare; never overwrite
                file_name = f"{Path(file_name).stem}_{len(used)}.wav"
            used.add(file_name)
            entry = {"file": file_name, "min": round(low, 4), "max": round(high, 4), "gain": round(gain, 4), "recall": layer.recall}
            if layer.wav is None:
                files[file_name] = wav_bytes(kit_sample(layer.audio, layer.sample_rate, level), KIT_RATE, KIT_SUBTYPE)
            else:
                files[file_name] = layer.wav
                heard.append((layer.sample_rate, _wav_subtype(layer.wav)))
                entry.update(sample_rate=heard[-1][0], subtype=heard[-1][1])
            layers.append(entry)
        entries.append(
            {
                "name": sound.label,
                "family": sound.family,
                "model": sound.model,
                "point": None if sound.point is None else [float(v) for v in sound.point],
                "source": sound.source,
                "layers": layers,
            }
        )
    files[DRUMKIT_XML] = drumkit_xml(name, entries).encode("utf-8")
    samples = _samples_format(heard, sum(len(sound.layers) for sound in sounds))
    record = {"version": KIT_JSON_VERSION, "name": name, **samples, "instruments": entries}
    if level is not None:
        record["level"] = level
    try:
        files[KIT_JSON] = json.dumps(record, indent=2, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as error:
        raise AudioError(f"kit data cannot be saved as JSON ({error})") from error
    files[KIT_LISTING] = kit_listing(name, entries, samples).encode("utf-8")
    return KitFiles(name=name, files=files)


def _wav_subtype(data: bytes) -> str:
    """The sample format of a WAV file's bytes (``"PCM_16"``); AudioError if not a WAV."""
    import soundfile

    try:
        return str(soundfile.info(io.BytesIO(data)).subtype)
    except (soundfile.LibsndfileError, RuntimeError) as error:
        raise AudioError(f"a kit sample is not a readable WAV ({error})") from None


def _samples_format(heard: list[tuple[int, str]], layer_count: int) -> dict[str, Any]:
    """kit.json's words on the samples: the kit's own format, or that of samples kept as heard
    (``"as_heard": true``; a rate or subtype the samples do not share is None, and each
    layer's entry names its own). A kit that mixes the two is refused."""
    if not heard:
        return {"sample_rate": KIT_RATE, "subtype": KIT_SUBTYPE, "peak_db": KIT_PEAK_DB}
    if len(heard) != layer_count:
        raise AudioError("a kit's samples are all kept as heard or all rendered, not some of each")
    rates, subtypes = {rate for rate, _ in heard}, {subtype for _, subtype in heard}
    return {
        "sample_rate": rates.pop() if len(rates) == 1 else None,
        "subtype": subtypes.pop() if len(subtypes) == 1 else None,
        "peak_db": None,
        "as_heard": True,
    }


def kit_listing(name: str, entries: Sequence[dict[str, Any]], samples: dict[str, Any] | None = None) -> str:
    """A plain-text listing of the kit: one block per instrument, one line per sample."""
    samples = samples or {"sample_rate": KIT_RATE, "subtype": KIT_SUBTYPE, "peak_db": KIT_PEAK_DB}
    if samples.get("as_heard"):
        rate = f"{samples['sample_rate']} Hz " if samples["sample_rate"] else ""
        words = (
            f"samples are the {rate}{samples['subtype'] or ''} WAVs as they were heard, byte for byte. "
            "kit.json holds the model, point and take of each."
        ).replace("  ", " ")
    else:
        words = (
            f"samples are {samples['sample_rate']} Hz {samples['subtype']} WAV, "
            f"peak {samples['peak_db']:g} dBFS. kit.json holds the model, point and seed of each."
        )
    lines = [name, "=" * len(name), "", f"{len(entries)} instruments; {words}", ""]
    for index, entry in enumerate(entries, start=1):
        lines.append(f"{index:2d}. {entry['name']}  (MIDI note {FIRST_NOTE - 1 + index})")
        for layer in entry["layers"]:
            recall = layer["recall"] or {}
            origin = ""
            if recall.get("variation") is not None:
                variation = recall["variation"]
                origin = f"  variation {variation.get('index')} (seed {variation.get('seed')})"
            lines.append(f"    {layer['file']}  velocity {layer['min']:.2f}-{layer['max']:.2f}  gain {layer['gain']:.2f}{origin}")
        lines.append("")
    return "\n".join(lines)
