"""The sound: play, loop, stop, Vary's variations, the level, the volume, the output device,
Save, and auditioning the pad's points as they are reached.

Every sound goes to the output, and to a favourite, at the chosen level
(:func:`audio.level.apply_level`); the state keeps the model's own samples. What was sent
to the output last is ``state.sound.heard``, which is what S keeps.
"""

import numpy as np

from audio.level import LEVELS, apply_level
from constants import SAMPLE_RATE
from gui import effects as fx
from gui import keys as k
from gui.effects import Part
from gui.family import decode_family
from gui.handlers.common import NO_PLAYBACK, NO_SOUND_DEVICE, render_output, say, sequence_audio, short_point
from gui.state import Heard, Playing, VaryStart
from gui.wide import pad_of
from models.variation import NEW_NOISE_AMOUNT, VARIATION_SPREAD, has_noise_source


def at_level(state, audio):
    """``audio`` as the output and the favourites get it: at the window's level."""
    return apply_level(audio, state.sound.level)


def current_heard(state):
    """The point's decoded sound as a :class:`Heard` (its variation, for a reopened one)."""
    return Heard(state.model.name, state.sound.point, state.sound.audio, state.sound.variation, state.sound.family)


def sound_label(state, heard, index=None):
    """What the sound line says plays: "vae_a at (0.120, -0.400)", with its variation's number
    (a wide latent's vector in short: :func:`gui.handlers.common.short_point`)."""
    where = f"{heard.model} at {short_point(state.model, heard.point)}"
    index = (heard.variation or {}).get("index") if index is None else index
    return f"variation {index}: {where}" if index else where


def render_sound(state):
    """The Sound tab's picture of the point's sound as it is heard: with Vary on, the
    variation that sounded last (what S keeps and a drag carries), else the decoded sound."""
    kept = kept_sound(state)
    if kept.audio is state.sound.audio:
        return render_output(state)
    return fx.Render("output", fx.OutputRequest(audio=kept.audio, sample_rate=state.model.sample_rate, title=sound_label(state, kept)))


def play(state, loop=False, *, as_is=False, newest=False):
    """Play (or loop) the current sound; if it is not decoded yet, play it when it is.

    ``as_is``: the sound itself even with Vary on (a reopened favourite sounds as saved).
    ``newest``: a point reached by a drag, where only the newest point's variation matters.
    """
    if state.model is None:
        return say(state, "no model is loaded yet")
    if not state.player.ready:
        return say(state, NO_PLAYBACK)
    if state.vary.amount > 0 and not as_is:
        return request_variation(state, VaryStart.LOOP if loop else VaryStart.PLAY, newest=newest)
    if state.sound.audio is None or state.sound.point != state.vector:
        state.sound.play_when_decoded = True
        if state.sound.audio is None:
            return []
    heard = current_heard(state)
    return start_sound(state, state.sound.audio, loop, sound_label(state, heard), heard)


def start_sound(state, audio, loop, what, heard=None):
    """Start a sound (at the level) and say so: the state line reads "playing" or "looping".

    ``heard``: the point's sound this is (what S then keeps), or None for a sequence.
    """
    state.sound.token += 1
    state.sound.playing, state.sound.what = (Playing.LOOPING if loop else Playing.PLAYING), what
    state.sound.heard, state.sound.next_heard = heard, None
    return [fx.Play(at_level(state, audio), loop=loop, token=state.sound.token), fx.Refresh(Part.PLAYING)]


def swap_sound(state, heard, immediate=True):
    """Give the loop another point's sound: at once, or from its next repetition.

    A swap for the next repetition is tagged: the sound room says when the loop came round to
    it (:func:`on_swap_settled`), and only then is it what S keeps. One that waits is
    left to be settled when an immediate swap overtakes it, so that Vary's chain goes on.
    """
    if immediate:
        state.sound.heard, state.sound.next_heard = heard, None
        state.sound.what = sound_label(state, heard)
        return [fx.Swap(at_level(state, heard.audio), immediate=True), fx.Refresh(Part.PLAYING)]
    state.sound.tags += 1
    state.sound.next_heard, state.sound.next_tag = heard, state.sound.tags
    return [fx.Swap(at_level(state, heard.audio), immediate=False, tag=state.sound.next_tag)]


