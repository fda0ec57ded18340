"""What each event does: plain functions of the state and an event, returning effects.

``handle(state, event, values)`` changes the state object and returns a list of records
from :mod:`gui.effects` for the loop to carry out. Nothing here touches a window, a thread,
a file or TensorFlow, so every behaviour of the window can be tested without one.
"""
from pathlib import Path

import numpy as np

from constants import SAMPLE_RATE
from evaluation.ranking import choose_best
from gui import effects as fx
from gui import events as ev
from gui import keys as k
from gui.model_card import card_table
from gui.state import LOADING, MAP_MODES, MAX_COMPARE, READY, UNAVAILABLE, Sequence

NUDGE = 0.02  # arrow keys move the point by this share of the latent range
GAP_SECONDS = 0.25  # silence between the sounds of a sequence
MIN_STEPS, MAX_STEPS = 2, 32

# ---------------------------------------------------------------------------- helpers


def clamp(point, latent_range):
    """The point moved inside the latent range."""
    xmin, xmax, ymin, ymax = latent_range
    return (float(np.clip(point[0], xmin, xmax)), float(np.clip(point[1], ymin, ymax)))


def sequence_audio(sounds, sample_rate, gap_seconds=GAP_SECONDS):
    """The sounds one after another with silence between them (missing ones skipped).

    Returns
    -------
    audio : np.ndarray, shape (M,), float32, or None when there is nothing to play
    """
    parts = [np.asarray(s, dtype=np.float32).ravel() for s in sounds if s is not None]
    if not parts:
        return None
    gap = np.zeros(round(gap_seconds * sample_rate), dtype=np.float32)
    joined = []
    for part in parts:
        joined += [part, gap]
    return np.concatenate(joined[:-1])


def format_point(point):
    return f"({point[0]:.3f}, {point[1]:.3f})"


def favourite_label(favourite):
    """How a favourite reads in the list: file name, model and point (or why it cannot)."""
    name = Path(str(favourite.path)).name
    if getattr(favourite, "recall", True) is None:
        return f"{name}  ·  cannot reopen: {favourite.reason}"
    return name  # the name says the model and the point already


# The status line already starts with the device's reason; this says what it means for Play.
NO_PLAYBACK = "cannot play without a sound device (Save still works)"


def status_text(state):
    """The status line: sound device, decode and redraw times, what is loading, a message."""
    parts = [state.player_text]
    if state.decode_ms is not None:
        parts.append(f"decode {state.decode_ms:.1f} ms")
    if state.redraw_ms is not None:
        parts.append(f"redraw {state.redraw_ms:.0f} ms (GUI {state.draw_ms or 0:.0f} ms)")
    loading = state.loading
    if loading:
        parts.append("loading " + ", ".join(loading))
    if state.message:
        parts.append(state.message)
    return "  |  ".join(parts)


def playing_text(state):
    """The sound's state as its line reads: "▶ playing vae_a at (0.120, -0.400)"."""
    mark = {"playing": "▶ playing", "looping": "⟳ looping", "stopped": "■ stopped"}[state.playing]
    return f"{mark} {state.playing_what}".rstrip()


def card_text(info):
    """The model card as a readable table (see gui.model_card.card_table)."""
    return card_table(info)


def short_reason(state, reason):
    """A reason with the zoo folder taken off its paths (the list column is narrow)."""
    folder = str(Path(state.models_dir))
    return str(reason).replace(folder + "/", "").replace(folder + "\\", "")


def _say(state, message):
    state.message = message
    return [fx.Refresh("status")]


# ---------------------------------------------------------------------------- models


def on_zoo(state, listed):
    """The model list arrived: show it, load the first model, preload the rest.

    The first model is the remembered one; on a first launch, the best one by the
    evaluation (:func:`evaluation.ranking.choose_best`, the report's and the web page's
    rule too), and the status line says why.

    Parameters
    ----------
    listed : gui.events.ZooListed
    """
    for status in listed.entries:
        entry = state.entry(status.name)
        entry.group, entry.subgroup, entry.trained = status.group, status.subgroup, status.trained
        if not status.trained:
            entry.state, entry.reason = UNAVAILABLE, short_reason(state, status.reason or "not trained")
    trained = [e.name for e in state.entries.values() if e.trained]
    effects = [fx.Refresh("models"), fx.Refresh("compare_list")]
    if not trained:
        return effects + _say(state, f"no trained models in {state.models_dir}: "
                                     "train some with python app.py train")
    usable = [name for name in trained if state.entries[name].state != UNAVAILABLE]
    remembered = state.wanted
    state.wanted = None  # so that choosing it below is not taken for the list's echo
    why = ""
    if remembered in usable:
        first = remembered
    else:
        state.pending_point = None  # the remembered point belongs to another model
        best = choose_best({name: listed.metrics.get(name) for name in usable})
        first, why = ((best.name, f"opened {best.name}: {best.reason}") if best is not None
                      else ((usable or trained)[0], ""))
    effects += select_model(state, first, keep_pending=True)
    if why:
        state.message = state.why_model = why
    effects += [fx.LoadModel(name, background=True) for name in trained if name != first]
    return effects


