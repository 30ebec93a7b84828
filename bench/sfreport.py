"""bench/storefront.py's records and report: the targets, one load run's figures, the table, the widget's size."""

from __future__ import annotations

import gzip
import os
import secrets
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from redis import Redis

from .backends import ROOT, Server

WIDGET = ROOT / "app" / "storefront" / "static"


@dataclass
class Target:
    label: str
    server: Server
    requests: list[str]
    expected: list[Any]  # the parsed JSON answer expected for request n (n < len)
    maxima: list[Any] = field(default_factory=list)  # closed-loop results, one per round
    half: Any = None
    cached: bool = False  # a balance target: the copies are dropped before each run, its reads counted
    misses: list[float] = field(default_factory=list)  # per run: database reads / requests served


@dataclass
class Run:
    elapsed: float
    latencies: list[float]
    outcomes: Counter[str]
    samples: dict[str, str]
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per process group (bench/cpu.py)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def balance_reads(redis_url: str, drop: bool) -> int:
    """How many balance answers the server processes have read from the database so far (each one a miss of
    their copies; app/storefront/local_state.py adds its counts to STATS_KEY at each sync, so the last 25 ms of
    a run are counted in the next); if `drop`, the global generation is moved too, so the processes drop their
    copies at their next sync and the next run starts cold."""
    redis = Redis.from_url(redis_url)
    try:
        if drop:
            redis.set("sf:balgen", secrets.randbits(62))  # app/loyalty/balance_cache.py's GLOBAL_KEY
        return int(redis.hget("sf:stats", "balance_reads") or 0)
    finally:
        redis.close()


CORES = os.cpu_count() or 1


def report(targets: list[Target]) -> None:
    print(
        f"\n{'endpoint':<24}{'max req/s':>10}{'p99 ms':>8}  {'rounds':<18}{'half: req/s':>12}{'p50 ms':>8}"
        f"{'p99 ms':>8}{'ratio':>7}"
    )
    bare = sum(r.rate for r in targets[0].maxima) / len(targets[0].maxima)
    misses = []
    for target in targets:
        rate = sum(r.rate for r in target.maxima) / len(target.maxima)
        p99 = max(r.pct(0.99) for r in target.maxima)
        rounds = ", ".join(f"{r.rate:.0f}" for r in target.maxima)
        half = target.half
        print(
            f"{target.label:<24}{rate:>10.0f}{p99:>8.1f}  {rounds:<18}{half.rate:>12.0f}{half.pct(0.5):>8.2f}"
            f"{half.pct(0.99):>8.2f}{rate / bare:>7.2f}"
        )
        if target.cached:
            misses.append(f"{target.label}: " + ", ".join(f"{m:.0%}" for m in target.misses))
    print("balance copy misses per run (database reads / requests; warm-up, rounds, half load): " + "; ".join(misses))
    stolen = [
        f"{t.label} {t.half.cpu['steal'] / (t.half.elapsed * CORES):.1%}" for t in targets if "steal" in t.half.cpu
    ]
    if stolen:  # a VM's CPUs lent to others: every latency stretches, whatever the endpoint
        print("CPU time stolen by the hypervisor in the half-load runs: " + ", ".join(stolen))
    cpu_report(targets)


def cpu_report(targets: list[Target]) -> None:
    """Machine-wide CPU per request in the closed-loop rounds, by process group: what each endpoint costs the
    cores that every process here shares (a rate ratio is a ratio of these totals when the cores are full), and
    the share of the cores' time the hypervisor gave to other machines meanwhile (`stolen`, bench/cpu.py)."""
    groups = ("server", "redis", "postgres", "load")
    if not all(group in run.cpu for target in targets for run in target.maxima for group in groups):
        return
    print(f"\nCPU us per request (closed-loop rounds){''.join(f'{g:>10}' for g in groups)}{'total':>10}{'stolen':>8}")
    for target in targets:
        served = sum(len(run.latencies) for run in target.maxima)
        used = [sum(run.cpu[group] for run in target.maxima) / served * 1e6 for group in groups]
        stolen = sum(run.cpu.get("steal", 0.0) for run in target.maxima) / (
            sum(run.elapsed for run in target.maxima) * CORES
        )
        print(f"  {target.label:<38}{''.join(f'{u:>10.0f}' for u in used)}{sum(used):>10.0f}{stolen:>8.1%}")


def widget_sizes() -> str:
    parts = []
    for name in ("widget.js", "widget.css"):
        raw = (WIDGET / name).read_bytes()
        parts.append(f"{name} {len(raw):,} B, gzip -9 {len(gzip.compress(raw, 9)):,} B")
    return "; ".join(parts)


def cleanup_redis(url: str) -> None:
    redis = Redis.from_url(url)
    try:
        for pattern in ("sf:rl:*", "sf:bal*", "sf:stats", "reviews:*"):
            for key in redis.scan_iter(pattern, count=1000):
                redis.delete(key)
    finally:
        redis.close()
