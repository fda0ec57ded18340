"""Drum kits to take to a DAW or drum machine: Hydrogen's ``.h2drumkit`` and a plain folder.

A kit is a list of :class:`KitSound` (one instrument each: a family, the model and point it
came from, and one or more velocity layers). :func:`write_h2drumkit` writes Hydrogen 1.2's
archive (a gzipped tar of one folder holding ``drumkit.xml`` and the WAVs);
:func:`write_kit_folder` writes the same WAVs plus ``kit.json`` (model, point and seed of
each sample), a readable ``README.txt`` listing and ``drumkit.xml``, so the folder is a
Hydrogen kit folder too. The web page's kits are the same files in memory
(:func:`h2drumkit_bytes`, :func:`kit_zip_bytes`).

Samples are the DAW convention: 44.1 kHz 24-bit WAV, peak at -1 dBFS, except a layer that
carries the WAV a listener heard (the page's sound), which the kit holds byte for byte. File names are made
safe here (ASCII letters, digits, ``+-._``; no path separators, no ``..``) and the kit's name
keeps any language's letters, whatever a model or favourite was called. Nothing existing is
replaced unless asked: the archive goes through :func:`safeio.atomic_write`; the folder is
staged beside its place and swapped in whole (:func:`safeio.swap_in`, under a lock beside
it), keeping the files a user put in an earlier kit folder. What a killed export left is
finished or removed by the next one (:func:`recover_kit_folder`,
:func:`remove_leftover_archives`). :func:`extract_h2drumkit` reads an archive with tarfile's
``data`` filter, so a hostile archive cannot write outside the folder it is extracted to.
"""
import errno
import io
import json
import os
import re
import shutil
import tarfile
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from audio.errors import AudioError
from audio.export import render_for_file, variation_index, wav_bytes
from audio.level import NORMALISED, apply_level
from constants import CD_SAMPLE_RATE, KIT_SUFFIX, MAX_ONE_SHOT_SECONDS
from safeio import (
    CannotSwap,
    FileExistsRefused,
    FolderLock,
    NotARegularFile,
    UnreadableJson,
    WriteFailed,
    atomic_write,
    check_swappable,
    finish_interrupted_swaps,
    leftover_temporaries,
    open_regular,
    pid_alive,
    read_json,
    remove_dead_temporaries,
    removed_line,
    staging_folder,
    swap_in,
)

KIT_RATE = CD_SAMPLE_RATE
KIT_SUBTYPE = "PCM_24"
KIT_PEAK_DB = -1.0
#: Each softer velocity layer plays this much quieter than the one above it.
LAYER_STEP_DB = 3.0
MAX_LAYERS = 16
#: General MIDI's drum notes start at 36 (kick), as Hydrogen's own kits do, and MIDI stops
#: at 127: one note each.
FIRST_NOTE, LAST_NOTE = 36, 127
MAX_INSTRUMENTS = LAST_NOTE + 1 - FIRST_NOTE
KIT_JSON = "kit.json"
KIT_LISTING = "README.txt"
DRUMKIT_XML = "drumkit.xml"
KIT_JSON_VERSION = 1
_HYDROGEN_NAMESPACE = "http://www.hydrogen-music.org/drumkit"
_XSI_NAMESPACE = "http://www.w3.org/2001/XMLSchema-instance"
_MAX_PART = 60
#: An instrument's name where its family is unknown (no classifier, or a silent sound).
FALLBACK_FAMILY = "sound"


class FamilyNamer:
    """Names a kit's instruments by drum family: the one place that names a sound for a
    producer.

    Parameters
    ----------
    classifier : object, optional
        Anything with ``predict(audio (N, n), sample_rate) -> families``: the zoo's
        ``evaluation.families.FamilyClassifier`` (``evaluation.families.shipped_classifier``
        loads it). None: every sound is ``FALLBACK_FAMILY``.
    reason : str, optional
        Why there is no classifier, in one line (for the command's report).
    """

    def __init__(self, classifier: Any = None, reason: str | None = None) -> None:
        self.classifier = classifier
        self.reason = reason

    def family(self, audio: np.ndarray, sample_rate: int) -> str:
        """The most likely family of one sound ``(n,)``, or ``FALLBACK_FAMILY``."""
        if self.classifier is None:
            return FALLBACK_FAMILY
        audio = np.asarray(audio, dtype=np.float32)
        if audio.size == 0 or not np.any(audio):
            return FALLBACK_FAMILY  # silence is no family
        return str(self.classifier.predict(audio[None, :], sample_rate)[0])