def select_model(state, name, keep_pending=False):
    """The user chose a model in the list."""
    entry = state.entries.get(name)
    if entry is None:
        return []  # a group row
    if entry.state == UNAVAILABLE:
        return _say(state, f"{name} is unavailable: {entry.reason}")
    if name == state.wanted:
        # chosen already: the list echoes the selection it was given (a reopened favourite's
        # model, the remembered one at start), and that echo must not drop the pending point
        return []
    if not keep_pending:
        state.pending_point = None
    state.wanted = name
    if entry.state != READY:
        entry.state = LOADING
    state.message = ""
    return [fx.LoadModel(name), fx.Refresh("models"), fx.Refresh("status")]


def on_model_ready(state, ready):
    """A model finished loading (the one the user wants, or a background one)."""
    info = ready.info
    entry = state.entry(info.name)
    entry.state, entry.reason, entry.trained = READY, "", True
    if info.name != state.wanted:
        return [fx.Refresh("models"), fx.Refresh("status")]
    changed = state.model is None or state.model.name != info.name
    state.model = info
    point = state.pending_point if state.pending_point is not None else info.center
    state.pending_point = None
    state.point = clamp(point, info.latent_range)
    if changed:
        state.save_when_decoded = False  # S was for the other model's point
        state.sound = state.sound_point = state.original = None
        state.morph_a = state.morph_b = None
        state.morph = None
    effects = [fx.Refresh(p) for p in ("models", "pad", "fields", "card", "morph_fields",
                                       "map_mode")]  # the map's hint follows the model
    if state.player_rate != info.sample_rate:
        state.player_rate = info.sample_rate
        state.player_ready = False
        effects.append(fx.MakePlayer(info.sample_rate, state.device))
    if info.codes is None and state.map_mode == "codes":
        state.map_mode = "brightness"  # no encoder, no codes: the heat-map is the map
        state.map_mode_for_gan = True
    elif info.codes is not None and state.map_mode_for_gan:
        state.map_mode, state.map_mode_for_gan = "codes", False  # what the user had
    state.history.reopen(info.name, state.point)  # where the model opens (or a favourite's point)
    effects += request_map(state)
    effects += [fx.Decode(info.name, state.point), fx.Refresh("status"), fx.StoreSettings(),
                fx.Refresh("history")]
    return effects


def on_model_failed(state, failed):
    """A model could not be loaded: it shows as unavailable with the reason."""
    name, reason = failed.name, short_reason(state, failed.reason)
    entry = state.entry(name)
    # only a trained model is ever loaded, so this one has files, damaged ones
    entry.state, entry.reason, entry.trained = UNAVAILABLE, reason, True
    effects = [fx.Refresh("models"), fx.Refresh("compare_list")]
    if name == state.wanted:
        state.wanted = state.model.name if state.model else None
        effects += _say(state, f"{name} is unavailable: {reason}")
    else:
        effects.append(fx.Refresh("status"))
    return effects


# ---------------------------------------------------------------------------- the point


def move_point(state, point, step=True):
    """Put the point somewhere (clamped to the range) and decode it.

    ``step``: the move is a step in the model's history (a drag's moves are not, its end is;
    going back or forward is not).
    """
    if state.model is None or point is None or None in tuple(point):
        return []
    state.point = clamp(point, state.model.latent_range)
    state.original = None
    if step:
        state.history.click(state.model.name, state.point)
    effects = [fx.Refresh("marker"), fx.Refresh("fields"), fx.Decode(state.model.name, state.point),
               fx.Refresh("history")]
    if state.message and not state.save_when_decoded:
        # a message is about the last thing done; a move starts the next (none lingers)
        state.message = ""
        effects.append(fx.Refresh("status"))
    return effects


def nudge(state, dx, dy):
    if state.model is None:
        return []
    xmin, xmax, ymin, ymax = state.model.latent_range
    x, y = state.point
    return move_point(state, (x + dx * NUDGE * (xmax - xmin), y + dy * NUDGE * (ymax - ymin)))


def typed_point(state, values):
    try:
        point = (float(values[k.X]), float(values[k.Y]))
    except (TypeError, ValueError, KeyError):
        return _say(state, "X and Y must be numbers, e.g. 0.25")
    if not all(np.isfinite(point)):
        return _say(state, "X and Y must be finite numbers")
    return move_point(state, point)


def random_point(state):
    if state.model is None:
        return []
    xmin, xmax, ymin, ymax = state.model.latent_range
    return move_point(state, (state.rng.uniform(xmin, xmax), state.rng.uniform(ymin, ymax)))


def reset_point(state):
    return move_point(state, state.model.center) if state.model else []


