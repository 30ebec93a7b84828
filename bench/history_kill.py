"""The history import killed (SIGKILL) half way and resumed, against the same import uninterrupted (issue 25).

    .venv/bin/python -m bench.history_import --orders 20000 --kill-half [--no-points] [--platforms woocommerce]

Two fresh PostgreSQL databases (bench/backends.py), each with one Shopify and one WooCommerce store, and the
stand-in servers of bench/history_import.py (the same data for both, served on loopback from a process of
their own, or with --standins-inline from this one).
Per platform:
1. in the first database, `flask stores import <store>` (the merchant's command, a process of its own) runs
   while this process watches the store's `history_imports` row, and is sent SIGKILL once `orders_done` reaches
   half of `orders_total` (the orders' chunks commit with their cursor: docs/history-import.md) and
   `--kill-delay` seconds more have passed (to land further into the next chunk); what the import's PostgreSQL
   connections were doing then is noted. `--chunk` sets HISTORY_BULK_CHUNK for small runs (one chunk of all
   the orders has no half way);
2. the same command at once: the dead runner's Redis lock still holds (its lease, inbox/history_import.py's
   LEASE_SECONDS), so it must answer "busy"; the bench then lets the lease go (deletes the key, as its lapse
   would; `--lease wait` waits for it instead) and runs the same command again, to the end;
3. in the second database, the same command uninterrupted;
4. both stores' records compared table by table (bench/history_state.py), by platform ids, counts and checksums.
Times include each command's start (the app's import and set-up, ~2-4 s here): the resumed import pays it twice.
Exits 1 when the end states differ.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, cast

from redis import Redis
from sqlalchemy import text

from .backends import BIN, ROOT, Backends
from .history_state import differences, snapshot, summary

POLL = 0.05  # seconds between two reads of the progress row


def _command(env: dict[str, str], store_id: int, points: bool, log: Path) -> subprocess.Popen[bytes]:
    args = [str(BIN / "flask"), "--app", "wsgi", "stores", "import", str(store_id)]
    with log.open("ab") as err:  # the progress bar's lines (stderr); the import's JSON on stdout
        return subprocess.Popen(
            [*args, "--points" if points else "--no-points"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=err
        )


def _finish(env: dict[str, str], store_id: int, points: bool, log: Path) -> tuple[float, int, dict[str, Any]]:
    """(seconds, exit code, the JSON it printed or {}) of the command run to its end."""
    started = time.perf_counter()
    proc = _command(env, store_id, points, log)
    out, _ = proc.communicate()
    try:
        shown = json.loads(out) if proc.returncode == 0 else {}
    except json.JSONDecodeError:
        shown = {}
    return time.perf_counter() - started, proc.returncode, shown


def _progress(backends: Backends, store_id: int) -> tuple[Any, ...] | None:
    with backends.engine.connect() as conn:
        row = conn.execute(
            text("SELECT status, phase, orders_done, orders_total FROM history_imports WHERE store_id = :s"),
            {"s": store_id},
        ).first()
    return tuple(row) if row is not None else None


def _open_work(backends: Backends) -> list[str]:
    """What the import's connections were doing just before the kill: a transaction open (a chunk being written)
    or not (the next chunk being read and parsed). The bench's own connections are idle."""
    with backends.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT state, left(regexp_replace(query, '\\s+', ' ', 'g'), 70) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'"
            )
        )
        return [f"{state}: {query}" for state, query in rows]


def _kill_at_half(
    backends: Backends, env: dict[str, str], store_id: int, points: bool, log: Path, delay: float
) -> dict[str, Any]:
    started = time.perf_counter()
    proc = _command(env, store_id, points, log)
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"store {store_id}: the import ended ({proc.returncode}) before half its orders")
        row = _progress(backends, store_id)
        if row is not None and row[3] and row[2] * 2 >= row[3]:
            if row[2] >= row[3]:  # one chunk held them all: no half way to kill at (--chunk)
                raise RuntimeError(f"store {store_id}: all {row[3]} orders committed at once; pass a smaller --chunk")
            time.sleep(delay)  # --kill-delay: further into the next chunk
            busy = _open_work(backends)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            killed_at = time.perf_counter() - started
            break
        time.sleep(POLL)
    return {
        "seconds_to_kill": round(killed_at, 2),
        "seen_before_kill": {"orders_done": row[2], "orders_total": row[3]},
        "row_after_kill": dict(
            zip(("status", "phase", "orders_done", "orders_total"), _progress(backends, store_id) or (), strict=False)
        ),
        "exit": proc.returncode,
        "import_connections_at_kill": busy,
    }


def _let_lease_go(redis_url: str, store_id: int, wait: bool) -> float:
    """The dead runner's lock (inbox/history_import.run's key): its milliseconds left, then gone."""
    redis = Redis.from_url(redis_url)
    key = f"history_import:{{store:{store_id}}}"
    try:
        left = float(cast(int, redis.pttl(key)))  # a sync client: not an Awaitable
        if wait:
            while redis.exists(key):
                time.sleep(1)
        else:
            redis.delete(key)
    finally:
        redis.close()
    return left / 1000


