"""Benchmarks: each module prints ratios measured side by side in one run."""

from pathlib import Path


def memory_mb(pid="self"):
    """(resident, peak resident) memory of a process in MB, from /proc."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]