def on_decoded(state, decoded):
    """The decode worker finished the latest point."""
    if state.model is None or decoded.name != state.model.name:
        return []
    state.sound, state.sound_point = decoded.audio, tuple(decoded.point)
    state.decode_ms = decoded.ms
    effects = []
    if state.looping and state.player_ready:
        effects.append(fx.Swap(state.sound))
        state.playing_what = f"{state.model.name} at {format_point(state.sound_point)}"
        effects.append(fx.Refresh("playing"))
    if state.play_when_decoded:
        state.play_when_decoded = False
        effects += play(state, loop=state.looping)
    if state.save_when_decoded and state.sound_point == state.point:
        effects += save(state)
    effects.append(render_output(state))
    effects.append(fx.Nearest(state.model.name, state.sound_point, state.model.data_folder))
    effects.append(fx.Refresh("status"))
    return effects


def render_output(state, title=None):
    if title is None and state.original is not None and state.opened is not None:
        title = f"{Path(state.opened).name} through {state.model.name}"
    return fx.Render("output", {
        "audio": state.sound, "sample_rate": state.model.sample_rate,
        "original": state.original,
        "title": title or f"{state.model.name} at {format_point(state.sound_point)}",
    })


# ---------------------------------------------------------------------------- the map


def request_map(state):
    """Draw the map for the current mode, computing a heat-map first when needed."""
    info = state.model
    if info is None:
        return []
    request = {"latent_range": info.latent_range, "point": state.point, "a": state.morph_a,
               "b": state.morph_b, "key": (info.name, state.map_mode)}
    codes = info.codes
    if codes is not None:
        request.update(codes=np.asarray(codes.points), families=list(codes.families))
    if state.map_mode == "codes" and codes is not None:
        request["title"] = f"{info.name}: {len(codes.points)} training samples by family"
        return [fx.Render("map", request)]
    feature = state.map_mode
    grid = state.heatmaps.get((info.name, feature))
    if grid is None:
        state.message = f"computing the {feature} heat-map of {info.name}…"
        # meanwhile the map shows this model (its codes, if any), not the last one's picture
        request["title"] = f"{info.name}: computing the {feature} heat-map…"
        return [fx.Heatmap(info.name, feature, info.latent_range, info.sample_rate),
                fx.Render("map", request), fx.Refresh("status")]
    request.update(heat=grid, feature=feature, title=f"{info.name}: {feature} over the latent range")
    return [fx.Render("map", request)]


def map_hint(state):
    """What a click on the map does, for the hint beside its title."""
    if state.map_mode == "codes" and state.model is not None and state.model.codes is not None:
        return "click a dot to hear it"
    return "click to go there"


def set_map_mode(state, mode):
    if mode not in MAP_MODES:
        return []
    if mode == "discontinuity" and "discontinuity" not in state.heatmap_features:
        return _say(state, "the local discontinuity needs the evaluation package")
    if mode == "codes" and state.model is not None and state.model.codes is None:
        state.map_mode = "brightness"
        return [fx.Refresh("map_mode")] + _say(
            state, f"{state.model.name} has no encoder, so no codes: its map is a heat-map")
    state.map_mode, state.map_mode_for_gan = mode, False
    return [fx.Refresh("map_mode")] + request_map(state)


def on_heatmap(state, heatmap):
    state.heatmaps[(heatmap.name, heatmap.feature)] = heatmap.grid
    if state.model is None or heatmap.name != state.model.name:
        return []
    if state.map_mode != heatmap.feature:
        return []
    state.message = ""
    return request_map(state) + [fx.Refresh("status")]


def original_path(info, index):
    """Where the original file of code ``index`` would be (None if the card names no folder)."""
    if info.data_folder is None or info.codes is None or info.codes.files is None:
        return None
    return str(Path(info.data_folder) / str(info.codes.files[index]))


def on_map_click(state, payload):
    """A click on the map: on a sample, audition it; elsewhere, move the point there."""
    if state.model is None:
        return []
    index = payload.get("sample")
    codes = state.model.codes
    if index is None or codes is None:
        return move_point(state, payload["point"])
    point = tuple(float(v) for v in np.asarray(codes.points)[index])
    effects = move_point(state, point)
    name = codes.names[index] if codes.names is not None else f"sample {index}"
    family = codes.families[index] if codes.families is not None else ""
    state.message = f"{name} ({family}): the decoded point, then the original"
    return effects + [fx.Audition(state.model.name, state.point,
                                  original_path(state.model, index)), fx.Refresh("status")]


def on_audition(state, auditioned):
    sounds = [auditioned.decoded, auditioned.original]
    if auditioned.reason:
        state.message = f"original not played: {auditioned.reason}"
    effects = play_sequence(state, sounds, state.model.sample_rate if state.model else SAMPLE_RATE,
                            "a map sample, then its original")
    return effects + [fx.Refresh("status")]


# ---------------------------------------------------------------------------- sound


