"""``app.py generate NAME --at 0,0 -o x.wav`` as a whole process, on the NumPy engine and
on the TensorFlow path, side by side in one run: wall time from launch to exit and peak
resident memory (the kernel's count for that process, from ``wait4``).

The TensorFlow path is the same command with ``models.engine.load_runtime`` swapped for
``models.keras_loader.load_trained`` (the path the command took before the NumPy engine).
Targets: the engine <= 1.5 s and <= 250 MB.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 1.5
TARGET_MB = 250

# The app's own entry point, with the TensorFlow loader in place of the engine's.
TENSORFLOW_PATH = (
    "import runpy, sys; import models.engine, models.keras_loader; "
    "models.engine.load_runtime = models.keras_loader.load_trained; "
    "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


def add_arguments(parser):
    parser.add_argument("name", nargs="?", default="vae_c", help="the model (default vae_c)")
    parser.add_argument("--at", default="0,0", metavar="X,Y", help="the point (default 0,0)")
    parser.add_argument("--folder", default=str(ROOT / "trained"), help="zoo folder (default trained/)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (default 3)")


def run_once(prefix, argv, env):
    """(seconds, peak MB) of one process; RuntimeError with its last line when it fails."""
    started = time.time()
    process = subprocess.Popen(
        [*prefix, str(ROOT / "app.py"), *argv], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.time() - started
    errors = process.stderr.read()
    process.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {(errors.strip().splitlines() or ['?'])[-1]}")
    return seconds, usage.ru_maxrss / 1024


def main(args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    print("load average before (1, 5, 15 min): " + ", ".join(f"{v:.2f}" for v in os.getloadavg()) + f" on {os.cpu_count()} cores")
    paths = {"engine": [sys.executable], "tensorflow": [sys.executable, "-c", TENSORFLOW_PATH]}
    results = {path: [] for path in paths}
    with tempfile.TemporaryDirectory() as scratch:
        for run in range(args.repeat):
            line = []
            for path, prefix in paths.items():  # alternate, so drifting load hits both alike
                out = Path(scratch) / f"{path}_{run}.wav"
                argv = ["generate", args.name, "--at", args.at, "-o", str(out), "--folder", args.folder]
                seconds, peak = run_once(prefix, argv, env)
                results[path].append((seconds, peak))
                line.append(f"{path} {seconds:.2f} s, {peak:.0f} MB")
            print(f"run {run + 1}: " + " | ".join(line), flush=True)
    medians = {path: tuple(statistics.median(v) for v in zip(*rows)) for path, rows in results.items()}
    (engine_s, engine_mb), (tf_s, tf_mb) = medians["engine"], medians["tensorflow"]
    print(
        f"median of {args.repeat}: generate {args.name} --at {args.at}: engine {engine_s:.2f} s, "
        f"{engine_mb:.0f} MB | TensorFlow path {tf_s:.2f} s, {tf_mb:.0f} MB | "
        f"{tf_s / engine_s:.1f}x faster, {tf_mb / engine_mb:.1f}x less memory"
    )
    print(
        f"target: <= {TARGET_SECONDS:g} s and <= {TARGET_MB} MB: "
        f"{'met' if engine_s <= TARGET_SECONDS and engine_mb <= TARGET_MB else 'NOT met'}"
    )
    return 0
