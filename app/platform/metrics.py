"""Prometheus metrics: the named counters and histograms every process writes, and the text a scrape reads.

Every web, worker and scheduler process increments its own values. With PROMETHEUS_MULTIPROC_DIR set (production
and `flask serve`: gunicorn's workers, the rq workers and the scheduler are separate processes), prometheus_client
keeps each process's values in memory-mapped files in that folder and a scrape of any web process adds them up
(https://prometheus.github.io/client_python/multiprocess/): the folder must be empty when the processes start and
shared by all of them on a host. Without it (tests, one process) the values live in this process's registry.
prometheus_client reads the variable when it is first imported, so it is set before any process starts.

What is counted where: webhooks by platform, topic and answer (inbox/routes.py, once per answer, the door's and
the views'); deliveries processed by outcome (inbox/tasks.py); outbox failures and retries by kind (the features'
jobs); storefront requests by route and status with their latency (storefront/door.py and the blueprint's
hooks); Shopify throttle waits (`throttle_waited`, for the callers that pace themselves). Gauges that describe the
database (inbox depth and age per store, outbox depths) are not kept by any process: the packages that own the
tables register a `Collector` (`register_collector`), and a scrape runs their queries then.
Names: https://prometheus.io/docs/practices/naming/ (a `ppe_` prefix, `_total` counters, `_seconds` units).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

#: A database collector: runs at scrape time with the scrape's session and yields its metric families.
Collector = Callable[[Session], Iterable[Metric]]
_COLLECTORS: list[Collector] = []
#: kind -> (model, the condition of a row still to be sent): the outboxes whose depth a scrape counts.
_OUTBOXES: dict[str, tuple[type[Any], ColumnElement[bool]]] = {}

WEBHOOKS = Counter(
    "ppe_webhooks_total",
    "Webhook requests answered, by platform, topic (one we support, else 'other') and answer",
    ["platform", "topic", "answer"],
)
DELIVERIES = Counter(
    "ppe_inbox_deliveries_processed_total",
    "Inbox deliveries a worker finished, by outcome (done, failed, pending: put back for a retry, skipped)",
    ["outcome"],
)
OUTBOX_FAILURES = Counter(
    "ppe_outbox_failures_total",
    "Outbox rows given up on (failed for good), by kind (message, loyalty_writeback, review_publication...)",
    ["kind"],
)
OUTBOX_RETRIES = Counter(
    "ppe_outbox_retries_total",
    "Outbox attempts that failed and were scheduled again, by kind",
    ["kind"],
)
STOREFRONT_REQUESTS = Histogram(
    "ppe_storefront_request_seconds",
    "Storefront API requests by route template and status: latency in the app (the _count is the request count)",
    ["route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
THROTTLE_WAITS = Histogram(
    "ppe_shopify_throttle_wait_seconds",
    "Waits for Shopify's GraphQL cost budget before a call (the _count is how many calls waited)",
    ["operation"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0),
)


#: The webhook counter's children by labels: labels() validates and locks on every call, on the hottest path.
_WEBHOOK_CHILDREN: dict[tuple[str, str, str], Any] = {}


def webhook_answered(platform: str, topic: str, answer: str) -> None:
    key = (platform, topic, answer)
    child = _WEBHOOK_CHILDREN.get(key)
    if child is None:
        child = _WEBHOOK_CHILDREN[key] = WEBHOOKS.labels(platform, topic, answer)
    child.inc()


def deliveries_processed(counts: dict[str, int]) -> None:
    for outcome, count in counts.items():
        DELIVERIES.labels(outcome).inc(count)


def outbox_failed(kind: str, count: int = 1) -> None:
    OUTBOX_FAILURES.labels(kind).inc(count)


def outbox_retried(kind: str, count: int = 1) -> None:
    OUTBOX_RETRIES.labels(kind).inc(count)


def storefront_answered(route: str, status: int, seconds: float) -> None:
    STOREFRONT_REQUESTS.labels(route, str(status)).observe(seconds)


def throttle_waited(seconds: float, operation: str = "graphql") -> None:
    """A caller waited `seconds` for Shopify's cost budget (the throttle pacer calls this after each wait)."""
    THROTTLE_WAITS.labels(operation).observe(seconds)


def register_collector(collector: Collector) -> None:
    """Add a scrape-time collector (once: a second create_app in one process registers nothing new)."""
    if collector not in _COLLECTORS:
        _COLLECTORS.append(collector)


def gauge(name: str, labels: list[str], rows: Iterable[tuple[list[str], float]]) -> Metric:
    """A gauge family of DATABASE_GAUGES from (label values, value) rows, for collectors."""
    family = GaugeMetricFamily(name, DATABASE_GAUGES[name], labels=labels)
    for values, value in rows:
        family.add_metric(values, value)
    return family


def register_outbox(kind: str, model: type[Any], waiting: ColumnElement[bool]) -> None:
    """Count `model`'s rows matching `waiting` per store at every scrape, as ppe_outbox_depth{kind=...}. The
    condition should be served by an index of the table (a status column leading one)."""
    _OUTBOXES[kind] = (model, waiting)


def _outbox_depths(session: Session) -> Iterable[Metric]:
    rows: list[tuple[list[str], float]] = []
    for kind, (model, waiting) in sorted(_OUTBOXES.items()):
        stmt = select(model.store_id, func.count()).where(waiting).group_by(model.store_id)
        rows.extend(([kind, str(store_id)], float(count)) for store_id, count in session.execute(stmt))
    yield gauge("ppe_outbox_depth", ["kind", "store_id"], rows)


class _Scrape:
    """What one scrape exposes: every process's values (or this process's), then the database collectors'."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def collect(self) -> Iterable[Metric]:
        directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if directory:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, directory)  # type: ignore[no-untyped-call]
            yield from registry.collect()
        else:
            yield from REGISTRY.collect()
        for collector in (*_COLLECTORS, _outbox_depths):
            yield from collector(self.session)


def exposition(session: Session) -> bytes:
    """The text format (version 0.0.4) of every metric, the database's read through `session` (the caller
    ends its transaction)."""
    return generate_latest(_Scrape(session))  # type: ignore[arg-type,unused-ignore]  # any object with collect()


def exported_names() -> set[str]:
    """Every metric family name a scrape can show (counters without their _total), for the dashboard's test."""
    names = {family.name for family in REGISTRY.collect() if family.name.startswith("ppe_")}
    return names | set(DATABASE_GAUGES)


#: The families the database collectors yield (name: help), declared here so the dashboard test and the docs
#: know them even when no collector ran.
DATABASE_GAUGES = {
    "ppe_inbox_depth": "Deliveries not processed yet (pending or being processed), per store",
    "ppe_inbox_oldest_unprocessed_age_seconds": "Age of the oldest delivery not processed yet, per store",
    "ppe_outbox_depth": "Outbox rows waiting to be sent or written back, by kind and store",
}
