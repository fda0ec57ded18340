"""The targets a percussive model (ddsp_vae) is held to, checked from a report's numbers.

``target_checks`` compares one candidate model (``ddsp_vae`` by default) with the other
models and with the reference rows, and says for each target whether it holds. The report
prints them as a list under the table when the candidate was evaluated.
"""

from dataclasses import dataclass

import numpy as np

CANDIDATE = "ddsp_vae"
CEILING = "real training sounds"
FAMILY_SHARE = 0.05
FAMILIES_NEEDED = 5
RECOGNISABLE = 0.75
DECODE_MS = 3.0


@dataclass(frozen=True)
class TargetCheck:
    """One target: what it asks, what the candidate scored, and whether it holds.

    ``holds`` is None when a number it needs is missing.
    """

    target: str
    value: str
    holds: bool | None

    def line(self):
        mark = {True: "holds", False: "MISSED", None: "unknown"}[self.holds]
        return f"- {self.target}: {self.value} ({mark})"


def _value(metrics, key):
    value = (metrics or {}).get(key)
    return float(value) if value is not None and np.isfinite(value) else None


def _beats_others(name, records, key, lower_is_better):
    mine = _value(records[name]["metrics"], key)
    others = {other: _value(record["metrics"], key) for other, record in records.items() if other != name}
    others = {other: value for other, value in others.items() if value is not None}
    if mine is None or not others:
        return TargetCheck(f"{key}: better than each of the other {len(others)} models", "–" if mine is None else f"{mine:.3g}", None)
    best_other = min(others, key=others.__getitem__) if lower_is_better else max(others, key=others.__getitem__)
    holds = (mine < others[best_other]) if lower_is_better else (mine > others[best_other])
    return TargetCheck(
        f"{key}: better than each of the other {len(others)} models",
        f"{mine:.3g} against {best_other}'s {others[best_other]:.3g}",
        holds,
    )


def target_checks(records, references=None, candidate=CANDIDATE):
    """Check the issue's targets for one model of a report.

    Parameters
    ----------
    records : dict of str -> dict
        Model name -> record (``metrics``, ``details``), as the report gets them.
    references : dict of str -> dict or None
        ``reference.reference_rows``; the ceiling is its "real training sounds" row.
    candidate : str
        The model held to the targets.

    Returns
    -------
    checks : list of TargetCheck
        Empty when the candidate is not among ``records``.
    """
    if candidate not in records:
        return []
    metrics = records[candidate]["metrics"]
    checks = [
        _beats_others(candidate, records, "recall", False),
        _beats_others(candidate, records, "coverage", False),
        _beats_others(candidate, records, "frechet", True),
    ]
    checks += _ceiling_checks(metrics, ((references or {}).get(CEILING) or {}).get("metrics"))
    checks.append(_families_check((records[candidate].get("details") or {}).get("families")))
    value = _value(metrics, "recognisable")
    checks.append(
        TargetCheck(
            f"recognisable ≥ {RECOGNISABLE}",
            "–" if value is None else f"{value:.3f}",
            None if value is None else value >= RECOGNISABLE,
        )
    )
    checks.append(_reconstruction_check(candidate, records))
    bad = {key: _value(metrics, key) for key in ("nonfinite", "silent", "beyond_full_scale")}
    checks.append(
        TargetCheck(
            "no NaN, silent or beyond-full-scale sound on the 16 × 16 grid",
            ", ".join(f"{key} {'–' if v is None else f'{v:.1%}'}" for key, v in bad.items()),
            None if None in bad.values() else not any(bad.values()),
        )
    )
    value = _value(metrics, "decode_ms")
    checks.append(
        TargetCheck(
            f"decode one point in ≤ {DECODE_MS:g} ms",
            "–" if value is None else f"{value:.2f} ms",
            None if value is None else value <= DECODE_MS,
        )
    )
    return checks


def _ceiling_checks(metrics, ceiling):
    """Recall and coverage against half the real training sounds' (the ceiling's)."""
    checks = []
    for key in ("recall", "coverage"):
        mine, best = _value(metrics, key), _value(ceiling, key)
        checks.append(
            TargetCheck(
                f"{key}: at least half the real training sounds' row",
                f"{mine:.3g} against {best:.3g} / 2" if None not in (mine, best) else "–",
                None if None in (mine, best) else mine >= best / 2,
            )
        )
    return checks


def _families_check(families):
    """Whether enough families hold their share of the candidate's grid."""
    if not families:
        return TargetCheck(f"at least {FAMILIES_NEEDED} families hold ≥ {FAMILY_SHARE:.0%} of the grid", "–", None)
    held = [family for family, share in families.items() if share >= FAMILY_SHARE]
    return TargetCheck(
        f"at least {FAMILIES_NEEDED} of the 7 families hold ≥ {FAMILY_SHARE:.0%} of the grid",
        f"{len(held)} ({', '.join(held) or 'none'})",
        len(held) >= FAMILIES_NEEDED,
    )


def _reconstruction_check(candidate, records):
    """Whether the candidate reconstructs no worse than the best other model."""
    mine = _value(records[candidate]["metrics"], "recon_stft")
    others = {name: _value(record["metrics"], "recon_stft") for name, record in records.items() if name != candidate}
    others = {name: v for name, v in others.items() if v is not None}
    if mine is None or not others:
        return TargetCheck("recon MR-STFT no worse than the best of the others", "–", None)
    best = min(others, key=others.__getitem__)
    return TargetCheck(
        "recon MR-STFT no worse than the best of the others", f"{mine:.3f} against {best}'s {others[best]:.3f}", mine <= others[best]
    )
