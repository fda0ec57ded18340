"""A step pattern: four lanes of 16 steps, a tempo, and what each lane plays.

Pure data and arithmetic, no device and no window. The window edits a :class:`Pattern`
(``gui.handlers.pattern``), the player's mixer plays its hits on the background stream
(:class:`audio.mixer.Mixer`), :mod:`audio.song` writes it as a Hydrogen song, and
:func:`read_pattern` / :func:`write_pattern` keep it in the favourites folder as
``pattern.json``.

A step is a sixteenth note. Where a step falls is worked out from the start of the pattern,
never by adding step lengths one to another (:func:`step_frame`), so a pattern that loops
for an hour is as much on the beat as its first bar.
"""

import json
import math
from dataclasses import dataclass
from pathlib import Path

from audio.errors import AudioError
from safeio import UnreadableJson, atomic_write_text, read_json

LANES = ("kick", "snare", "hat", "free")
STEPS = 16
STEPS_PER_BEAT = 4  # sixteenth notes
MIN_TEMPO, MAX_TEMPO = 40, 300
DEFAULT_TEMPO = 120
#: What a lane plays when it follows the current point's sound.
CURRENT = "current"
PATTERN_FILE = "pattern.json"
PATTERN_FORMAT = "ml-sample-generator pattern"
PATTERN_VERSION = 1


@dataclass(frozen=True)
class Pattern:
    """Which steps of which lanes hit, at what tempo, each lane playing what.

    Attributes
    ----------
    steps : tuple of tuple of bool
        ``steps[lane][step]``, ``len(LANES)`` lanes of ``STEPS`` steps.
    tempo : int
        Beats (quarter notes) a minute, ``MIN_TEMPO`` to ``MAX_TEMPO``.
    sources : tuple of str
        Per lane: ``CURRENT`` (the sound of the point on the pad) or a favourite's file name.
    """

    steps: tuple = tuple((False,) * STEPS for _ in LANES)
    tempo: int = DEFAULT_TEMPO
    sources: tuple = (CURRENT,) * len(LANES)

    def __post_init__(self):
        if len(self.steps) != len(LANES) or any(len(lane) != STEPS for lane in self.steps):
            raise AudioError(f"a pattern has {len(LANES)} lanes of {STEPS} steps")
        if len(self.sources) != len(LANES):
            raise AudioError(f"a pattern names one sound for each of its {len(LANES)} lanes")
        check_tempo(self.tempo)

    def toggled(self, lane, step):
        """The pattern with step ``step`` of lane ``lane`` (indices) switched."""
        rows = [list(row) for row in self.steps]
        rows[lane][step] = not rows[lane][step]
        return Pattern(tuple(tuple(row) for row in rows), self.tempo, self.sources)

    def with_tempo(self, tempo):
        return Pattern(self.steps, check_tempo(tempo), self.sources)

    def with_source(self, lane, source):
        sources = list(self.sources)
        sources[lane] = str(source)
        return Pattern(self.steps, self.tempo, tuple(sources))

    @property
    def empty(self):
        """No step hits."""
        return not any(any(lane) for lane in self.steps)

    def hits(self):
        """``[(step, lane)]`` of every hit in one bar, in time order."""
        return [(step, lane) for step in range(STEPS) for lane in range(len(LANES)) if self.steps[lane][step]]

    def to_dict(self):
        return {
            "format": PATTERN_FORMAT,
            "version": PATTERN_VERSION,
            "tempo": self.tempo,
            "lanes": [
                {"name": name, "sound": source, "steps": "".join("x" if on else "." for on in row)}
                for name, source, row in zip(LANES, self.sources, self.steps)
            ],
        }

    @classmethod
    def from_dict(cls, record):
        """The pattern a :meth:`to_dict` record holds.

        Raises
        ------
        AudioError
            Not a pattern of this program, or a field out of its range (the reason says which).
        """
        if not isinstance(record, dict) or record.get("format") != PATTERN_FORMAT:
            raise AudioError("not a pattern this program wrote")
        if record.get("version") != PATTERN_VERSION:
            raise AudioError(f"pattern version {record.get('version')!r}; this program reads version {PATTERN_VERSION}")
        lanes = record.get("lanes")
        if not isinstance(lanes, list) or [lane.get("name") if isinstance(lane, dict) else None for lane in lanes] != list(LANES):
            raise AudioError(f"a pattern's lanes are {', '.join(LANES)}, in that order")
        steps, sources = [], []
        for lane in lanes:
            row = lane.get("steps")
            if not isinstance(row, str) or len(row) != STEPS or set(row) - {"x", "."}:
                raise AudioError(f"lane {lane['name']}: steps must be {STEPS} of 'x' or '.'")
            source = lane.get("sound")
            if not isinstance(source, str) or not source or Path(source).name != source:
                raise AudioError(f"lane {lane['name']}: the sound must be {CURRENT!r} or a favourite's file name")
            steps.append(tuple(c == "x" for c in row))
            sources.append(source)
        tempo = record.get("tempo")
        if isinstance(tempo, bool) or not isinstance(tempo, int):
            raise AudioError(f"tempo must be a whole number of beats a minute, not {tempo!r}")
        return cls(tuple(steps), tempo, tuple(sources))


