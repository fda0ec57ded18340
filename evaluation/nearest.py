"""The training sounds nearest a point: what a producer is near, and whether a model copies.

Two measures, shown side by side:

- in the latent plane: the distance from the point to each training sound's code (the
  model's ``codes.npz``), for models with an encoder;
- in sound features: the distance from the decoded sound's feature vector
  (:func:`evaluation.features.audio_features`) to each training sound's, standardised by
  the training sounds' statistics, when the dataset is on this machine.

A small feature distance to one training sound, much smaller than to the rest, is the
memorisation signal the evaluation measures over a whole grid.
"""

from dataclasses import dataclass

import numpy as np

from evaluation.features import audio_features, standardise

NEAREST_COUNT = 5
#: Sounds whose features are computed in one pass (bounds the spectra held at once).
FEATURE_CHUNK = 64
KIT_SEPARATOR = "__"  # preprocessing names a dataset's files "kit__instrument__file.wav"


@dataclass(frozen=True)
class NearSound:
    """One training sound near a point.

    Attributes
    ----------
    name : str
        The instrument name it had in its kit.
    kit : str
    family : str
    file : str
        Its WAV in the dataset folder.
    distance : float
    """

    name: str
    kit: str
    family: str
    file: str
    distance: float

    def describe(self):
        """``Snare 3 (kit Audiophob, snare)  distance 0.123``."""
        return f"{self.name} (kit {self.kit or '?'}, {self.family})  distance {self.distance:.3f}"


def kit_of(file_name):
    """The kit a dataset file came from, by its name (``Audiophob__Snare__x.wav``)."""
    file_name = str(file_name)
    return file_name.split(KIT_SEPARATOR, 1)[0] if KIT_SEPARATOR in file_name else ""


def _nearest(distances, names, families, files, count, kits=None):
    order = np.argsort(distances, kind="stable")[:count]
    return [
        NearSound(
            str(names[i]), str(kits[i]) if kits is not None else kit_of(files[i]), str(families[i]), str(files[i]), float(distances[i])
        )
        for i in order
    ]


def nearest_in_plane(codes, point, count=NEAREST_COUNT, *, kits_by_file=None):
    """The training sounds whose codes are nearest ``point``.

    Parameters
    ----------
    codes
        With ``points`` (N, 2), ``names``, ``families``, ``files`` (N,) (a model's LatentCodes).
    point : (float, float)
    kits_by_file : dict, optional
        ``{file: kit}`` from the dataset's manifest; else the kit is read from the file name.

    Returns
    -------
    list of NearSound
        Nearest first; at most ``count``.
    """
    points = np.asarray(codes.points, dtype=np.float64)
    distances = np.hypot(points[:, 0] - float(point[0]), points[:, 1] - float(point[1]))
    kits = None
    if kits_by_file:
        kits = np.array([kits_by_file.get(str(f), kit_of(f)) for f in codes.files], dtype=str)
    return _nearest(distances, codes.names, codes.families, codes.files, count, kits=kits)


@dataclass(frozen=True)
class TrainingFeatures:
    """Feature vectors of a dataset's sounds, with what each sound is.

    Attributes
    ----------
    features : np.ndarray, shape (N, D)
    names, kits, families, files : np.ndarray, shape (N,), str
    sample_rate : int
    """

    features: np.ndarray
    names: np.ndarray
    kits: np.ndarray
    families: np.ndarray
    files: np.ndarray
    sample_rate: int

    @classmethod
    def of_dataset(cls, dataset, chunk=FEATURE_CHUNK):
        """Features of a :class:`preprocessing.dataset.Dataset`, ``chunk`` sounds at a time
        (each sound's features are its own; the spectra of all 854 of this machine's kits at
        once took 900 MB for a moment, in the window)."""
        rate = int(dataset.settings.sample_rate)
        audio = dataset.audio
        parts = [audio_features(audio[start : start + chunk], rate) for start in range(0, len(audio), chunk)] or [
            audio_features(audio, rate)
        ]
        return cls(np.concatenate(parts), dataset.names, dataset.kits, dataset.families, dataset.files, rate)


def nearest_in_features(training, audio, sample_rate, count=NEAREST_COUNT):
    """The training sounds that sound nearest ``audio`` (standardised feature distance).

    Parameters
    ----------
    training : TrainingFeatures
    audio : np.ndarray, shape (n,)
        The decoded sound.
    sample_rate : int

    Returns
    -------
    list of NearSound
    """
    sound = audio_features(np.asarray(audio, np.float32)[None, :], sample_rate)
    reference, query = standardise(training.features, sound)
    distances = np.sqrt(np.sum((reference - query) ** 2, axis=1))
    return _nearest(distances, training.names, training.families, training.files, count, kits=training.kits)


def original_sound(near, dataset_folder):
    """Where a listed training sound's WAV is, to play it (the window's double-click).

    Parameters
    ----------
    near : NearSound
    dataset_folder : str or Path or None
        The dataset the model was trained on (its card's, or one the user named).

    Returns
    -------
    (Path or None, str or None)
        The file, or None and a one-line reason (the dataset is not on this machine...).
    """
    from pathlib import Path

    if not dataset_folder:
        return None, "no dataset is known for this model"
    folder = Path(dataset_folder)
    if not folder.is_dir():
        return None, f"the dataset {folder} is not on this machine"
    path = folder / Path(near.file).name  # a name from codes.npz never leaves the folder
    if not path.is_file():
        return None, f"{near.file} is not in {folder}"
    return path, None
