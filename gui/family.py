"""The family a model plays in the window: the selector's choice, as data.

Every model that takes a family (``Runtime.takes_family``) has the selector: a conditioned
model makes the family asked for, and a model with family pads (every one with training
codes, :mod:`models.family_pads`) spans that family's region of its plane with the pad.
The selector is "All families" (key 0: the plain pad; not for a conditioned model, which
always makes one family), one button per drum family (keys 1–7) and a hybrid: a second
family and a slider giving its weight (kick with tom at 0.4 is ``"kick:0.6,tom:0.4"``).
Every decode, sidecar and heat-map speaks of the choice as its text
(:func:`models.families.family_text`; None for "All families"), through :func:`decode_family`
alone, so a favourite records exactly what was decoded and reopening it decodes the same again.

Pure: no window, no thread, no file.
"""

from dataclasses import dataclass

from constants import DRUM_FAMILIES
from models.families import DEFAULT_FAMILY, family_text, family_vector

#: The hybrid combo's entry for "no second family".
NO_HYBRID = "none"
#: The key that chooses "All families" (the plain pad of a model with family pads).
ALL_KEY = "0"
#: The keys that choose a family: "1" is kick, ... "7" is percussion (constants order).
FAMILY_KEYS = {str(number): name for number, name in enumerate(DRUM_FAMILIES, start=1)}
#: The hybrid slider's step (the weights a sidecar records have at most this precision).
BLEND_DIGITS = 2


@dataclass
class FamilyState:
    """The family chosen in the selector.

    Attributes
    ----------
    first : str or None
        The family button chosen (keys 1–7), or None for "All families" (key 0).
    second : str or None
        The hybrid's other family, or None for a plain family.
    blend : float
        The second family's weight, 0 to 1 (the hybrid slider).
    exact : str or None
        A reopened favourite's mix that the selector cannot show (three families or more,
        from ``generate --mix``): played as recorded until the selector is touched.
    """

    first: str | None = DEFAULT_FAMILY
    second: str | None = None
    blend: float = 0.0
    exact: str | None = None

    def text(self) -> str | None:
        """What is decoded and recorded: ``"clap"`` or ``"kick:0.6,tom:0.4"``; None for
        "All families" (the plain pad)."""
        if self.exact is not None:
            return self.exact
        if self.first is None:
            return None
        if self.second is None or self.second == self.first or self.blend <= 0:
            return self.first
        if self.blend >= 1:
            return self.second
        return family_text({self.first: round(1.0 - self.blend, BLEND_DIGITS), self.second: self.blend})

    def weights(self) -> dict[str, float]:
        """The families in the choice with their weights (those above 0); none for "All families"."""
        text = self.text()
        if text is None:
            return {}
        vector = family_vector(text)
        return {name: float(w) for name, w in zip(DRUM_FAMILIES, vector) if w > 0}


def from_text(text: str) -> FamilyState:
    """The selector showing a recorded family or mix (raises ModelInputError for a bad one).

    A two-family mix shows its heavier family as the button and the other as the hybrid; a
    mix the selector cannot show is kept as ``exact``, so that it is played as recorded.
    """
    recorded = family_text(text)
    weights = sorted(
        ((float(w), name) for name, w in zip(DRUM_FAMILIES, family_vector(recorded)) if w > 0),
        key=lambda pair: (-pair[0], DRUM_FAMILIES.index(pair[1])),
    )
    chosen = FamilyState(first=weights[0][1])
    if len(weights) == 2:
        chosen.second, chosen.blend = weights[1][1], round(weights[1][0], BLEND_DIGITS)
    if chosen.text() != recorded:
        chosen.exact = recorded
    return chosen


def all_families() -> FamilyState:
    """ "All families": the plain pad (key 0)."""
    return FamilyState(first=None)


def takes_family(state) -> bool:
    """Whether the window's current model takes a family (conditioned, or with family pads)."""
    model = state.model
    return model is not None and (model.takes_family or model.conditioned)