def safe_part(text: object, fallback: str = "sound") -> str:
    """One safe piece of a file name: ASCII letters, digits and ``+-._``; no ``..``.

    Examples
    --------
    >>> safe_part("../../etc/passwd")
    'etc_passwd'
    >>> safe_part("Snare (tight)/2")
    'Snare_tight_2'
    """
    part = re.sub(r"[^A-Za-z0-9+._-]+", "_", str(text))
    part = re.sub(r"\.{2,}", ".", part)
    part = re.sub(r"_+", "_", part).strip("._-")[:_MAX_PART].strip("._-")
    return part or fallback


def safe_kit_name(text: object) -> str:
    """A kit name that is also its folder name: letters and digits of any script, spaces
    and ``+-._``.

    Hydrogen finds a kit by its folder (``h2cli -k NAME``, a song's ``<drumkit>``), so the
    name a user sees and the folder are kept the same. As Hydrogen does, any language's
    letters are kept (``str.isalnum`` on the NFC form, with combining accents); path
    separators, control characters and other symbols become spaces.

    Examples
    --------
    >>> safe_kit_name("My Kit / 2")
    'My Kit 2'
    >>> safe_kit_name("Drüms 漢字 ü")
    'Drüms 漢字 ü'
    """
    name = unicodedata.normalize("NFC", str(text))
    name = "".join(c if c.isalnum() or c in "+._-" or unicodedata.category(c).startswith("M") else " "
                   for c in name)
    name = re.sub(r"\.{2,}", ".", re.sub(r" +", " ", name)).strip(" ._-")[:_MAX_PART].strip(" ._-")
    return name or "Kit"


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
    point : (float, float) or None
        The latent point it was decoded from.
    layers : tuple of KitLayer
        The first plays at the highest velocities, each next one softer.
    source : str or None
        A favourite's file name, when it came from one.
    """

    family: str
    model: str | None
    point: tuple[float, float] | None
    layers: tuple[KitLayer, ...]
    source: str | None = None
    variation: int = 0  # a favourite's variation number (0: the point's own sound)

    @property
    def label(self) -> str:
        """``family model (x, y)``, ``... v3`` for a variation: the instrument's name in the kit."""
        if self.model is not None and self.point is not None:
            suffix = f" v{self.variation}" if self.variation else ""
            return f"{self.family} {self.model} ({self.point[0]:.2f}, {self.point[1]:.2f}){suffix}"
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
            if self.variation:
                parts.append(f"var{self.variation}")  # not _vN: that names a velocity layer
        elif self.source is not None:
            parts.append(safe_part(Path(self.source).stem))
        return "_".join(parts)


#: ``extra_layers(favourite, count) -> (layers or None, reason or None)``: a layer is
#: ``(samples, rate, recall)``.
ExtraLayers = Callable[[Any, int], tuple[list[tuple[np.ndarray, int, dict[str, Any]]] | None, str | None]]


def favourite_sounds(entries: Sequence[Any], *, layers: int, extra_layers: ExtraLayers,
                     family_of: Callable[[np.ndarray, int], str], report: Callable[[str], object],
                     progress: Callable[[int, int], object] | None = None) -> list[KitSound]:
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


