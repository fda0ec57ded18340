"""Start-up's order and its benchmark stamps, apart from the loop that reads and dispatches.

Until the first model has made its first sound, the window does only what that sound needs:
drawing figures (matplotlib), heat-maps, the nearest sounds and loading the other models wait
(:meth:`StartupProbe.hold`), so that on two cores they do not slow it down. The loop tells the
probe of each event after the handlers ran (:meth:`StartupProbe.saw`); the probe decides when
the held work starts, notes the benchmark times (``bench startup``), and closes the window
when a benchmark asked it to. No window, no thread: it calls what it is given.
"""

import time
from typing import Any, Callable

from gui import effects as fx
from gui import events as ev
from gui import keys as k
from gui.state import READY, UNAVAILABLE, AppState

#: What waits for the first sound, besides loading the other models.
HELD_UNTIL_FIRST_SOUND = (fx.Render, fx.Heatmap, fx.Nearest)
#: The stamps a benchmark may ask for, in the order they come.
STAMPS = ("window", "ready", "sound", "all")


class StartupProbe:
    """What the window does differently while it starts.

    Parameters
    ----------
    state : gui.state.AppState
        Read only.
    release : callable(list of effects)
        Carries out the held effects (and starts what they need) once the first sound came.
    post : callable(event, value)
        Sends an event to the loop (``"Exit"`` closes the window).
    stamp_file : str or None
        Where "window <t>", "ready <t>", "sound <t>" and "all <t>" lines are appended.
    quit_when : str or None
        One of :data:`STAMPS`: the window closes once it is stamped.
    append : callable(path, line)
        Appends a line to the stamp file, off the GUI thread.
    """

    def __init__(
        self,
        state: AppState,
        release: Callable[[list], None],
        post: Callable[[Any, Any], None],
        stamp_file: str | None = None,
        quit_when: str | None = None,
        append: Callable[[str, str], None] | None = None,
    ) -> None:
        self.state = state
        self.held: list | None = []  # effects waiting for the first sound (None once it came)
        self._release = release
        self._post = post
        self._stamp_file = stamp_file
        self._quit_when = quit_when
        self._append = append
        self._stamped: set[str] = set()

    def hold(self, effect: Any) -> bool:
        """Whether ``effect`` waits for the first sound (it is kept in ``held`` then)."""
        if self.held is None:
            return False
        if isinstance(effect, HELD_UNTIL_FIRST_SOUND) or (isinstance(effect, fx.LoadModel) and effect.background):
            self.held.append(effect)
            return True
        return False

    def release(self) -> None:
        """The first sound is there (or will not come soon): do what waited for it."""
        if self.held is None:
            return
        held, self.held = self.held, None
        self._release(held)

    def stamp(self, what: str, now: float | None = None) -> None:
        """Note when ``what`` happened (once), and close the window if a benchmark waits for it."""
        if what in self._stamped:
            return
        self._stamped.add(what)
        now = time.time() if now is None else now
        if self._stamp_file and self._append is not None:
            self._append(self._stamp_file, f"{what} {now:.6f}\n")
        if self._quit_when == what:
            self._post("Exit", None)

    def saw(self, event: Any, values: dict | None) -> None:
        """The handlers have run for ``event``: stamp, release or quit as it says."""
        record = values.get(k.WORKER) if event == k.WORKER and values else None
        if record is None:
            return
        state = self.state
        if isinstance(record, ev.ModelReady) and state.model is not None:
            self.stamp("ready")
        if isinstance(record, ev.Decoded) and state.sound.audio is not None:
            self.stamp("sound")
        if self.held is not None and (
            isinstance(record, (ev.Decoded, ev.ModelFailed, ev.JobFailed))
            or (isinstance(record, ev.ZooListed) and state.wanted is None)
        ):
            self.release()  # the first sound, or nothing to wait for
        if isinstance(record, (ev.ModelReady, ev.ModelFailed)) and all(
            entry.state in (READY, UNAVAILABLE) for entry in state.entries.values()
        ):
            self.stamp("all")
        if (
            self._quit_when in ("ready", "sound")
            and isinstance(record, (ev.ZooListed, ev.ModelFailed))
            and state.model is None
            and state.wanted is None
        ):
            self._post("Exit", None)  # nothing will ever be ready
