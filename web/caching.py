"""What lets any browser, proxy or CDN keep the server's answers: versions and validators.

A sound depends only on the model's files and the query, so its URL carries the model's
*version*, a hash of those files (:func:`model_version`): ``/api/models/NAME/v/VERSION/
sound.wav?x=&y=``. Such an answer never changes and is served ``immutable`` for a year;
after a retrain the version, and with it every URL, changes, so nothing stale is kept. The
page's script and style sheet are named the same way (``/static/app.js?v=HASH``).

Every validator is made from content alone (bytes, not file times), so two server
processes on two machines give the same URL the same bytes and the same ``ETag``.
"""

import hashlib
import json
from pathlib import Path

#: How long a versioned answer may be kept: it cannot change.
IMMUTABLE = "public, max-age=31536000, immutable"
#: An unversioned answer may be kept but must be checked (its ETag) before each use.
REVALIDATE = "public, no-cache"
#: Characters of a version (hex of a SHA-256): 64 bits, no collision between retrains.
VERSION_CHARS = 16
#: Files of a model that do not change its sounds or map (pictures, the training log and
#: the evaluation's figures): re-evaluating a model does not change its URLs.
NOT_SOUND = {"history.csv", "metrics.json"}
NOT_SOUND_SUFFIXES = {".png", ".jpg", ".svg", ".txt", ".md"}


def model_version(folder, name):
    """A hash of the files of model ``name`` in the zoo ``folder`` that make its sounds.

    Returns
    -------
    str
        :data:`VERSION_CHARS` hex digits; the same for the same files on any machine.
    """
    root = Path(folder) / name
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.name in NOT_SOUND or path.suffix.lower() in NOT_SOUND_SUFFIXES or path.name.startswith("."):
            continue
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:VERSION_CHARS]


def card_version(model):
    """A version for a model that exists only in memory (tests): a hash of its card."""
    card = json.dumps(model.card.to_dict(), sort_keys=True, default=str)
    return hashlib.sha256(card.encode()).hexdigest()[:VERSION_CHARS]


def content_tag(body):
    """A strong ETag of some bytes (a hash of them)."""
    return f'"{hashlib.sha256(body).hexdigest()[:VERSION_CHARS]}"'


def _opaque(tag):
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def none_match(header, etag):
    """True when an ``If-None-Match`` header matches ``etag`` (the answer is then 304).

    ``*`` matches any current answer; weak tags (``W/"..."``) match by their opaque part, as
    RFC 9110 asks of ``If-None-Match`` (weak comparison).
    """
    if not header:
        return False
    if header.strip() == "*":
        return True
    wanted = _opaque(etag)
    return any(_opaque(tag) == wanted for tag in header.split(","))
