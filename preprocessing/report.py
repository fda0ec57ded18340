"""What a preprocessing run did (:class:`Report`), and its one-line account."""

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from preprocessing import manifest as mf
from preprocessing.labels import LABELS


@dataclass
class Report:
    """What a run did; ``summary()`` is its one-line account."""

    folder: Path
    rows: list
    made: int = 0
    reused: int = 0
    seconds: float = 0.0
    failures: list = field(default_factory=list)  # (source, reason)
    failure_kinds: Counter = field(default_factory=Counter)
    warnings: list = field(default_factory=list)
    validation_kits: list = field(default_factory=list)
    passed_over: list = field(default_factory=list)  # (path, reason): FIFOs, broken links, ...
    cleaned_up: str = ""  # one line: what a run that was stopped had left, now removed

    @property
    def ok_rows(self):
        return [r for r in self.rows if r["status"] == mf.OK]

    @property
    def audio_count(self):
        return sum(1 for r in self.rows if r["status"] != mf.SKIPPED)

    @property
    def skipped(self):
        return sum(1 for r in self.rows if r["status"] == mf.SKIPPED)

    @property
    def family_counts(self):
        counts = Counter(r["family"] for r in self.ok_rows)
        return [(family, counts[family]) for family in LABELS if counts[family]]

    @property
    def files_per_second(self):
        handled = self.made + len(self.failures)
        return handled / self.seconds if self.seconds > 0 else 0.0

    def summary(self):
        """One line: counts, families, failure reasons, held-out kits, speed."""
        ok = len(self.ok_rows)
        parts = [
            f"{ok} of {self.audio_count} audio files ready in {self.folder} "
            f"({self.made} made, {self.reused} up to date), {len(self.failures)} failed, "
            f"{self.skipped} skipped (not audio by name)"
        ]
        parts.append(", ".join(f"{family} {count}" for family, count in self.family_counts) or "no samples")
        if self.failure_kinds:
            parts.append("failed: " + ", ".join(f"{kind} {n}" for kind, n in self.failure_kinds.most_common()))
        if self.validation_kits:
            held = sum(1 for r in self.ok_rows if r.get("split") == mf.VALIDATION)
            share = 100.0 * held / ok if ok else 0.0
            parts.append(f"validation kits: {', '.join(self.validation_kits)} ({held} samples, {share:.1f}%)")
        else:
            parts.append("validation kits: none (fewer than two kits)")
        handled = self.made + len(self.failures)
        speed = f" ({handled} prepared, {self.files_per_second:.0f} files/s)" if handled else ""
        parts.append(f"{self.seconds:.1f} s{speed}")
        return " | ".join(parts)
