"""Replay a scenario against a running service over real HTTP, then check the records it made.

`replay` signs every delivery and POSTs it from a thread pool (one
requests.Session per thread, so connections are reused); the pool takes the
deliveries in order, so up to `concurrency` neighbours overlap, as they do
when a platform fans out. A 503 (the database was busy) or a dropped
connection is retried a few times, as Shopify would retry it; the report counts
those retries so they are never hidden. A delivery still unanswered after its
retries means the service is gone: the rest are not sent (`report.unreachable`
says why), instead of each waiting out its own retries (app/demo/reach.py).
`inbox_counts`, `store_counts` and `verify`
read the database directly and need an app context's configuration (`app`).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests
from flask import Flask
from sqlalchemy import func, or_, select

from app.demo.reach import TIMEOUTS, explain
from app.demo.scenario import Delivery, Scenario, sign
from app.extensions import db
from app.inbox.models import WebhookDelivery
from app.money import format_money
from app.records.models import Customer, Order

RETRIES = 3


@dataclass
class ReplayReport:
    sent: int = 0  # deliveries attempted (retries not included)
    elapsed: float = 0.0  # seconds, wall clock
    by_status: Counter[int] = field(default_factory=Counter)  # final HTTP status per delivery (0: no response)
    by_result: Counter[str] = field(default_factory=Counter)  # the JSON "status": accepted, duplicate, ignored...
    retries: int = 0
    unreachable: str | None = None  # why the service was given up on, if it was

    @property
    def accepted(self) -> int:
        return self.by_result["accepted"]

    @property
    def duplicates(self) -> int:
        return self.by_result["duplicate"]

    @property
    def rejected(self) -> int:
        """Deliveries that did not end in a 200 (bad signature, unknown store, outage, no answer)."""
        return self.sent - self.by_status[200]

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed if self.elapsed else 0.0


def replay(
    deliveries: Sequence[Delivery],
    base_url: str,
    secrets: dict[str, bytes],
    concurrency: int = 8,
    shuffle_seed: int | None = None,
    on_result: Callable[[ReplayReport], None] | None = None,
) -> ReplayReport:
    """POST every delivery, signed with its platform's secret, to {base_url}/webhooks/<platform>; `on_result` is
    called with the report after each delivery's answer (in this thread, for progress)."""
    queue = list(deliveries)
    if shuffle_seed is not None:
        random.Random(shuffle_seed).shuffle(queue)  # worst-case ordering: the service must converge anyway
    local, sessions, lock = threading.local(), [], threading.Lock()
    gone = threading.Event()
    report = ReplayReport()

    def session() -> requests.Session:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            with lock:
                sessions.append(local.session)
        return local.session

    def send(delivery: Delivery) -> tuple[int, str, int]:
        url = f"{base_url.rstrip('/')}/webhooks/{delivery.platform}"
        headers = sign(delivery, secrets[delivery.platform])
        for attempt in range(RETRIES + 1):
            if gone.is_set():
                return 0, "not sent", attempt
            try:
                response = session().post(url, data=delivery.body, headers=headers, timeout=TIMEOUTS)
            except requests.RequestException as exc:
                if attempt == RETRIES:
                    report.unreachable = report.unreachable or explain(url, exc)
                    gone.set()
                    return 0, "no response", attempt
                time.sleep(0.2 * 2**attempt)
                continue
            if response.status_code == 503 and attempt < RETRIES:
                # The platforms come back minutes later; a demo waits at most a second.
                time.sleep(min(1.0, float(response.headers.get("Retry-After") or 1)))
                continue
            return response.status_code, _result(response), attempt
        raise AssertionError("unreachable")

    started = time.monotonic()
    try:
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            for status, result, retried in pool.map(send, queue):
                report.sent += 1
                report.by_status[status] += 1
                report.by_result[result] += 1
                report.retries += retried
                if on_result is not None:
                    on_result(report)
    finally:
        report.elapsed = time.monotonic() - started
        for opened in sessions:
            opened.close()
    return report


def _result(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return "empty" if not response.content else "not json"
    return str(body.get("status")) if isinstance(body, dict) else "not json"


def inbox_counts(app: Flask, store_ids: Sequence[int]) -> dict[str, int]:
    """The stores' inbox rows by status (pending, processing, done, failed...)."""
    stmt = select(WebhookDelivery.status, func.count()).where(WebhookDelivery.store_id.in_(store_ids))
    stmt = stmt.group_by(WebhookDelivery.status)
    with app.app_context():
        try:
            return {status: count for status, count in db.session.execute(stmt).all()}
        finally:
            db.session.remove()  # never hold a read transaction open against the worker


def store_counts(app: Flask, store_ids: dict[str, int]) -> dict[str, dict[str, int]]:
    """Customers, guests among them, and orders (deleted ones excluded) per platform's store."""
    counts: dict[str, dict[str, int]] = {}
    with app.app_context():
        try:
            for platform, store_id in store_ids.items():
                customers = select(func.count()).select_from(Customer).where(Customer.store_id == store_id)
                orders = select(func.count()).select_from(Order).where(Order.store_id == store_id)
                counts[platform] = {
                    "customers": db.session.scalar(customers) or 0,
                    "guests": db.session.scalar(customers.where(Customer.platform_id.is_(None))) or 0,
                    "orders": db.session.scalar(orders.where(Order.deleted_at.is_(None))) or 0,
                }
        finally:
            db.session.remove()
    return counts


def verify(app: Flask, scenario: Scenario, store_ids: dict[str, int], *, skip_prefix: str | None = None) -> list[str]:
    """Compare every expected customer with its record; one line per difference.

    Also flags records without an email key in these stores: with unique emails
    in the scenario, such a record can only be one identity split in two.
    Other customers (samples sent by hand, earlier runs) are left alone; those whose email key starts with
    `skip_prefix` are not even loaded (the soak's bystanders: a thousand per store, bench/soak_check.py).
    """
    missing = sorted({platform for platform, _ in scenario.expected} - set(store_ids))
    problems = [f"{platform}: no store given, its customers were not checked" for platform in missing]
    with app.app_context():
        try:
            for platform, store_id in sorted(store_ids.items()):
                query = select(Customer).where(Customer.store_id == store_id)
                if skip_prefix:
                    query = query.where(or_(Customer.email_key.is_(None), ~Customer.email_key.startswith(skip_prefix)))
                rows = db.session.scalars(query).all()
                records = {row.email_key: row for row in rows if row.email_key}
                for (wanted_platform, email), want in sorted(scenario.expected.items()):
                    if wanted_platform == platform:
                        problems.extend(_compare(platform, email, want, records.get(email)))
                problems.extend(
                    f"{platform} customer #{row.id} (platform id {row.platform_id}): no email key, a split record?"
                    for row in rows
                    if not row.email_key
                )
        finally:
            db.session.remove()
    return problems


def _compare(platform: str, email: str, want: dict, record: Customer | None) -> list[str]:
    if record is None:
        return [f"{platform} {email}: no customer record (expected {json.dumps(want)})"]
    have = {
        "orders_count": record.orders_count,
        "total_spent": format_money(record.total_spent, record.currency),
        "currency": record.currency,
        "guest": record.is_guest,
    }
    # Without orders the currency is the store's default, not something the history decides.
    fields = ("orders_count", "total_spent", "guest") + (("currency",) if want["orders_count"] else ())
    diffs = [f"{name} {have[name]!r}, expected {want[name]!r}" for name in fields if have[name] != want[name]]
    return [f"{platform} {email}: " + "; ".join(diffs)] if diffs else []
