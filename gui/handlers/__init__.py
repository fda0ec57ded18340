"""What each event does: plain functions of the state and an event, returning effects.

``handle(state, event, values)`` changes the state object and returns a list of records
from :mod:`gui.effects` for the loop to carry out. Nothing here touches a window, a thread,
a file or TensorFlow, so every behaviour of the window can be tested without one.

This module is the dispatch: which handler each event goes to, by tables. The handlers live
by what they are about: :mod:`.models`, :mod:`.point`, :mod:`.map`, :mod:`.sound`,
:mod:`.favourites`, :mod:`.sequences` (compare, morph), :mod:`.nearest`, :mod:`.kit`, with
what they share in :mod:`.common`.
"""

from functools import partial
from typing import Any, Callable

from gui import effects as fx
from gui import events as ev
from gui import keys as k
from gui.family import ALL_KEY, FAMILY_KEYS
from gui.handlers.axes import choose_pad_axes, move_slider
from gui.handlers.common import clamp, favourite_label, on_figure, on_job_failed, playing_text, sequence_audio, status_text
from gui.handlers.drag import on_drag
from gui.handlers.family import choose_all, choose_family, choose_hybrid, go_back, go_forward, on_encoded_in_family, set_blend
from gui.handlers.favourites import on_favourites, on_saved, reopen
from gui.handlers.keyboard import step_model, step_vary
from gui.handlers.kit import export_kit, on_confirm, on_kit_exists, on_kit_exported, on_kit_file, on_kit_progress
from gui.handlers.map import follow_plane, map_hint, map_plane, on_audition, on_features, on_heatmap, on_map_click, set_map_mode
from gui.handlers.models import on_model_failed, on_model_ready, on_zoo, select_model
from gui.handlers.nearest import nearest_note, nearest_rows, on_nearest, on_original, play_nearest
from gui.handlers.pattern import (
    after_favourites,
    after_player,
    choose_source,
    follow_current,
    on_lane_sound,
    on_pattern_read,
    set_tempo,
    toggle_pattern,
    toggle_step,
)
from gui.handlers.point import drag_ended, drag_to, nudge, on_decoded, on_file, open_sample, random_point, reset_point, typed_point
from gui.handlers.sequences import compare, morph, on_compared, on_morphed, on_sounding, play_morph, save_morph, set_morph_end
from gui.handlers.sound import (
    choose_device,
    on_devices,
    on_play_started,
    on_player,
    on_sound_ended,
    on_swap_settled,
    on_variation,
    play,
    render_sound,
    save,
    save_variations,
    set_audition,
    set_level,
    set_vary,
    set_volume,
    stop,
    toggle_loop,
)
from gui.state import MAP_MODES, AppState

__all__ = [
    "BUTTONS",
    "KEYS",
    "VALUE_KEYS",
    "TUPLE_EVENTS",
    "VALUE_EVENTS",
    "WORKER_EVENTS",
    "clamp",
    "favourite_label",
    "handle",
    "map_hint",
    "nearest_note",
    "nearest_rows",
    "on_worker",
    "on_zoo",
    "playing_text",
    "sequence_audio",
    "status_text",
]

#: Keyboard shortcuts, by keysym (``(KEY, keysym)`` events).
KEYS: dict[str, Callable[[AppState], list[fx.Effect]]] = {
    "space": lambda s: play(s, loop=False),
    "l": toggle_loop,
    "L": toggle_loop,
    "Escape": stop,
    "s": save,
    "S": save,
    "Left": lambda s: nudge(s, -1, 0),
    "Right": lambda s: nudge(s, 1, 0),
    "Up": lambda s: nudge(s, 0, 1),
    "Down": lambda s: nudge(s, 0, -1),
    "Alt-Left": go_back,
    "Alt-Right": go_forward,
    "bracketleft": lambda s: step_model(s, -1),
    "bracketright": lambda s: step_model(s, 1),
    "minus": lambda s: step_vary(s, -1),
    "equal": lambda s: step_vary(s, 1),
    "plus": lambda s: step_vary(s, 1),
    ALL_KEY: choose_all,  # 0: "All families"
    **{key: partial(choose_family, name=name) for key, name in FAMILY_KEYS.items()},  # 1–7
    # the desktop's own conventions (Ctrl+Tab between tabs is Tk's notebook traversal)
    "Control-o": open_sample,
    "Control-s": save,
    "F1": lambda s: [fx.ShowHelp()],
}

