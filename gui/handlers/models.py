"""The model list: the zoo arrives, the user chooses a model, a model loads or fails."""

from dataclasses import replace

from evaluation.ranking import choose_best
from gui import effects as fx
from gui import features
from gui.effects import Part
from gui.family import decode_family, opening_family, refusal
from gui.handlers.common import say, short_reason
from gui.handlers.map import request_map
from gui.state import LOADING, READY, UNAVAILABLE
from gui.wide import is_wide, place
from models.trained_folder import COLLAPSED_WARNING, is_collapsed


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
    effects: list[fx.Effect] = [fx.Refresh(Part.MODELS), fx.Refresh(Part.COMPARE_LIST)]
    state.zoo_empty = not trained
    if not trained:
        # no model, so no sound output is ever opened: the line says so instead of "starting…"
        state.player.text = "sound: no model to play"
        return (
            effects
            + [fx.Refresh(Part.PAD)]
            + say(
                state,
                f"no trained models in {state.models_dir}: train some with python app.py train, "
                "or start without --models for the shipped ones (this folder is not remembered)",
            )
        )
    usable = [name for name in trained if state.entries[name].state != UNAVAILABLE]
    remembered = state.wanted
    state.wanted = None  # so that choosing it below is not taken for the list's echo
    why = ""
    if remembered in usable:
        first = remembered
    else:
        state.pending_point = state.pending_family = None  # the remembered point belongs to another model
        best = choose_best({name: listed.metrics.get(name) for name in usable})
        first, why = (best.name, f"opened {best.name}: {best.reason}") if best is not None else ((usable or trained)[0], "")
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
        # the list's highlight goes back to the model that is loaded (see view)
        return say(state, f"{name} is unavailable: {entry.reason}") + [fx.Refresh(Part.MODELS)]
    if name == state.wanted:
        # chosen already: the list echoes the selection it was given (a reopened favourite's
        # model, the remembered one at start), and that echo must not drop the pending point
        return []
    if not keep_pending:
        state.pending_point = state.pending_family = None
    state.wanted = name
    if entry.state != READY:
        entry.state = LOADING
    state.message = ""
    return [fx.LoadModel(name), fx.Refresh(Part.MODELS), fx.Refresh(Part.STATUS)]


def on_model_ready(state, ready):
    """A model finished loading (the one the user wants, or a background one)."""
    info = ready.info
    if info.no_encoder_reason or info.no_codes_reason:  # a damaged part: its path said within the zoo
        info = replace(
            info,
            **{
                field: short_reason(state, getattr(info, field)) if getattr(info, field) else None
                for field in ("no_encoder_reason", "no_codes_reason", "no_family_reason")
            },
        )
    entry = state.entry(info.name)
    entry.state, entry.reason, entry.trained = READY, "", True
    entry.collapsed = is_collapsed(info.codes)
    if info.name != state.wanted:
        return [fx.Refresh(Part.MODELS), fx.Refresh(Part.STATUS)]
    changed = state.model is None or state.model.name != info.name
    previous = state.model
    same_plane = state.model is not None and tuple(state.model.latent_range) == tuple(info.latent_range)
    state.model = info
    # a model over the same latent range opens where the point was (the user's place on
    # the pad); else at the centre of its data
    kept = state.point if changed and same_plane else info.center
    point = state.pending_point if state.pending_point is not None else kept
    state.pending_point = None
    place(state, point, fresh=changed)  # clamped; a wide latent: its whole vector (gui.wide)
    if changed:
        state.sound.save_when_decoded = False  # S was for the other model's point
        state.sound.audio = state.sound.point = state.sound.original = None
        state.morph.a = state.morph.b = None
        state.morph.sequence = None
        state.family = _opening_family(state, info.name)
    effects: list[fx.Effect] = [
        fx.Refresh(p) for p in (Part.MODELS, Part.PAD, Part.FIELDS, Part.CARD, Part.MORPH_FIELDS, Part.MAP_MODE)
    ]  # the map's hint follows the model
    if changed and (state.latent is not None or is_wide(previous)):
        effects.append(fx.Refresh(Part.AXES))  # the sliders appear, or go
    if state.player.rate != info.sample_rate:
        state.player.rate = info.sample_rate
        state.player.ready = False
        effects.append(fx.MakePlayer(info.sample_rate, state.player.device))
    if info.codes is None and state.map.mode == "codes":
        state.map.mode = features.BRIGHTNESS  # no encoder, no codes: the heat-map is the map
        state.map.for_gan = True
    elif info.codes is not None and state.map.for_gan:
        state.map.mode, state.map.for_gan = "codes", False  # what the user had
    state.history.reopen(info.name, state.vector, decode_family(state))  # where the model opens (or a favourite's point)
    if entry.collapsed:
        state.message = f"{info.name} is {COLLAPSED_WARNING}"
    effects += request_map(state)
    if changed and (info.no_encoder_reason or info.no_codes_reason):  # it plays; say what it cannot do
        state.message = info.no_codes_reason or info.no_encoder_reason
    effects += [
        fx.Decode(info.name, state.vector, family=decode_family(state)),
        fx.Refresh(Part.STATUS),
        fx.StoreSettings(),
        fx.Refresh(Part.HISTORY),
        fx.Refresh(Part.FAMILY),
    ]
    return effects


def _opening_family(state, name):
    """The selector for the model just chosen: a favourite being reopened plays its family;
    else "All families" (the plain pad) for a model with family pads, the family chosen for
    a conditioned one."""
    recall = state.sound.recall
    recalled = recall.family if recall is not None and recall.model == name else None
    if recalled is None:  # the last session's family with this model (the window reopened)
        recalled = state.pending_family
    state.pending_family = None
    if recalled is not None and (not _reads_as_family(recalled) or refusal(state, recalled) is not None):
        recalled = None  # a sidecar or a settings file edited by hand: its point still opens, on the plain pad
    return opening_family(state, recalled)


def _reads_as_family(text):
    from gui.family import from_text
    from models.errors import ModelInputError

    try:
        from_text(text)
    except ModelInputError:
        return False
    return True


def on_model_failed(state, failed):
    """A model could not be loaded: it shows as unavailable with the reason."""
    name, reason = failed.name, short_reason(state, failed.reason)
    entry = state.entry(name)
    # only a trained model is ever loaded, so this one has files, damaged ones
    entry.state, entry.reason, entry.trained = UNAVAILABLE, reason, True
    effects = [fx.Refresh(Part.MODELS), fx.Refresh(Part.COMPARE_LIST)]
    if name == state.wanted:
        state.wanted = state.model.name if state.model else None
        effects += say(state, f"{name} is unavailable: {reason}")
    else:
        effects.append(fx.Refresh(Part.STATUS))
    return effects