def request_variation(state, playing=None, *, newest=False):
    """Ask for the next variation of the point (Vary on): to play, loop, or swap in.

    ``newest``: while one is still being decoded to start, this request waits for it (a drag
    with Vary on must not queue one decode per point passed): ``vary.again`` asks for the
    newest point's once it arrives.
    """
    if newest and playing is not None and state.vary.starting is not None:
        state.vary.starting, state.vary.again = playing, True
        return []
    if state.vary.seed is None:
        state.vary.seed = int(state.rng.integers(2**31))
    state.vary.repetition += 1
    if playing is not None:
        state.vary.starting = playing
    # a wide latent's whole vector: its variation moves every axis (models.variation)
    vector, vary = state.vector, state.vary
    return [fx.DecodeVariation(state.model.name, vector, vary.amount, vary.seed, vary.repetition, family=decode_family(state))]


def on_variation(state, decoded):
    """A variation arrived: play it, loop it, or give it to the loop for its next repetition."""
    if state.model is None or decoded.name != state.model.name:
        return []
    heard = Heard(decoded.name, tuple(decoded.point), decoded.audio, dict(decoded.variation or {}) or None, decoded.family)
    playing, state.vary.starting = state.vary.starting, None
    if playing is not None:
        effects = start_sound(state, decoded.audio, playing == VaryStart.LOOP, sound_label(state, heard, decoded.repetition), heard)
        if state.sound.point == heard.point:  # else the point moved on: its own comes
            effects.append(render_sound(state))
        if state.vary.again:  # the point moved on while this one decoded: its own comes next
            state.vary.again = False
            if decoded.point != state.vector:
                return effects + request_variation(state, playing)
        if playing == VaryStart.LOOP:  # the next repetition's, ready before the loop comes round
            effects += request_variation(state)
        return effects
    if state.sound.looping and state.vary.amount > 0:
        return swap_sound(state, heard, immediate=False)  # from the next repetition
    return []


def on_swap_settled(state, settled):
    """The loop came round to the variation swapped in for its next repetition (``began``):
    it is now the one sounding, what S keeps, so ask for the one after it. Or it never will
    sound (another sound took its place first): ask again for the next repetition's.
    """
    if settled.tag != state.sound.next_tag:
        return []  # an older swap, overtaken by a later one that is waited for
    heard, state.sound.next_heard, state.sound.next_tag = state.sound.next_heard, None, 0
    if not state.sound.looping or state.vary.amount <= 0 or not state.model:
        return []
    effects = []
    if settled.began and heard is not None:
        state.sound.heard = heard
        state.sound.what = sound_label(state, heard)
        effects.append(fx.Refresh(Part.PLAYING))
        if state.sound.point == heard.point:
            effects.append(render_sound(state))
    return effects + request_variation(state)


def set_level(state, value):
    """The level combo: "as made" or "normalised"; a loop changes level at once."""
    if value not in LEVELS or value == state.sound.level:
        return []
    state.sound.level = value
    state.message = f"level: {value} (playback and saves)"
    effects = [fx.Refresh(Part.STATUS), fx.Refresh(Part.CONTROLS), fx.StoreSettings()]
    heard = state.sound.heard
    if state.sound.looping and state.player.ready and heard is not None:
        effects[:0] = [fx.Swap(at_level(state, heard.audio), immediate=True)]
    return effects


def set_audition(state, value):
    """The "Audition on click" toggle: a click or drag on the pad plays each point reached."""
    state.sound.audition = bool(value)
    state.message = (
        "audition on: a click or drag on the pad plays each point"
        if state.sound.audition
        else "audition off: the pad is silent (Play, space, or Loop to hear)"
    )
    return [fx.Refresh(Part.STATUS), fx.Refresh(Part.CONTROLS), fx.StoreSettings()]


def audition(state):
    """A click or drag reached a point: play it once it is decoded (Audition on click)."""
    if state.sound.audition and state.player.ready and not state.sound.looping:
        state.sound.play_when_decoded = True


def vary_words(model, amount):
    """What Vary's ``amount`` does, in one line (the slider's unit is the spread)."""
    if not amount:
        return "vary off"
    words = f"vary {amount:g}: each hit moves about {amount * VARIATION_SPREAD:.1%} of the range from the point"
    if model is not None and model.latent_dim > 2:
        words += f", on every one of its {model.latent_dim} axes"
    if model is not None and has_noise_source(model):
        words += ", with new noise" if amount >= NEW_NOISE_AMOUNT else f" (new noise from {NEW_NOISE_AMOUNT:g})"
    return words


