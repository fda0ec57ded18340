"""The fixed train/validation split: whole kits are held out.

A held-out kit says more about a model than held-out velocity layers of a drum it has
already heard. Kits are visited in the order of a hash of their names, so the choice does
not depend on the order files were found in, and added while the held-out share stays at
or under the target; the result is the same on every machine and every run.
"""

import hashlib

VALIDATION_FRACTION = 0.15


def _order(kit):
    return hashlib.sha1(kit.encode("utf-8", "surrogateescape")).hexdigest()


def choose_validation_kits(counts, fraction=VALIDATION_FRACTION):
    """Pick the kits to hold out.

    Parameters
    ----------
    counts : dict of str -> int
        Usable samples per kit.
    fraction : float
        Target share of samples held out.

    Returns
    -------
    list of str
        Sorted kit names; empty when there is only one kit (nothing would be left to
        train on). When every kit is larger than the target, the smallest kit is held out
        if it leaves at least half of the samples for training.
    """
    counts = {kit: n for kit, n in counts.items() if n > 0}
    if len(counts) < 2:
        return []
    total = sum(counts.values())
    target = fraction * total
    chosen, held = [], 0
    for kit in sorted(counts, key=_order):
        if held + counts[kit] <= target:
            chosen.append(kit)
            held += counts[kit]
    if not chosen:
        smallest = min(counts, key=lambda k: (counts[k], _order(k)))
        if counts[smallest] * 2 <= total:
            chosen = [smallest]
    return sorted(chosen)
