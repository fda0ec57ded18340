"""From ``python app.py gui`` to the first sound, beside the time a fresh Python takes to
import TensorFlow, and the window's memory once every shipped model is loaded.

Each run starts a new window process, which appends time stamps (``--startup-stamp``):
window on screen, first model ready, first sound decoded, every model loaded. Once all are
loaded (and ``--settle`` seconds later) its resident and peak memory are read from /proc,
and it is ended. Targets: window within 2 s (DESIGN.md); first sound within 1.5 s and the
window under 500 MB with all models loaded (the engine's targets).

Needs a display: without $DISPLAY, one Xvfb server is started for the whole benchmark
(so no run pays for starting it).
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import memory_mb

ROOT = Path(__file__).resolve().parents[1]
WINDOW_SECONDS = 2.0
SOUND_SECONDS = 1.5
WINDOW_MB = 500


def add_arguments(parser):
    parser.add_argument(
        "--models", metavar="DIR", default=str(ROOT / "trained"), help="zoo folder the window opens on (default: trained/)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (default 3)")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds to wait after all models are loaded before reading memory")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for one run (default 120)")


def start_display():
    """An Xvfb server for the benchmark: (process, display) or (None, None) without Xvfb."""
    read_end, write_end = os.pipe()
    try:
        server = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
            pass_fds=(write_end,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        return None, None
    finally:
        os.close(write_end)
    with os.fdopen(read_end) as pipe:
        number = pipe.readline().strip()
    return server, f":{number}"


def read_stamps(path, started):
    stamps = {}
    if path.exists():
        for line in path.read_text().splitlines():
            what, _, when = line.partition(" ")
            stamps[what] = float(when) - started
    return stamps


def time_window(models, timeout, settle, env):
    """One run: seconds to window / first model / first sound / all loaded, and memory."""
    with tempfile.TemporaryDirectory() as scratch:
        stamp = Path(scratch) / "stamp.txt"
        command = [
            sys.executable,
            str(ROOT / "app.py"),
            "gui",
            "--models",
            str(models),
            "--settings",
            str(Path(scratch) / "settings.json"),
            "--favourites",
            str(Path(scratch) / "favourites"),
            "--startup-stamp",
            str(stamp),
        ]
        started = time.time()
        window = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        try:
            deadline = time.monotonic() + timeout
            stamps = {}
            while "all" not in stamps and window.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
                stamps = read_stamps(stamp, started)
            if "all" not in stamps:
                reason = "exited" if window.poll() is not None else "timed out"
                raise RuntimeError(f"the window never loaded every model ({reason}): got {sorted(stamps)}")
            time.sleep(settle)
            resident, peak = memory_mb(window.pid)
        finally:
            window.terminate()
            window.wait(10)
        return stamps, resident, peak


def time_tensorflow_import(timeout, env):
    """Seconds and peak MB for a fresh Python process to import TensorFlow."""
    started = time.time()
    process = subprocess.Popen(
        [sys.executable, "-c", "import tensorflow"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return time.time() - started, usage.ru_maxrss / 1024


def main(args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    server = None
    if not env.get("DISPLAY"):
        server, display = start_display()
        if server is None:
            print("startup: needs a display (set DISPLAY) or Xvfb", file=sys.stderr)
            return 1
        env["DISPLAY"] = display
        print(f"(no DISPLAY: the windows open on an Xvfb server started once, {display})")
    try:
        print("load average before (1, 5, 15 min): " + ", ".join(f"{v:.2f}" for v in os.getloadavg()) + f" on {os.cpu_count()} cores")
        rows = []
        for run in range(args.repeat):
            stamps, resident, peak = time_window(args.models, args.timeout, args.settle, env)
            tensorflow, tensorflow_mb = time_tensorflow_import(args.timeout, env)
            rows.append(
                (stamps["window"], stamps.get("ready"), stamps.get("sound"), stamps["all"], resident, peak, tensorflow, tensorflow_mb)
            )
            print(
                f"run {run + 1}: window {stamps['window']:.2f} s | first model {stamps.get('ready', 0):.2f} s"
                f" | first sound {stamps.get('sound', float('nan')):.2f} s | all models {stamps['all']:.2f} s"
                f" | memory {resident:.0f} MB (peak {peak:.0f}) | import tensorflow {tensorflow:.2f} s,"
                f" {tensorflow_mb:.0f} MB",
                flush=True,
            )
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
    window, ready, sound, loaded, resident, peak, tensorflow, tensorflow_mb = (
        statistics.median(v for v in column if v is not None) for column in zip(*rows)
    )
    print(
        f"median of {args.repeat}: first sound {sound:.2f} s after launch against "
        f"import tensorflow alone {tensorflow:.2f} s ({tensorflow / sound:.1f}x); window on screen "
        f"{window:.2f} s; first model ready {ready:.2f} s; every model loaded {loaded:.2f} s; window memory {resident:.0f} MB "
        f"(peak {peak:.0f}) against import tensorflow's {tensorflow_mb:.0f} MB"
    )
    for what, value, target, unit in (
        ("window on screen", window, WINDOW_SECONDS, "s"),
        ("first sound", sound, SOUND_SECONDS, "s"),
        ("window memory, all models loaded", resident, WINDOW_MB, "MB"),
    ):
        print(f"target: {what} <= {target:g} {unit}: {'met' if value <= target else 'NOT met'} ({value:.2f} {unit})")
    return 0