#: Shortcuts that read the window's values, as the button they stand for does.
VALUE_KEYS = {
    "Control-e": lambda s, v: export_kit(s, v.get(k.FAVOURITES)),
}

#: What each worker result does, by its type (gui.events).
WORKER_EVENTS = {
    ev.ZooListed: on_zoo,
    ev.ModelReady: on_model_ready,
    ev.ModelFailed: on_model_failed,
    ev.Decoded: lambda s, r: on_decoded(s, r) + follow_current(s),
    ev.HeatmapReady: on_heatmap,
    ev.Auditioned: on_audition,
    ev.Encoded: lambda s, r: on_encoded_in_family(s, r) + follow_current(s),
    ev.Compared: on_compared,
    ev.Morphed: on_morphed,
    ev.Saved: on_saved,
    ev.FavouritesListed: lambda s, r: on_favourites(s, r) + after_favourites(s),
    ev.PlayerOpened: lambda s, r: on_player(s, r) + after_player(s),
    ev.PlayStarted: on_play_started,
    ev.DevicesListed: on_devices,
    ev.FeaturesFound: on_features,
    ev.FigureReady: on_figure,
    ev.JobFailed: on_job_failed,
    ev.VariationDecoded: on_variation,
    ev.SwapSettled: on_swap_settled,
    ev.NearestFound: on_nearest,
    ev.OriginalRead: on_original,
    ev.KitProgress: on_kit_progress,
    ev.KitExported: on_kit_exported,
    ev.KitExists: on_kit_exists,
    ev.PatternRead: on_pattern_read,
    ev.LaneSoundRead: on_lane_sound,
}


def on_worker(state: AppState, record: Any) -> list[fx.Effect]:
    """A worker's result: its handler by the record's type (an unknown type is a bug)."""
    return WORKER_EVENTS[type(record)](state, record)


#: Buttons whose handler needs nothing but the state.
BUTTONS: dict[str, Callable[[AppState], list]] = {
    k.RANDOM: random_point,
    k.RESET: reset_point,
    k.PLAY: lambda s: play(s, loop=False),
    k.LOOP: toggle_loop,
    k.STOP: stop,
    k.SAVE: save,
    k.OPEN: open_sample,
    k.SET_A: lambda s: set_morph_end(s, "a"),
    k.SET_B: lambda s: set_morph_end(s, "b"),
    k.MORPH_PLAY: play_morph,
    k.MORPH_SAVE: save_morph,
    k.BACK: go_back,
    k.FORWARD: go_forward,
    k.PATTERN_PLAY: toggle_pattern,
    k.FAMILY_ALL: choose_all,
    k.HELP: lambda s: [fx.ShowHelp()],
    **{key: partial(choose_family, name=name) for name, key in k.FAMILY_BUTTONS.items()},
}


def _model_chosen(state, values):
    selected = values.get(k.MODELS) or []
    return select_model(state, selected[0]) if selected else []


def _map_mode_chosen(state, values):
    """The map mode combo: its label begins with the mode's name."""
    label = str(values.get(k.MAP_MODE, ""))
    return set_map_mode(state, next((m for m in MAP_MODES if label.startswith(m)), label))


