"""The Beat tab: the step pattern's steps, tempo and lane sounds, playing it, keeping it.

Each change is kept in the favourites folder (``pattern.json``, written by the io worker),
and while the pattern plays it goes to the player at once, keeping the beat: a lane that
follows the current sound plays the point's new sound from its next hit.
"""

from pathlib import Path

from audio.errors import AudioError
from audio.level import apply_level
from audio.pattern import CURRENT, LANES, STEPS
from gui import effects as fx
from gui.effects import Part
from gui.handlers.common import NO_PLAYBACK, say

#: How the lane combos show CURRENT.
CURRENT_LABEL = "current sound"


def _level(state):
    # the window's level choice: the beat plays at the level the sound plays at
    return state.sound.level


def lane_sounds(state):
    """What each lane plays now: ``(samples, rate)`` at the chosen level, or None."""
    sounds = []
    for lane, source in enumerate(state.pattern.pattern.sources):
        if source == CURRENT:
            audio = state.sound.audio
            rate = state.model.sample_rate if state.model is not None else None
        else:
            name, audio, rate = state.pattern.sounds.get(lane, (None, None, None))
            if name != source:
                audio = None
        sounds.append(None if audio is None else (apply_level(audio, _level(state)), rate))
    return tuple(sounds)


def _send(state, restart):
    state.pattern.sent_current = state.sound.audio
    pattern = state.pattern.pattern
    return [fx.PlayPattern(lane_sounds(state), pattern.steps, pattern.tempo, restart=restart)]


def _changed(state):
    """A change to the pattern: kept, shown, and heard at the next hit if it plays."""
    effects: list[fx.Effect] = [fx.Refresh(Part.PATTERN)]
    if state.pattern.read and state.pattern.unsaved_reason is None:
        effects.append(fx.SavePattern(state.pattern.pattern))
    if state.pattern.playing:
        effects += _send(state, restart=False) + [fx.Refresh(Part.PLAYING)]  # its tempo
    return effects


def toggle_step(state, index):
    """A step button: ``index`` is ``lane * STEPS + step``."""
    lane, step = divmod(int(index), STEPS)
    if not 0 <= lane < len(LANES):
        return []
    state.pattern.pattern = state.pattern.pattern.toggled(lane, step)
    return _changed(state)


def set_tempo(state, value):
    """The tempo box (40 to 300 BPM); another value is said, and the tempo kept."""
    try:
        state.pattern.pattern = state.pattern.pattern.with_tempo(value)
    except AudioError as error:
        return say(state, str(error)) + [fx.Refresh(Part.PATTERN)]
    return _changed(state)


def choose_source(state, lane, choice):
    """A lane's combo: the current sound, or a favourite (read by the io worker)."""
    lane = int(lane)
    name = CURRENT if not choice or choice == CURRENT_LABEL else str(choice)
    if name == state.pattern.pattern.sources[lane]:
        return []
    state.pattern.pattern = state.pattern.pattern.with_source(lane, name)
    effects = _changed(state)
    if name != CURRENT:
        effects.append(fx.ReadLaneSound(lane, str(Path(state.favourites_dir) / name)))
    return effects


def toggle_pattern(state):
    """Play beat / Stop beat."""
    if state.pattern.playing:
        state.pattern.playing = False
        return [fx.StopPattern(), fx.Refresh(Part.PATTERN), fx.Refresh(Part.PLAYING)]
    if not state.player.ready:
        return say(state, NO_PLAYBACK)
    if state.pattern.pattern.empty:
        return say(state, "the beat has no steps yet: click some in the Beat tab")
    state.pattern.playing = True
    return _send(state, restart=True) + [fx.Refresh(Part.PATTERN), fx.Refresh(Part.PLAYING)]


def follow_current(state):
    """After the point's sound changed: the lanes on the current sound play it from their
    next hit."""
    pattern = state.pattern
    if not pattern.playing or CURRENT not in pattern.pattern.sources:
        return []
    if state.sound.audio is None or state.sound.audio is pattern.sent_current:
        return []
    return _send(state, restart=False)


def after_player(state):
    """A sound output was opened (another device): it starts silent, so the beat starts
    again on it, or stops where there is no sound."""
    if not state.pattern.playing:
        return []
    if not state.player.ready:
        state.pattern.playing = False
        return [fx.Refresh(Part.PATTERN), fx.Refresh(Part.PLAYING)]
    return _send(state, restart=True)


def after_favourites(state):
    """The favourites were listed: the lane combos offer them; the first time, read the
    pattern kept beside them."""
    effects: list[fx.Effect] = [fx.Refresh(Part.PATTERN)]
    if not state.pattern.read:
        effects.append(fx.ReadPattern())
    return effects


def on_pattern_read(state, read):
    """The pattern kept in the favourites folder (or why it cannot be read: then it is not
    replaced, and saving waits until the user moves that file away)."""
    state.pattern.read = True
    state.pattern.unsaved_reason = read.reason
    effects: list[fx.Effect] = [fx.Refresh(Part.PATTERN)]
    if read.reason is not None:
        return effects + say(state, f"the beat is not kept: {read.reason}")
    if read.pattern is None:
        return effects
    state.pattern.pattern = read.pattern
    for lane, source in enumerate(read.pattern.sources):
        if source != CURRENT:
            effects.append(fx.ReadLaneSound(lane, str(Path(state.favourites_dir) / source)))
    return effects


def on_lane_sound(state, read):
    """A favourite's samples for a lane arrived (or why not)."""
    name = Path(read.path).name
    if state.pattern.pattern.sources[read.lane] != name:
        return []  # the lane was given another sound meanwhile
    if read.audio is None:
        return say(state, f"{LANES[read.lane]} lane: {read.reason}")
    state.pattern.sounds[read.lane] = (name, read.audio, read.sample_rate)
    return _send(state, restart=False) if state.pattern.playing else []


def pattern_note(state):
    """The Beat tab's line: what plays, or why the beat is not kept."""
    if state.pattern.unsaved_reason is not None:
        return f"not kept: {state.pattern.unsaved_reason}"
    if state.pattern.playing:
        return f"playing at {state.pattern.pattern.tempo} BPM"
    return "kept beside the favourites; exported with a kit"
