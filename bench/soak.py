"""The window's memory over a long session of random use (the target: it must not grow by
more than 50 MB over 10 minutes after warm-up).

The real window runs in this process, on the shipped models, with the real backend; a
scripted user drives it through the events its widgets send (``GuiApp.post``, as the
window tests do): clicks and drags on the pad, model switches, play, loop on and off,
stop, random points, arrow-key nudges and heat-map changes, a few a second at random.
Warm-up is every model loaded plus ``--warmup`` seconds of that use; the resident memory
(VmRSS) is read then, every ``--every`` seconds after, and at the end. Each reading is
taken at rest, as when a user pauses: no gesture until every worker has finished its jobs
(up to ``--settle`` seconds), so a heat-map being computed does not pass for a leak; the
highest memory seen between readings is printed beside it.

Sound goes to an ALSA null device (as in the tests), so the player really runs, silently.
Needs a display: without $DISPLAY, an Xvfb server is started for the run.
"""

import os
import random
import sys
import tempfile
import time
from pathlib import Path

from bench import memory_mb

ROOT = Path(__file__).resolve().parents[1]
GROWTH_MB = 50.0


def add_arguments(parser):
    parser.add_argument("--minutes", type=float, default=10.0, help="minutes of random use after warm-up (default 10)")
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds of random use before the first reading (default 30)")
    parser.add_argument("--every", type=float, default=60.0, help="seconds between memory readings (default 60)")
    parser.add_argument(
        "--models", metavar="DIR", default=str(ROOT / "trained"), help="zoo folder the window opens on (default: trained/)"
    )
    parser.add_argument("--settle", type=float, default=60.0, help="at most this many seconds at rest before a reading (default 60)")
    parser.add_argument("--seed", type=int, default=0, help="the random user's seed (default 0)")
    parser.add_argument("--load-timeout", type=float, default=300.0, help="seconds to wait for every model to load (default 300)")


class RandomUser:
    """Chooses the next gesture at random, as a user exploring the models would.

    Parameters
    ----------
    app : gui.window.GuiApp
        An open window.
    rng : random.Random
    """

    def __init__(self, app, rng):
        from gui.layout import MAP_MODE_LABELS

        self.app = app
        self.rng = rng
        self.map_labels = list(MAP_MODE_LABELS.values())
        self.done = {}
        self.highest_mb = 0.0  # the highest resident memory seen after a gesture
        self.gestures = [
            (self.click, 30),
            (self.drag, 15),
            (self.switch_model, 8),
            (self.play, 12),
            (self.loop, 6),
            (self.stop, 4),
            (self.random, 8),
            (self.nudge, 10),
            (self.map_mode, 4),
        ]

    def _ready_names(self):
        from gui.state import READY

        return [name for name, entry in self.app.state.entries.items() if entry.state == READY]

    def _spot(self):
        model = self.app.state.model
        xmin, xmax, ymin, ymax = model.latent_range if model else (-1.0, 1.0, -1.0, 1.0)
        return (self.rng.uniform(xmin, xmax), self.rng.uniform(ymin, ymax))

    def click(self):
        from gui import keys as k

        spot = self._spot()
        self.app.post(k.PAD, spot)
        self.app.post(k.PAD_UP, spot)

    def drag(self):
        from gui import keys as k

        (x0, y0), (x1, y1) = self._spot(), self._spot()
        steps = self.rng.randint(5, 20)
        for i in range(steps + 1):
            t = i / steps
            self.app.post(k.PAD, (x0 + t * (x1 - x0), y0 + t * (y1 - y0)))
            self.app.step(timeout=15)
        self.app.post(k.PAD_UP, (x1, y1))

    def switch_model(self):
        from gui import keys as k

        names = self._ready_names()
        if names:
            self.app.post(k.MODELS, [self.rng.choice(names)])

    def play(self):
        from gui import keys as k

        self.app.post(k.PLAY)

    def loop(self):
        from gui import keys as k

        self.app.post(k.LOOP)

    def stop(self):
        from gui import keys as k

        self.app.post(k.STOP)

    def random(self):
        from gui import keys as k

        self.app.post(k.RANDOM)

    def nudge(self):
        from gui import keys as k

        self.app.post((k.KEY, self.rng.choice(("Left", "Right", "Up", "Down"))))

    def map_mode(self):
        from gui import keys as k

        self.app.post(k.MAP_MODE, self.rng.choice(self.map_labels))

    def act(self):
        """One gesture, then the window's loop for a user's pause (50 to 400 ms)."""
        gestures, weights = zip(*self.gestures)
        gesture = self.rng.choices(gestures, weights)[0]
        gesture()
        self.done[gesture.__name__] = self.done.get(gesture.__name__, 0) + 1
        self.highest_mb = max(self.highest_mb, memory_mb()[0])
        pause_until = time.monotonic() + self.rng.uniform(0.05, 0.4)
        while time.monotonic() < pause_until and self.app.step(timeout=20):
            pass

    def use_for(self, seconds):
        """Random gestures for ``seconds``; returns False if the window closed."""
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            if self.app.closed:
                return False
            self.act()
        return not self.app.closed


