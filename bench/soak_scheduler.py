"""One scheduler round (every registered step once) over N stores with nothing due, with and without the steps'
`due=` store filter (app/scheduler.for_each_active_store): what a tick costs per store.

    .venv/bin/python -m bench.soak_scheduler --stores 1000 [--rounds 3]

A fresh database on the shared PostgreSQL (bench/backends.py), N stores registered as the soak does
(bench/soak_check.create_stores, no customers), then `--rounds` rounds each way; prints wall and CPU seconds per
round and statements per round. See bench/README.md ("Results at 1,000 stores").
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from .backends import Backends

STATEMENTS = [0]


@event.listens_for(Engine, "before_cursor_execute")
def _count(*_args: Any) -> None:
    STATEMENTS[0] += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    args = parser.parse_args()
    backends = Backends(args.admin_url, args.redis_url)
    backends.create(stores=False)
    try:
        os.environ.update(backends.env)
        from app import create_app, scheduler

        from .soak_check import create_stores
        from .soak_stream import plan_stores

        app = create_app()
        create_stores(app, plan_stores(args.stores, args.stores, 1), 0)
        print(f"load average {'/'.join(f'{x:.1f}' for x in os.getloadavg())}; {args.stores} stores, nothing due")
        original = scheduler.for_each_active_store
        for label, honour in (("every store (due ignored)", False), ("only stores with work due", True)):
            if not honour:
                scheduler.for_each_active_store = _ignoring_due(original)  # type: ignore[assignment]
                _patch_importers(scheduler.for_each_active_store)
            else:
                scheduler.for_each_active_store = original  # type: ignore[assignment]
                _patch_importers(original)
            for _ in range(args.rounds):
                STATEMENTS[0] = 0
                wall, cpu = time.perf_counter(), time.process_time()
                with app.app_context():  # as `flask scheduler` runs them (app/cli/run.py)
                    for step in scheduler.steps():
                        step(app)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                print(f"{label}: {wall:.2f} s wall, {cpu:.2f} s CPU, {STATEMENTS[0]} statements per round")
    finally:
        backends.drop()


def _ignoring_due(original: Any) -> Any:
    def run(*args: Any, due: Any = None, **kwargs: Any) -> Any:
        return original(*args, **kwargs)

    return run


def _patch_importers(function: Any) -> None:
    """The steps imported the name: point each importing module at `function`."""
    import sys

    for module in list(sys.modules.values()):
        if getattr(module, "for_each_active_store", None) is not None and module.__name__.startswith("app."):
            module.for_each_active_store = function  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
