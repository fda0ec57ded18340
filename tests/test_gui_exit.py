"""The window's process ends cleanly when a worker thread still runs a job at its quit."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# A worker of the window's kind (gui.threads.JobWorker) resampling with soxr, a C++ extension,
# when the window has closed: what a loaded machine met at quit (the process aborted, -6).
BUSY_AT_QUIT = """
import sys, threading
import numpy as np, soxr
from gui.threads import JobWorker, leave_if_busy

audio = np.random.default_rng(0).standard_normal(1 << 16).astype(np.float32)
started = threading.Event()

def job():
    started.set()
    while True:
        soxr.resample(audio, 44100, 22050)

worker = JobWorker("models")
worker.submit(job)
started.wait(30)
worker.stop(timeout=0.5)  # as the window's close asks, and waits a while
print("closed", flush=True)
leave_if_busy(int(sys.argv[1]))
print("not left")
"""


def run_script(*args):
    return subprocess.run([sys.executable, "-c", BUSY_AT_QUIT, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_a_job_still_running_at_quit_ends_the_process_with_the_windows_status():
    for status in (0, 3):
        done = run_script(str(status))
        assert done.returncode == status, done.stderr
        assert done.stdout == "closed\n" and done.stderr == ""


def test_with_no_job_running_the_exit_is_the_interpreters_own():
    idle = BUSY_AT_QUIT.replace("worker.submit(job)\nstarted.wait(30)\n", "").replace("timeout=0.5", "timeout=30")
    done = subprocess.run([sys.executable, "-c", idle, "0"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout == "closed\nnot left\n", done.stderr
