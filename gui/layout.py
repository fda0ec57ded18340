"""The window's layout: functions that return PySimpleGUI layout lists, nothing else.

Sizes are chosen so that the whole window fits a 1280x800 screen with nothing overlapping;
the columns and canvases expand when the window is made larger.
"""

import PySimpleGUI as sg

from audio.level import DEFAULT_LEVEL, LEVELS
from constants import DRUM_FAMILIES
from gui import features
from gui import keys as k
from gui.handlers.common import PLAYING_TIP
from gui.state import VARY_MAX, VARY_STEP
from gui.wide import MAX_AXIS_SLIDERS
from models.variation import NEW_NOISE_AMOUNT, VARIATION_SPREAD

TITLE = "ML Sample Generator"
#: The pad's side in pixels at the window's smallest (the whole window then fits a 1280x800
#: screen with a title bar and a panel); it grows with the window (gui.sizing), to PAD_MAX
PAD_PIXELS = 270
PAD_MAX = 720
MAP_SIZE = (500, 330)
PANEL_SIZE = (500, 260)
#: The Output box's width in characters, whatever the choices (gui.view keeps it when they change).
DEVICE_CHARS = 28
HEADING = ("Helvetica", 10, "bold")
STATUS_CHARS = 60  # the status line's own width; it stretches with the window
HINT_CHARS = 23  # the map's hint
PLAYING_CHARS = 44  # the sound's state line
#: The Vary slider's unit and what it does, the same for every model (models.variation)
VARY_TIP = (
    f"how far each Play or loop repetition moves from the point: 1 = {VARIATION_SPREAD:.0%} of the range "
    f"(a standard deviation), 2 twice that; a synth model (ddsp_vae) also draws new noise from "
    f"{NEW_NOISE_AMOUNT:g} up; 0: off (- and = step it)"
)
FIELD_WHITE = "white"
COMPARE_NOTE = "raw x, y mean different\nthings in different\nlatent spaces"
NEAREST_TIP = (
    "the training sounds nearest the point: by codes, the distance on the pad (in its x, y units);"
    " by sound, the distance between sound features (in standard deviations of the training"
    " sounds' features); double-click a row to hear it"
)
MODELS_TOOLTIP = "choose a model ([ and ] step through them); an unavailable one says why here"
MAP_MODE_LABELS = {
    "codes": "codes: training samples by family",
    features.MADE: "made here: the family heard",
    features.BRIGHTNESS: "brightness heat-map",
    features.DECAY: "decay-time heat-map",
    features.LOUDNESS: "loudness heat-map",
    features.DISCONTINUITY: "discontinuity heat-map (local)",
}


def model_tree_data(entries):
    """The model list as a TreeData: groups (and dense sizes) as parents, models as leaves.

    Parameters
    ----------
    entries : iterable of gui.state.ModelEntry, in display order
    """
    data = sg.TreeData()
    made = set()
    for entry in entries:
        parent = ""
        for depth, label in enumerate([entry.group or "Models", entry.subgroup]):
            if not label:
                continue
            node = f"group:{entry.group}" + (f"/{label}" if depth else "")
            if node not in made:
                data.insert(parent, node, label, values=[""])
                made.add(node)
            parent = node
        data.insert(parent, entry.name, entry.name, values=[entry.label])
    return data


#: The model list's rows: the shipped zoo's 15 models and 6 groups all show; imported models
#: beyond that scroll (the window must still fit 1280x800)
MODEL_ROWS = (8, 22)


def model_rows(entries):
    """How many rows the model list shows: one per model and group, within ``MODEL_ROWS``."""
    rows = len(model_tree_data(entries).tree_dict) - 1  # less the invisible root
    return min(max(rows, MODEL_ROWS[0]), MODEL_ROWS[1])


