"""Loading a preprocessed dataset folder for training and evaluation.

``load_dataset(folder)`` reads ``manifest.csv`` and ``settings.json`` and returns the
samples as one ``(N, length)`` float32 array with their labels and the fixed split. The
WAVs and the manifest are the truth; the arrays are cached in ``cache-<key>.npy`` beside
them, where the key hashes the manifest, the settings and every listed WAV's size and
modification time, so any change to them makes a new cache.
"""

import hashlib
import os
from dataclasses import dataclass, replace
from pathlib import Path
from stat import S_ISREG

import numpy as np
import soundfile as sf

from preprocessing import manifest as mf
from preprocessing.errors import DatasetError
from preprocessing.settings import PreprocessSettings
from safeio import WriteFailed, atomic_write

CACHE_GLOB = "cache-*.npy"


@dataclass(frozen=True, eq=False)
class Dataset:
    """Samples of a dataset folder, with their labels, in manifest order.

    Attributes
    ----------
    audio : np.ndarray, shape (N, settings.length), float32
    families : np.ndarray, shape (N,), str
        One of ``preprocessing.labels.LABELS`` each.
    names : np.ndarray, shape (N,), str
        Original instrument names.
    files : np.ndarray, shape (N,), str
        Output WAV names in ``folder``.
    sources : np.ndarray, shape (N,), str
        Source file paths.
    kits : np.ndarray, shape (N,), str
    settings : PreprocessSettings
        The settings that made the samples.
    is_validation : np.ndarray, shape (N,), bool
        True for samples of the held-out kits.
    validation_kits : list of str
        The held-out kits (the same list in every subset).
    folder : pathlib.Path
    """

    audio: np.ndarray
    families: np.ndarray
    names: np.ndarray
    files: np.ndarray
    sources: np.ndarray
    kits: np.ndarray
    settings: PreprocessSettings
    is_validation: np.ndarray
    validation_kits: list
    folder: Path

    def __len__(self):
        return int(self.audio.shape[0])

    def subset(self, mask):
        """The samples where ``mask`` (a bool array or index array) selects."""
        return replace(
            self,
            audio=self.audio[mask],
            families=self.families[mask],
            names=self.names[mask],
            files=self.files[mask],
            sources=self.sources[mask],
            kits=self.kits[mask],
            is_validation=self.is_validation[mask],
        )

    def train(self):
        """The training part: every kit that is not held out."""
        return self.subset(~self.is_validation)

    def validation(self):
        """The held-out kits."""
        return self.subset(self.is_validation)


def _read_folder(folder):
    """(settings, ok rows) of a dataset folder, or DatasetError."""
    folder = Path(folder)
    try:
        is_folder = folder.is_dir()
        if is_folder:
            os.listdir(folder)  # a folder that cannot be read fails here, with its reason
    except OSError as error:
        raise DatasetError(f"{folder}: cannot use the dataset: {error.strerror or error}") from None
    if not is_folder:
        raise DatasetError(f"{folder}: no such dataset folder")
    hint = f"make one with: python app.py preprocess SRC... -o {folder}"
    try:
        rows = mf.read_manifest(folder)
        settings = mf.read_settings(folder)
    except mf.UnreadableFile as error:
        raise DatasetError(f"{folder}: cannot use the dataset: {error}") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise DatasetError(f"{folder}: damaged dataset ({error}); {hint}") from None
    if rows is None:
        raise DatasetError(f"{folder}: not a dataset (no {mf.MANIFEST}); {hint}")
    if settings is None:
        raise DatasetError(f"{folder}: not a dataset (no {mf.SETTINGS}); {hint}")
    ok = [row for row in rows if row["status"] == mf.OK and row["output"]]
    if not ok:
        raise DatasetError(f"{folder}: the dataset has no usable samples (see {mf.MANIFEST})")
    return settings, ok


