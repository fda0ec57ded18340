"""Run the speed benchmarks kept in bench/ and print their ratios, measured side by side.

Each benchmark is a module ``bench/<what>.py`` with ``add_arguments(parser)`` and
``main(args) -> int``; ``python app.py bench WHAT --help`` lists its options.
"""

import importlib
import pkgutil
from pathlib import Path

from commands import UsageError

BENCH_DIR = Path(__file__).resolve().parents[1] / "bench"


def available_benchmarks():
    return sorted(m.name for m in pkgutil.iter_modules([str(BENCH_DIR)]) if not m.name.startswith("_"))


def add_arguments(parser):
    parser.add_argument("what", nargs="?", help="which benchmark (omit to list them)")
    parser.add_argument("rest", nargs="...", help="options for that benchmark")


def run(args):
    names = available_benchmarks()
    if args.what is None:
        print("benchmarks: " + ", ".join(names))
        return 0
    if args.what not in names:
        raise UsageError(f"unknown benchmark '{args.what}'; choose from: {', '.join(names)}")
    import argparse

    module = importlib.import_module(f"bench.{args.what}")
    parser = argparse.ArgumentParser(prog=f"app.py bench {args.what}", description=module.__doc__)
    module.add_arguments(parser)
    return module.main(parser.parse_args(args.rest))
