"""What a decoded sound is called in a kit: its drum family, by the evaluation's classifier.

The one place that names a sound for a producer. :class:`FamilyNamer` loads the TF-free
family classifier (:mod:`evaluation.families`, fitted file in ``trained/``) once and asks it
for each sound; where the classifier is not there (not shipped yet, or its file missing or
damaged) every sound is called ``FALLBACK_FAMILY`` and :attr:`FamilyNamer.reason` says why.
"""
import numpy as np

FALLBACK_FAMILY = "sound"


class FamilyNamer:
    """Names sounds by family.

    Parameters
    ----------
    models_folder : str or Path
        Where the classifier's fitted file lives (the zoo folder).
    """

    def __init__(self, models_folder="trained"):
        self.classifier = None
        self.reason = None
        try:
            from evaluation import families
        except ImportError:
            self.reason = "no family classifier in this version"
            return
        try:
            self.classifier = families.FamilyClassifier.load(models_folder)
        except (OSError, ValueError, KeyError) as error:
            self.reason = f"family classifier unavailable ({error})"

    def family(self, audio, sample_rate):
        """The most likely family of one sound, or ``FALLBACK_FAMILY``.

        Parameters
        ----------
        audio : np.ndarray, shape (n,)
        sample_rate : int
        """
        if self.classifier is None:
            return FALLBACK_FAMILY
        probabilities = self.classifier.predict_proba(np.asarray(audio, np.float32)[None, :], sample_rate)
        labels = list(self.classifier.classes)
        return str(labels[int(np.argmax(np.asarray(probabilities)[0]))])