def _favourite_sound(favourite: Any, layers: int, extra_layers: ExtraLayers, family_of: Callable[[np.ndarray, int], str],
                     report: Callable[[str], object], soundfile: Any) -> KitSound | None:
    name = favourite.path.name
    if favourite.recall is None:
        report(f"{name}: skipped ({favourite.reason})")
        return None
    try:
        audio, rate = read_favourite_audio(favourite.path, soundfile)
    except AudioError as error:
        report(f"{name}: skipped ({error})")
        return None
    recall = {"model": favourite.model, "point": list(favourite.point), "favourite": name,
              "settings": favourite.recall.get("settings")}
    found = [KitLayer(audio.mean(axis=1), int(rate), recall)]
    if layers > 1:
        extra, reason = extra_layers(favourite, layers - 1)
        if reason is not None:
            report(f"{name}: {'skipped' if extra is None else 'one layer only'} ({reason})")
            if extra is None:
                return None
        found += [KitLayer(samples, rate, layer_recall) for samples, rate, layer_recall in extra or []]
    family = recorded_family(favourite.recall) or family_of(found[0].audio, found[0].sample_rate)
    return KitSound(family, favourite.model, tuple(favourite.point), tuple(found), source=name,
                    variation=variation_index(favourite.recall.get("settings")))


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
                    raise AudioError(f"too long: {seconds:.1f} s (a drum hit is at most "
                                     f"{MAX_ONE_SHOT_SECONDS:g} s; is it a loop or a song?)")
                rate = int(handle.samplerate)
                audio = handle.read(dtype="float32", always_2d=True)
        except (soundfile.LibsndfileError, RuntimeError, OSError) as error:
            # libsndfile's own words: str(error) would quote the file object's repr
            reason = (getattr(error, "error_string", None) or str(error)).strip().rstrip(".")
            raise AudioError(f"not readable audio: {reason}") from None
    if audio.shape[0] == 0 or not np.all(np.isfinite(audio)):
        raise AudioError("empty or not finite audio")
    return audio, rate


def recorded_family(recall: dict) -> str | None:
    """The family a conditioned model's favourite was saved with, as an instrument's name
    (``snare``, ``kick0.6-tom0.4``), or None: the classifier names the others."""
    text = (recall.get("settings") or {}).get("family")
    if not isinstance(text, str) or not text.strip():
        return None
    return text.strip().replace(":", "").replace(",", "-")  # as commands.options.family_file_part


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
    return [((count - 1 - k) / count, (count - k) / count, 10 ** (-LAYER_STEP_DB * k / 20))
            for k in range(count)]


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
        raise AudioError(f"a kit holds at most {MAX_INSTRUMENTS} instruments (one MIDI note each, "
                         f"{FIRST_NOTE} to {LAST_NOTE}), not {len(sounds)}")
    files: dict[str, bytes] = {}
    entries: list[dict[str, Any]] = []
    used: set[str] = set()
    heard: list[tuple[int, str]] = []  # (rate, subtype) of each layer kept as heard
    for index, sound in enumerate(sounds, start=1):
        if not sound.layers:
            raise AudioError(f"{sound.label}: no samples to put in the kit")
        stem = f"{index:02d}_{sound.file_stem}"
        layers = []
        for layer_number, (layer, (low, high, gain)) in enumerate(
                zip(sound.layers, velocity_layers(len(sound.layers))), start=1):
            file_name = f"{stem}_v{layer_number}.wav" if len(sound.layers) > 1 else f"{stem}.wav"
            while file_name in used:  # the index prefix makes this rare; never overwrite
                file_name = f"{Path(file_name).stem}_{len(used)}.wav"
            used.add(file_name)
            entry = {"file": file_name, "min": round(low, 4), "max": round(high, 4), "gain": round(gain, 4),
                     "recall": layer.recall}
            if layer.wav is None:
                files[file_name] = wav_bytes(kit_sample(layer.audio, layer.sample_rate, level), KIT_RATE, KIT_SUBTYPE)
            else:
                files[file_name] = layer.wav
                heard.append((layer.sample_rate, _wav_subtype(layer.wav)))
                entry.update(sample_rate=heard[-1][0], subtype=heard[-1][1])
            layers.append(entry)
        entries.append({"name": sound.label, "family": sound.family, "model": sound.model,
                        "point": None if sound.point is None else [float(v) for v in sound.point],
                        "source": sound.source, "layers": layers})
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
    return {"sample_rate": rates.pop() if len(rates) == 1 else None,
            "subtype": subtypes.pop() if len(subtypes) == 1 else None, "peak_db": None, "as_heard": True}


def _add(parent: ET.Element, tag: str, text: object) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = str(text)
    return element


def _number(value: float) -> str:
    return f"{value:.4g}"


