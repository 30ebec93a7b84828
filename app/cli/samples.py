"""`flask webhooks send` (one signed sample webhook) and `flask demo` (a whole store's history).

Both talk to a running service over HTTP, exactly as the platforms do, and sign
with the same secrets the service checks: the app's Shopify client secret, and
a WooCommerce store's own webhook secret from its encrypted credentials.
Secrets are never printed; responses are (they only carry a status word).
"""

from __future__ import annotations

import random
import secrets
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import click
import requests
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import delete

from app.demo import Item, OrderPlan, Person, Step, payloads_shopify, payloads_woocommerce
from app.demo.reach import TIMEOUTS, Unreachable, check_service, explain
from app.demo.replay import ReplayReport, inbox_counts, replay, store_counts, verify
from app.demo.scenario import Delivery, build_scenario, sign
from app.extensions import db
from app.inbox.models import PENDING, PROCESSING, WebhookDelivery
from app.platform.progress import Progress
from app.records.models import Customer, Fulfillment, Order, OrderRefund
from app.security import secret_box
from app.stores.models import Store
from app.stores.service import add_store, find_store

DEMO_SHOP, DEMO_SITE = "demo.myshopify.com", "https://woo.example.com"
# The sample's ids sit far above any scenario's, so a sample never collides with demo records.
SAMPLE_INDEX, SAMPLE_NUMBER = 999_999, 900_001
RENDERERS = {"shopify": payloads_shopify, "woocommerce": payloads_woocommerce}


@click.group("webhooks", help="Send signed sample webhooks.")
def webhooks_cli() -> None:
    pass


# Each platform's sample stories: the first ends cancelled (for orders/cancelled, order.deleted), the second
# is the order most topics show; its bodies win, so a topic's sample is its last body in that story.
SAMPLE_STORIES = {
    "shopify": (("placed", "paid", "cancelled"), ("placed", "paid", "fulfilled", "in_transit", "delivered", "refund")),
    "woocommerce": (("placed", "cancelled", "deleted"), ("placed", "paid", "fulfilled")),
}


def sample_bodies(platform: str, store: str, now: datetime) -> dict[str, bytes]:
    """A body per topic for John Smith (john@example.com), an account holder buying one 199.00 item by card.

    orders/create is that order, paid; order.updated is it completed. Refunds are 20.00; a cancel refunds all.
    """
    renderer = RENDERERS[platform]
    person = Person(platform, SAMPLE_INDEX, "John", "Smith", "john@example.com", renderer.CUSTOMER_BASE + SAMPLE_INDEX)
    person.signup_at = now - timedelta(days=30)
    start = now - timedelta(minutes=10)
    bodies: dict[str, bytes] = {}
    for offset, kinds in enumerate(SAMPLE_STORIES[platform]):
        number = SAMPLE_NUMBER + offset
        item = Item(99, "Burr Grinder Pro", Decimal("199.00"), 1)
        plan = OrderPlan(platform, number, renderer.ORDER_BASE + number, person, start, False, [item], None, "card")
        plan.total = Decimal("199.00")  # no shipping or tax, so the total is the headline price
        refund = {"refund": Decimal("20.00"), "cancelled": plan.total if "paid" in kinds else Decimal(0)}
        plan.story = [
            Step(k, start + timedelta(seconds=30 * n), refund.get(k, Decimal(0))) for n, k in enumerate(kinds)
        ]
        bodies.update((emit.topic, emit.body) for emit in renderer.order_emits(plan, store))
    bodies.update((emit.topic, emit.body) for emit in renderer.customer_emits(person, store))
    return bodies


def _signing_secret(platform: str, store_ref: str) -> bytes:
    if platform == "shopify":
        return current_app.config["SHOPIFY_API_SECRET"].encode()
    store = find_store(db.session, store_ref)
    if store is None or store.platform != "woocommerce":
        raise click.ClickException(f"no WooCommerce store {store_ref!r}: add it with `flask stores add woocommerce`")
    secret = secret_box().open(store.credentials).get("webhook_secret")
    if not secret:
        raise click.ClickException(f"store {store.domain} has no webhook secret")
    return secret.encode()