def _platform(
    args: argparse.Namespace, pair: list[tuple[Backends, dict[str, str], dict[str, int]]], label: str, logs: Path
) -> dict[str, Any]:
    (killed, killed_env, killed_ids), (whole, whole_env, whole_ids) = pair
    store, other = killed_ids[label], whole_ids[label]
    log = logs / f"{label}.log"
    load = [round(os.getloadavg()[0], 1)]
    figures: dict[str, Any] = _kill_at_half(killed, killed_env, store, args.points, log, args.kill_delay)
    # Right after the kill the dead runner's lock still holds: the command must say "busy" and change nothing.
    before = log.stat().st_size
    _, code, _ = _finish(killed_env, store, args.points, log)
    with log.open("rb") as said:
        said.seek(before)
        figures["busy_right_after_kill"] = code != 0 and b"another runner" in said.read()
    figures["lease_seconds_left"] = round(_let_lease_go(args.redis_url, store, args.lease == "wait"), 1)
    seconds, code, shown = _finish(killed_env, store, args.points, log)
    if code != 0 or shown.get("status") != "done":
        raise RuntimeError(f"{label}: the resumed import ended {code} {shown}; see {log}")
    figures["resumed_seconds"] = round(seconds, 2)
    figures["killed_and_resumed_seconds"] = round(figures["seconds_to_kill"] + seconds, 2)
    load.append(round(os.getloadavg()[0], 1))
    seconds, code, shown = _finish(whole_env, other, args.points, log)
    if code != 0 or shown.get("status") != "done":
        raise RuntimeError(f"{label}: the uninterrupted import ended {code} {shown}; see {log}")
    figures["uninterrupted_seconds"] = round(seconds, 2)
    load.append(round(os.getloadavg()[0], 1))
    figures["load_average"] = load
    left, right = snapshot(killed.engine, store), snapshot(whole.engine, other)
    figures["tables"] = summary(left)
    figures["differences"] = differences(left, right)
    figures["same_end_state"] = not figures["differences"]
    if len(left["orders"]) != args.orders:
        figures["differences"].append(f"orders: {len(left['orders'])} recorded of {args.orders}")
        figures["same_end_state"] = False
    return figures


def _stores(backends: Backends, env: dict[str, str], site: Any) -> dict[str, int]:
    """One Shopify and one WooCommerce store, added in this process by an app on that database."""
    os.environ.update(env)
    from app import create_app
    from app.config import Config
    from app.extensions import db
    from tests.helpers import add_store, add_woo_store_at

    app = create_app(Config())
    with app.app_context():
        ids = {"shopify": add_store("shopify", currency="EUR").id, "woocommerce": add_woo_store_at(site).id}
        db.session.remove()
    return ids


def run(args: argparse.Namespace) -> tuple[dict[str, Any], bool]:
    from .history_import import _copy_rate
    from .history_standins import standins

    customers = max(1, args.orders // 5)
    figures: dict[str, Any] = {
        "orders": args.orders,
        "customers": customers,
        "points": args.points,
        "kill_delay": args.kill_delay,
        "chunk": args.chunk or "HISTORY_BULK_CHUNK's default",
    }
    bases = [Backends(args.database_url, args.redis_url) for _ in range(2)]  # killed and resumed; uninterrupted
    logs = Path(tempfile.mkdtemp(prefix="ppe-history-kill-"))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the stand-ins' request lines
    with standins(
        args.orders, customers, args.platforms, apart=not args.standins_inline, bulk_files=args.bulk_files
    ) as (shopify, site):
        pair = []
        try:
            for backends in bases:
                backends.create(stores=False)
                env = {
                    **backends.env,
                    "SHOPIFY_ADMIN_ORIGIN": shopify.origin(),
                    "HISTORY_POLL_SECONDS": "0.05",
                    "HISTORY_IMPORT_ON_INSTALL": "0",  # the bench starts the imports itself
                    **({"HISTORY_BULK_CHUNK": str(args.chunk)} if args.chunk else {}),
                }
                pair.append((backends, env, _stores(backends, env, site)))
            for label in ("shopify", "woocommerce"):
                if label in args.platforms:
                    figures[label] = _platform(args, pair, label, logs)
            # the baseline in the same run: COPY of as many rows as one store's import writes (history_import.py)
            rate, rows = _copy_rate(bases[1], args.orders, customers)
            figures["postgres_copy"] = {"rows": rows, "rows_per_second": round(rate)}
        finally:
            for backends in bases:
                backends.drop()
    figures["logs"] = str(logs)
    same = all(figures[label]["same_end_state"] for label in ("shopify", "woocommerce") if label in figures)
    return figures, same


def report(figures: dict[str, Any]) -> None:
    for label in ("shopify", "woocommerce"):
        if label not in figures:
            continue
        f = figures[label]
        seen, kill = f["seen_before_kill"], f"+{figures['kill_delay']} s"
        at_kill = "; ".join(f["import_connections_at_kill"]) or "no statement or transaction open"
        print(
            f"{label}: killed after {f['seconds_to_kill']} s, at {seen['orders_done']} of {seen['orders_total']}"
            f" orders committed ({kill}; the import's connections: {at_kill}); busy right after the kill: "
            f"{'yes' if f['busy_right_after_kill'] else 'no'}; resumed part {f['resumed_seconds']} s; whole "
            f"{f['killed_and_resumed_seconds']} s; uninterrupted {f['uninterrupted_seconds']} s; "
            f"load average {f['load_average']}"
        )
        print(f"{label}: same end state: {'yes' if f['same_end_state'] else 'no'}")
        for line in f["differences"][:20]:
            print(f"  {line}")


def main(args: argparse.Namespace) -> int:
    Backends(args.database_url, args.redis_url).check_redis()
    figures, same = run(args)
    print(json.dumps(figures, indent=2))
    report(figures)
    return 0 if same else 1