def drumkit_xml(name: str, entries: Sequence[dict[str, Any]]) -> str:
    """Hydrogen 1.2's ``drumkit.xml`` for the instruments of :func:`kit_files`.

    Every element the 1.2 schema (``drumkit.xsd``) requires is written, in its order.
    """
    root = ET.Element("drumkit_info", {"xmlns": _HYDROGEN_NAMESPACE, "xmlns:xsi": _XSI_NAMESPACE})
    _add(root, "name", name)
    _add(root, "author", "ML Sample Generator")
    _add(root, "info", "Drum sounds decoded from generative models by ML Sample Generator. "
                       "kit.json (in the folder export) records each sound's model and point.")
    _add(root, "license", "undefined license")
    _add(root, "image", "")
    _add(root, "imageLicense", "undefined license")
    components = ET.SubElement(root, "componentList")
    component = ET.SubElement(components, "drumkitComponent")
    _add(component, "id", 0)
    _add(component, "name", "Main")
    _add(component, "volume", 1)
    instruments = ET.SubElement(root, "instrumentList")
    for index, entry in enumerate(entries):
        instrument = ET.SubElement(instruments, "instrument")
        for tag, value in (
            ("id", index), ("name", entry["name"]), ("volume", 1), ("isMuted", "false"),
            ("isSoloed", "false"), ("pan", 0), ("pitchOffset", 0), ("randomPitchFactor", 0),
            ("gain", 1), ("applyVelocity", "true"), ("filterActive", "false"),
            ("filterCutoff", 1), ("filterResonance", 0), ("Attack", 0), ("Decay", 0),
            ("Sustain", 1), ("Release", 1000), ("muteGroup", -1), ("midiOutChannel", -1),
            ("midiOutNote", FIRST_NOTE + index), ("isStopNote", "false"),
            ("sampleSelectionAlgo", "VELOCITY"), ("isHihat", -1), ("lower_cc", 0),
            ("higher_cc", 127), ("FX1Level", 0), ("FX2Level", 0), ("FX3Level", 0),
            ("FX4Level", 0),
        ):
            _add(instrument, tag, value)
        part = ET.SubElement(instrument, "instrumentComponent")
        _add(part, "component_id", 0)
        _add(part, "gain", 1)
        for layer in entry["layers"]:
            element = ET.SubElement(part, "layer")
            _add(element, "filename", layer["file"])
            _add(element, "min", _number(layer["min"]))
            _add(element, "max", _number(layer["max"]))
            _add(element, "gain", _number(layer["gain"]))
            _add(element, "pitch", 0)
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def kit_listing(name: str, entries: Sequence[dict[str, Any]], samples: dict[str, Any] | None = None) -> str:
    """A plain-text listing of the kit: one block per instrument, one line per sample."""
    samples = samples or {"sample_rate": KIT_RATE, "subtype": KIT_SUBTYPE, "peak_db": KIT_PEAK_DB}
    if samples.get("as_heard"):
        rate = f"{samples['sample_rate']} Hz " if samples["sample_rate"] else ""
        words = (f"samples are the {rate}{samples['subtype'] or ''} WAVs as they were heard, byte for byte. "
                 "kit.json holds the model, point and take of each.").replace("  ", " ")
    else:
        words = (f"samples are {samples['sample_rate']} Hz {samples['subtype']} WAV, "
                 f"peak {samples['peak_db']:g} dBFS. kit.json holds the model, point and seed of each.")
    lines = [name, "=" * len(name), "", f"{len(entries)} instruments; {words}", ""]
    for index, entry in enumerate(entries, start=1):
        lines.append(f"{index:2d}. {entry['name']}  (MIDI note {FIRST_NOTE - 1 + index})")
        for layer in entry["layers"]:
            recall = layer["recall"] or {}
            origin = ""
            if recall.get("variation") is not None:
                variation = recall["variation"]
                origin = f"  variation {variation.get('index')} (seed {variation.get('seed')})"
            lines.append(f"    {layer['file']}  velocity {layer['min']:.2f}-{layer['max']:.2f}"
                         f"  gain {layer['gain']:.2f}{origin}")
        lines.append("")
    return "\n".join(lines)