def check_tempo(tempo):
    """``tempo`` as an int if it is a whole number from ``MIN_TEMPO`` to ``MAX_TEMPO``.

    Raises
    ------
    AudioError
        Says the range.
    """
    try:
        value = float(tempo)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or value != int(value) or not MIN_TEMPO <= value <= MAX_TEMPO:
        raise AudioError(f"the tempo must be a whole number from {MIN_TEMPO} to {MAX_TEMPO} BPM, not {tempo!r}")
    return int(value)


def step_seconds(tempo):
    """The length of one step (a sixteenth note) at ``tempo`` BPM, in seconds."""
    return 60.0 / (check_tempo(tempo) * STEPS_PER_BEAT)


def step_frame(index, tempo, rate):
    """The frame at which step ``index`` (counted from the pattern's start, across bars)
    begins: ``round(index * rate * 60 / (tempo * 4))``.

    Computed from the start each time, with integers only, so no error builds up: bar
    ``b`` starts exactly ``round(b * STEPS * step)`` frames in, however long it plays.

    Parameters
    ----------
    index : int
        0 for the first step of the first bar; ``STEPS`` for the first of the second.
    tempo : int
        BPM.
    rate : int
        Frames a second.

    Returns
    -------
    int
    """
    numerator = int(index) * int(rate) * 60
    denominator = int(tempo) * STEPS_PER_BEAT
    return (2 * numerator + denominator) // (2 * denominator)  # round half up, exactly


def bar_frames(tempo, rate):
    """Frames in one bar of ``STEPS`` steps (the nearest whole number)."""
    return step_frame(STEPS, tempo, rate)


def pattern_path(favourites_dir):
    """Where the favourites folder keeps its pattern."""
    return Path(favourites_dir) / PATTERN_FILE


def read_pattern(favourites_dir):
    """The pattern saved in the favourites folder.

    Returns
    -------
    pattern : Pattern or None
        None when there is none yet, or when the file cannot be read.
    reason : str or None
        Why the file cannot be read (``"pattern.json: ..."``); None when it was read or
        there is none.
    """
    path = pattern_path(favourites_dir)
    if not path.exists():
        return None, None
    try:
        return Pattern.from_dict(read_json(path)), None
    except (UnreadableJson, AudioError, OSError) as error:
        return None, f"{path.name}: {error}"


def write_pattern(favourites_dir, pattern):
    """Keep ``pattern`` in the favourites folder, atomically.

    A ``pattern.json`` that is there but is not a pattern this program wrote (a user's file
    of that name, or one damaged) is never replaced.

    Returns
    -------
    Path

    Raises
    ------
    AudioError
        The file there is not a pattern (left as it was), or it cannot be written.
    """
    path = pattern_path(favourites_dir)
    if path.exists():
        _, reason = read_pattern(favourites_dir)
        if reason is not None:
            raise AudioError(f"{reason}; not replaced (move it away to save the pattern)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return atomic_write_text(path, json.dumps(pattern.to_dict(), indent=2) + "\n")
    except OSError as error:
        raise AudioError(str(error) if str(error).startswith(str(path)) else f"{path}: cannot write ({error})") from error