def _cache_key(folder, ok):
    digest = hashlib.sha256()
    try:
        for name in (mf.MANIFEST, mf.SETTINGS):
            digest.update((folder / name).read_bytes())
    except OSError as error:  # changed since it was read a moment ago
        raise DatasetError(f"{folder}: cannot use the dataset: {error.filename}: {error.strerror}") from None
    for row in ok:
        try:
            stat = os.stat(folder / row["output"])
        except FileNotFoundError:
            raise DatasetError(f"{folder}: {row['output']} is listed in {mf.MANIFEST} but missing; run preprocess again") from None
        except OSError as error:
            raise DatasetError(f"{folder / row['output']}: cannot be read ({error.strerror})") from None
        if not S_ISREG(stat.st_mode):  # a FIFO would block the read for good
            raise DatasetError(f"{folder / row['output']}: is not a file; run preprocess again")
        digest.update(f"{row['output']}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:20]


def _read_wavs(folder, ok, settings, prepared=None):
    audio = np.zeros((len(ok), settings.length), dtype=np.float32)
    prepared = prepared or {}
    for i, row in enumerate(ok):
        if row["output"] in prepared:
            audio[i] = prepared[row["output"]]
            continue
        path = folder / row["output"]
        try:
            data, rate = sf.read(os.fsencode(path), dtype="float32", always_2d=True)
        except (sf.SoundFileError, OSError) as error:
            raise DatasetError(f"{path}: unreadable ({error}); run preprocess again") from None
        if rate != settings.sample_rate or data.shape != (settings.length, 1):
            raise DatasetError(
                f"{path}: {data.shape[0]} samples at {rate} Hz, expected {settings.length} at "
                f"{settings.sample_rate} Hz; run preprocess again"
            )
        audio[i] = data[:, 0]
    return audio


def remove_caches(folder, keep=None):
    """Delete the folder's array caches (all but ``keep``)."""
    for path in Path(folder).glob(CACHE_GLOB):
        if keep is None or path.name != keep:
            try:
                path.unlink()
            except FileNotFoundError:
                pass  # another process removed it first


def build_cache(folder, prepared=None):
    """Read the WAVs into the array cache, unless a current one exists.

    Parameters
    ----------
    folder : str or os.PathLike
    prepared : dict of str -> np.ndarray, optional
        Samples already in memory, by output name (just written by the batch), which
        then need not be read back.

    Returns
    -------
    pathlib.Path or None
        The cache file, or None when the folder cannot be written (loading still works).
    """
    folder = Path(folder)
    settings, ok = _read_folder(folder)
    return _cached_audio(folder, settings, ok, prepared, need_audio=False)[1]


def _cached_audio(folder, settings, ok, prepared=None, need_audio=True):
    key = _cache_key(folder, ok)
    cache = folder / f"cache-{key}.npy"
    if cache.is_file():
        try:
            # Memory-mapped when only checking, so a current cache costs a header read.
            audio = np.load(cache, allow_pickle=False, mmap_mode=None if need_audio else "r")
            if audio.shape == (len(ok), settings.length) and audio.dtype == np.float32:
                return (audio if need_audio else None), cache
        except (OSError, ValueError):
            pass  # a damaged cache is rebuilt below
    audio = _read_wavs(folder, ok, settings, prepared)
    try:
        atomic_write(cache, lambda handle: np.save(handle, audio, allow_pickle=False))
    except WriteFailed:
        return audio, None  # a read-only (or full) dataset loads from the WAVs every time
    remove_caches(folder, keep=cache.name)
    return audio, cache


def load_dataset(folder):
    """Load a dataset folder made by ``python app.py preprocess``.

    Parameters
    ----------
    folder : str or os.PathLike

    Returns
    -------
    Dataset
        Every ``ok`` sample, in manifest order, with the split recorded in the manifest.

    Raises
    ------
    DatasetError
        The folder is missing, is not a dataset, has no usable samples, or its files do
        not match its manifest; the message says which and what to do.

    Examples
    --------
    >>> data = load_dataset("/work/data/kits")           # doctest: +SKIP
    >>> train, val = data.train(), data.validation()     # doctest: +SKIP
    """
    folder = Path(os.path.abspath(folder))
    settings, ok = _read_folder(folder)
    audio, _ = _cached_audio(folder, settings, ok)
    is_validation = np.array([row.get("split") == mf.VALIDATION for row in ok], dtype=bool)
    kits = np.array([row.get("kit", "") for row in ok], dtype=str)
    return Dataset(
        audio=audio,
        families=np.array([row["family"] for row in ok], dtype=str),
        names=np.array([row.get("instrument", "") for row in ok], dtype=str),
        files=np.array([row["output"] for row in ok], dtype=str),
        sources=np.array([row["source"] for row in ok], dtype=str),
        kits=kits,
        settings=settings,
        is_validation=is_validation,
        validation_kits=sorted(set(kits[is_validation].tolist())),
        folder=folder,
    )