def models_column(entries):
    return [
        [sg.Text("Models", font=HEADING)],
        # all the models, no empty rows: a taller window gives the favourites more rows instead
        [
            sg.Tree(
                model_tree_data(entries),
                headings=["state"],
                key=k.MODELS,
                col0_heading="model",
                col0_width=19,
                col_widths=[13],
                auto_size_columns=False,
                num_rows=model_rows(entries),
                enable_events=True,
                show_expanded=True,
                select_mode=sg.TABLE_SELECT_MODE_BROWSE,
                expand_x=True,
                tooltip=MODELS_TOOLTIP,
            )
        ],
        [sg.Text("Favourites", font=HEADING)],
        [
            sg.Listbox(
                [],
                key=k.FAVOURITES,
                size=(34, 5),
                enable_events=False,
                bind_return_key=True,
                expand_x=True,
                expand_y=True,
                select_mode=sg.LISTBOX_SELECT_MODE_EXTENDED,
                tooltip="double-click or Reopen: back to the model and point of a saved sound; Ctrl- or Shift-click several for a kit",
            )
        ],
        [
            sg.Button("Reopen", key=k.REOPEN, tooltip="back to the chosen favourite's model and point (Enter in the list)"),
            sg.Button("Export kit…", key=k.EXPORT_KIT, tooltip="the chosen favourites as a Hydrogen kit (.h2drumkit) (Ctrl+E)"),
            sg.ProgressBar(1, orientation="h", size=(10, 10), key=k.KIT_PROGRESS),
        ],
        # the folder's end is kept when it is cut (gui.view); the whole path is in its tooltip
        [sg.Text("", key=k.FAVOURITES_DIR, size=(34, 1), font=("Helvetica", 8), expand_x=True)],
    ]


# A layout reads row by row: one visual row of elements a line, not one element a line.
# fmt: off
def pad_column():
    sound = [
        [sg.Button("Play ␣", key=k.PLAY, tooltip="play (space)"),
         sg.Button("Loop L: off", key=k.LOOP, size=(10, 1), tooltip="loop on/off (L)"),
         sg.Button("Stop Esc", key=k.STOP, tooltip="stop (Esc)"),
         sg.Button("Save S", key=k.SAVE, tooltip="save into the favourites (S or Ctrl+S)")],
        [sg.Text("■ stopped", key=k.PLAYING, size=(PLAYING_CHARS, 1), justification="left",
                 font=("Helvetica", 9, "bold"), expand_x=True,  # as wide as the panel
                 tooltip=PLAYING_TIP)],
        [sg.Text("Vary ×3%", tooltip=VARY_TIP),
         sg.Slider((0, VARY_MAX), 0, resolution=VARY_STEP, orientation="h", key=k.VARY,
                   enable_events=True, size=(8, 12), tooltip=VARY_TIP),
         sg.Button("Save with variations", key=k.SAVE_VARIATIONS,
                   tooltip="save the sound and variations of it, each recallable"),
         sg.Spin(list(range(2, 17)), initial_value=4, key=k.VARY_COUNT, size=(2, 1),
                 readonly=True, tooltip="how many files Save with variations writes")],
        [sg.Text("Volume"), sg.Slider((0, 100), 80, orientation="h", key=k.VOLUME,
                                      enable_events=True, size=(20, 12), disable_number_display=True)],
        [sg.Text("Output"), sg.Combo(["default"], default_value="default", key=k.DEVICE,
                                     readonly=True, enable_events=True, size=(DEVICE_CHARS, 1))],
        [sg.Checkbox("Audition on click", default=True, key=k.AUDITION, enable_events=True,
                     tooltip="a click or drag on the pad plays each point it reaches"),
         sg.Text("Level"), sg.Combo(list(LEVELS), default_value=DEFAULT_LEVEL, key=k.LEVEL,
                                    readonly=True, enable_events=True, size=(10, 1),
                                    tooltip="as the model makes it, or normalised to one loudness:"
                                            " for playback, saves and kits")],
        # a drag source (see gui.drag_and_drop): press here and drag to a DAW
        [sg.Text("⇲ drag this sound out as a WAV", key=k.DRAG_OUT, relief=sg.RELIEF_RAISED,
                 font=("Helvetica", 8), pad=(4, (2, 4)),
                 tooltip="drag onto a DAW track or a folder; the favourites drag out too")],
    ]
    return [
        [sg.Text("Latent space", font=HEADING),
         sg.Text("click or drag; arrow keys nudge", font=("Helvetica", 8))],
        [sg.Graph((PAD_PIXELS, PAD_PIXELS), (-1, -1), (1, 1), key=k.PAD, enable_events=True,
                  drag_submits=True, background_color="white", motion_events=False,
                  float_values=True)],  # its tooltip: gui.tooltip (GuiApp.open)
        [sg.pin(sg.Column(axes_rows(), key=k.AXES_PANEL, visible=False, pad=(0, 0)))],
        # hidden for a wide latent (gui.axes_view): an imported model has no families, and
        # its sliders take the room
        [sg.pin(sg.Column(family_rows(), key=k.FAMILY_PANEL, pad=(0, 0)))],
        # white, as a field one types into looks (the theme's grey-blue read as disabled)
        [sg.Text("X"), sg.Input("0", key=k.X, size=(9, 1), background_color=FIELD_WHITE),
         sg.Text("Y"), sg.Input("0", key=k.Y, size=(9, 1), background_color=FIELD_WHITE),
         sg.Button("Go", key=k.GO, bind_return_key=True)],
        [sg.Button("Random", key=k.RANDOM, tooltip="a random point in the range (Tab to it, then space)"),
         sg.Button("Reset", key=k.RESET, tooltip="back to the centre of the data"),
         sg.Button("Set A", key=k.SET_A, tooltip="the point is the morph's start (Morph tab)"),
         sg.Button("Set B", key=k.SET_B, tooltip="the point is the morph's end (Morph tab)"),
         sg.Button("◀", key=k.BACK, tooltip="back to the previous point (Alt+Left)"),
         sg.Button("▶", key=k.FORWARD, tooltip="forward again (Alt+Right)")],
        [sg.Frame("Sound", sound, expand_x=True)],
        [sg.Button("Open a sample…", key=k.OPEN,
                   tooltip="encode a sound file of yours with this model and go to its point (Ctrl+O)"),
         # a drop target (see gui.drag_and_drop), as the pad is
         sg.Text("or drop a sound file here", key=k.DROP, size=(24, 2),
                 relief=sg.RELIEF_GROOVE, justification="center", font=("Helvetica", 8))],
    ]
