"""Where a run's CPU goes, machine-wide: seconds of CPU per process group, read from /proc (Linux).

The storefront bench's servers, Redis, PostgreSQL and the load generator share this machine's cores, so a
target's rate depends on what every one of them spends per request, not on our process alone. The groups:
`server` (the gunicorn master and its workers), `redis` (redis-server), `postgres` (every postgres process:
the backends that run the queries, the WAL writer, ...) and `load` (the load generator, measured by the caller
from its own child-process usage). Not on Linux: empty readings, and the report leaves the columns out.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: str) -> tuple[str, int, float] | None:
    """(command name, parent pid, utime + stime in seconds) of a process, None if it is gone."""
    try:
        raw = (PROC / pid / "stat").read_text()
    except OSError:
        return None
    # The name is in parentheses and may hold spaces; the fields after it are space-separated.
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return name, int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


def reading(server_pid: int) -> dict[str, float]:
    """CPU seconds so far of the server tree rooted at `server_pid`, of redis-server and of postgres."""
    if not PROC.is_dir():
        return {}
    table = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            found = _stat(entry.name)
            if found is not None:
                table[int(entry.name)] = found
    tree = {server_pid}
    grew = True
    while grew:  # the workers are the master's children; one pass per generation
        children = {pid for pid, (_n, parent, _c) in table.items() if parent in tree} - tree
        tree |= children
        grew = bool(children)
    totals = {"server": 0.0, "redis": 0.0, "postgres": 0.0, "steal": _steal()}
    for pid, (name, _parent, cpu) in table.items():
        if pid in tree:
            totals["server"] += cpu
        elif name.startswith("redis-server"):
            totals["redis"] += cpu
        elif name.startswith("postgres"):
            totals["postgres"] += cpu
    return totals


def _steal() -> float:
    # The "cpu" line: user nice system idle iowait irq softirq steal ... in ticks (man 5 proc).
    fields = (PROC / "stat").read_text().split("\n", 1)[0].split()
    return int(fields[8]) / TICKS if len(fields) > 8 else 0.0


def spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {group: after[group] - before[group] for group in after if group in before}


def children() -> float:
    """CPU seconds (user + system) of this process's live children: the stand-ins' process when apart (0 off
    Linux). The stand-ins are the store's machine: their CPU is not the import's, but they share this machine's
    cores with it, so it is reported beside the import's."""
    me, total = os.getpid(), 0.0
    try:
        tasks = list((PROC / str(me) / "task").iterdir())
    except OSError:
        return 0.0
    for task in tasks:
        try:
            kids = (task / "children").read_text().split()
        except OSError:
            continue
        for kid in kids:
            found = _stat(kid)
            total += found[2] if found else 0.0
    return total
