"""What a redemption waits for while the worker applies a batch: the store's advisory lock.

A storefront redemption (app/loyalty/redemptions.py) takes the same per-store advisory lock as the inbox
worker (app/platform/locks.lock_store), which holds it for its part of a batch. So bigger batches, which
raise the worker's rate, also lengthen that wait. This thread measures it beside the rate: every `every`
seconds it opens a transaction on its own connection, takes one store's lock (the stores in turn), times
the wait and commits at once, as a redemption would before its own short work.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.platform.locks import LOCK_NAMESPACE as _LOCK_NAMESPACE


class LockProbe(threading.Thread):
    def __init__(self, engine: Engine, every: float = 0.02) -> None:
        super().__init__(name="lock-probe", daemon=True)
        self.engine, self.every = engine, every
        self.waits: list[float] = []  # seconds
        self._halt = threading.Event()

    def run(self) -> None:
        with self.engine.connect() as conn:
            stores = list(conn.execute(text("SELECT id FROM stores ORDER BY id")).scalars())
            conn.commit()
            turn = 0
            while not self._halt.wait(self.every):
                started = time.perf_counter()
                conn.execute(text("SELECT pg_advisory_xact_lock(:ns, :k)"), {"ns": _LOCK_NAMESPACE, "k": stores[turn]})
                self.waits.append(time.perf_counter() - started)
                conn.commit()
                turn = (turn + 1) % len(stores)

    def stop(self) -> str:
        """Stop, and the waits as one line (milliseconds)."""
        self._halt.set()
        self.join()
        waits = sorted(self.waits)
        if not waits:
            return "no probe ran"

        def pick(q: float) -> float:
            return waits[min(len(waits) - 1, int(q * len(waits)))] * 1000

        return (
            f"p50 {pick(0.5):.1f} ms, p99 {pick(0.99):.1f} ms, max {waits[-1] * 1000:.1f} ms "
            f"over {len(waits)} probes, one every {self.every * 1000:.0f} ms"
        )
