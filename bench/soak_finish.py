"""The end of a soak run: wait for the inbox to drain, then count, check and print."""

from __future__ import annotations

import time
from typing import Any

from .soak_check import check_records, doubles, inbox_rows, not_done, totals
from .soak_report import as_utc, delays, naive, per_minute, processed_per_minute


def drain(run: Any) -> tuple[float, dict[str, int]]:
    """Seconds until no delivery is pending or processing (failed ones count as drained: they are reported)."""
    started = time.monotonic()
    left: dict[str, int] = {}
    while time.monotonic() - started < run.args.drain_timeout:
        try:
            left = not_done(run.backends.engine)
        except Exception as exc:  # noqa: BLE001  (the database may still be recovering)
            left = {"unreadable": 1}
            print(f"drain: {type(exc).__name__}", flush=True)
        if not {k: v for k, v in left.items() if k != "failed"}:
            break
        time.sleep(2)
    return time.monotonic() - started, left


def finish(run: Any) -> bool:
    from .soak import load_results

    # Connections opened before a PostgreSQL restart are dead: start the checks from fresh pools.
    run.backends.engine.dispose()
    with run.app.app_context():
        from app.extensions import db

        db.engine.dispose()
    waited, left = drain(run)
    drained_at = time.time()
    print(f"\ndrain: {waited:.0f} s after the last answer; not done: {left or 'none'}")
    results = load_results(run.logs / "results.json")
    streams = [(results, run.stream)]
    if run.burst is not None:
        streams.append((load_results(run.logs / "burst-results.json"), run.burst_stream))
    rows = inbox_rows(run.backends.engine)
    acked: set[tuple[int, str]] = set()
    counts = {"sent": 0, "answered 200": 0, "ignored": 0, "not acknowledged": 0, "retried": 0}
    for answers, stream in streams:
        for index, _, _, status, result, retries in answers:
            item = stream[index]
            counts["sent"] += 1
            counts["retried"] += bool(retries)
            if status != 200:
                counts["not acknowledged"] += 1
            elif result == "ignored":
                counts["ignored"] += 1
            else:
                counts["answered 200"] += 1
                acked.add((run.ids[item.store], item.dedupe_key))
    processed = sum(1 for key in acked if rows.get(key, ("",))[0] == "done")
    lost = len(acked) - processed
    print("\n== webhooks ==")
    print(", ".join(f"{label} {n}" for label, n in counts.items()))
    print(f"acknowledged (distinct deliveries): {len(acked)}; processed: {processed}; lost: {lost}")
    if lost:
        missing = [key for key in acked if rows.get(key, ("",))[0] != "done"][:10]
        print(f"  e.g. {[(key, rows.get(key, ('no row',))[0]) for key in missing]}")

    print(f"processing delay (received to processed), all deliveries: {delays((r, d) for _, r, d in rows.values())}")
    print("\n== per minute (base stream) ==")
    print("\n".join(per_minute(results, run.send_start)))
    print("\n== processed per minute (all deliveries, inbox processed_at) ==")
    print("\n".join(processed_per_minute(((r, d) for _, r, d in rows.values()), run.send_start)))
    if run.burst is not None:
        report_burst(run, rows)
    if run.events:
        print("\n== failover events ==")
        print("\n".join(f"+{at - run.send_start:5.0f} s  {label}" for at, label in sorted(run.events)))
    print("\n== memory (RSS, whole process groups; a killed process restarts small) ==")
    print("\n".join(run.sampler.report(run.send_start, min(run.send_end, drained_at))))

    problems = check_records(run.app, run.backends.engine, run.specs + ([run.burst] if run.burst else []), run.ids)
    doubled = doubles(run.backends.engine)
    print("\n== records ==")
    print(", ".join(f"{table} {n}" for table, n in totals(run.backends.engine).items()))
    for line in problems[:20]:
        print(f"  MISMATCH {line}")
    print(f"records equal to the generator's expectation: {'yes' if not problems else f'NO, {len(problems)}'}")
    for label, n in doubled.items():
        print(f"doubled {label}: {n}")
    ok = not lost and not problems and not any(doubled.values()) and not counts["not acknowledged"]
    print(f"\nsoak: {'OK' if ok else 'FAILED'}")
    return ok


def report_burst(run: Any, rows: dict[tuple[int, str], tuple[str, Any, Any]]) -> None:
    """Other stores' processing delay (ack to processed) before the burst and during it."""
    burst_id = run.ids[run.burst.index]
    start, end = as_utc(run.burst_start), as_utc(run.burst_end)
    before_from = as_utc(run.burst_start - (run.burst_end - run.burst_start))
    windows: dict[str, list[tuple[Any, Any]]] = {"before": [], "during": []}
    for (store_id, _), (_, received, done) in rows.items():
        if store_id == burst_id:
            continue
        when = naive(received)
        if before_from <= when < start:
            windows["before"].append((received, done))
        elif start <= when < end:
            windows["during"].append((received, done))
    mine = [(r, d) for (s, _), (_, r, d) in rows.items() if s == burst_id]
    size = f"{len(run.burst_stream)} webhooks in {run.args.burst_seconds:g} s"
    print(f"\n== fairness: one store's flash sale ({size}) ==")
    print(f"other stores, the same length of time before the burst: {delays(windows['before'])}")
    print(f"other stores, during the burst:                        {delays(windows['during'])}")
    print(f"the burst store itself:                                {delays(mine)}")
