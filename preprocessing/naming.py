"""Output file names: readable, safe on any file system, and unique within a dataset."""

import hashlib
import re
import unicodedata

SEPARATOR = "__"
MAX_PART = 60


def safe_part(text):
    """One readable, portable part of a file name.

    Accents are dropped ("Café" -> "Cafe"); anything but ASCII letters, digits, ".", "+"
    and "-" becomes "_"; runs of "_" collapse, so the ``__`` separator stays unambiguous.
    A name with nothing Latin left ("鼓") becomes "x" plus a short hash of it, so two
    such names stay apart.

    Examples
    --------
    >>> safe_part("Kick (Tama Superstar 22\\")")
    'Kick_Tama_Superstar_22'
    """
    text = str(text)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    part = re.sub(r"[^A-Za-z0-9.+-]+", "_", ascii_text).strip("_.-")
    part = re.sub(r"_+", "_", part)[:MAX_PART].strip("_.-")
    if not part:
        digest = hashlib.sha1(text.encode("utf-8", "surrogateescape")).hexdigest()[:8]
        part = f"x{digest}"
    return part


def output_name(kit, instrument, stem):
    """``kit__instrument__file.wav``; ``kit__file.wav`` when the instrument is the file name."""
    parts = [safe_part(kit)]
    if instrument and instrument != stem:
        parts.append(safe_part(instrument))
    parts.append(safe_part(stem))
    return SEPARATOR.join(parts) + ".wav"


def _digest(key, size):
    return hashlib.sha1(str(key).encode("utf-8", "surrogateescape")).hexdigest()[:size]


def make_unique(names, keys, reserved=()):
    """Make names unique, ignoring case (datasets get copied to case-insensitive disks).

    Every member of a clashing group gets a suffix hashed from its own key (the source
    path), so a name does not depend on which other files happen to be in the batch.

    Parameters
    ----------
    names : list of str
        Wanted names, ending in ".wav".
    keys : list of str
        One stable key per name (the source path).
    reserved : iterable of str
        Names already taken by files that are not ours (a user's file in the folder): a
        wanted name among them gets the hashed suffix too, so that file is never replaced.

    Returns
    -------
    list of str
    """
    groups = {}
    for name in names:
        groups[name.casefold()] = groups.get(name.casefold(), 0) + 1
    reserved = {name.casefold() for name in reserved}
    result = []
    taken = set()
    for name, key in zip(names, keys):
        if groups[name.casefold()] > 1 or name.casefold() in reserved:
            stem = name[: -len(".wav")]
            size = 6
            candidate = f"{stem}-{_digest(key, size)}.wav"
            while candidate.casefold() in taken or candidate.casefold() in groups or candidate.casefold() in reserved:
                size += 2
                candidate = f"{stem}-{_digest(key, size)}.wav"
            name = candidate
        taken.add(name.casefold())
        result.append(name)
    return result