def play(state, loop=False):
    """Play (or loop) the current sound; if it is not decoded yet, play it when it is."""
    if state.model is None:
        return _say(state, "no model is loaded yet")
    if not state.player_ready:
        return _say(state, NO_PLAYBACK)
    if state.vary_amount > 0:
        return request_variation(state, "loop" if loop else "play")
    if state.sound is None or state.sound_point != state.point:
        state.play_when_decoded = True
        if state.sound is None:
            return []
    return start_sound(state, state.sound, loop,
                       f"{state.model.name} at {format_point(state.sound_point)}")


def start_sound(state, audio, loop, what):
    """Start a sound and say so: the state line reads "playing" or "looping", and what."""
    state.play_token += 1
    state.playing, state.playing_what = ("looping" if loop else "playing"), what
    return [fx.Play(audio, loop=loop, token=state.play_token), fx.Refresh("playing")]


def request_variation(state, playing=None):
    """Ask for the next variation of the point (Vary on): to play, loop, or swap in."""
    if state.vary_seed is None:
        state.vary_seed = int(state.rng.integers(2**31))
    state.vary_repetition += 1
    if playing is not None:
        state.vary_playing = playing
    return [fx.DecodeVariation(state.model.name, state.point, state.vary_amount, state.vary_seed,
                               state.vary_repetition)]


def on_variation(state, decoded):
    """A variation arrived: play it, loop it, or give it to the loop for its next repetition."""
    if state.model is None or decoded.name != state.model.name:
        return []
    seconds = len(decoded.audio) / state.model.sample_rate
    label = f"variation {decoded.repetition}: {state.model.name} at {format_point(decoded.point)}"
    playing, state.vary_playing = state.vary_playing, None
    if playing is not None:
        effects = start_sound(state, decoded.audio, playing == "loop", label)
    elif state.looping and state.vary_amount > 0:
        effects = [fx.Swap(decoded.audio, immediate=False)]  # heard from the next repetition
        state.playing_what = label
        effects.append(fx.Refresh("playing"))
    else:
        return []
    if state.looping:  # each repetition: the next variation
        effects.append(fx.Later(max(50, int(1000 * seconds)), (k.PLAYER, "repeat"),
                                state.play_token))
    return effects


def on_repetition(state, token):
    """The loop started another repetition: fetch the variation for the one after it."""
    if token != state.play_token or not state.looping or state.vary_amount <= 0 or not state.model:
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
    state.vary_amount = amount
    state.message = f"vary {amount:g}: each hit a new variation" if amount else "vary off"
    effects = [fx.Refresh("status")]
    if state.looping and amount > 0 and state.model is not None:
        effects += request_variation(state)
    return effects


def save_variations(state, count):
    """Save the point's sound and its variations (Vary's amount does not matter: N of them)."""
    if state.model is None:
        return _say(state, "nothing to save yet: choose a model and a point first")
    try:
        count = int(count)
    except (TypeError, ValueError):
        return _say(state, "the number of variations must be a whole number from 2 to 16")
    count = int(np.clip(count, 2, 16))
    if state.vary_seed is None:
        state.vary_seed = int(state.rng.integers(2**31))
    state.vary_count = count
    state.message = f"saving {count} variations…"
    return [fx.SaveVariations(state.model.name, state.point, count, state.vary_seed,
                              state.model.preprocess_settings), fx.Refresh("status")]


def on_sound_ended(state, token):
    """A sound played once has had its time: the state line says stopped (unless replaced)."""
    if token != state.play_token or state.playing != "playing":
        return []
    state.playing, state.playing_what = "stopped", ""
    return [fx.Refresh("playing")]


def play_sequence(state, sounds, sample_rate, what="a sequence"):
    if not state.player_ready:
        return _say(state, NO_PLAYBACK)
    audio = sequence_audio(sounds, sample_rate)
    if audio is None:
        return []
    state.looping = False
    return start_sound(state, audio, False, what) + [fx.Refresh("controls")]


def toggle_loop(state):
    if state.looping:
        return stop(state)
    if not state.player_ready:
        return _say(state, state.player_text)
    state.looping = True
    return play(state, loop=True) + [fx.Refresh("controls")]


def stop(state):
    state.looping = False
    state.play_when_decoded = False
    state.vary_playing = None
    state.playing, state.playing_what = "stopped", ""
    return [fx.Stop(), fx.Refresh("controls"), fx.Refresh("playing")]


def set_volume(state, value):
    try:
        volume = float(np.clip(float(value) / 100.0, 0.0, 1.0))
    except (TypeError, ValueError):
        return []
    state.volume = volume
    return [fx.SetVolume(volume)]


def on_player(state, opened):
    """The sound output opened (or could not be): its availability, as data."""
    state.player_ready = bool(opened.available)
    device = opened.device or "default output"
    state.player_text = (f"sound: {device}" if state.player_ready
                         else f"no sound device: {opened.reason or 'unknown reason'}")
    effects = [fx.SetVolume(state.volume), fx.Refresh("status")]
    if state.player_ready and state.looping and state.vary_amount > 0 and state.model:
        effects += request_variation(state, "loop")
    elif state.player_ready and state.looping and state.sound is not None:
        effects += start_sound(state, state.sound, True,
                               f"{state.model.name} at {format_point(state.sound_point)}")
    elif state.playing != "stopped":  # a new output starts silent
        state.playing, state.playing_what = "stopped", ""
        effects.append(fx.Refresh("playing"))
    return effects


