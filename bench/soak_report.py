"""The soak's figures: per-minute acknowledgement latency and rate, processing delays, memory over time."""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def per_minute(results: list[list[Any]], start: float) -> list[str]:
    """One line per minute of sending: webhooks acknowledged, achieved rate, p50/p99 acknowledgement latency."""
    minutes: dict[int, list[list[Any]]] = defaultdict(list)
    for row in results:
        minutes[int((row[1] - start) // 60)].append(row)
    end = max((row[1] for row in results), default=start)
    lines = [f"{'minute':>6}{'sent':>8}{'acked':>8}{'rate/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'retried':>9}"]
    for minute in sorted(minutes):
        rows = minutes[minute]
        span = min(60.0, max(1.0, end - (start + minute * 60)))
        acked = [r for r in rows if r[3] == 200]
        latencies = [r[2] for r in acked]
        retried = sum(1 for r in rows if r[5])
        lines.append(
            f"{minute + 1:>6}{len(rows):>8}{len(acked):>8}{len(acked) / span:>8.1f}"
            f"{percentile(latencies, 0.5):>9.1f}{percentile(latencies, 0.99):>9.1f}{retried:>9}"
        )
    return lines


def as_utc(epoch: float) -> datetime:
    """The database's UTCDateTime columns come back naive or aware depending on the backend: compare naive UTC."""
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)


def naive(value: datetime) -> datetime:
    return value.replace(tzinfo=None) if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)


def delays(rows: Iterable[tuple[Any, Any]]) -> str:
    """p50/p99 of processed_at - received_at (ack to processed), in seconds."""
    values = [(naive(done) - naive(received)).total_seconds() for received, done in rows if done is not None]
    if not values:
        return "no deliveries"
    return f"{len(values)} deliveries, p50 {percentile(values, 0.5):.2f} s, p99 {percentile(values, 0.99):.2f} s"


def processed_per_minute(rows: Iterable[tuple[Any, Any]], start: float) -> list[str]:
    """Deliveries processed per minute since the stream began (inbox processed_at): what the workers kept up
    with, minute by minute, and how the backlog drained after the last answer."""
    minutes: dict[int, int] = defaultdict(int)
    origin = as_utc(start)
    for _, done in rows:
        if done is not None:
            minutes[int((naive(done) - origin).total_seconds() // 60)] += 1
    lines = [f"{'minute':>6}{'processed':>11}{'rate/s':>8}"]
    lines += [f"{m + 1:>6}{minutes[m]:>11}{minutes[m] / 60:>8.1f}" for m in sorted(minutes)]
    return lines


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process so far (/proc/<pid>/stat fields 14 and 15, after the command's parentheses)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


class RssSampler:
    """Every `every` seconds, the resident memory (kB) of each named process group, and the CPU time of each of
    its processes (the last value seen per pid, so a killed process's CPU still counts), from /proc."""

    def __init__(self, groups: Callable[[], dict[str, list[int]]], every: float = 5.0) -> None:
        self.groups, self.every = groups, every
        self.samples: list[tuple[float, dict[str, int]]] = []
        self.cpu: dict[str, dict[int, float]] = defaultdict(dict)  # label -> pid -> CPU seconds last seen
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self) -> None:
        from .soak_services import rss_kb

        while not self.stop_event.is_set():
            groups = self.groups()
            self.samples.append((time.time(), {label: rss_kb(pids) for label, pids in groups.items()}))
            for label, pids in groups.items():
                for pid in pids:
                    if (seconds := cpu_seconds(pid)) is not None:
                        self.cpu[label][pid] = seconds
            self.stop_event.wait(self.every)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join()

    def report(self, start: float, end: float, warm_up: float = 180.0) -> list[str]:
        """Mean RSS in the first and the last minute of sending, the peak, and the slope after the warm-up (least
        squares over the samples from `warm_up` seconds in to the end, MB a minute) per process group; then each
        group's mean RSS per minute."""
        first = [s for t, s in self.samples if start <= t < start + 60]
        last = [s for t, s in self.samples if end - 60 <= t <= end]
        labels = sorted({label for _, sample in self.samples for label in sample})
        head = f"{'process':<12}{'first min MB':>14}{'last min MB':>13}{'peak MB':>9}{'MB/min after':>14}"
        lines = [f"{head}{'samples':>9}{'CPU s':>8}   (slope from +{warm_up:.0f} s)"]
        series = []
        for label in labels:

            def mean(samples: list[dict[str, int]], key: str = label) -> float:
                values = [s[key] for s in samples if s.get(key)]
                return sum(values) / len(values) / 1024 if values else 0.0

            peak = max((s.get(label, 0) for _, s in self.samples), default=0) / 1024
            cpu = sum(self.cpu[label].values())
            warm = [(t, s[label] / 1024) for t, s in self.samples if start + warm_up <= t <= end and s.get(label)]
            lines.append(
                f"{label:<12}{mean(first):>14.1f}{mean(last):>13.1f}{peak:>9.1f}{slope(warm):>+14.2f}"
                f"{len(self.samples):>9}{cpu:>8.1f}"
            )
            minutes = [
                mean([s for t, s in self.samples if start + 60 * m <= t < min(end, start + 60 * (m + 1))])
                for m in range(max(1, int((end - start + 59) // 60)))
            ]
            series.append(f"{label:<12}" + " ".join(f"{mb:.1f}" for mb in minutes))
        return [*lines, "", "mean RSS per minute (MB):", *series]


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) points, in MB a minute (0 with fewer than two points)."""
    if len(points) < 2:
        return 0.0
    mean_t = sum(t for t, _ in points) / len(points)
    mean_v = sum(v for _, v in points) / len(points)
    var = sum((t - mean_t) ** 2 for t, _ in points)
    cov = sum((t - mean_t) * (v - mean_v) for t, v in points)
    return 60 * cov / var if var else 0.0
