"""The sound: play, loop, stop, Vary's variations, the volume, the output device, Save."""

import numpy as np

from constants import SAMPLE_RATE
from gui import effects as fx
from gui import keys as k
from gui.effects import Part
from gui.handlers.common import NO_PLAYBACK, format_point, say, sequence_audio
from gui.state import Playing, VaryStart


def play(state, loop=False):
    """Play (or loop) the current sound; if it is not decoded yet, play it when it is."""
    if state.model is None:
        return say(state, "no model is loaded yet")
    if not state.player.ready:
        return say(state, NO_PLAYBACK)
    if state.vary.amount > 0:
        return request_variation(state, VaryStart.LOOP if loop else VaryStart.PLAY)
    if state.sound.audio is None or state.sound.point != state.point:
        state.sound.play_when_decoded = True
        if state.sound.audio is None:
            return []
    return start_sound(state, state.sound.audio, loop,
                       f"{state.model.name} at {format_point(state.sound.point)}")


def start_sound(state, audio, loop, what):
    """Start a sound and say so: the state line reads "playing" or "looping", and what."""
    state.sound.token += 1
    state.sound.playing, state.sound.what = (Playing.LOOPING if loop else Playing.PLAYING), what
    return [fx.Play(audio, loop=loop, token=state.sound.token), fx.Refresh(Part.PLAYING)]


def request_variation(state, playing=None):
    """Ask for the next variation of the point (Vary on): to play, loop, or swap in."""
    if state.vary.seed is None:
        state.vary.seed = int(state.rng.integers(2**31))
    state.vary.repetition += 1
    if playing is not None:
        state.vary.starting = playing
    return [fx.DecodeVariation(state.model.name, state.point, state.vary.amount, state.vary.seed,
                               state.vary.repetition)]


def on_variation(state, decoded):
    """A variation arrived: play it, loop it, or give it to the loop for its next repetition."""
    if state.model is None or decoded.name != state.model.name:
        return []
    seconds = len(decoded.audio) / state.model.sample_rate
    label = f"variation {decoded.repetition}: {state.model.name} at {format_point(decoded.point)}"
    playing, state.vary.starting = state.vary.starting, None
    if playing is not None:
        effects = start_sound(state, decoded.audio, playing == VaryStart.LOOP, label)
    elif state.sound.looping and state.vary.amount > 0:
        effects = [fx.Swap(decoded.audio, immediate=False)]  # heard from the next repetition
        state.sound.what = label
        effects.append(fx.Refresh(Part.PLAYING))
    else:
        return []
    if state.sound.looping:  # each repetition: the next variation
        effects.append(fx.Later(max(50, int(1000 * seconds)), (k.PLAYER, "repeat"),
                                state.sound.token))
    return effects


def on_repetition(state, token):
    """The loop started another repetition: fetch the variation for the one after it."""
    if token != state.sound.token or not state.sound.looping or state.vary.amount <= 0 or not state.model:
        return []
    return request_variation(state)


def set_vary(state, value):
    """The Vary amount (0 = off)."""
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return []
    if not np.isfinite(amount) or amount < 0:
        return []
    state.vary.amount = amount
    state.message = f"vary {amount:g}: each hit a new variation" if amount else "vary off"
    effects = [fx.Refresh(Part.STATUS)]
    if state.sound.looping and amount > 0 and state.model is not None:
        effects += request_variation(state)
    return effects


def save_variations(state, count):
    """Save the point's sound and its variations (Vary's amount does not matter: N of them)."""
    if state.model is None:
        return say(state, "nothing to save yet: choose a model and a point first")
    try:
        count = int(count)
    except (TypeError, ValueError):
        return say(state, "the number of variations must be a whole number from 2 to 16")
    count = int(np.clip(count, 2, 16))
    if state.vary.seed is None:
        state.vary.seed = int(state.rng.integers(2**31))
    state.vary.count = count
    state.message = f"saving {count} variations…"
    return [fx.SaveVariations(state.model.name, state.point, count, state.vary.seed,
                              state.model.preprocess_settings), fx.Refresh(Part.STATUS)]