def on_devices(state, listed):
    state.devices = list(listed.devices)
    return [fx.Refresh("devices")]


def choose_device(state, choice):
    """The device combo: "default" or "index: name"."""
    device = None if not choice or choice == "default" else str(choice).split(":", 1)[0].strip()
    if device == state.device:
        return []
    state.device = device
    state.player_ready = False
    state.player_text = "sound: opening…"
    rate = state.player_rate or SAMPLE_RATE
    return [fx.MakePlayer(rate, device), fx.Refresh("status"), fx.StoreSettings()]


# ---------------------------------------------------------------------------- favourites


def save(state):
    """Save the sound of the point on the pad (once it is decoded, if it is not yet)."""
    if state.model is None:
        return _say(state, "nothing to save yet: choose a model and a point first")
    if state.sound_point != state.point:  # a click, then S at once: save what was clicked
        state.save_when_decoded = True
        return _say(state, "saving once the point is decoded…")
    state.save_when_decoded = False
    state.message = "saving…"
    return [fx.Save(state.model.name, (state.sound_point,), (state.sound,),
                    state.model.sample_rate, state.model.preprocess_settings),
            fx.Refresh("status")]


def on_saved(state, saved):
    names = ", ".join(Path(str(p)).name for p in saved.paths)
    state.message = f"saved {names} in {state.favourites_dir}"
    return [fx.ListFavourites(), fx.Refresh("status")]


def on_favourites(state, listed):
    state.favourites = list(listed.favourites)
    return [fx.Refresh("favourites")]


def reopen(state, selected):
    """Reopen a favourite at its model and point."""
    if not selected:
        return _say(state, "choose a favourite in the list first")
    label = selected[0] if isinstance(selected, (list, tuple)) else selected
    chosen = next((f for f in state.favourites
                   if f is label or favourite_label(f) == str(label)), None)
    if chosen is None:
        return []
    if getattr(chosen, "recall", True) is None:
        return _say(state, f"{Path(str(chosen.path)).name}: {chosen.reason}")
    point = tuple(float(v) for v in chosen.point)
    entry = state.entries.get(chosen.model)
    if entry is None:
        return _say(state, f"{Path(str(chosen.path)).name}: model {chosen.model} is not in the list")
    if entry.state == UNAVAILABLE:
        return _say(state, f"{Path(str(chosen.path)).name}: {chosen.model} is unavailable: "
                           f"{entry.reason}")
    if state.model is not None and state.model.name == chosen.model:
        state.play_when_decoded = True
        return move_point(state, point)
    state.pending_point = point
    state.play_when_decoded = True
    return select_model(state, chosen.model, keep_pending=True)


# ---------------------------------------------------------------------------- open a sample


def open_sample(state):
    if state.model is None:
        return _say(state, "no model is loaded yet")
    if not state.model.has_encoder:
        return _say(state, f"{state.model.name} has no encoder: choose an autoencoder or a VAE "
                           "to open a sample")
    return [fx.AskFile("open-sample")]


def on_file(state, purpose, path):
    if not path or purpose != "open-sample" or state.model is None:
        return []
    if not state.model.has_encoder:
        return open_sample(state)
    state.message = f"encoding {Path(str(path)).name} with {state.model.name}…"
    return [fx.Encode(state.model.name, str(path)), fx.Refresh("status")]


def on_encoded(state, encoded):
    if state.model is None or encoded.name != state.model.name:
        return []
    state.point = clamp(encoded.point, state.model.latent_range)
    state.sound, state.sound_point = encoded.reconstruction, state.point
    state.original, state.opened = encoded.original, encoded.path
    state.message = (f"{Path(encoded.path).name} is at {format_point(encoded.point)}: "
                     "playing the reconstruction, then the original")
    effects = [fx.Refresh("marker"), fx.Refresh("fields"), render_output(state)]
    effects += play_sequence(state, [state.sound, state.original], state.model.sample_rate,
                             f"{Path(encoded.path).name} through {state.model.name}")
    return effects + [fx.Refresh("status")]


# ---------------------------------------------------------------------------- compare, morph


def compare(state, selected):
    if state.model is None:
        return _say(state, "no model is loaded yet")
    names = [str(n) for n in (selected or [])]
    if not names:
        return _say(state, f"choose up to {MAX_COMPARE} models in the Compare list first")
    if len(names) > MAX_COMPARE:  # never a silent choice of four of them
        return _say(state, f"{len(names)} models are chosen: choose at most {MAX_COMPARE} "
                           "in the Compare list")
    state.message = f"comparing {', '.join(names)} at {format_point(state.point)}…"
    return [fx.Compare(tuple(names), state.point, state.model.sample_rate), fx.Refresh("status")]