# fmt: on


STEP_OFF, STEP_ON = ("black", "#e0e0e0"), ("white", "#c62828")
STEP_BEAT = ("black", "#bdbdbd")  # an unset step on a beat (1, 5, 9, 13): easier to count


def step_colour(step, on):
    """A step button's colours: on, or off (darker on the beats)."""
    if on:
        return STEP_ON
    return STEP_BEAT if step % 4 == 0 else STEP_OFF


# A layout reads row by row: one visual row of elements a line, not one element a line.
# fmt: off
def beat_tab():
    """The Beat tab: tempo and play, a row of 16 steps per lane, and what each lane plays."""
    from audio.pattern import DEFAULT_TEMPO, LANES, MAX_TEMPO, MIN_TEMPO, STEPS
    from gui.handlers.pattern import CURRENT_LABEL

    small = ("Helvetica", 8)
    rows = [[sg.Text("Tempo"),
             sg.Spin(list(range(MIN_TEMPO, MAX_TEMPO + 1)), initial_value=DEFAULT_TEMPO,
                     key=k.PATTERN_TEMPO, size=(4, 1), readonly=True, enable_events=True,
                     tooltip=f"{MIN_TEMPO} to {MAX_TEMPO} BPM: the arrows or the mouse wheel"),
             sg.Text("BPM"),
             sg.Button("Play beat", key=k.PATTERN_PLAY, size=(9, 1),
                       tooltip="loop the steps below; each lane plays its sound"),
             sg.Text("", key=k.PATTERN_NOTE, size=(34, 1), font=small)]]
    for lane, name in enumerate(LANES):
        rows.append([sg.Text(name, size=(5, 1), font=small)]
                    # a Text, not a Button: a Tk button's own padding would make the row
                    # wider than the tab
                    + [sg.Text("", key=(k.STEP, lane * STEPS + step), size=(2, 1), font=small,
                               enable_events=True, relief=sg.RELIEF_RAISED, border_width=1,
                               background_color=step_colour(step, False)[1],
                               pad=((5 if step % 4 == 0 else 1, 1), 2))
                       for step in range(STEPS)])
    combos = [[sg.Text(name, size=(5, 1), font=small),
               sg.Combo([CURRENT_LABEL], default_value=CURRENT_LABEL, key=(k.LANE_SOUND, lane),
                        readonly=True, enable_events=True, size=(24, 1), font=small, auto_size_text=False,
                        tooltip=f"what the {name} lane plays: the point's sound, or a favourite")]
              for lane, name in enumerate(LANES)]
    rows.append([sg.Column([combos[0], combos[2]], pad=0), sg.Column([combos[1], combos[3]], pad=0)])
    rows.append([sg.Text("The beat is kept beside the favourites and goes with Export kit… "
                         "as a Hydrogen song.", font=small)])
    return rows