def set_vary(state, value):
    """The Vary amount (0 = off)."""
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return []
    if not np.isfinite(amount) or amount < 0:
        return []
    state.vary.amount = amount
    state.message = vary_words(state.model, amount)
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
    return [
        fx.SaveVariations(
            state.model.name,
            state.vector,  # a wide latent's whole vector: its variations move every axis
            count,
            state.vary.seed,
            state.model.preprocess_settings,
            level=state.sound.level,
            family=decode_family(state),
        ),
        fx.Refresh(Part.STATUS),
    ]


def on_sound_ended(state, token):
    """A sound played once has had its time: the state line says stopped (unless replaced)."""
    if token != state.sound.token or state.sound.playing != Playing.PLAYING:
        return []
    state.sound.playing, state.sound.what = Playing.STOPPED, ""
    return [fx.Refresh(Part.PLAYING)]


def play_sequence(state, sounds, sample_rate, what="a sequence"):
    if not state.player.ready:
        return say(state, NO_PLAYBACK)
    audio = sequence_audio([None if s is None else at_level(state, s) for s in sounds], sample_rate)
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
    """Stop and Esc: silence, the beat included (its ringing hits fade out at once)."""
    state.sound.looping = False
    state.sound.play_when_decoded = False
    state.vary.starting, state.vary.again = None, False
    state.sound.playing, state.sound.what = Playing.STOPPED, ""
    effects = [fx.Stop(), fx.Refresh(Part.CONTROLS), fx.Refresh(Part.PLAYING)]
    if state.pattern.playing:
        state.pattern.playing = False
        effects[1:1] = [fx.StopPattern(cut=True), fx.Refresh(Part.PATTERN)]
    return effects


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
    state.player.text = f"sound: {device}" if state.player.ready else f"{NO_SOUND_DEVICE}: {opened.reason or 'unknown reason'}"
    effects = [fx.SetVolume(state.sound.volume), fx.Refresh(Part.STATUS), fx.Refresh(Part.DEVICES)]
    if state.player.ready and state.sound.looping and state.vary.amount > 0 and state.model:
        effects += request_variation(state, VaryStart.LOOP)
    elif state.player.ready and state.sound.looping and state.sound.audio is not None:
        heard = current_heard(state)
        effects += start_sound(state, state.sound.audio, True, sound_label(state, heard), heard)
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


def kept_sound(state):
    """What S keeps: the point's sound last sent to the output (the variation playing, with
    Vary on), else the point's decoded sound."""
    heard = state.sound.heard
    if (
        heard is not None
        and heard.model == state.model.name
        and heard.point == state.sound.point
        and heard.family == state.sound.family
    ):
        return heard
    return current_heard(state)


def save(state):
    """Save the sound of the point on the pad as it is heard (once it is decoded, if it is
    not yet): at the level, and with the variation that is sounding recorded."""
    if state.model is None:
        return say(state, "nothing to save yet: choose a model and a point first")
    if state.sound.point != state.vector or state.sound.family != decode_family(state):
        # a click (or a family key), then S at once: save what was asked for
        state.sound.save_when_decoded = True
        return say(state, "saving once the point is decoded…")
    state.sound.save_when_decoded = False
    state.message = "saving…"
    kept = kept_sound(state)
    settings = state.model.preprocess_settings
    if kept.variation is not None:
        settings = dict(settings or {}, variation=dict(kept.variation))
    if kept.family is not None:  # the family decoded with: reopening decodes this family again
        settings = dict(settings or {}, family=kept.family)
    point = kept.point
    if state.latent is not None:  # a wide latent: the file is named by the pad's point, the whole vector recorded
        settings, point = dict(settings or {}, latent=list(kept.point)), pad_of(state.model, kept.point)
    return [
        fx.Save(state.model.name, (point,), (kept.audio,), state.model.sample_rate, settings, level=state.sound.level),
        fx.Refresh(Part.STATUS),
    ]


def on_play_started(state, started):
    """The output started a sound played once: its line says "stopped" once it has had its time."""
    return [fx.Later(int(1000 * started.seconds) + 50, (k.PLAYER, "ended"), started.token)]
