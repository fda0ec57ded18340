"""Showing the state in the window's elements: one small view per part of the state.

``WindowView.refresh(part)`` is what a ``gui.effects.Refresh(part)`` does. Every view only
reads the state and writes elements; texts that change are cut to their element's width
(:func:`gui.status_line.shorten`), so that none ever widens the window.
"""

import sys
import tkinter.font
from pathlib import Path

import PySimpleGUI as sg

from gui import keys as k
from gui.axes_view import show_axes
from gui.effects import Part
from gui.family import FAMILY_KEYS, NO_HYBRID, is_conditioned, no_family_reason, refusal, takes_family, weights_label
from gui.features import MADE
from gui.glossary import map_tip
from gui.handlers.common import NO_SOUND_DEVICE, favourite_label, playing_state, playing_text, playing_tip, status_text
from gui.handlers.map import map_hint
from gui.handlers.nearest import distance_text, nearest_note, nearest_rows
from gui.layout import DEVICE_CHARS, MAP_MODE_LABELS
from gui.model_card import card_table
from gui.state import UNAVAILABLE
from gui.status_line import PLAYING_COLOURS, shorten, shorten_head
from gui.wide import pad_spot

#: The Output box when there is no sound output (the status line says why).
NO_OUTPUT = "none (no sound output)"


