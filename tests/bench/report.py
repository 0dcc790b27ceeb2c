"""Latency samples and the table every benchmark prints (ours beside the baseline, and their ratio)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


@dataclass(frozen=True)
class Latency:
    p50_ms: float
    p99_ms: float
    mean_ms: float
    count: int

    @classmethod
    def of(cls, seconds: list[float]) -> Latency:
        ms = [s * 1000 for s in seconds]
        return cls(percentile(ms, 50), percentile(ms, 99), statistics.fmean(ms), len(ms))


class Table:
    def __init__(self, title: str) -> None:
        self.title = title
        self.rows: list[tuple[str, ...]] = []
        self.notes: list[str] = []

    def latency(self, name: str, ours: Latency, baseline: Latency, baseline_name: str) -> None:
        self.rows.append(
            (
                name,
                f"{ours.p50_ms:.3f}",
                f"{ours.p99_ms:.3f}",
                baseline_name,
                f"{baseline.p50_ms:.3f}",
                f"{baseline.p99_ms:.3f}",
                f"{ours.p50_ms / baseline.p50_ms:.2f}x",
            )
        )

    def throughput(self, name: str, ours_per_s: float, baseline_per_s: float, baseline_name: str) -> None:
        """A rate (operations per second) in the p50 columns; the ratio is ours over the baseline's."""
        self.rows.append(
            (
                name,
                f"{ours_per_s:,.0f}/s",
                "",
                baseline_name,
                f"{baseline_per_s:,.0f}/s",
                "",
                f"{ours_per_s / baseline_per_s:.2f}x",
            )
        )

    def note(self, text: str) -> None:
        """A line printed under the table: sizes, targets, what limited the numbers."""
        self.notes.append(text)

    def print(self) -> None:
        header = ("measure", "p50 ms", "p99 ms", "baseline", "p50 ms", "p99 ms", "p50 ratio")
        widths = [max(len(str(row[i])) for row in [header, *self.rows]) for i in range(len(header))]
        print(f"\n## {self.title}")
        for row in [header, tuple("-" * w for w in widths), *self.rows]:
            print(
                "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip(), flush=True
            )
        for note in self.notes:
            print(f"  - {note}", flush=True)
