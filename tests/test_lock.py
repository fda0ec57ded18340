"""The lock files agree with setup.cfg and with each other.

``make install`` installs requirements.lock with ``--require-hashes``; the container installs
deploy/requirements-serve.txt. A bound raised in setup.cfg without ``make lock``, or a serve
lock left at other versions, would install what no test ran.
"""

import configparser
import re
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^ ;\\]+)")
# the machines the lock is resolved for (Makefile: `make lock`)
TARGET = {**default_environment(), "platform_machine": "x86_64", "sys_platform": "linux", "python_version": "3.11"}


def pins(path):
    """``{name: version}`` of a pip-compile output, and whether every pin carries a hash."""
    text = path.read_text()
    found = {canonicalize_name(m.group(1)): m.group(2) for m in map(PIN.match, text.splitlines()) if m}
    blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", text.split("\n", 1)[1])
    hashed = all("--hash=sha256:" in block for block in blocks if PIN.match(block))
    return found, hashed


def declared_requirements():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    lines = config["options"]["install_requires"].splitlines()
    lines += config["options.extras_require"]["test"].splitlines()
    return [Requirement(line) for line in (line.strip() for line in lines) if line and not line.startswith("#")]


def test_every_declared_requirement_is_locked_within_its_bounds_with_hashes():
    locked, hashed = pins(ROOT / "requirements.lock")
    assert hashed, "requirements.lock: a pin without --hash (run `make lock`)"
    for requirement in declared_requirements():
        if requirement.marker is not None and not requirement.marker.evaluate(TARGET):
            continue
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement}: not in requirements.lock (run `make lock`)"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"{requirement}: requirements.lock has {locked[name]} (run `make lock`)"
        )


def test_the_containers_lock_pins_the_versions_the_tests_ran():
    locked, _ = pins(ROOT / "requirements.lock")
    served, hashed = pins(ROOT / "deploy" / "requirements-serve.txt")
    assert hashed
    assert "tensorflow-cpu" not in served and "pysimplegui" not in served
    differing = {name: (version, locked.get(name)) for name, version in served.items() if locked.get(name) != version}
    assert not differing, f"deploy/requirements-serve.txt differs from requirements.lock: {differing}"
