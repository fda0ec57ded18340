"""A kit's names: what an instrument is called (its drum family) and the file and folder
names made from it, safe on every file system whatever a model or favourite was called."""

import re
import unicodedata
from typing import Any

import numpy as np

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
    name = "".join(c if c.isalnum() or c in "+._-" or unicodedata.category(c).startswith("M") else " " for c in name)
    name = re.sub(r"\.{2,}", ".", re.sub(r" +", " ", name)).strip(" ._-")[:_MAX_PART].strip(" ._-")
    return name or "Kit"


def recorded_family(recall: dict) -> str | None:
    """The family a conditioned model's favourite was saved with, as an instrument's name
    (``snare``, ``kick0.6-tom0.4``), or None: the classifier names the others."""
    text = (recall.get("settings") or {}).get("family")
    if not isinstance(text, str) or not text.strip():
        return None
    return text.strip().replace(":", "").replace(",", "-")  # as commands.options.family_file_part