def is_conditioned(state) -> bool:
    """Whether the window's current model takes a family as an input (it has no "All families")."""
    return state.model is not None and state.model.conditioned


def no_family_reason(state) -> str:
    """Why the current model takes no family, in the model's own words:
    "gan takes no family: it has no encoder, so none of its training sounds has a place on its pad"."""
    model = state.model
    if model is None:
        return "no model is loaded yet"
    return model.no_family_reason or f"{model.name} takes no family"


def refusal(state, text: str | None) -> str | None:
    """Why the current model cannot play the family or mix ``text``, or None when it can.

    A model that takes none says why; one with family pads names the first family the
    choice weighs that it has no training sound of ("ddsp_vae has no clap among its
    training sounds")."""
    if not takes_family(state):
        return no_family_reason(state)
    if text is None:
        return None if not is_conditioned(state) else (f"{state.model.name} always makes one family: choose one with keys 1–7")
    pads = state.model.family_pads
    if pads is not None:
        return pads.missing_reason(text)
    known = tuple(state.model.families or DRUM_FAMILIES)
    missing = next((name for name, weight in zip(DRUM_FAMILIES, family_vector(text)) if weight > 0 and name not in known), None)
    return None if missing is None else f"{state.model.name} has no {missing} among its training sounds"


def decode_family(state) -> str | None:
    """The family text every decode of the current model passes (and every sidecar records):
    None for a model that takes none, and for "All families"."""
    return state.family.text() if takes_family(state) else None


def opening_family(state, recalled: str | None = None) -> FamilyState:
    """The selector when a model is chosen: a reopened favourite's family (``recalled``), else
    "All families" for a model with family pads and the family chosen (or the default) for
    a conditioned model."""
    if recalled is not None:
        return from_text(recalled)
    if is_conditioned(state):
        current = state.family
        return current if current.text() is not None else FamilyState()
    return all_families()


def shown_code_points(state):
    """Where the map and the pad draw the training codes, (N, 2): with a family chosen on a
    model with family pads (ddsp_cvae's over its wide code among them), where that family's
    pad puts them (``FamilyPads.places``); else the codes themselves. None for a model
    without codes."""
    import numpy as np

    codes = state.model.codes if state.model is not None else None
    if codes is None:
        return None
    family = decode_family(state)
    pads = state.model.family_pads
    if family is None or pads is None:
        return np.asarray(codes.points)
    # a family's frame (ddsp_cvae's wide code): the codes on the two axes the pad shows
    axes = state.model.pad_axes if state.model.family_frame else (0, 1)
    return np.asarray(pads.places(codes, family, axes=axes))


def code_vector(state, code):
    """The whole vector a training sound's code (D numbers) plays at: the code itself (an
    imported model's), or for a family's frame (ddsp_cvae's) the code in the chosen family's
    frame (``FamilyPads.to_frame``)."""
    family, pads = decode_family(state), state.model.family_pads
    if state.model.family_frame and family is not None and pads is not None:
        return tuple(float(v) for v in pads.to_frame(code, family)[0])
    return tuple(float(v) for v in code)


def weights_label(family: FamilyState) -> str:
    """The mix as the selector's label reads it: "kick 0.6 + tom 0.4" (or "clap", or "All families")."""
    weights = family.weights()
    if not weights:
        return "All families"
    if len(weights) == 1:
        return next(iter(weights))
    return " + ".join(f"{name} {weight:.2g}" for name, weight in weights.items())


def heat_key(name: str, feature: str, family: str | None, plane: tuple | None = None) -> tuple:
    """The key of a heat-map: one per family (and one for "All families"), and for a wide
    latent one per pad axes and values of the other axes (``plane``, gui.wide.heat_plane)."""
    key = (name, feature) if family is None else (name, feature, family)
    return key if plane is None else (*key, plane)


def highlighted_families(state) -> tuple[str, ...] | None:
    """The families whose training sounds the map and the pad show in colour (None: all)."""
    return tuple(state.family.weights()) if decode_family(state) is not None else None
