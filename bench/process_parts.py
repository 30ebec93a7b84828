"""The inbox's cost per store part: the same histories spread over many stores and over few, in one run.

    .venv/bin/python -m bench.process_parts --orders 600 --stores 250 --few 3

A claim is applied one store part at a time (inbox/batch.py: one transaction, lock, preloads and derived work per
store), so when many stores share a claim each part holds one to three deliveries and the part's fixed work is
most of the cost (bench/README.md, "bench/soak.py", the 1,000-store results). Here two fresh PostgreSQL databases
get the scenario histories of bench/process_data.load_inbox (orders created, paid, refunded, fulfilled, delivered,
cancelled; customers; WooCommerce and Shopify alternating): `--orders` orders over `--stores` store pairs, and the
same number over `--few` pairs, the baseline. Each inbox is drained in this process by the worker's own loop
(claim_batch, then process_batch, as inbox/tasks.process_inbox does), timed on the wall clock and on this
process's CPU (the worker's share: PostgreSQL's is left out), with every statement counted and every part (one
advisory lock statement per transaction on PostgreSQL: a store part, or a group of store parts since
inbox/batch_group.py) counted. Then the bench's correctness check (every delivery done, every
customer equal to the scenario's model). `--only many` skips the baseline (for a profile: `--profile FILE`).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import sys
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.config import DEFAULT_INBOX_BATCH_SIZE as BATCH_DEFAULT

from .backends import Backends

COUNTS = {"statements": 0, "parts": 0}


@event.listens_for(Engine, "before_cursor_execute")
def _statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    COUNTS["statements"] += 1
    if statement.startswith("SELECT pg_advisory_xact_lock"):
        COUNTS["parts"] += 1  # once per transaction: a store part's lock, or a group's (inbox/batch_group.py)


def drain(app: Any, args: argparse.Namespace) -> dict[str, float]:
    """The worker's loop (inbox/tasks.process_inbox without the lease renewal and the Redis kick)."""
    from app.extensions import db
    from app.inbox.batch import process_batch
    from app.inbox.processing import claim_batch

    with app.app_context():
        claims = 0
        before = dict(COUNTS)
        profile = cProfile.Profile(time.process_time) if args.profile else None  # CPU, not waits
        wall, cpu = time.perf_counter(), time.process_time()
        if profile:
            profile.enable()
        while ids := claim_batch(db.session, args.batch):
            claims += 1
            process_batch(db.session, ids, 5)
        if profile:
            profile.disable()
            profile.dump_stats(args.profile)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        db.session.remove()
    spent = {key: COUNTS[key] - before[key] for key in COUNTS}
    return {"wall": wall, "cpu": cpu, "claims": claims, **spent}


def one(args: argparse.Namespace, pairs: int) -> tuple[dict[str, float], int, list[str]]:
    from .process_data import load_inbox, verify

    backends = Backends(args.admin_url, args.redis_url)
    try:
        backends.create(stores=False)
        app, scenarios, count = load_inbox(backends, argparse.Namespace(orders=args.orders, stores=pairs))
        figures = drain(app, args)
        problems = verify(app, backends, scenarios, count)
        return figures, count, problems
    finally:
        backends.drop()


def line(label: str, figures: dict[str, float], count: int) -> str:
    parts = max(figures["parts"], 1)
    cpu_ms, statements = figures["cpu"] * 1000, figures["statements"]
    return (
        f"{label}: {count} deliveries, {figures['parts']:.0f} parts ({count / parts:.1f} deliveries per part), "
        f"{figures['claims']:.0f} claims\n"
        f"  {count / figures['wall']:7.1f} deliveries/s, {cpu_ms / count:.2f} ms worker CPU per delivery, "
        f"{cpu_ms / parts:.1f} ms per part; {statements / count:.1f} statements per delivery, "
        f"{statements / parts:.1f} per part   (load average {os.getloadavg()[0]:.1f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Inbox processing's cost per store part: many stores vs few.")
    parser.add_argument(
        "--admin-url", default=os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1/postgres")
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4"))
    parser.add_argument("--orders", type=int, default=600, help="orders in all (about 8 deliveries each)")
    parser.add_argument("--stores", type=int, default=250, help="store pairs (Shopify + WooCommerce) of the run")
    parser.add_argument("--few", type=int, default=3, help="store pairs of the baseline")
    parser.add_argument("--batch", type=int, default=int(os.environ.get("INBOX_BATCH_SIZE", BATCH_DEFAULT)))
    parser.add_argument("--only", choices=("many", "few"), default=None)
    parser.add_argument("--profile", default=None, help="cProfile of the drains to this file")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} before the run")
    ok, rates = True, {}
    for label, pairs in (("few", args.few), ("many", args.stores)):
        if args.only and label != args.only:
            continue
        figures, count, problems = one(args, pairs)
        rates[label] = count / figures["wall"], figures["cpu"] / count
        print(line(f"{label} ({pairs * 2} stores)", figures, count))
        print(f"  correctness check: {'OK' if not problems else problems[:5]}")
        ok = ok and not problems
    if len(rates) == 2:
        (few_rate, few_cpu), (many_rate, many_cpu) = rates["few"], rates["many"]
        print(f"many / few: {many_rate / few_rate:.2f} of the rate, {many_cpu / few_cpu:.2f}x the CPU per delivery")
    print(f"load average {os.getloadavg()[0]:.1f} after the run")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
