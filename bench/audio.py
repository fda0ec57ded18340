"""Playback: swap latency and callback cost on a real PortAudio output stream.

Loops a drum-like sound and swaps in new ones, as the GUI does while the latent point moves,
and prints:

- the time from ``swap()`` to the end of the callback that delivers the new sound's first
  sample (ms), for immediate swaps and for swaps at the next loop start, with the main
  thread idle and with another Python thread holding the GIL (as a busy GUI or decoder does);
- for next-loop-start swaps, the stream time from the block that took the swap to the loop
  start (ms of audio; at most one loop);
- the callback's worst-case and mean duration (us), and the underruns PortAudio reported.

By default the stream runs on an ALSA null device (nothing is heard; Linux). A null device
takes samples as fast as the callback makes them, which says nothing about latency, so the
"paced" rows hold each callback back (in the player's test tap, whose time is not counted
as the callback's) until the frames delivered so far would have played in real time: the
next callback then comes when a device with a one-block buffer would call it. The
"unpaced" row is the raw null device. What a listener hears adds PortAudio's output
latency, printed too.
"""

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from constants import SAMPLE_LENGTH, SAMPLE_RATE

RATE = SAMPLE_RATE
LENGTH = SAMPLE_LENGTH
NULL_ALSA_CONFIG = "pcm.!default { type null }\nctl.!default { type hw card 0 }\n"


def add_arguments(parser):
    parser.add_argument("--swaps", type=int, default=100, help="swaps per row (default 100)")
    parser.add_argument("--gap", type=float, default=0.25, help="loop gap in seconds (default 0.25)")
    parser.add_argument(
        "--real-device", action="store_true", help="use the default sound device instead of an ALSA null device (audible)"
    )
    parser.add_argument("--device", help="device index or name (with --real-device)")


def drum_sounds(count, seed=0):
    """Decaying noise-plus-tone hits, LENGTH samples at RATE, peak 0.8."""
    rng = np.random.default_rng(seed)
    t = np.arange(LENGTH) / RATE
    sounds = []
    for _ in range(count):
        envelope = np.exp(-t * rng.uniform(8, 30))
        hit = np.sin(2 * np.pi * rng.uniform(60, 250) * t) + rng.uniform(0.2, 0.8) * rng.standard_normal(LENGTH)
        y = envelope * hit
        sounds.append((0.8 * y / np.max(np.abs(y))).astype(np.float32))
    return sounds


class RealTimePacer:
    """A player tap that holds the callback until its frames would have played in real time."""

    def __init__(self, rate):
        self.rate = rate
        self.enabled = False
        self._origin = None

    def __call__(self, block, frame_index):
        if not self.enabled:
            self._origin = None
            return
        now = time.perf_counter()
        if self._origin is None:
            self._origin = now - frame_index / self.rate
        ahead = (frame_index + block.shape[0]) / self.rate - (now - self._origin)
        if ahead > 0:
            time.sleep(ahead)
        elif ahead < -0.1:
            self._origin = now - frame_index / self.rate  # fell far behind: no catch-up burst


class GilHog:
    """Another Python thread that keeps the interpreter busy (holds the GIL) while it runs."""

    def __init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True)

    def _spin(self):
        total = 0
        while not self._stop.is_set():
            for i in range(10000):
                total += i * i

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()


def _wait(condition, timeout):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        # Coarse polling: the latency is read from the callback's own timestamps, and a
        # tight loop here would compete with the callback for the GIL.
        time.sleep(0.002)
    return True


def measure_swaps(player, sounds, count, *, immediate, rng):
    """Swap ``count`` times at random moments.

    Returns
    -------
    wall : np.ndarray
        Seconds from ``swap()`` to the end of the callback that delivered the first sample.
    stream : np.ndarray
        Seconds of audio from the block that took the swap to its first sample.
    """
    wall, stream = [], []
    loop_seconds = (LENGTH + player.mixer.request.gap_frames) / player.stream_rate
    for k in range(count):
        # Immediate swaps: as often as a dragged point sends them. Next-loop swaps: anywhere
        # in the loop, so the wait for the loop start is sampled fairly.
        time.sleep(rng.uniform(0.0, 0.03) if immediate else rng.uniform(0.0, loop_seconds))
        started = time.perf_counter()
        player.swap(sounds[k % len(sounds)], immediate=immediate)
        serial = player.stats().requested_serial
        if not _wait(lambda: player.stats().sounding[0] == serial, 2 * loop_seconds + 5):
            raise RuntimeError("the stream stopped taking samples")
        stats = player.stats()
        _, frame, left_callback = stats.sounding
        picked_serial, picked_frame = stats.picked_up
        wall.append(left_callback - started)
        stream.append((frame - picked_frame) / player.stream_rate if picked_serial == serial else np.nan)
    return np.array(wall), np.array(stream)


