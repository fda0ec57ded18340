"""A family's frame: the whole vector a wide code's pad and sliders show (issue 35).

ddsp_cvae's code has D = 16 numbers; with a family chosen its pad spans the family's two
main axes (:class:`models.family_pads.FamilyPads`). The frame adds the other D - 2 main
axes as numbers of their own, in the pad's units, so the window can show them as sliders
and a favourite, ``generate --at`` and the history can keep the whole vector:

- axes 0 and 1: the point on the family's pad (the pad's range);
- axis k >= 2: the offset along the family's k-th main axis, one pad half-width being
  ``scale`` standard deviations along it (as the pad's edge is along the first two), 0 at
  the family's mean, reaching :data:`FRAME_REACH` half-widths either side.

A frame vector whose off-pad axes are 0 plays exactly what its pad point plays.
NumPy only.
"""

from typing import TYPE_CHECKING, Any

import numpy as np

#: How far a family frame's off-pad axis reaches either side of the family's mean, in the
#: pad's half-widths (``scale`` standard deviations each): a slider's range.
FRAME_REACH = 2.0


class FamilyFrame:
    """The family-frame methods of :class:`models.family_pads.FamilyPads` (a mixin: it
    uses the pads' ``latent_dim``, ``pad_range``, ``scale``, ``axes``, ``to_pad`` and
    ``_mapped``)."""

    pad_range: tuple[float, float, float, float]
    scale: float
    _half: np.ndarray
    _centre: np.ndarray

    if TYPE_CHECKING:  # what FamilyPads gives the mixin

        @property
        def latent_dim(self) -> int: ...

        def axes(self, family: Any) -> Any: ...

        def to_pad(self, latent: Any, family: Any) -> np.ndarray: ...

        def _mapped(self, points: np.ndarray, pad: Any) -> np.ndarray: ...

    @property
    def frame_unit(self):
        """What one standard deviation times ``scale`` is on a frame's off-pad axis: the
        pad's half-width (along x; the pads are square), so every axis has the pad's units."""
        return float(self._half[0])

    def frame_bounds(self):
        """Each axis of a family frame (see :meth:`to_frame`): ``(low, high, centre)``, each
        (D,) float32. The pad's two axes span the pad; every other axis is centred on 0
        (the family's mean) and spans twice the pad's half-width either side."""
        width = self.latent_dim
        reach = FRAME_REACH * self.frame_unit
        low, high, centre = np.full(width, -reach), np.full(width, reach), np.zeros(width)
        xmin, xmax, ymin, ymax = self.pad_range
        low[:2], high[:2], centre[:2] = (xmin, ymin), (xmax, ymax), self._centre
        return low.astype(np.float32), high.astype(np.float32), centre.astype(np.float32)

    def to_frame(self, latent, family):
        """Latent codes in a family's frame: the whole vector the window's pad and sliders show.

        Axes 0 and 1 are the point on the family's pad (:meth:`to_pad`); axis ``k`` >= 2 is
        the offset along the family's ``k``-th main axis, ``scale`` standard deviations
        being :attr:`frame_unit` (the pad's half-width), 0 at the family's mean.

        Parameters
        ----------
        latent : array-like, shape (N, D)
        family : str, dict or array-like
            One family or mix.

        Returns
        -------
        np.ndarray, shape (N, D), float64
        """
        latent = np.asarray(latent, dtype=np.float64).reshape(-1, self.latent_dim)
        pad = self.axes(family)
        offsets = ((latent - pad.mean) @ pad.axes[2:].T) / (self.scale * pad.sigmas[2:]) * self.frame_unit
        return np.concatenate([self.to_pad(latent, family), offsets], axis=1)

    def from_frame(self, vectors, family):
        """The latent codes of family-frame vectors: the inverse of :meth:`to_frame` (what
        :meth:`to_latent` plays for them, in float64).

        Parameters
        ----------
        vectors : array-like, shape (N, D)
        family : str, dict or array-like
            One family or mix.

        Returns
        -------
        np.ndarray, shape (N, D), float64
        """
        vectors = np.asarray(vectors, dtype=np.float64).reshape(-1, self.latent_dim)
        return self._mapped(vectors, self.axes(family))