#: Element events whose handler reads the window's values (a field, a list, the slider).
VALUE_EVENTS = {
    k.MODELS: _model_chosen,
    k.PAD: lambda s, v: drag_to(s, v.get(k.PAD)),
    k.PAD_UP: lambda s, v: drag_ended(s, v.get(k.PAD)),  # the button's release: one step
    k.GO: typed_point,
    k.VOLUME: lambda s, v: set_volume(s, v.get(k.VOLUME)),
    k.MAP_MODE: _map_mode_chosen,
    k.DEVICE: lambda s, v: choose_device(s, v.get(k.DEVICE)),
    k.REOPEN: lambda s, v: reopen(s, v.get(k.FAVOURITES)),
    k.FAVOURITES: lambda s, v: reopen(s, v.get(k.FAVOURITES)),
    k.COMPARE: lambda s, v: compare(s, v.get(k.COMPARE_LIST)),
    k.MORPH: lambda s, v: morph(s, v.get(k.STEPS, s.morph.steps)),
    k.VARY: lambda s, v: set_vary(s, v.get(k.VARY)),
    k.SAVE_VARIATIONS: lambda s, v: save_variations(s, v.get(k.VARY_COUNT, s.vary.count)),
    k.NEAREST_PLAY: lambda s, v: play_nearest(s, v.get(k.NEAREST_PLAY) or v.get(k.NEAREST)),
    k.EXPORT_KIT: lambda s, v: export_kit(s, v.get(k.FAVOURITES)),
    k.LEVEL: lambda s, v: set_level(s, v.get(k.LEVEL)),
    k.AUDITION: lambda s, v: set_audition(s, v.get(k.AUDITION)),
    k.PATTERN_TEMPO: lambda s, v: set_tempo(s, v.get(k.PATTERN_TEMPO)),
    k.HYBRID: lambda s, v: choose_hybrid(s, v.get(k.HYBRID)),
    k.BLEND: lambda s, v: set_blend(s, v.get(k.BLEND)),
    k.PAD_X_AXIS: lambda s, v: choose_pad_axes(s, v.get(k.PAD_X_AXIS), v.get(k.PAD_Y_AXIS)),
    k.PAD_Y_AXIS: lambda s, v: choose_pad_axes(s, v.get(k.PAD_X_AXIS), v.get(k.PAD_Y_AXIS)),
}


def _key(state, keysym, values):
    if keysym in VALUE_KEYS:
        return VALUE_KEYS[keysym](state, values)
    action = KEYS.get(keysym)
    return action(state) if action else []


def _file_chosen(state, purpose, path):
    return on_kit_file(state, path) if purpose == "export-kit" else on_file(state, purpose, path)


#: What the player's own events do: a sound played once has ended, a loop repeats.
PLAYER_EVENTS = {"ended": on_sound_ended, "sounding": on_sounding}


def _player(state, kind, token):
    action = PLAYER_EVENTS.get(kind)
    return action(state, token) if action else []


def _panel_resized(state, _kind, panel):
    if panel == "output" and state.sound.audio is not None and state.model:
        return [render_sound(state)]  # its pictures are pixels: paint one at the new size
    return []


#: Tuple events ``(head, kind)`` by their head: handler(state, kind, payload).
TUPLE_EVENTS = {
    k.KEY: _key,
    k.MAP: lambda s, _kind, payload: on_map_click(s, payload),
    k.FILE: _file_chosen,
    k.CONFIRM: on_confirm,
    k.PLAYER: _player,
    k.PANEL: _panel_resized,
    k.DRAG: on_drag,
    k.STEP: lambda s, index, _payload: toggle_step(s, index),
    k.LANE_SOUND: choose_source,
    k.AXIS: move_slider,  # a wide latent's slider: (AXIS, slider), its value
}


def handle(state: AppState, event: Any, values: dict | None) -> list[fx.Effect]:
    """Turn one window event into state changes and effects (records of :mod:`gui.effects`,
    in the order to carry them out).

    ``event`` is an element key, ``WORKER`` (its value a record of :mod:`gui.events`) or a
    tuple ``(head, kind)`` such as ``(KEY, keysym)``; ``values`` are the window's values (a
    posted event's payload is ``values[event]``), or None.
    """
    before = map_plane(state)
    effects = _dispatch(state, event, values or {})
    return effects + follow_plane(state, before, effects)


def _dispatch(state: AppState, event: Any, values: dict) -> list[fx.Effect]:
    if event in (None, "Exit"):
        return [fx.StoreSettings(), fx.Stop(), fx.Close()]
    if event == k.WORKER:
        return on_worker(state, values[k.WORKER])
    if isinstance(event, tuple) and event[0] == k.KEY:
        return _key(state, event[1], values)  # a shortcut that stands for a button reads what it would
    if isinstance(event, tuple):
        head = TUPLE_EVENTS.get(event[0])
        return head(state, event[1], values.get(event)) if head else []
    if event in BUTTONS:
        return BUTTONS[event](state)
    action = VALUE_EVENTS.get(event)
    return action(state, values) if action else []