# fmt: on


#: The family buttons' labels (the key that chooses each comes first).
FAMILY_LABELS = {"percussion": "perc"}
SMALL = ("Helvetica", 8)


AXIS_TIP = "one axis of the latent the pad does not show: a move plays the sound there, as a click on the pad does"


def axes_rows():
    """A wide latent's panel (gui.wide; gui.axes_view shows it for such a model only): which
    two axes the pad shows, and a slider per other axis, two to a row."""

    def combo(key):
        return sg.Combo(
            [],
            key=key,
            readonly=True,
            enable_events=True,
            size=(7, 1),
            font=SMALL,
            tooltip="the axis the pad shows across (X) or up (Y); the others are the sliders",
        )

    rows = [
        [
            sg.Text("pad X", font=SMALL),
            combo(k.PAD_X_AXIS),
            sg.Text("Y", font=SMALL),
            combo(k.PAD_Y_AXIS),
            sg.Text("", key=k.AXES_NOTE, size=(26, 1), font=SMALL),
        ]
    ]
    for first in range(0, MAX_AXIS_SLIDERS, 2):
        row = []
        for slider in (first, first + 1):
            row += [
                sg.pin(sg.Text("", key=(k.AXIS_LABEL, slider), size=(11, 1), font=SMALL, pad=((4, 0), 0))),
                sg.pin(
                    sg.Slider(
                        (-1, 1),
                        0,
                        resolution=0.01,
                        orientation="h",
                        key=(k.AXIS, slider),
                        enable_events=True,
                        size=(9, 10),
                        font=SMALL,
                        disable_number_display=True,  # the label says the value: one line a row
                        pad=(0, 1),
                        tooltip=AXIS_TIP,
                    )
                ),
            ]
        rows.append(row)
    return rows


def family_rows():
    """The family selector under the pad: a button per family (keys 1–7), then "All families"
    (key 0: the plain pad) and the hybrid: a second family and the slider that mixes it in
    (gui.family). The view enables it for a model that takes a family, and says why in its
    tooltips otherwise."""
    buttons = [
        sg.Button(f"{number} {FAMILY_LABELS.get(name, name)}", key=k.FAMILY_BUTTONS[name], font=SMALL, pad=(1, 1), disabled=True)
        for number, name in enumerate(DRUM_FAMILIES, start=1)
    ]
    hybrid = [
        sg.Button("0 all", key=k.FAMILY_ALL, font=SMALL, pad=(1, 1), disabled=True),
        sg.Text("hybrid", font=SMALL, pad=((2, 1), 1)),
        sg.Combo(
            ["none", *DRUM_FAMILIES],
            default_value="none",
            key=k.HYBRID,
            readonly=True,
            enable_events=True,
            size=(9, 1),
            font=SMALL,
            disabled=True,
        ),
        sg.Slider(
            (0, 1),
            0,
            resolution=0.05,
            orientation="h",
            key=k.BLEND,
            enable_events=True,
            size=(10, 10),
            disable_number_display=True,
            disabled=True,
        ),
        sg.Text("", key=k.FAMILY_MIX, size=(18, 1), font=SMALL),
    ]
    return [buttons, hybrid]


