"""Time from starting ``python app.py gui`` to the window on screen, beside the time it takes
a fresh Python to import TensorFlow: the window must not wait for TensorFlow (target: on
screen within 2 s). Also prints when the first model is ready (TensorFlow loaded behind).

Each run starts a new process that writes a time stamp when its window is first on screen
and when its first model is ready, then closes. Needs a display; without one the runs go
through ``xvfb-run`` when it is installed.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 2.0


def add_arguments(parser):
    parser.add_argument("--models", metavar="DIR", default=str(ROOT / "trained"),
                        help="zoo folder the window opens on (default: trained/)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (default 3)")
    parser.add_argument("--timeout", type=float, default=180.0,
                        help="seconds to wait for one run (default 180)")


def _display_prefix():
    if os.environ.get("DISPLAY"):
        return []
    if shutil.which("xvfb-run"):
        return ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24"]
    return None


def time_window(models, timeout, prefix):
    """One run of the app: seconds from start to window on screen and to first model ready."""
    with tempfile.TemporaryDirectory() as scratch:
        stamp = Path(scratch) / "stamp.txt"
        command = prefix + [
            sys.executable, str(ROOT / "app.py"), "gui", "--models", str(models),
            "--settings", str(Path(scratch) / "settings.json"),
            "--favourites", str(Path(scratch) / "favourites"),
            "--startup-stamp", str(stamp), "--quit-when", "ready"]
        started = time.time()
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        stamps = {}
        if stamp.exists():
            for line in stamp.read_text().splitlines():
                what, when = line.split()
                stamps[what] = float(when) - started
        if "window" not in stamps:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"the window never came up (exit {done.returncode}): {tail[0]}")
        return stamps["window"], stamps.get("ready")


def time_tensorflow_import(timeout):
    """Seconds for a fresh Python process to import TensorFlow (start-up included)."""
    started = time.time()
    subprocess.run([sys.executable, "-c", "import tensorflow"], check=True, timeout=timeout,
                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, capture_output=True)
    return time.time() - started


def main(args):
    prefix = _display_prefix()
    if prefix is None:
        print("startup: needs a display (set DISPLAY) or xvfb-run", file=sys.stderr)
        return 1
    if prefix and args.repeat:
        print("(no DISPLAY: running the window under xvfb-run, which adds its own start-up)")
    windows, readies, imports = [], [], []
    for run in range(args.repeat):
        window, ready = time_window(args.models, args.timeout, prefix)
        tensorflow = time_tensorflow_import(args.timeout)
        windows.append(window)
        imports.append(tensorflow)
        if ready is not None:
            readies.append(ready)
        print(f"run {run + 1}: window on screen {window:.2f} s | first model ready "
              f"{'-' if ready is None else f'{ready:.2f} s'} | import tensorflow {tensorflow:.2f} s")
    window = statistics.median(windows)
    tensorflow = statistics.median(imports)
    ready = f"{statistics.median(readies):.2f} s" if readies else "- (no trained model)"
    print(f"median of {args.repeat}: window on screen {window:.2f} s, "
          f"import tensorflow alone {tensorflow:.2f} s (ratio {tensorflow / window:.1f}x), "
          f"first model ready {ready}")
    print(f"target: window within {TARGET_SECONDS:.0f} s: "
          f"{'met' if window <= TARGET_SECONDS else 'NOT met'} ({window:.2f} s)")
    return 0
