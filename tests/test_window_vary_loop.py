"""S while a loop plays with Vary on, in the real window driven with real X input (xdotool).

Each repetition of the loop is another variation. S must keep the one sounding when it is
pressed, however long the loop has run: the player's tap logs, for every block it renders,
which sound the mixer is on, so the test knows what was sounding between the key press and
the saved file. Run under ``xvfb-run -a -s "-screen 0 1280x800x24"``.
"""

import json
import time

from window_driver import (
    REAL_INPUT_MARKS,
    HeardBackend,
    click_pad,
    is_heard,
    make_app,
    models_loaded,
    press,
    turn_vary_on,
    wait_output_quiet,
    wait_workers_idle,
)

from gui_fakes import FakeModel
from models.variation import decode_recall

pytestmark = REAL_INPUT_MARKS


class ProgramLog:
    """A player tap that logs ``(time, sound)`` per block: the mixer's sound once the block is made."""

    def __init__(self):
        self.player = None
        self.entries = []

    def __call__(self, block, frame_index):
        mixer = self.player.mixer if self.player is not None else None
        if mixer is not None and mixer.current is not None:
            self.entries.append((time.perf_counter(), mixer.current))

    def sounding_between(self, start, end):
        """The sounds the mixer was on in ``[start, end]``, and the one before ``start``."""
        before = [program for at, program in self.entries if at < start][-1:]
        return before + [program for at, program in self.entries if start <= at <= end]


class LoggedBackend(HeardBackend):
    def __init__(self, log):
        super().__init__(capture=log)
        self.log = log

    def make_player(self, sample_rate, device):
        player = super().make_player(sample_rate, device)
        self.log.player = player
        return player


def test_s_while_a_varied_loop_runs_keeps_the_repetition_sounding(tmp_path):
    (tmp_path / "settings.json").write_text(json.dumps({"volume": 1.0}))
    log = ProgramLog()
    app = make_app(tmp_path, backend=LoggedBackend(log))
    try:
        assert app.run_until(lambda s: models_loaded(app))
        wait_workers_idle(app)
        click_pad(app, 150, 150)
        wait_output_quiet(app)  # the click's sound played out
        turn_vary_on(app)
        press("l")
        assert app.run_until(lambda s: s.sound.looping)
        start = time.perf_counter()

        def varied(_state):
            return len({id(program) for program in log.sounding_between(start, time.perf_counter())})

        # the loop goes on varying: each repetition of the fakes' 93 ms sound a new variation
        assert app.run_until(lambda s: varied(s) >= 4, timeout=20), varied(app.state)
        model = FakeModel("ae_small_relu")
        wrong = []
        for trial in range(10):
            # S at another place in the loop each time: a few more blocks played each trial
            played = len(log.entries) + 3 + 3 * trial  # a block: about 12 ms of the loop
            assert app.run_until(lambda s, played=played: len(log.entries) >= played, timeout=10)
            saved = {favourite.path for favourite in app.state.favourites}
            start = time.perf_counter()
            press("s")
            assert app.run_until(lambda s, n=len(saved): len(s.favourites) == n + 1)
            end = time.perf_counter()
            (new,) = {favourite.path for favourite in app.state.favourites} - saved
            recall = json.loads(new.with_suffix(".json").read_text())
            kept = decode_recall(model, recall)
            # what was sounding at the key press, or came in before the save: not an older one.
            # The press reaches the window some time after ``start`` (xdotool is a process of
            # its own), so the repetition sounding at ``start`` may be the one it met; on a
            # loaded machine it was (the next one came in after the press, before the save).
            sounding = log.sounding_between(start, end)
            if not any(is_heard(program.data, kept) for program in sounding):
                wrong.append((trial, recall["settings"]["variation"]["index"]))
        assert wrong == []
    finally:
        app.close()
