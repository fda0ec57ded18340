"""The latent map: its mode (the codes or a heat-map), its picture, a click on it."""

from dataclasses import replace
from pathlib import Path

from constants import SAMPLE_RATE
from gui import effects as fx
from gui import features
from gui.effects import Part
from gui.family import code_vector, decode_family, heat_key, highlighted_families, shown_code_points
from gui.handlers.common import say
from gui.handlers.point import move_point
from gui.handlers.sound import play_sequence
from gui.state import MAP_MODES
from gui.wide import heat_plane, pad_spot


def request_map(state):
    """Draw the map for the current mode, computing a heat-map first when needed."""
    info = state.model
    if info is None:
        return []
    codes = info.codes
    request = fx.MapRequest(
        latent_range=info.latent_range,
        point=state.point,
        a=pad_spot(info, state.morph.a),
        b=pad_spot(info, state.morph.b),
        key=(info.name, state.map.mode),
        codes=shown_code_points(state),  # on a family's pad: where that pad puts them
        families=None if codes is None else list(codes.families),
    )
    family = decode_family(state)
    if family is not None:  # the chosen family's training sounds in colour, the others grey
        request = replace(request, key=(*request.key, family), highlight=highlighted_families(state))
    if state.map.mode == "codes" and codes is not None:
        title = f"{info.name}: {len(codes.points)} training samples by family"
        return [fx.Render("map", replace(request, title=title if family is None else f"{title}, {family} shown"))]
    if state.map.mode == features.MADE:
        return _request_made(state, request, family)
    feature, plane = state.map.mode, heat_plane(state)
    grid = state.map.heatmaps.get(heat_key(info.name, feature, family, plane))
    of = ("" if family is None else f" ({family})") + plane_note(plane)
    if grid is None:
        state.message = f"computing the {feature} heat-map of {info.name}{of}…"
        # meanwhile the map shows this model (its codes, if any), not the last one's picture
        title = f"{info.name}: computing the {feature} heat-map{of}…"
        return [
            fx.Heatmap(info.name, feature, info.latent_range, info.sample_rate, family=family, plane=plane),
            fx.Render("map", replace(request, title=title)),
            fx.Refresh(Part.STATUS),
        ]
    return [fx.Render("map", replace(request, heat=grid, feature=feature, title=f"{info.name}: {feature} over the latent range{of}"))]


def plane_note(plane):
    """What a wide latent's map is over: its pad axes, the others as the sliders are ("" for 2-D)."""
    return "" if plane is None else f" (axes {plane[0][0]} and {plane[0][1]}, the others at the sliders)"


def map_plane(state):
    """Which wide-latent plane the map is of now: (model name, gui.wide.heat_plane)."""
    return (None if state.model is None else state.model.name, heat_plane(state))


def follow_plane(state, before, effects):
    """A heat-map of a wide latent follows its plane: where an event moved a slider or went
    back to another vector of the same model (``before``: :func:`map_plane` before it) and drew
    no map itself, the map of the new plane (cached, or computed)."""
    now = map_plane(state)
    if now[1] is None or now == before or now[0] != before[0] or state.map.mode == "codes":
        return []
    if any(isinstance(effect, fx.Render) and effect.panel == "map" for effect in effects):
        return []
    return request_map(state)


def _request_made(state, request, family):
    """The map of what the model makes: the family heard at each grid point, under the
    training sounds' dots in their labels' colours (so a dot in another colour's region is a
    sound labelled one family where the model makes another)."""
    info = state.model
    plane = heat_plane(state)
    of = ("" if family is None else f" ({family})") + plane_note(plane)
    grid = state.map.heatmaps.get(heat_key(info.name, features.MADE, family, plane))
    if grid is None:
        state.message = f"listening to what {info.name} makes at {features.MADE_GRID}×{features.MADE_GRID} points{of}…"
        title = f"{info.name}: listening to what is made here{of}…"
        return [
            fx.Heatmap(info.name, features.MADE, info.latent_range, info.sample_rate, family=family, plane=plane),
            fx.Render("map", replace(request, title=title)),
            fx.Refresh(Part.STATUS),
        ]
    dots = "" if request.codes is None else "; dots: training labels"
    title = f"{info.name}: the family heard in what is made here{of}{dots}"
    return [fx.Render("map", replace(request, made=grid, title=title))]


def map_hint(state):
    """What a click on the map does, for the hint beside its title."""
    if state.map.mode in ("codes", features.MADE) and state.model is not None and state.model.codes is not None:
        return "click a dot to hear it"
    return "click to go there"


def set_map_mode(state, mode):
    if mode not in MAP_MODES:
        return []
    if mode == features.DISCONTINUITY and features.DISCONTINUITY not in state.map.features:
        return say(state, "the local discontinuity needs the evaluation package")
    if mode == "codes" and state.model is not None and state.model.codes is None:
        state.map.mode = features.BRIGHTNESS
        return [fx.Refresh(Part.MAP_MODE)] + say(
            state, state.model.no_codes_reason or f"{state.model.name} has no encoder, so no codes: its map is a heat-map"
        )
    state.map.mode, state.map.for_gan = mode, False
    return [fx.Refresh(Part.MAP_MODE)] + request_map(state)


def on_heatmap(state, heatmap):
    state.map.heatmaps[heat_key(heatmap.name, heatmap.feature, heatmap.family, heatmap.plane)] = heatmap.grid
    if state.model is None or heatmap.name != state.model.name:
        return []
    if state.map.mode != heatmap.feature or heatmap.family != decode_family(state) or heatmap.plane != heat_plane(state):
        return []
    if state.message.startswith(("computing the ", "listening to what ")):
        state.message = ""  # its own "computing…" line, not a message said meanwhile
    return request_map(state) + [fx.Refresh(Part.STATUS)]


def on_features(state, found):
    state.map.features = tuple(found.names)
    return [fx.Refresh(Part.MAP_MODE)]


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
    full = getattr(codes, "full", None)
    if state.latent is not None and full is not None:  # a wide latent's dot: its whole code
        point = code_vector(state, full[index])
    else:
        point = tuple(float(v) for v in shown_code_points(state)[index])  # the dot, where the pad plays it
    effects = move_point(state, point)
    name = codes.names[index] if codes.names is not None else f"sample {index}"
    family = codes.families[index] if codes.families is not None else ""
    state.message = f"{name} ({family}): the decoded point, then the original"
    return effects + [
        fx.Audition(state.model.name, state.vector, original_path(state.model, index), family=decode_family(state)),
        fx.Refresh(Part.STATUS),
    ]


def on_audition(state, auditioned):
    sounds = [auditioned.decoded, auditioned.original]
    if auditioned.reason:
        state.message = f"original not played: {auditioned.reason}"
    effects = play_sequence(state, sounds, state.model.sample_rate if state.model else SAMPLE_RATE, "a map sample, then its original")
    return effects + [fx.Refresh(Part.STATUS)]