class WindowView:
    """The views of one window.

    Parameters
    ----------
    window : PySimpleGUI.Window
    state : gui.state.AppState
    pad : gui.pad.PadView
    panels : dict of str -> gui.canvas.FigurePanel
    """

    def __init__(self, window, state, pad, panels):
        self.window, self.state, self.pad, self.panels = window, state, pad, panels
        self._status_tooltip = None
        self._selected = None  # the model the list was last told to select
        self._views = self._table()

    def _table(self):
        """What shows each part of the state (every gui.effects.Part has one)."""
        state, window = self.state, self.window
        return {
            Part.STATUS: lambda: self._show_status(status_text(state)),
            Part.PLAYING: self._show_playing,
            Part.MODELS: self._refresh_models,
            Part.PAD: lambda: self.pad.draw(state),
            Part.MARKER: self._show_marker,
            Part.FIELDS: self._show_fields,
            Part.CARD: lambda: window[k.CARD].update(card_table(state.model)),
            Part.FAVOURITES: self._show_favourites,
            Part.COMPARE_LIST: lambda: window[k.COMPARE_LIST].update(
                values=[e.name for e in state.entries.values() if e.trained and e.state != UNAVAILABLE]
            ),
            Part.CONTROLS: self._show_controls,
            Part.MORPH_FIELDS: self._show_morph_ends,
            Part.MAP_MODE: self._show_map_mode,
            Part.DEVICES: self._show_devices,
            Part.HISTORY: self._show_history,
            Part.NEAREST: self._show_nearest,
            Part.KIT_PROGRESS: self._show_kit_progress,
            Part.PATTERN: self._show_pattern,
            Part.FAMILY: self._show_family,
            Part.AXES: lambda: show_axes(window, state),
        }

    def refresh(self, part):
        """Show one part of the state in its elements."""
        self._views[part]()

    def _show_controls(self):
        state, window = self.state, self.window
        window[k.LOOP].update(
            text=f"Loop L: {'on' if state.sound.looping else 'off'}",
            button_color=("white", "#2e7d32") if state.sound.looping else sg.theme_button_color(),
        )
        window[k.AUDITION].update(value=state.sound.audition)
        window[k.LEVEL].update(value=state.sound.level)
        if float(window[k.VARY].Widget.get()) != state.vary.amount:  # the keys moved it
            window[k.VARY].update(value=state.vary.amount)

    def _show_marker(self):
        self.pad.draw_marker(self.state)
        self.panels["map"].move_marker(self.state.point)

    def _show_fields(self):
        self.window[k.X].update(f"{self.state.point[0]:.4f}")
        self.window[k.Y].update(f"{self.state.point[1]:.4f}")

    def _show_favourites(self):
        state = self.state
        self.window[k.FAVOURITES].update(values=[favourite_label(f) for f in state.favourites])
        self._show_folder(state.favourites_dir)

    def _show_folder(self, folder):
        """The favourites folder under the list: its end kept when cut ("in …/my/favourites"),
        the whole path in the tooltip."""
        element = self.window[k.FAVOURITES_DIR]
        widget = element.Widget
        width = widget.winfo_width() if widget.winfo_ismapped() else widget.winfo_reqwidth()
        measure = tkinter.font.Font(font=widget.cget("font")).measure
        element.update(shorten_head(f"in {folder}", width - 8, measure, keep="in "))
        self._tooltip(k.FAVOURITES_DIR, f"the favourites folder: {folder}")

    def _show_morph_ends(self):
        for key, spot in ((k.MORPH_A, self.state.morph.a), (k.MORPH_B, self.state.morph.b)):
            spot = pad_spot(self.state.model, spot)  # a wide latent's whole vector: its place on the pad
            self.window[key].update("not set" if spot is None else f"({spot[0]:.3f}, {spot[1]:.3f})")

    def _show_map_mode(self):
        state = self.state
        labels = [MAP_MODE_LABELS[m] for m in ("codes", MADE, *state.map.features)]
        self.window[k.MAP_MODE].update(value=MAP_MODE_LABELS[state.map.mode], values=labels)
        self.window[k.MAP_HINT].update(map_hint(state))
        self.panels["map"].set_tooltip(map_tip(state.map.mode))

    def _show_history(self):
        state = self.state
        history = state.history.of(state.model.name) if state.model is not None else None
        self.window[k.BACK].update(disabled=history is None or not history.can_go_back)
        self.window[k.FORWARD].update(disabled=history is None or not history.can_go_forward)

    def _show_nearest(self):
        found = self.state.nearest
        rows = [
            [measure, near.name, near.kit or "?", near.family, distance_text(measure, near.distance)]
            for measure, near in nearest_rows(found)
        ]
        self.window[k.NEAREST].update(values=rows)
        self.window[k.NEAREST_NOTE].update(nearest_note(found))  # whole: it wraps (GuiApp.open)

    def _show_family(self):
        """The family selector: on for a model that takes a family (the chosen families lit,
        "All families" for the plain pad of a model with family pads, the families it has no
        training sound of off), else off, its tooltips saying why (the model's reason)."""
        state, window = self.state, self.window
        on = takes_family(state)
        why = None if on else no_family_reason(state)
        chosen = state.family.weights() if on else {}
        playable = tuple(state.model.families) if on else ()
        numbers = {name: number for number, name in FAMILY_KEYS.items()}
        green, pale = ("white", "#2e7d32"), ("white", "#81c784")
        for name, key in k.FAMILY_BUTTONS.items():
            lit = green if name == state.family.first and on else (pale if name in chosen else sg.theme_button_color())
            window[key].update(disabled=not on or name not in playable, button_color=lit)
            self._tooltip(key, why or (f"{name} (key {numbers[name]})" if name in playable else refusal(state, name) or name))
        plain = on and not is_conditioned(state)  # "All families": the plain pad
        window[k.FAMILY_ALL].update(
            disabled=not plain, button_color=green if plain and state.family.text() is None else sg.theme_button_color()
        )
        self._tooltip(
            k.FAMILY_ALL, why or ("All families: the plain pad (key 0)" if plain else refusal(state, None) or "All families")
        )
        mixes = on and state.family.first is not None
        window[k.HYBRID].update(value=state.family.second or NO_HYBRID, disabled=not mixes)
        window[k.BLEND].update(value=state.family.blend, disabled=not mixes)
        window[k.FAMILY_MIX].update(weights_label(state.family) if on else "no family")
        for key, what in (
            (k.HYBRID, "a second family to mix in"),
            (k.BLEND, "how much of the second family: 0 to 1"),
            (k.FAMILY_MIX, "the mix played"),
        ):
            self._tooltip(key, why or what)

    def _tooltip(self, key, text):
        element = self.window[key]
        if getattr(element.TooltipObject, "text", None) != text:
            element.set_tooltip(text)

    def _show_kit_progress(self):
        progress = self.state.kit.progress
        done, total = progress if progress is not None else (0, 1)
        self.window[k.KIT_PROGRESS].update(current_count=done, max=max(total, 1))

    def _show_pattern(self):
        """The Beat tab: steps lit, the tempo, each lane's sound, Play or Stop."""
        from audio.pattern import CURRENT, STEPS
        from gui.handlers.pattern import CURRENT_LABEL, pattern_note
        from gui.layout import step_colour

        pattern = self.state.pattern
        for lane, row in enumerate(pattern.pattern.steps):
            for step, on in enumerate(row):
                self.window[(k.STEP, lane * STEPS + step)].update(background_color=step_colour(step, on)[1])
        self.window[k.PATTERN_TEMPO].update(value=pattern.pattern.tempo)
        names = [CURRENT_LABEL] + [Path(str(f.path)).name for f in self.state.favourites if getattr(f, "recall", True) is not None]
        for lane, source in enumerate(pattern.pattern.sources):
            shown = CURRENT_LABEL if source == CURRENT else source
            self.window[(k.LANE_SOUND, lane)].update(value=shown, values=names if shown in names else [*names, shown])
        self.window[k.PATTERN_PLAY].update(text="Stop beat" if pattern.playing else "Play beat")
        self.window[k.PATTERN_NOTE].update(self._fitted(k.PATTERN_NOTE, pattern_note(self.state)))

    def _show_devices(self):
        state = self.state
        choices = ["default"] + [f"{index}: {name}" for index, name in state.player.devices]
        current = next(
            (c for c in choices if state.player.device is not None and c.split(":", 1)[0] == str(state.player.device)), "default"
        )
        if current == "default" and state.player.text.startswith(NO_SOUND_DEVICE):
            current = NO_OUTPUT  # as the status line says: the default is no output at all
        # a width of its own: sized to the choices, "default" alone cut "none (no sound output)"
        self.window[k.DEVICE].update(value=current, values=choices, size=(DEVICE_CHARS, min(len(choices), 10)))

    def _fitted(self, key, text):
        """``text`` cut with "…" to the width of the element ``key``."""
        widget = self.window[key].Widget
        width = widget.winfo_width() if widget.winfo_ismapped() else widget.winfo_reqwidth()
        return shorten(text, width - 12, tkinter.font.Font(font=widget.cget("font")).measure)

    def _show_playing(self):
        state = self.state
        text = playing_text(state)
        element = self.window[k.PLAYING]
        shown = self._fitted(k.PLAYING, text)
        element.update(shown, text_color=PLAYING_COLOURS[playing_state(state)])
        element.Widget.configure(anchor="w")
        self._tooltip(k.PLAYING, playing_tip(state, shown))

    def _show_status(self, text):
        """The status line, cut with "…" to its width; the whole text in its tooltip."""
        element = self.window[k.STATUS]
        shown = self._fitted(k.STATUS, text)
        element.update(shown)
        tooltip = text if shown != text else "status: sound device, timings, messages"
        if tooltip != self._status_tooltip:
            self._status_tooltip = tooltip
            element.set_tooltip(tooltip)
            if shown != text:
                print(f"status: {text}", file=sys.stderr)  # the log keeps the whole message

    def _refresh_models(self):
        tree = self.window[k.MODELS]
        widget = tree.Widget
        widget.tag_configure("unavailable", foreground="#9a9a9a")
        widget.tag_configure("ready", foreground="#1b5e20")
        widget.tag_configure("loading", foreground="#b26a00")
        for entry in self.state.entries.values():
            if entry.name not in tree.KeyToID:
                continue
            tree.update(key=entry.name, value=[entry.label])
            widget.item(tree.KeyToID[entry.name], tags=(entry.state,))
        why = self.state.why_model
        if why and getattr(tree.TooltipObject, "text", None) != why:
            tree.set_tooltip(why)  # why the window opened on this model, for later reading
        wanted = self.state.wanted
        # select only a model the list does not show yet (at start, a reopened favourite's,
        # one that failed): a background model's refresh must not undo a click just made
        if wanted != self._selected and wanted in tree.KeyToID:
            self._selected = wanted
            if widget.selection() != (tree.KeyToID[wanted],):
                widget.selection_set(tree.KeyToID[wanted])
                widget.see(tree.KeyToID[wanted])
        self._keep_highlight_on_a_usable_model(tree)

    def _keep_highlight_on_a_usable_model(self, tree):
        """A click on an unavailable row loads nothing: the highlight goes back to the model
        that is loaded (or being loaded), so the list never shows one model and plays another."""
        entries, widget = self.state.entries, tree.Widget
        chosen = [tree.IdToKey.get(iid) for iid in widget.selection()]
        if not any(name in entries and entries[name].state == UNAVAILABLE for name in chosen):
            return
        loaded = self.state.wanted or (self.state.model.name if self.state.model else None)
        if loaded in tree.KeyToID:
            widget.selection_set(tree.KeyToID[loaded])
        else:
            widget.selection_remove(widget.selection())