@webhooks_cli.command("send")
@click.argument("platform", type=click.Choice(sorted(RENDERERS)))
@click.argument("topic")
@click.option("--store", "store_ref", required=True, help="Shopify shop domain, or WooCommerce site URL.")
@click.option("--url", "base_url", required=True, help="The service, e.g. http://127.0.0.1:8000")
@click.option("--times", default=1, show_default=True, type=click.IntRange(1, 1000), help="Send it N times.")
@click.option("--flip-byte", is_flag=True, help="Corrupt one body byte after signing (expect 401).")
@click.option("--file", "payload_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def send_command(
    platform: str, topic: str, store_ref: str, base_url: str, times: int, flip_byte: bool, payload_file: Path | None
) -> None:
    """Send one signed webhook (a built-in sample for TOPIC, or --file) N times with the same event id."""
    now = datetime.now(UTC).replace(microsecond=0)
    if payload_file is not None:
        body = payload_file.read_bytes()
    else:
        bodies = sample_bodies(platform, store_ref, now)
        if topic not in bodies:
            raise click.BadParameter(f"no built-in sample; use --file, or one of: {', '.join(sorted(bodies))}")
        body = bodies[topic]
    headers = RENDERERS[platform].headers(random.Random(), topic, now, store_ref)  # fresh event ids on every run
    signed = sign(Delivery(platform, topic, headers, body), _signing_secret(platform, store_ref))
    if flip_byte:
        middle = len(body) // 2
        body = body[:middle] + bytes([body[middle] ^ 0x01]) + body[middle + 1 :]
    url = f"{base_url.rstrip('/')}/webhooks/{platform}"
    with requests.Session() as session:
        for attempt in range(1, times + 1):
            try:
                response = session.post(url, data=body, headers=signed, timeout=TIMEOUTS)
            except requests.RequestException as exc:
                raise click.ClickException(explain(url, exc)) from exc
            click.echo(f"{attempt}: HTTP {response.status_code} {response.text.strip()}")


def demo_stores() -> dict[str, Store]:
    """Register the two demo stores, or reuse them, keeping an existing WooCommerce webhook secret.

    Keeping it matters: web workers cache a store's secret for a few seconds, so
    a fresh one would make the first deliveries fail their signature check.
    """
    box = secret_box()
    woo = find_store(db.session, DEMO_SITE)
    held = box.open(woo.credentials) if woo is not None and woo.platform == "woocommerce" else {}
    woo_credentials = {
        "consumer_key": held.get("consumer_key") or "ck_demo_" + secrets.token_hex(16),
        "consumer_secret": held.get("consumer_secret") or "cs_demo_" + secrets.token_hex(16),
        "webhook_secret": held.get("webhook_secret") or secrets.token_urlsafe(24),
    }
    stores = {
        "shopify": add_store(db.session, box, "shopify", DEMO_SHOP, {}, name="Demo (Shopify)", currency="USD"),
        "woocommerce": add_store(
            db.session, box, "woocommerce", DEMO_SITE, woo_credentials, name="Demo (WooCommerce)", currency="EUR"
        ),
    }
    db.session.commit()
    return stores


def _reset(store_ids: list[int]) -> None:
    """Forget what earlier demo runs recorded in the demo stores (only those), so a new scenario starts clean."""
    for model in (WebhookDelivery, OrderRefund, Fulfillment, Order, Customer):
        db.session.execute(delete(model).where(model.store_id.in_(store_ids)))
    db.session.commit()


