"""Delivery updates' cost on inbox processing: the same fulfilment-heavy history processed with the journey off and
on, in the same run (issue 23's goal: on within 10% of off).

    .venv/bin/python -m bench.process_delivery --orders 3000 --rounds 2

Each round builds two fresh PostgreSQL databases from the same seeded histories (bench/process_data.load_inbox:
Shopify orders shipped, in transit, delivered, with their fulfilment and carrier-event webhooks; WooCommerce
completions), turns `delivery_updates` on in one of them (every message type), and drains each with one
`rq worker --burst` (bench/process.process). Off and on alternate within a round (off first, then on; the next
round on first), so drift of the machine's load falls on both. It prints each rate, the ratio on/off per round and
the median, how many delivery updates were decided due (the scheduler step journeys/send.py queues them, outside
the inbox's batch, so no scheduler runs here) and the correctness check.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from sqlalchemy import text

from .backends import Backends
from .process import process


def queue_due(app) -> tuple[float, int]:
    """The scheduler's send step run until nothing is due (journeys/send.py): the queueing half of the journey's
    cost, timed, so the "on" rate pays for deciding and queueing alike."""
    from app.journeys.send import send_due

    queued, started = 0, time.perf_counter()
    with app.app_context():
        while True:
            step = send_due(app)["delivery_updates"]
            if not step:
                break
            queued += step
    return time.perf_counter() - started, queued


def one(args: argparse.Namespace, updates: bool) -> tuple[float, float, int]:
    from .process_data import load_inbox, verify

    backends = Backends(args.admin_url, args.redis_url)
    try:
        backends.check_redis()
        backends.create(stores=False)
        app, scenarios, count = load_inbox(backends, args)
        if updates:
            with backends.engine.begin() as conn:
                conn.execute(
                    text("UPDATE stores SET settings = CAST(:value AS json)"),
                    {"value": '{"delivery_updates": {"enabled": true}}'},
                )
        rate, _ = process(backends, args, count)
        whole = rate
        if updates:  # the deliveries' processing time plus the queueing step's
            seconds, _queued = queue_due(app)
            whole = count / (count / rate + seconds)
        problems = verify(app, backends, scenarios, count)
        if problems:
            raise RuntimeError(f"correctness check failed: {problems[:5]}")
        with backends.engine.connect() as conn:
            sent = conn.execute(text("SELECT count(*) FROM messages WHERE dedupe_key LIKE 'delivery:%'")).scalar_one()
        return rate, whole, int(sent)
    finally:
        backends.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Inbox processing with delivery updates on vs off.")
    parser.add_argument(
        "--admin-url", default=os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1/postgres")
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4"))
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--stores", type=int, default=3)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--profile", default=None)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} before the run")
    ratios, wholes = [], []
    for n in range(args.rounds):
        order = (False, True) if n % 2 == 0 else (True, False)
        rates: dict[bool, float] = {}
        whole = 0.0
        for updates in order:
            rates[updates], both, sent = one(args, updates)
            if updates:
                whole = both
                print(f"round {n + 1} delivery updates on : {rates[updates]:8.0f} deliveries/s processing, "
                      f"{both:8.0f} with the queueing step; {sent} messages queued")  # fmt: skip
            else:
                print(f"round {n + 1} delivery updates off: {rates[updates]:8.0f} deliveries/s")
        ratios.append(rates[True] / rates[False])
        wholes.append(whole / rates[False])
        print(f"round {n + 1} ratio on/off: {ratios[-1]:.3f} processing, {wholes[-1]:.3f} with the queueing step "
              f"(load average now {os.getloadavg()[0]:.1f})")  # fmt: skip
    print(f"median ratio on/off over {args.rounds} round(s): {statistics.median(ratios):.3f} processing, "
          f"{statistics.median(wholes):.3f} with the queueing step (goal: at least 0.90)")  # fmt: skip
    print(f"load average after the run {os.getloadavg()[0]:.1f}")
    sys.exit(0)


if __name__ == "__main__":
    main()
