"""The window's event keys, named once so that layout, handlers and tests agree.

Element keys are strings in PySimpleGUI's ``-NAME-`` style. Events that do not come from an
element are tuples: ``(WORKER, kind)`` from worker threads (the pattern of PySimpleGUI's
``Demo_Multithreaded_Write_Event_Value.py``), ``(KEY, keysym)`` for keyboard shortcuts,
``(MAP, "click")`` from the latent map, ``(FILE, purpose)`` for a chosen file and
``(PANEL, "resized")`` when a plot panel changes size and ``(PLAYER, "ended")`` when a sound
played once has had its time.
"""

# tuple-event heads
WORKER = "-WORKER-"
KEY = "-KEY-"
MAP = "-MAP-"
FILE = "-FILE-"
PANEL = "-PANEL-"
PLAYER = "-PLAYER-"

# elements
MODELS = "-MODELS-"
FAVOURITES = "-FAVOURITES-"
FAVOURITES_DIR = "-FAVOURITES-DIR-"
REOPEN = "-REOPEN-"
PAD = "-PAD-"
PAD_UP = "-PAD-+UP"
X = "-X-"
Y = "-Y-"
GO = "-GO-"
RANDOM = "-RANDOM-"
RESET = "-RESET-"
PLAY = "-PLAY-"
LOOP = "-LOOP-"
STOP = "-STOP-"
VOLUME = "-VOLUME-"
SAVE = "-SAVE-"
OPEN = "-OPEN-"
DEVICE = "-DEVICE-"
MAP_CANVAS = "-MAP-CANVAS-"
MAP_MODE = "-MAP-MODE-"
MAP_HINT = "-MAP-HINT-"
OUTPUT_CANVAS = "-OUTPUT-CANVAS-"
CARD = "-CARD-"
TABS = "-TABS-"
COMPARE_LIST = "-COMPARE-LIST-"
COMPARE = "-COMPARE-"
COMPARE_CANVAS = "-COMPARE-CANVAS-"
SET_A = "-SET-A-"
SET_B = "-SET-B-"
MORPH_A = "-MORPH-A-"
MORPH_B = "-MORPH-B-"
STEPS = "-STEPS-"
MORPH = "-MORPH-"
MORPH_PLAY = "-MORPH-PLAY-"
MORPH_SAVE = "-MORPH-SAVE-"
MORPH_CANVAS = "-MORPH-CANVAS-"
STATUS = "-STATUS-"
PLAYING = "-PLAYING-"
DROP = "-DROP-"
DRAG_OUT = "-DRAG-OUT-"
BACK = "-BACK-"
FORWARD = "-FORWARD-"
VARY = "-VARY-"
VARY_COUNT = "-VARY-COUNT-"
SAVE_VARIATIONS = "-SAVE-VARIATIONS-"
NEAREST = "-NEAREST-"
NEAREST_PLAY = "-NEAREST-+DOUBLE"
NEAREST_NOTE = "-NEAREST-NOTE-"
EXPORT_KIT = "-EXPORT-KIT-"
HELP = "-HELP-"  # the Help button (F1)
KIT_PROGRESS = "-KIT-PROGRESS-"
LEVEL = "-LEVEL-"  # the level combo (audio.level)
AUDITION = "-AUDITION-"  # the "Audition on click" checkbox
DRAG = "-DRAG-"  # tuple-event head: (DRAG, "out" | "refused"), value a path or a reason
CONFIRM = "-CONFIRM-"  # tuple-event head: (CONFIRM, purpose), value True or False
# the Beat tab: a step is the button (STEP, lane * 16 + step); a lane's sound the combo (LANE_SOUND, lane)
STEP = "-STEP-"  # tuple-event head
LANE_SOUND = "-LANE-SOUND-"  # tuple-event head, value the combo's choice
PATTERN_PLAY = "-PATTERN-PLAY-"
PATTERN_TEMPO = "-PATTERN-TEMPO-"
PATTERN_NOTE = "-PATTERN-NOTE-"
# the family selector (gui.family): one button per family, the hybrid's family and slider
FAMILY_BUTTONS = {
    name: f"-FAMILY-{name.upper()}-" for name in ("kick", "snare", "clap", "hat", "tom", "cymbal", "percussion")
}  # constants.DRUM_FAMILIES
FAMILY_ALL = "-FAMILY-ALL-"  # "All families": the plain pad (key 0)
HYBRID = "-HYBRID-"
BLEND = "-BLEND-"
FAMILY_MIX = "-FAMILY-MIX-"  # the mix as text ("kick 0.6 + tom 0.4")
# a wide latent (gui.wide): a slider per axis off the pad is (AXIS, slider), its label
# (AXIS_LABEL, slider); the panel that holds them, and the "which axes" combos
AXIS = "-AXIS-"  # tuple-event head, value the slider's
AXIS_LABEL = "-AXIS-LABEL-"
AXES_PANEL = "-AXES-PANEL-"
AXES_NOTE = "-AXES-NOTE-"
FAMILY_PANEL = "-FAMILY-PANEL-"  # the family selector's rows, hidden while the sliders show
PAD_X_AXIS = "-PAD-X-AXIS-"
PAD_Y_AXIS = "-PAD-Y-AXIS-"