@click.command("demo", help="Replay a realistic store history as signed webhooks against a running service.")
@click.option("--url", "base_url", required=True, help="The service, e.g. http://127.0.0.1:8000")
@click.option("--seed", default=1, show_default=True)
@click.option("--customers", default=300, show_default=True, type=click.IntRange(1), help="People, both stores.")
@click.option("--orders", default=3000, show_default=True, type=click.IntRange(1), help="Orders, both stores.")
@click.option("--concurrency", default=8, show_default=True, type=click.IntRange(1, 256))
@click.option("--shuffle", is_flag=True, help="Send in a random order instead of the platforms' order.")
@click.option("--timeout", default=600.0, show_default=True, help="Seconds to wait for processing.")
@click.option("--reset", is_flag=True, help="First delete the demo stores' customers, orders and inbox.")
@with_appcontext
def demo_command(
    base_url: str, seed: int, customers: int, orders: int, concurrency: int, shuffle: bool, timeout: float, reset: bool
) -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:  # before anything else: a wrong URL is said in seconds, not after every delivery's retries
        check_service(base_url)
    except Unreachable as exc:
        raise click.ClickException(str(exc)) from exc
    stores = demo_stores()
    store_ids = {platform: store.id for platform, store in stores.items()}
    domains = {platform: store.domain for platform, store in stores.items()}
    signing = {
        "shopify": app.config["SHOPIFY_API_SECRET"].encode(),
        "woocommerce": secret_box().open(stores["woocommerce"].credentials)["webhook_secret"].encode(),
    }
    db.session.remove()
    if reset:
        _reset(list(store_ids.values()))
    before = store_counts(app, store_ids)
    scenario = build_scenario(seed, customers, orders, shopify_shop=DEMO_SHOP, woo_site=DEMO_SITE)
    unique = len({(d.platform, d.body, tuple(d.headers.items())) for d in scenario.deliveries})
    click.echo(
        f"Scenario (seed {seed}): {len(scenario.deliveries)} deliveries, {len(scenario.deliveries) - unique} of them "
        f"repeats, for {len(scenario.expected)} customers and {orders} orders"
    )
    processed = _Processed(app, list(store_ids.values()))
    with Progress("demo", len(scenario.deliveries), unit="sent", counts={"accepted": 0, "processed": 0}) as progress:

        def sent(report: ReplayReport) -> None:
            progress.update(report.sent, accepted=report.accepted, processed=processed.count())

        report = replay(
            scenario.deliveries, base_url, signing, concurrency, shuffle_seed=seed if shuffle else None, on_result=sent
        )
    click.echo(
        f"Sent {report.sent} in {report.elapsed:.1f}s ({report.rate:.0f}/s, {concurrency} at a time"
        f"{', shuffled' if shuffle else ''}): {report.accepted} accepted, {report.duplicates} duplicates, "
        f"{report.rejected} rejected, {report.retries} retries; HTTP {dict(sorted(report.by_status.items()))}"
    )
    if report.unreachable:
        raise click.ClickException(f"stopped sending: {report.unreachable}")
    started = time.monotonic()
    drained = processed.wait(report.accepted, timeout)
    inbox = inbox_counts(app, list(store_ids.values()))
    click.echo(f"Processed in {time.monotonic() - started:.1f}s more; inbox now {dict(sorted(inbox.items()))}")
    after = store_counts(app, store_ids)
    for platform in sorted(store_ids):
        grown = {name: after[platform][name] - before[platform][name] for name in after[platform]}
        click.echo(
            f"  {platform} ({domains[platform]}): +{grown['customers']} customers "
            f"(+{grown['guests']} guests), +{grown['orders']} orders; now {after[platform]}"
        )
    problems = verify(app, scenario, store_ids)
    click.echo(f"Verification: {len(problems)} mismatches over {len(scenario.expected)} expected customers")
    for problem in problems[:10]:
        click.echo(f"  {problem}")
    if problems or not drained or report.rejected or inbox.get("failed"):
        raise SystemExit(1)


class _Processed:
    """The demo stores' deliveries the workers have finished since the run began, read at most once a second."""

    def __init__(self, app: Flask, store_ids: list[int], poll: float = 1.0) -> None:
        self.app, self.store_ids, self.poll = app, store_ids, poll
        self._before = self._settled()[0]
        self._value, self._read_at = 0, time.monotonic()

    def _settled(self) -> tuple[int, int]:
        """(finished, still pending or processing) of every delivery in the demo stores."""
        counts = inbox_counts(self.app, self.store_ids)
        waiting = counts.get(PENDING, 0) + counts.get(PROCESSING, 0)
        return sum(counts.values()) - waiting, waiting

    def count(self) -> int:
        if time.monotonic() - self._read_at >= self.poll:
            self._value, self._read_at = self._settled()[0] - self._before, time.monotonic()
        return self._value

    def wait(self, accepted: int, timeout: float) -> bool:
        """Until nothing is pending or processing (True) or `timeout` seconds pass (False), showing progress."""
        deadline = time.monotonic() + timeout
        with Progress("processing", accepted, unit="processed") as progress:
            while True:
                finished, waiting = self._settled()
                progress.update(finished - self._before)
                if not waiting:
                    return True
                if time.monotonic() >= deadline:
                    return False
                time.sleep(self.poll / 2)