def on_compared(state, compared):
    """Each compared model's sound (or why it failed): draw them in rows, play them in turn."""
    results = [(r.name, r.audio, r.reason) for r in compared.results]
    rate = compared.sample_rate
    state.compare = Sequence(
        sounds=[audio for _, audio, _ in results],
        labels=[name if audio is not None else f"{name}: {reason}" for name, audio, reason in results],
        points=[tuple(compared.point)] * len(results),
        models=[name for name, _, _ in results], sample_rate=rate)
    failed = [f"{name}: {reason}" for name, audio, reason in results if audio is None]
    played = [name for name, audio, _ in results if audio is not None]
    state.message = ("playing " + " then ".join(played) if played else "nothing to play") + (
        "; " + "; ".join(failed) if failed else "")
    effects = [fx.Render("compare", {"sounds": state.compare.sounds, "labels": state.compare.labels,
                                     "sample_rate": rate,
                                     "title": f"the point {format_point(compared.point)}"})]
    return effects + play_sequence(state, state.compare.sounds, rate,
                                   f"{' then '.join(played)} at {format_point(compared.point)}"
                                   ) + [fx.Refresh("status")]


def set_morph_end(state, which):
    if state.model is None:
        return []
    if which == "a":
        state.morph_a = state.point
    else:
        state.morph_b = state.point
    return [fx.Refresh("morph_fields"), fx.Refresh("marker")] + request_map(state)


def morph(state, steps):
    if state.model is None:
        return _say(state, "no model is loaded yet")
    if state.morph_a is None or state.morph_b is None:
        return _say(state, "set A and B on the pad first (move the point, then Set A / Set B)")
    try:
        steps = int(steps)
    except (TypeError, ValueError):
        return _say(state, f"steps must be a whole number from {MIN_STEPS} to {MAX_STEPS}")
    state.morph_steps = int(np.clip(steps, MIN_STEPS, MAX_STEPS))
    state.message = f"rendering a morph of {state.morph_steps} sounds…"
    return [fx.Morph(state.model.name, state.morph_a, state.morph_b, state.morph_steps),
            fx.Refresh("status")]


def on_morphed(state, morphed):
    if state.model is None or morphed.name != state.model.name:
        return []
    points = [tuple(p) for p in morphed.points]
    state.morph = Sequence(sounds=list(morphed.sounds),
                           labels=[str(i + 1) for i in range(len(points))], points=points,
                           models=[morphed.name] * len(points),
                           sample_rate=state.model.sample_rate)
    state.message = f"morph A→B: {len(points)} sounds"
    effects = [fx.Render("morph", {"sounds": state.morph.sounds, "labels": state.morph.labels,
                                   "sample_rate": state.morph.sample_rate,
                                   "title": f"{morphed.name}: A {format_point(points[0])} "
                                            f"→ B {format_point(points[-1])}"})]
    return effects + play_sequence(state, state.morph.sounds, state.morph.sample_rate,
                                   f"a morph of {len(points)} sounds") + [fx.Refresh("status")]


def play_morph(state):
    if state.morph is None:
        return _say(state, "render a morph first")
    return play_sequence(state, state.morph.sounds, state.morph.sample_rate,
                         f"a morph of {len(state.morph.sounds)} sounds")


def save_morph(state):
    if state.morph is None:
        return _say(state, "render a morph first")
    state.message = f"saving {len(state.morph.sounds)} morph sounds…"
    return [fx.Save(state.morph.models[0], tuple(state.morph.points), tuple(state.morph.sounds),
                    state.morph.sample_rate,
                    state.model.preprocess_settings if state.model else None),
            fx.Refresh("status")]


# ---------------------------------------------------------------------------- history


def go_back(state):
    """Alt+Left: the previous point visited with this model."""
    if state.model is None:
        return []
    point = state.history.back(state.model.name)
    if point is None:
        return _say(state, f"no earlier point with {state.model.name}")
    return move_point(state, point, step=False)


def go_forward(state):
    """Alt+Right: the next point (after going back)."""
    if state.model is None:
        return []
    point = state.history.forward(state.model.name)
    if point is None:
        return _say(state, f"no later point with {state.model.name}")
    return move_point(state, point, step=False)


def drag_to(state, point):
    """The pad's click or drag motion: the point moves, the step is where it is let go."""
    effects = move_point(state, point, step=False)
    if effects:
        state.history.drag(state.model.name, state.point)
    return effects


def drag_ended(state, point):
    effects = move_point(state, point, step=False)
    if state.model is not None:
        state.history.release(state.model.name, state.point if effects else None)
    return effects + [fx.Refresh("history"), fx.StoreSettings()]


# ---------------------------------------------------------------------------- nearest sounds


def nearest_rows(found):
    """The nearest panel's rows: (measure, NearSound), the latent plane's first."""
    if found is None:
        return []
    return [("codes", near) for near in found.plane] + [("sound", near) for near in found.features]


