"""Back and forward through the points visited in this session, one history per model.

Pure state, no window: the handlers call it and the window only shows what it says.
A step is a click, the end of a drag (the points a drag passes through are not steps: only
where it was let go), a family chosen (a step at the same point:
back returns to the family before it), or reopening a favourite (a step in the favourite's
model). A step keeps its point and its family text (None for a model
without one, and for "All families"); the hybrid slider changes the current step's family rather than adding steps.
Going back and then somewhere new drops the forward steps, as in a web browser. Visiting the
point one is already at with the same family is not a step, so showing a point that
back/forward returned can never add one.
"""

import math
from dataclasses import dataclass, field

#: The oldest steps are forgotten past this many per model.
MAX_STEPS = 500
_SAME = 1e-9


def _point(point):
    """A pad point (x, y), or a wide latent's whole vector (gui.wide), as floats."""
    values = tuple(float(v) for v in point)
    if len(values) < 2 or not all(math.isfinite(v) for v in values):
        raise ValueError(f"a point in the history must be finite numbers, not {point!r}")
    return values


def _same(a, b):
    return a is not None and b is not None and len(a) == len(b) and all(abs(u - v) <= _SAME for u, v in zip(a, b))


@dataclass
class PointHistory:
    """The points visited with one model and where in them the user is.

    Attributes
    ----------
    points : list of (float, float), or of whole vectors (a wide latent, gui.wide)
    families : list of (str or None)
        Each point's family text (gui.family.decode_family), None for none.
    position : int
        Index of the current point; -1 while nothing was visited.
    """

    points: list = field(default_factory=list)
    families: list = field(default_factory=list)
    position: int = -1

    @property
    def current(self):
        """The current point, or None."""
        return self.points[self.position] if self.position >= 0 else None

    @property
    def current_family(self):
        """The current point's family, or None."""
        return self.families[self.position] if self.position >= 0 else None

    @property
    def can_go_back(self):
        return self.position > 0

    @property
    def can_go_forward(self):
        return 0 <= self.position < len(self.points) - 1

    def visit(self, point, family=None):
        """Make ``point`` (with ``family``) a step; False when it is the current step already."""
        point = _point(point)
        if _same(point, self.current) and family == self.current_family:
            return False
        del self.points[self.position + 1 :]
        del self.families[self.position + 1 :]
        self.points.append(point)
        self.families.append(family)
        if len(self.points) > MAX_STEPS:
            del self.points[: len(self.points) - MAX_STEPS]
            del self.families[: len(self.families) - MAX_STEPS]
        self.position = len(self.points) - 1
        return True

    def amend(self, family):
        """The current step's family changed in place (the hybrid slider)."""
        if self.position >= 0:
            self.families[self.position] = family

    def back(self):
        """The previous point (now current), or None at the start."""
        if not self.can_go_back:
            return None
        self.position -= 1
        return self.current

    def forward(self):
        """The next point (now current), or None at the end."""
        if not self.can_go_forward:
            return None
        self.position += 1
        return self.current


@dataclass
class SessionHistory:
    """One :class:`PointHistory` per model, and the drag in progress.

    Examples
    --------
    >>> history = SessionHistory()
    >>> history.click("vae_c", (0, 0))
    True
    >>> for x in (0.1, 0.2, 0.3):
    ...     history.drag("vae_c", (x, 0))
    >>> history.release("vae_c")
    True
    >>> history.back("vae_c")
    (0.0, 0.0)
    """

    models: dict = field(default_factory=dict)
    dragging: dict = field(default_factory=dict)  # model -> latest point of the drag

    def of(self, model):
        """The history of ``model`` (empty the first time)."""
        return self.models.setdefault(str(model), PointHistory())

    def click(self, model, point, family=None):
        """A click on the map, or a family chosen: one step."""
        return self.of(model).visit(point, family)

    def drag(self, model, point):
        """The pointer moved during a drag: remembered, not a step yet."""
        self.dragging[str(model)] = _point(point)

    def release(self, model, point=None, family=None):
        """The drag ended (at ``point``, else where it last was): one step; False if none."""
        last = self.dragging.pop(str(model), None)
        end = last if point is None else _point(point)
        return False if end is None else self.of(model).visit(end, family)

    def reopen(self, model, point, family=None):
        """A favourite was reopened: a step to its point in its model's history."""
        self.dragging.pop(str(model), None)
        return self.of(model).visit(point, family)

    def amend(self, model, family):
        """The hybrid slider moved: the current step's family is the new mix."""
        self.of(model).amend(family)

    def family(self, model):
        """The current step's family with ``model`` (after back or forward), or None."""
        return self.of(model).current_family

    def back(self, model, family=None):
        """The point to go back to with ``model`` (Alt+Left), or None; :meth:`family` says
        its family. ``family``: the one a drag in progress has, which ends where it is first."""
        self.release(model, family=family)
        return self.of(model).back()

    def forward(self, model, family=None):
        """The point to go forward to with ``model`` (Alt+Right), or None."""
        self.release(model, family=family)
        return self.of(model).forward()