def h2drumkit_bytes(kit: KitFiles) -> bytes:
    """Hydrogen's ``.h2drumkit`` archive of a kit, in memory: a gzipped tar of one folder (the
    kit's name) holding drumkit.xml and the WAVs (what :func:`write_h2drumkit` writes)."""
    buffer = io.BytesIO()
    # GNU format: names as plain UTF-8 bytes. Python's default (PAX) puts a non-ASCII name in
    # a UTF-8 header that Hydrogen's libarchive must convert to its locale, and h2cli runs in
    # the C locale: "Pathname can't be converted", and the kit is refused.
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.GNU_FORMAT, encoding="utf-8") as archive:
        folder_info = tarfile.TarInfo(kit.name)
        folder_info.type, folder_info.mode = tarfile.DIRTYPE, 0o755
        archive.addfile(folder_info)
        for file_name, data in kit.files.items():
            if file_name in (KIT_JSON, KIT_LISTING):
                continue  # Hydrogen's archive holds its kit only; the folder export has them
            info = tarfile.TarInfo(f"{kit.name}/{file_name}")
            info.size, info.mode = len(data), 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def write_h2drumkit(path: str | os.PathLike, kit: KitFiles, *, overwrite: bool = False) -> Path:
    """Write a kit as Hydrogen's ``.h2drumkit`` archive, atomically.

    Parameters
    ----------
    path : str or Path
        The archive; its folder must exist.
    kit : KitFiles
    overwrite : bool
        Replace an existing file (the user's ``--force``).

    Raises
    ------
    FileExistsRefused
        ``path`` exists and ``overwrite`` is False; nothing was written.
    WriteFailed
        The file cannot be written; nothing was left behind.
    """
    data = h2drumkit_bytes(kit)
    return atomic_write(path, lambda file: file.write(data), overwrite=overwrite)


def kit_zip_bytes(kit: KitFiles) -> bytes:
    """The kit folder (:func:`write_kit_folder`'s files: WAVs, kit.json, README.txt and
    drumkit.xml) as a zip of one folder named after the kit, in memory.

    The WAVs are stored, not deflated: PCM barely shrinks, and the archive is made at once.
    """
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for file_name, data in kit.files.items():
            archive.writestr(zipfile.ZipInfo(f"{kit.name}/{file_name}", date_time=(1980, 1, 1, 0, 0, 0)), data)
    return buffer.getvalue()