def nearest_note(found):
    """What the panel says under its rows: why a measure is missing, how to hear a row."""
    if found is None:
        return "computing the nearest training sounds…"
    notes = [f"latent plane: {found.plane_reason}"] if found.plane_reason else []
    if found.features_reason:
        notes.append(f"sound features: {found.features_reason}")
    notes.append("double-click a row to hear the original")
    return "; ".join(notes)


def on_nearest(state, found):
    if state.model is None or found.name != state.model.name:
        return []
    state.nearest = found
    return [fx.Refresh("nearest")]


def play_nearest(state, selected):
    """A double-click on a nearest row: read the training sound's file, to play it."""
    rows = nearest_rows(state.nearest)
    if not selected or state.model is None:
        return _say(state, "choose a row of the nearest sounds first")
    index = int(selected[0])
    if not 0 <= index < len(rows):
        return []
    near = rows[index][1]
    state.message = f"reading {near.name} (kit {near.kit or '?'})…"
    return [fx.ReadOriginal(state.model.name, near.file, state.model.data_folder),
            fx.Refresh("status")]


def on_original(state, read):
    if read.audio is None:
        return _say(state, f"cannot play the original: {read.reason}")
    state.message = f"playing the original {Path(read.file).name}"
    rate = state.model.sample_rate if state.model else SAMPLE_RATE
    return play_sequence(state, [read.audio], rate, f"the original {Path(read.file).name}") + [
        fx.Refresh("status")]


# ---------------------------------------------------------------------------- kit export

KIT_SUFFIX = ".h2drumkit"


def export_kit(state, selected):
    """Export kit…: the chosen favourites, to a kit file the save dialog names."""
    labels = [str(label) for label in (selected or [])]
    chosen = [f for f in state.favourites if favourite_label(f) in labels]
    if not chosen:
        return _say(state, "choose favourites in the list first (Ctrl- or Shift-click for several)")
    state.kit_sources = tuple(str(f.path) for f in chosen)
    return [fx.AskSaveFile("export-kit")]


def kit_path(path):
    """The kit's path with its suffix (a typed name may lack it)."""
    path = str(path)
    return path if path.lower().endswith(KIT_SUFFIX) else path + KIT_SUFFIX


def start_export(state, path, overwrite=False):
    state.kit_progress = (0, len(state.kit_sources))
    state.message = f"exporting {len(state.kit_sources)} favourites to {Path(path).name}…"
    return [fx.ExportKit(state.kit_sources, path, overwrite), fx.Refresh("kit_progress"),
            fx.Refresh("status")]


def on_kit_file(state, path):
    if not path or not state.kit_sources:
        return []
    return start_export(state, kit_path(path))


def on_kit_exists(state, exists):
    state.kit_progress = None
    state.kit_pending = exists.path
    return [fx.Refresh("kit_progress"),
            fx.AskConfirm("overwrite-kit", f"{Path(exists.path).name} exists already. Replace it?")]


def on_confirm(state, purpose, answer):
    if purpose != "overwrite-kit" or state.kit_pending is None:
        return []
    path, state.kit_pending = state.kit_pending, None
    if not answer:
        return _say(state, f"kit not exported: {Path(path).name} is left as it was")
    return start_export(state, path, overwrite=True)


def on_kit_progress(state, progress):
    state.kit_progress = (progress.done, progress.total)
    state.message = f"exporting the kit: {progress.done} of {progress.total} favourites"
    return [fx.Refresh("kit_progress"), fx.Refresh("status")]


def on_kit_exported(state, exported):
    state.kit_progress = None
    skipped = f"; skipped: {'; '.join(exported.skipped)}" if exported.skipped else ""
    state.message = (f"exported a Hydrogen kit of {exported.instruments} instruments to "
                     f"{exported.path}{skipped}")
    return [fx.Refresh("kit_progress"), fx.Refresh("status")]


# ---------------------------------------------------------------------------- dispatch

KEYS = {
    "space": lambda s: play(s, loop=False),
    "l": toggle_loop, "L": toggle_loop,
    "Escape": stop,
    "s": save, "S": save,
    "Left": lambda s: nudge(s, -1, 0), "Right": lambda s: nudge(s, 1, 0),
    "Up": lambda s: nudge(s, 0, 1), "Down": lambda s: nudge(s, 0, -1),
    "Alt-Left": go_back, "Alt-Right": go_forward,
}

def on_features(state, found):
    state.heatmap_features = tuple(found.names)
    return [fx.Refresh("map_mode")]


def on_figure(state, ready):
    return [fx.Draw(ready.figure.panel, ready.figure)]


def on_job_failed(state, failed):
    """A job failed with a reason meant for the user."""
    what, reason = failed.what, failed.reason
    # reasons about a file usually name it already
    state.message = reason if str(reason).startswith(str(what)) else f"{what}: {reason}"
    return [fx.Refresh("status")]