# A layout reads row by row: one visual row of elements a line, not one element a line.
# fmt: off
def tabs():
    sound = [[sg.Canvas(size=PANEL_SIZE, key=k.OUTPUT_CANVAS, expand_x=True, expand_y=True)]]
    card = [[sg.Multiline("", key=k.CARD, disabled=True, expand_x=True, expand_y=True,
                          font=("Courier", 9), size=(60, 14))]]
    compare = [
        [sg.Column([[sg.Text("Choose up to four:", font=("Helvetica", 8))],
                    [sg.Listbox([], key=k.COMPARE_LIST, size=(20, 10),
                                select_mode=sg.LISTBOX_SELECT_MODE_MULTIPLE)],
                    [sg.Button("Compare at this point", key=k.COMPARE,
                               tooltip="play the same point through each model in turn")],
                    # the same (x, y) is a place in each model's own plane, not one sound
                    [sg.Text(COMPARE_NOTE, font=("Helvetica", 8))]],
                   vertical_alignment="top", pad=0),
         sg.Canvas(size=(PANEL_SIZE[0] - 170, PANEL_SIZE[1]), key=k.COMPARE_CANVAS,
                   expand_x=True, expand_y=True)],
    ]
    morph = [
        [sg.Text("A"), sg.Text("not set", key=k.MORPH_A, size=(15, 1)),
         sg.Text("B"), sg.Text("not set", key=k.MORPH_B, size=(15, 1)),
         sg.Text("steps"), sg.Spin(list(range(2, 33)), initial_value=8, key=k.STEPS, size=(3, 1),
                                 readonly=True, tooltip="2 to 32: the arrows or the mouse wheel")],
        [sg.Button("Render morph", key=k.MORPH), sg.Button("Play morph", key=k.MORPH_PLAY),
         sg.Button("Save morph", key=k.MORPH_SAVE)],
        [sg.Text("A and B: Set A / Set B under the pad", font=("Helvetica", 8))],
        [sg.Canvas(size=(PANEL_SIZE[0], PANEL_SIZE[1] - 75), key=k.MORPH_CANVAS, expand_x=True,
                   expand_y=True)],
    ]
    nearest = [
        [sg.Table([], headings=["by", "name", "kit", "family", "distance"], key=k.NEAREST,
                  col_widths=[6, 22, 14, 8, 11], auto_size_columns=False, num_rows=8,
                  justification="left", expand_x=True, expand_y=True,
                  select_mode=sg.TABLE_SELECT_MODE_BROWSE, tooltip=NEAREST_TIP)],
        # wraps to the tab's width (gui.view), so the whole note is read
        [sg.Text("", key=k.NEAREST_NOTE, size=(70, 4), font=("Helvetica", 8), expand_x=True)],
    ]
    return [[sg.TabGroup([[sg.Tab("Sound", sound), sg.Tab("Model card", card),
                           sg.Tab("Compare", compare), sg.Tab("Morph", morph),
                           sg.Tab("Nearest", nearest), sg.Tab("Beat", beat_tab())]],
                         key=k.TABS, expand_x=True, expand_y=True,
                         tooltip="Ctrl+Tab and Ctrl+Shift+Tab: the next and the previous tab")]]
# fmt: on


def map_column():
    return [
        [
            sg.Text("Latent map", font=HEADING),
            sg.Combo(
                list(MAP_MODE_LABELS.values()),
                default_value=MAP_MODE_LABELS["codes"],
                key=k.MAP_MODE,
                readonly=True,
                enable_events=True,
                size=(27, 1),
            ),
            sg.Text("", key=k.MAP_HINT, size=(HINT_CHARS, 1), font=("Helvetica", 8)),
        ],
        [sg.Canvas(size=MAP_SIZE, key=k.MAP_CANVAS, expand_x=True, expand_y=True)],
        *tabs(),
    ]


def window_layout(entries):
    """The whole window.

    Parameters
    ----------
    entries : iterable of gui.state.ModelEntry
        The model list as known before any file is read (names and groups).
    """
    return [
        [
            sg.Column(models_column(entries), expand_y=True, vertical_alignment="top"),
            sg.Column(pad_column(), vertical_alignment="top"),
            sg.Column(map_column(), expand_x=True, expand_y=True, vertical_alignment="top"),
        ],
        # a fixed width: a long message is cut to fit (window.show_status), never widens it
        [
            sg.Text(
                "starting…",
                key=k.STATUS,
                size=(STATUS_CHARS, 1),
                expand_x=True,
                relief=sg.RELIEF_SUNKEN,
                font=("Helvetica", 9),
                pad=(5, (2, 4)),
            ),
            sg.Button(
                "Help F1",
                key=k.HELP,
                font=("Helvetica", 9),
                pad=(5, (2, 4)),
                tooltip="what a dot is, what each measure means, and every key (F1)",
            ),
        ],
    ]