def at_rest(app, timeout):
    """Run the window's loop without gestures until its workers are idle (a second at
    least, at most ``timeout``); returns the seconds waited and whether they became idle."""
    started = time.monotonic()
    app.run_until(lambda s: False, timeout=1.0)
    idle = app.run_until(lambda s: app.workers.idle, timeout=max(timeout - 1.0, 0.0))
    app.run_until(lambda s: False, timeout=0.2)  # their last posts
    return time.monotonic() - started, idle


def all_loaded(state):
    from gui.state import READY, UNAVAILABLE

    return (
        state.model is not None
        and state.sound.audio is not None
        and all(entry.state in (READY, UNAVAILABLE) for entry in state.entries.values())
    )


def soak(app, *, minutes, warmup, every, settle=60.0, seed=0, load_timeout=300.0, out=print):
    """Drive an open window at random and report its memory; returns the readings.

    Parameters
    ----------
    app : gui.window.GuiApp
        An open window (its models may still be loading).
    minutes, warmup, every : float
        Minutes of use measured; seconds of use before the first reading; seconds between
        readings.
    settle : float
        At most this many seconds at rest before each reading (see :func:`at_rest`).
    seed : int
    load_timeout : float
        Seconds to wait for every model to be loaded or unavailable.
    out : callable(str)

    Returns
    -------
    list of (float, float, float)
        (seconds of use since warm-up, resident MB at rest, highest MB seen since the last
        reading), the warm-up reading first.

    Raises
    ------
    RuntimeError
        The models never all loaded, or the window closed during the soak.
    """
    started = time.monotonic()
    if not app.run_until(all_loaded, timeout=load_timeout):
        raise RuntimeError(f"not every model loaded within {load_timeout:g} s")
    out(f"every model loaded after {time.monotonic() - started:.1f} s; {memory_mb()[0]:.0f} MB; warming up for {warmup:g} s")
    user = RandomUser(app, random.Random(seed))
    if not user.use_for(warmup):
        raise RuntimeError("the window closed during warm-up")

    def reading(used):
        waited, idle = at_rest(app, settle)
        resident = memory_mb()[0]
        readings.append((used, resident, max(user.highest_mb, resident)))
        user.highest_mb = 0.0
        return (
            f"{resident:.0f} MB resident at rest ({waited:.0f} s to "
            f"{'rest' if idle else 'the settle limit, workers still busy'}; highest "
            f"{readings[-1][2]:.0f} MB)"
        )

    readings = []
    out("after warm-up: " + reading(0.0))
    used = 0.0
    while used < 60.0 * minutes - 1e-6:
        span = min(every, 60.0 * minutes - used)
        if not user.use_for(span):
            raise RuntimeError("the window closed during the soak")
        used += span
        line = reading(used)
        out(f"{used / 60:5.1f} min: {line}, {readings[-1][1] - readings[0][1]:+.0f} MB since warm-up")
    out("gestures: " + ", ".join(f"{name} {count}" for name, count in sorted(user.done.items())))
    return readings


def main(args):
    from bench.startup import start_display

    if args.minutes <= 0 or args.warmup < 0 or args.every <= 0:
        print("app.py bench soak: --minutes and --every must be above 0, --warmup at least 0", file=sys.stderr)
        return 2
    server = None
    if not os.environ.get("DISPLAY"):
        server, display = start_display()
        if server is None:
            print("app.py bench soak: needs a display (set DISPLAY) or Xvfb", file=sys.stderr)
            return 1
        os.environ["DISPLAY"] = display
        print(f"(no DISPLAY: the window opens on an Xvfb server, {display})")
    scratch = tempfile.TemporaryDirectory()
    null_sound = Path(scratch.name) / "alsa-null.conf"
    null_sound.write_text("pcm.!default { type null }\nctl.!default { type hw card 0 }\n")
    os.environ.setdefault("ALSA_CONFIG_PATH", str(null_sound))  # before sounddevice loads
    from gui.window import GuiApp, GuiOptions

    print("load average before (1, 5, 15 min): " + ", ".join(f"{v:.2f}" for v in os.getloadavg()) + f" on {os.cpu_count()} cores")
    app = GuiApp(
        GuiOptions(
            models_dir=args.models,
            settings_path=str(Path(scratch.name) / "settings.json"),
            favourites_dir=str(Path(scratch.name) / "favourites"),
            seed=args.seed,
        )
    )
    try:
        app.open()
        readings = soak(
            app,
            minutes=args.minutes,
            warmup=args.warmup,
            every=args.every,
            settle=args.settle,
            seed=args.seed,
            load_timeout=args.load_timeout,
            out=lambda line: print(line, flush=True),
        )
    except RuntimeError as error:
        print(f"app.py bench soak: {error}", file=sys.stderr)
        return 1
    finally:
        app.close()
        scratch.cleanup()
        if server is not None:
            server.terminate()
            server.wait(10)
    growth = readings[-1][1] - readings[0][1]
    print(
        f"window memory at rest: {readings[0][1]:.0f} MB after warm-up, {readings[-1][1]:.0f} MB "
        f"after {readings[-1][0] / 60:.1f} min of random use: {growth:+.0f} MB (highest seen "
        f"{max(r[2] for r in readings):.0f} MB); load average after: " + ", ".join(f"{v:.2f}" for v in os.getloadavg())
    )
    print(f"target: growth <= {GROWTH_MB:g} MB over the soak: {'met' if growth <= GROWTH_MB else 'NOT met'} ({growth:+.0f} MB)")
    return 0