#: What each worker result does, by its type (gui.events).
WORKER_EVENTS = {
    ev.ZooListed: on_zoo,
    ev.ModelReady: on_model_ready,
    ev.ModelFailed: on_model_failed,
    ev.Decoded: on_decoded,
    ev.HeatmapReady: on_heatmap,
    ev.Auditioned: on_audition,
    ev.Encoded: on_encoded,
    ev.Compared: on_compared,
    ev.Morphed: on_morphed,
    ev.Saved: on_saved,
    ev.FavouritesListed: on_favourites,
    ev.PlayerOpened: on_player,
    ev.DevicesListed: on_devices,
    ev.FeaturesFound: on_features,
    ev.FigureReady: on_figure,
    ev.JobFailed: on_job_failed,
    ev.VariationDecoded: on_variation,
    ev.NearestFound: on_nearest,
    ev.OriginalRead: on_original,
    ev.KitProgress: on_kit_progress,
    ev.KitExported: on_kit_exported,
    ev.KitExists: on_kit_exists,
}


def on_worker(state, record):
    """A worker's result: its handler by the record's type (an unknown type is a bug)."""
    return WORKER_EVENTS[type(record)](state, record)


BUTTONS = {
    k.RANDOM: random_point, k.RESET: reset_point,
    k.PLAY: lambda s: play(s, loop=False), k.LOOP: toggle_loop, k.STOP: stop,
    k.SAVE: save, k.OPEN: open_sample,
    k.SET_A: lambda s: set_morph_end(s, "a"), k.SET_B: lambda s: set_morph_end(s, "b"),
    k.MORPH_PLAY: play_morph, k.MORPH_SAVE: save_morph,
    k.BACK: go_back, k.FORWARD: go_forward,
}


def handle(state, event, values):
    """Turn one window event into state changes and effects.

    Parameters
    ----------
    state : gui.state.AppState
    event : str or tuple
        An element key, ``WORKER`` (its value a record of :mod:`gui.events`),
        ``(KEY, keysym)``, ``(MAP, "click")``, ``(FILE, purpose)`` or ``(PLAYER, "ended")``.
    values : dict or None
        The window's values; a posted event's payload is ``values[event]``.

    Returns
    -------
    effects : list
        Records of :mod:`gui.effects`, in the order to carry them out.
    """
    values = values or {}
    if event in (None, "Exit"):
        return [fx.StoreSettings(), fx.Stop(), fx.Close()]
    if event == k.WORKER:
        return on_worker(state, values[k.WORKER])
    if isinstance(event, tuple):
        head, kind = event[0], event[1]
        payload = values.get(event)
        if head == k.KEY:
            action = KEYS.get(kind)
            return action(state) if action else []
        if head == k.MAP:
            return on_map_click(state, payload)
        if head == k.FILE and kind == "export-kit":
            return on_kit_file(state, payload)
        if head == k.FILE:
            return on_file(state, kind, payload)
        if head == k.CONFIRM:
            return on_confirm(state, kind, payload)
        if head == k.PLAYER and kind == "ended":
            return on_sound_ended(state, payload)
        if head == k.PLAYER and kind == "repeat":
            return on_repetition(state, payload)
        if head == k.PANEL and payload == "output" and state.sound is not None and state.model:
            return [render_output(state)]  # its pictures are pixels: paint one at the new size
        return []
    if event in BUTTONS:
        return BUTTONS[event](state)
    if event == k.MODELS:
        selected = values.get(k.MODELS) or []
        return select_model(state, selected[0]) if selected else []
    if event == k.PAD:
        return drag_to(state, values.get(k.PAD))
    if event == k.PAD_UP:  # the button's release: where the drag ends, one step
        return drag_ended(state, values.get(k.PAD))
    if event == k.GO:
        return typed_point(state, values)
    if event == k.VOLUME:
        return set_volume(state, values.get(k.VOLUME))
    if event == k.MAP_MODE:
        label = str(values.get(k.MAP_MODE, ""))
        return set_map_mode(state, next((m for m in MAP_MODES if label.startswith(m)), label))
    if event == k.DEVICE:
        return choose_device(state, values.get(k.DEVICE))
    if event in (k.REOPEN, k.FAVOURITES):
        return reopen(state, values.get(k.FAVOURITES))
    if event == k.COMPARE:
        return compare(state, values.get(k.COMPARE_LIST))
    if event == k.MORPH:
        return morph(state, values.get(k.STEPS, state.morph_steps))
    if event == k.VARY:
        return set_vary(state, values.get(k.VARY))
    if event == k.SAVE_VARIATIONS:
        return save_variations(state, values.get(k.VARY_COUNT, state.vary_count))
    if event == k.NEAREST_PLAY:
        return play_nearest(state, values.get(k.NEAREST_PLAY) or values.get(k.NEAREST))
    if event == k.EXPORT_KIT:
        return export_kit(state, values.get(k.FAVOURITES))
    return []
