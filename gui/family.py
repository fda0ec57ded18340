"""The family a conditioned model plays in the window: the selector's choice, as data.

The selector is one button per drum family (keys 1–7) and a hybrid: a second family and a
slider giving its weight (kick with tom at 0.4 is ``"kick:0.6,tom:0.4"``). Every decode,
sidecar and heat-map speaks of the choice as its text (:func:`models.families.family_text`),
so a favourite records exactly what was decoded and reopening it decodes the same again.

Pure: no window, no thread, no file. NumPy-free apart from what :mod:`models.families` uses.
"""
from dataclasses import dataclass

from constants import DRUM_FAMILIES
from models.families import DEFAULT_FAMILY, family_text, family_vector

#: The hybrid combo's entry for "no second family".
NO_HYBRID = "none"
#: The keys that choose a family: "1" is kick, ... "7" is percussion (constants order).
FAMILY_KEYS = {str(number): name for number, name in enumerate(DRUM_FAMILIES, start=1)}
#: The hybrid slider's step (the weights a sidecar records have at most this precision).
BLEND_DIGITS = 2


@dataclass
class FamilyState:
    """The family chosen in the selector.

    Attributes
    ----------
    first : str
        The family button chosen (keys 1–7).
    second : str or None
        The hybrid's other family, or None for a plain family.
    blend : float
        The second family's weight, 0 to 1 (the hybrid slider).
    exact : str or None
        A reopened favourite's mix that the selector cannot show (three families or more,
        from ``generate --mix``): played as recorded until the selector is touched.
    """

    first: str = DEFAULT_FAMILY
    second: str | None = None
    blend: float = 0.0
    exact: str | None = None

    def text(self) -> str:
        """What is decoded and recorded: ``"clap"`` or ``"kick:0.6,tom:0.4"``."""
        if self.exact is not None:
            return self.exact
        if self.second is None or self.second == self.first or self.blend <= 0:
            return self.first
        if self.blend >= 1:
            return self.second
        return family_text({self.first: round(1.0 - self.blend, BLEND_DIGITS), self.second: self.blend})

    def weights(self) -> dict[str, float]:
        """The families in the choice with their weights (those above 0)."""
        vector = family_vector(self.text())
        return {name: float(w) for name, w in zip(DRUM_FAMILIES, vector) if w > 0}


def from_text(text: str) -> FamilyState:
    """The selector showing a recorded family or mix (raises ModelInputError for a bad one).

    A two-family mix shows its heavier family as the button and the other as the hybrid; a
    mix the selector cannot show is kept as ``exact``, so that it is played as recorded.
    """
    recorded = family_text(text)
    weights = sorted(((float(w), name) for name, w in zip(DRUM_FAMILIES, family_vector(recorded)) if w > 0),
                     key=lambda pair: (-pair[0], DRUM_FAMILIES.index(pair[1])))
    chosen = FamilyState(first=weights[0][1])
    if len(weights) == 2:
        chosen.second, chosen.blend = weights[1][1], round(weights[1][0], BLEND_DIGITS)
    if chosen.text() != recorded:
        chosen.exact = recorded
    return chosen


def conditioned_models() -> tuple[str, ...]:
    """The registry names of the models that take a family."""
    from models.registry import REGISTRY  # the registry imports no TensorFlow

    return tuple(name for name, spec in REGISTRY.items() if spec.conditioned)


def no_family_reason(model_name: str | None) -> str:
    """Why the selector is off: "vae_a has no family: only ddsp_cvae is conditioned"."""
    only = " and ".join(conditioned_models()) or "no model"
    if model_name is None:
        return f"no model is loaded yet; only {only} is conditioned on a family"
    return f"{model_name} has no family: only {only} is conditioned"


def is_conditioned(state) -> bool:
    """Whether the window's current model takes a family."""
    return state.model is not None and bool(getattr(state.model, "conditioned", False))


def decode_family(state) -> str | None:
    """The family text the current model decodes with; None for a model that takes none."""
    return state.family.text() if is_conditioned(state) else None


def weights_label(family: FamilyState) -> str:
    """The mix as the selector's label reads it: "kick 0.6 + tom 0.4" (or "clap")."""
    weights = family.weights()
    if len(weights) == 1:
        return next(iter(weights))
    return " + ".join(f"{name} {weight:.2g}" for name, weight in weights.items())


def heat_key(name: str, feature: str, family: str | None) -> tuple:
    """The key of a heat-map: a conditioned model has one per family."""
    return (name, feature) if family is None else (name, feature, family)


def highlighted_families(state) -> tuple[str, ...] | None:
    """The families whose training sounds the map and the pad show in colour (None: all)."""
    return tuple(state.family.weights()) if is_conditioned(state) else None
