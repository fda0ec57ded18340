"""What a decoded sound is called in a kit: its drum family, by the evaluation's classifier.

The one place that names a sound for a producer. :class:`FamilyNamer` loads the TF-free
family classifier (:class:`evaluation.families.FamilyClassifier`, shipped as
``trained/families.json``) once and asks it for each sound; where the classifier cannot be
loaded (the file missing or damaged) every sound is called ``FALLBACK_FAMILY`` and
:attr:`FamilyNamer.reason` says why in one line.
"""
from pathlib import Path

import numpy as np

from evaluation.families import SHIPPED_FILE, FamilyClassifier, FamilyFileError

FALLBACK_FAMILY = "sound"


class FamilyNamer:
    """Names sounds by family.

    Parameters
    ----------
    models_folder : str or Path
        The zoo folder, which holds the classifier's ``families.json``.
    classifier : FamilyClassifier, optional
        Use this one instead of loading the shipped file.
    """

    def __init__(self, models_folder="trained", classifier=None):
        self.classifier = classifier
        self.reason = None
        if classifier is None:
            try:
                self.classifier = FamilyClassifier.load(Path(models_folder) / SHIPPED_FILE)
            except FamilyFileError as error:
                self.reason = str(error)

    def family(self, audio, sample_rate):
        """The most likely family of one sound, or ``FALLBACK_FAMILY``.

        Parameters
        ----------
        audio : np.ndarray, shape (n,)
        sample_rate : int
        """
        if self.classifier is None:
            return FALLBACK_FAMILY
        audio = np.asarray(audio, dtype=np.float32)
        if audio.size == 0 or not np.any(audio):
            return FALLBACK_FAMILY  # silence is no family
        return str(self.classifier.predict(audio[None, :], sample_rate)[0])