def main(args):
    if not args.real_device and "sounddevice" not in sys.modules:
        config = Path(tempfile.gettempdir()) / "mlsg-bench-alsa-null.conf"
        config.write_text(NULL_ALSA_CONFIG)
        os.environ["ALSA_CONFIG_PATH"] = str(config)
    from audio.player import Player

    rng = np.random.default_rng(0)
    sounds = drum_sounds(8)
    pacer = RealTimePacer(RATE)
    with Player(RATE, args.device if args.real_device else None, tap=pacer) as player:
        if not player.available:
            print(f"audio bench: no stream: {player.reason}")
            return 1
        block_ms = _print_setup(player, args)
        player.loop(sounds[0], gap_seconds=args.gap)
        _wait(lambda: player.stats().frames_delivered > 4 * LENGTH, 5)
        print()
        print(
            f"{'swap -> first sample leaves the callback':<42} {'mode':<10} {'mean':>7} {'p95':>7} {'max':>7}"
            f"  {'pick-up -> loop start':>22}   {'callback mean / worst':>22}  underruns"
        )
        paced_immediate = np.zeros(1)
        for plan in _plans(args):
            wall = _measure_row(player, pacer, sounds, rng, plan, args)
            _, paced, busy, _, immediate, _ = plan
            if paced and immediate and not busy:
                paced_immediate = wall
        return _print_summary(player, block_ms, paced_immediate)


def _print_setup(player, args):
    """Print the stream and the loop measured; returns the block's length in ms."""
    from audio.mixer import CROSSFADE_SECONDS

    where = "default device" if args.real_device else "ALSA null device"
    stats = player.stats()
    block_ms = 1e3 * stats.block_frames / player.stream_rate
    print(
        f"stream: {where}, {player.stream_rate} Hz, block {stats.block_frames} frames = {block_ms:.1f} ms, "
        f"PortAudio output latency {1e3 * stats.latency_seconds:.1f} ms, crossfade {1e3 * CROSSFADE_SECONDS:.0f} ms"
    )
    loop_ms = 1e3 * (LENGTH / RATE + args.gap)
    print(
        f"loop: {LENGTH} samples + {args.gap:g} s gap = {loop_ms:.0f} ms; {args.swaps} swaps per row; "
        f"GIL switch interval {1e3 * sys.getswitchinterval():.0f} ms; load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} CPUs"
    )
    return block_ms


def _plans(args):
    """The rows: (label, paced, busy Python thread, GIL switch interval, immediate, swaps)."""
    plans = [
        ("paced, idle main thread", True, False, None, True, args.swaps),
        ("paced, idle main thread", True, False, None, False, max(5, args.swaps // 5)),
        ("paced, busy Python thread", True, True, None, True, args.swaps),
        ("paced, busy thread, switch interval 1 ms", True, True, 0.001, True, args.swaps),
    ]
    if not args.real_device:
        plans.append(("unpaced null device", False, False, None, True, args.swaps))
    return plans


def _measure_row(player, pacer, sounds, rng, plan, args):
    """Measure and print one row; returns the wall-clock seconds of its swaps."""
    label, paced, busy, interval, immediate, swaps = plan
    default_interval = sys.getswitchinterval()
    pacer.enabled = paced and not args.real_device
    sys.setswitchinterval(interval or default_interval)
    time.sleep(0.1)  # let the stream settle into the new pacing
    player.reset_callback_stats()
    underruns = player.stats().underruns
    try:
        if busy:
            with GilHog():
                wall, stream = measure_swaps(player, sounds, swaps, immediate=immediate, rng=rng)
        else:
            wall, stream = measure_swaps(player, sounds, swaps, immediate=immediate, rng=rng)
    finally:
        sys.setswitchinterval(default_interval)
    stream_text = "-" if immediate else f"{1e3 * np.nanmean(stream):.0f} / {1e3 * np.nanmax(stream):.0f} ms"
    stats = player.stats()
    callback_text = f"{1e6 * stats.callback_seconds_mean:.1f} / {1e6 * stats.callback_seconds_max:.0f} us"
    print(
        f"{label:<42} {'immediate' if immediate else 'next loop':<10} {1e3 * wall.mean():7.2f}"
        f" {1e3 * np.percentile(wall, 95):7.2f} {1e3 * wall.max():7.2f}  {stream_text:>22}"
        f"   {callback_text:>22}  {stats.underruns - underruns}"
    )
    return wall


def _print_summary(player, block_ms, paced_immediate):
    """Print the budget and what an immediate swap takes to be heard; 1 after a callback error."""
    print(
        f"(wall-clock ms; the callback's budget is one block = {1e3 * block_ms:.0f} us; "
        f"load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )
    stats = player.stats()
    output_ms = 1e3 * stats.latency_seconds
    p95, worst = 1e3 * np.percentile(paced_immediate, 95), 1e3 * paced_immediate.max()
    print(
        f"immediate swap heard (paced, idle main thread) = to leave the callback + {output_ms:.1f} ms output "
        f"latency: p95 {p95 + output_ms:.1f} ms, worst {worst + output_ms:.1f} ms (target 50 ms)"
    )
    if stats.callback_error is not None:
        print(f"callback error: {stats.callback_error!r}")
        return 1
    return 0