def on_sound_ended(state, token):
    """A sound played once has had its time: the state line says stopped (unless replaced)."""
    if token != state.sound.token or state.sound.playing != Playing.PLAYING:
        return []
    state.sound.playing, state.sound.what = Playing.STOPPED, ""
    return [fx.Refresh(Part.PLAYING)]


def play_sequence(state, sounds, sample_rate, what="a sequence"):
    if not state.player.ready:
        return say(state, NO_PLAYBACK)
    audio = sequence_audio(sounds, sample_rate)
    if audio is None:
        return []
    state.sound.looping = False
    return start_sound(state, audio, False, what) + [fx.Refresh(Part.CONTROLS)]


def toggle_loop(state):
    if state.sound.looping:
        return stop(state)
    if not state.player.ready:
        return say(state, state.player.text)
    state.sound.looping = True
    return play(state, loop=True) + [fx.Refresh(Part.CONTROLS)]


def stop(state):
    state.sound.looping = False
    state.sound.play_when_decoded = False
    state.vary.starting = None
    state.sound.playing, state.sound.what = Playing.STOPPED, ""
    return [fx.Stop(), fx.Refresh(Part.CONTROLS), fx.Refresh(Part.PLAYING)]


def set_volume(state, value):
    try:
        volume = float(np.clip(float(value) / 100.0, 0.0, 1.0))
    except (TypeError, ValueError):
        return []
    state.sound.volume = volume
    return [fx.SetVolume(volume)]


def on_player(state, opened):
    """The sound output opened (or could not be): its availability, as data."""
    state.player.ready = bool(opened.available)
    device = opened.device or "default output"
    state.player.text = (f"sound: {device}" if state.player.ready
                         else f"no sound device: {opened.reason or 'unknown reason'}")
    effects = [fx.SetVolume(state.sound.volume), fx.Refresh(Part.STATUS)]
    if state.player.ready and state.sound.looping and state.vary.amount > 0 and state.model:
        effects += request_variation(state, VaryStart.LOOP)
    elif state.player.ready and state.sound.looping and state.sound.audio is not None:
        effects += start_sound(state, state.sound.audio, True,
                               f"{state.model.name} at {format_point(state.sound.point)}")
    elif state.sound.playing != Playing.STOPPED:  # a new output starts silent
        state.sound.playing, state.sound.what = Playing.STOPPED, ""
        effects.append(fx.Refresh(Part.PLAYING))
    return effects


def on_devices(state, listed):
    state.player.devices = list(listed.devices)
    return [fx.Refresh(Part.DEVICES)]


def choose_device(state, choice):
    """The device combo: "default" or "index: name"."""
    device = None if not choice or choice == "default" else str(choice).split(":", 1)[0].strip()
    if device == state.player.device:
        return []
    state.player.device = device
    state.player.ready = False
    state.player.text = "sound: opening…"
    rate = state.player.rate or SAMPLE_RATE
    return [fx.MakePlayer(rate, device), fx.Refresh(Part.STATUS), fx.StoreSettings()]


def save(state):
    """Save the sound of the point on the pad (once it is decoded, if it is not yet)."""
    if state.model is None:
        return say(state, "nothing to save yet: choose a model and a point first")
    if state.sound.point != state.point:  # a click, then S at once: save what was clicked
        state.sound.save_when_decoded = True
        return say(state, "saving once the point is decoded…")
    state.sound.save_when_decoded = False
    state.message = "saving…"
    return [fx.Save(state.model.name, (state.sound.point,), (state.sound.audio,),
                    state.model.sample_rate, state.model.preprocess_settings),
            fx.Refresh(Part.STATUS)]


def on_play_started(state, started):
    """The output started a sound played once: its line says "stopped" once it has had its time."""
    return [fx.Later(int(1000 * started.seconds) + 50, (k.PLAYER, "ended"), started.token)]