def remove_leftover_archives(folder: str | os.PathLike) -> str:
    """Remove the ``.NAME.h2drumkit.PID.RAND.tmp`` that killed exports left in ``folder``.

    A temporary whose writer is still running is kept (another export, right now).

    Returns
    -------
    str
        One line saying what was removed; "" when nothing was.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return ""
    removed = remove_dead_temporaries(folder, of=lambda name: name.lower().endswith(KIT_SUFFIX))
    return removed_line(folder, removed)


def _lock(path: Path) -> FolderLock:
    return FolderLock(path, what="kit export", beside=True)


def recover_kit_folder(path: str | os.PathLike) -> list[str]:
    """Finish or remove what killed exports left at the kit folder ``path``.

    Under the folder's lock: a staged kit whose swap had begun is swapped in, one that was
    not finished is removed (:func:`safeio.finish_interrupted_swaps`), and the two hidden
    ``.NAME.PID.RAND.tmp`` folders that earlier versions left when killed between their two
    renames are put back (:func:`_finish_old_exports`). A user's own files are never removed.

    Returns
    -------
    list of str
        One line for each thing done (for the command's log); empty when there was nothing.

    Raises
    ------
    safeio.FolderBusy
        Another export is writing this folder now.
    safeio.WriteFailed
        The lock cannot be written (a read-only folder).
    """
    path = Path(path)
    if not path.parent.is_dir() or (os.path.lexists(path) and not _is_real_folder(path)):
        return []  # nothing was ever written there by an export (or it is not a folder to take)
    existed = os.path.lexists(path)
    try:
        with _lock(path) as lock:
            return lock.notes + _recover(path)
    finally:
        if not existed:
            _remove_if_empty(path)  # the lock makes the folder it locks


def _recover(path: Path) -> list[str]:
    """The lines of what was finished or removed at ``path``; the caller holds the lock."""
    try:
        lines = finish_interrupted_swaps(path, "kit", kind_file=KIT_JSON)
        old = _finish_old_exports(path)
    except CannotSwap:
        raise  # the folder itself is refused, in the words of check_swappable
    except OSError as error:
        raise WriteFailed(error.errno or errno.EIO,
                          f"{path}: cannot finish an interrupted export ({error.strerror or error})") from error
    return lines + ([old] if old else [])


def _is_real_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _remove_if_empty(path: Path) -> None:
    if _is_real_folder(path):
        try:
            path.rmdir()
        except OSError:
            pass  # not empty (someone's files): it stays


def _dead_export_folders(path: Path) -> list[Path]:
    """Folders ``.NAME.PID.RAND.tmp`` beside ``path`` whose writer (pid) is gone."""
    found = []
    for entry in leftover_temporaries(path.parent):
        target, pid = entry.name[1:].rsplit(".", 3)[:2]
        if target == path.name and _is_real_folder(entry) and not pid_alive(int(pid)):
            found.append(entry)
    return found


def kit_own_files(folder: str | os.PathLike) -> set[str]:
    """The names a kit wrote into ``folder``: its listing's WAVs (from ``kit.json``) and the
    three files every kit folder has. A user's own files are not among them."""
    names = {KIT_JSON, KIT_LISTING, DRUMKIT_XML}
    try:
        record = read_json(Path(folder) / KIT_JSON)
    except UnreadableJson:
        return names  # a damaged listing: its WAVs are kept, not guessed at
    instruments = record.get("instruments") if isinstance(record, dict) else None
    for instrument in instruments if isinstance(instruments, list) else []:
        layers = instrument.get("layers") if isinstance(instrument, dict) else None
        for layer in layers if isinstance(layers, list) else []:
            name = layer.get("file") if isinstance(layer, dict) else None
            if isinstance(name, str) and name not in ("", ".", "..") and "/" not in name and os.sep not in name:
                names.add(name)
    return names


def _finish_old_exports(path: Path) -> str | None:
    """Put back what an earlier version's export left when it was killed; one line or None.

    That version filled ``.NAME.PID.RAND.tmp``, renamed the old kit to another such name, then
    the new one into place, then removed the old one. Killed between the renames it left
    ``path`` missing and both kits hidden. Here the newer kit (by its kit.json) takes
    ``path`` when that is missing or empty, the files a user had put in the other kit are
    moved into it, and a folder without kit.json (a kit being filled) is removed.
    """
    dead = _dead_export_folders(path)
    if not dead:
        return None
    kits = [folder for folder in dead if (folder / KIT_JSON).is_file()]
    # Without kit.json it was a kit being filled: WAVs and drumkit.xml only. Anything else in
    # it is not an export's, and the folder stays.
    unfinished = [folder for folder in dead if folder not in kits and all(
        entry.is_file() and (entry.suffix.lower() == ".wav" or entry.name in (DRUMKIT_XML, KIT_LISTING))
        for entry in folder.iterdir())]
    done = []
    if kits and (not os.path.lexists(path) or (_is_real_folder(path) and not any(path.iterdir()))):
        newest = max(kits, key=lambda folder: (folder / KIT_JSON).stat().st_mtime_ns)
        if os.path.lexists(path):
            path.rmdir()
        os.rename(newest, path)
        kits.remove(newest)
        done.append(f"put the newer kit back in place (from {newest.name})")
    kept, stuck = [], []
    for folder in kits:
        own = kit_own_files(folder)
        for entry in sorted(folder.iterdir()):
            if entry.name in own:
                continue
            if os.path.lexists(path / entry.name) or not _is_real_folder(path):
                stuck.append(entry.name)
            else:
                os.rename(entry, path / entry.name)
                kept.append(entry.name)
        if not any(entry.name not in own for entry in folder.iterdir()):
            unfinished.append(folder)
    for folder in unfinished:
        shutil.rmtree(folder, ignore_errors=True)
    if kept:
        files = f"file {kept[0]}" if len(kept) == 1 else f"{len(kept)} files ({_names(kept)})"
        done.append(f"kept your {files} from the kit it replaced")
    if unfinished:
        done.append(f"removed {_count(unfinished, 'leftover kit folder')} ({_names([f.name for f in unfinished])})")
    if stuck:
        done.append(f"left {_names(stuck)} in the hidden folder: {path} has files of those names")
    return f"{path}: an export was killed before it finished; " + "; ".join(done)


def _count(items: Sequence[object], word: str) -> str:
    return f"{len(items)} {word}" + ("" if len(items) == 1 else "s")


def _names(names: Sequence[str]) -> str:
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")


def write_kit_folder(path: str | os.PathLike, kit: KitFiles, *, overwrite: bool = False,
                     report: Callable[[str], object] | None = None) -> Path:
    """Write a kit as a plain folder (WAVs, kit.json, README.txt, drumkit.xml), whole.

    The kit is written into a staging folder beside ``path`` and swapped in
    (:func:`safeio.swap_in`), under a lock beside the folder, so a reader (or a kill -9)
    sees the old kit or the new one, never a mix. An existing empty folder is taken; one
    with files in it only with ``overwrite`` and only when it is a kit (it has kit.json).
    The files a user put in an earlier kit folder are kept; the earlier kit's own files
    (those its kit.json lists) go with it. What a killed export left is finished first
    (:func:`recover_kit_folder`).

    Parameters
    ----------
    path : str or Path
    kit : KitFiles
    overwrite : bool
        Replace an existing kit (the user's ``--force``).
    report : callable, optional
        ``report(line)`` for each thing a killed export had left and this one cleared.

    Raises
    ------
    FileExistsRefused
        ``path`` exists (a file, a link, or a folder with files) and may not be replaced.
    safeio.FolderBusy
        Another export is writing this folder now.
    WriteFailed
        The folder cannot be written; the old kit is as it was and nothing was left behind.
    """
    path = Path(path)
    refuse_existing_folder(path, overwrite)  # before the lock makes anything
    existed = os.path.lexists(path)
    try:
        with _lock(path) as lock:
            for line in lock.notes + _recover(path):
                if report is not None:
                    report(line)
            refuse_existing_folder(path, overwrite)
            previous = kit_own_files(path) if (path / KIT_JSON).is_file() else set()
            staged = staging_folder(path, "kit")
            try:
                for file_name, data in kit.files.items():
                    with open(staged / file_name, "xb") as file:
                        file.write(data)
                        file.flush()
                        os.fsync(file.fileno())
            except BaseException as error:
                shutil.rmtree(staged, ignore_errors=True)
                if isinstance(error, OSError):
                    raise WriteFailed(error.errno or errno.EIO,
                                      f"{path}: cannot write ({error.strerror or error})") from error
                raise
            swap_in(staged, path, drop=previous)
    finally:
        if not existed:
            _remove_if_empty(path)  # a failed first export leaves no empty folder
    return path


def refuse_existing_folder(path: str | os.PathLike, overwrite: bool) -> None:
    """Raise FileExistsRefused unless a kit folder may be written at ``path``; CannotSwap
    (one line) where a kit cannot be swapped in there at all (a mount point)."""
    path = Path(path)
    if not path.is_symlink():  # a link is refused below, in a kit's own words
        check_swappable(path, "a kit folder")
    if not _is_taken(path):
        return
    if not _is_real_folder(path):
        what = "a link" if path.is_symlink() else "a file"
        raise FileExistsRefused(errno.EEXIST, f"{path}: {what}, not a kit folder; not replaced even with --force")
    if not overwrite:
        raise FileExistsRefused(errno.EEXIST, f"{path}: already exists (pass --force to replace it)")
    if not (path / KIT_JSON).is_file():
        raise FileExistsRefused(errno.EEXIST, f"{path}: a folder with other files in it, not a kit "
                                              f"(no {KIT_JSON}); not replaced even with --force")


def _is_taken(path: Path) -> bool:
    if _is_real_folder(path):
        return any(path.iterdir())
    return os.path.lexists(path)


def extract_h2drumkit(path: str | os.PathLike, folder: str | os.PathLike) -> Path:
    """Extract a ``.h2drumkit`` into ``folder`` with tarfile's ``data`` filter.

    Returns
    -------
    Path
        The kit's folder inside ``folder``.

    Raises
    ------
    AudioError
        Not a readable archive, a member the filter refuses (absolute, ``..``, links out),
        or no ``drumkit.xml`` in it.
    """
    folder = Path(folder)
    try:
        with tarfile.open(path, "r:*") as archive:
            archive.extractall(folder, filter="data")
            names = archive.getnames()
    except (tarfile.TarError, OSError) as error:
        raise AudioError(f"{path}: not a readable Hydrogen kit ({error})") from error
    xml_names = [n for n in names if Path(n).name == DRUMKIT_XML]
    if not xml_names:
        raise AudioError(f"{path}: not a Hydrogen kit (no {DRUMKIT_XML} in it)")
    return folder / Path(xml_names[0]).parent
