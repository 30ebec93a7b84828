"""`flask stores ...` and `flask customers ...`: records as JSON."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import db
from app.money import format_money
from app.platform.output import exit_on_error, print_json
from app.records.models import Customer, Order
from app.records.models.customer import normalise_email
from app.security import secret_box
from app.stores.models import ShopifyInstall, Store, WooStoreState
from app.stores.service import add_store, find_store


def require_store(store_ref: str) -> Store:
    """The store STORE_REF names (an id, shop domain or site URL), or the command stops with a message."""
    store = find_store(db.session, store_ref)
    if store is None:
        raise click.ClickException(f"no store {store_ref!r}")
    return store


@click.group("stores", cls=AppGroup, help="Register and list stores.")
def stores_cli() -> None:
    pass


@stores_cli.group("add", help="Register a store (or update and reactivate it).")
def add_group() -> None:
    pass


@add_group.command("shopify")
@click.argument("shop")
@click.option("--access-token", default=None, help="Admin API access token (stored encrypted).")
@click.option("--currency", default=None, help="The shop's currency, e.g. USD.")
def add_shopify(shop: str, access_token: str | None, currency: str | None) -> None:
    """SHOP is <shop>.myshopify.com. Webhooks are signed with SHOPIFY_API_SECRET."""
    _add("shopify", shop, {"access_token": access_token}, currency)


@add_group.command("woocommerce")
@click.argument("site_url")
@click.option("--consumer-key", required=True)
@click.option("--consumer-secret", required=True)
@click.option("--webhook-secret", required=True, help="The secret set on the store's webhooks.")
@click.option("--currency", default=None)
def add_woocommerce(
    site_url: str, consumer_key: str, consumer_secret: str, webhook_secret: str, currency: str | None
) -> None:
    credentials = {"consumer_key": consumer_key, "consumer_secret": consumer_secret, "webhook_secret": webhook_secret}
    _add("woocommerce", site_url, credentials, currency)


def _add(platform: str, domain: str, credentials: dict[str, Any], currency: str | None) -> None:
    with exit_on_error():  # StoreError
        store = add_store(db.session, secret_box(), platform, domain, credentials, currency=currency)
    db.session.commit()
    print_json(store.as_dict())


@stores_cli.command("list")
def list_stores() -> None:
    """Every store with its install state and the health of its webhook subscriptions."""
    # One query per table, spelled out: a loop over the two models would type its rows as their common base.
    installs: dict[int, ShopifyInstall | WooStoreState] = {
        **{row.store_id: row for row in db.session.scalars(select(ShopifyInstall))},
        **{row.store_id: row for row in db.session.scalars(select(WooStoreState))},
    }
    records = []
    for store in db.session.scalars(select(Store).order_by(Store.id)):
        install = installs.get(store.id)
        records.append(
            {
                **store.as_dict(),
                "installed": store.status == "active",
                "webhooks_status": install.webhooks_status if install else None,
                "webhook_topics": sorted(install.webhooks) if install and install.webhooks else [],
            }
        )
    print_json(records)


@stores_cli.command("sync-webhooks")
def sync_webhooks() -> None:
    """Shopify: remove the shop-specific webhook subscriptions older installs made (shopify.app.toml subscribes
    every shop; a topic subscribed both ways arrives twice), and retry failed syncs. Prints the stores it did."""
    from app.stores.shopify_install import needs_webhook_sync, sync_store_webhooks

    installs = {row.store_id: row for row in db.session.scalars(select(ShopifyInstall))}
    query = select(Store).where(Store.platform == "shopify", Store.status == "active").order_by(Store.id)
    due = [
        (store.id, store.domain) for store in db.session.scalars(query) if needs_webhook_sync(installs.get(store.id))
    ]
    done = []
    for store_id, domain in due:
        ok = sync_store_webhooks(store_id)
        done.append({"store_id": store_id, "domain": domain, "webhooks_status": "active" if ok else "error"})
    print_json(done)


@stores_cli.command("rebuild-rollup")
@click.argument("store_ref")
def rebuild_rollup(store_ref: str) -> None:
    """Recompute the store's order chains and the Overview's daily rollup from its orders (records/order_days.py).
    The records keep them as orders are written; this is for a check or after writing orders by hand."""
    from app.records import order_days

    store = require_store(store_ref)
    order_days.rebuild(db.session, store.id)
    db.session.commit()
    print_json({"store_id": store.id, "rebuilt": True})


@click.group("customers", cls=AppGroup, help="Read customer records.")
def customers_cli() -> None:
    pass


@customers_cli.command("show")
@click.argument("store_ref")
@click.argument("who")
@click.option("--json", "as_json", is_flag=True, help="JSON output (the default; kept for scripts).")
def show_customer(store_ref: str, who: str, as_json: bool) -> None:
    """STORE_REF is a store id or domain; WHO is an email or a platform customer id."""
    store = require_store(store_ref)
    key = normalise_email(who)
    match = Customer.email_key == key if key else Customer.platform_id == who
    customer = db.session.scalar(select(Customer).where(Customer.store_id == store.id, match))
    if customer is None:
        raise click.ClickException(f"no customer {who!r} in store {store.domain}")
    print_json(customer_record(customer))


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def customer_record(customer: Customer) -> dict[str, Any]:
    orders = db.session.scalars(
        select(Order)
        .where(Order.store_id == customer.store_id, Order.customer_id == customer.id)
        .order_by(Order.placed_at)
    ).all()
    return {
        "id": customer.id,
        "store_id": customer.store_id,
        "platform_id": customer.platform_id,
        "guest": customer.is_guest,
        "email": customer.email,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "locale": customer.locale,
        "orders_count": customer.orders_count,
        "currency": customer.currency,
        "total_spent": format_money(customer.total_spent, customer.currency),
        "total_refunded": format_money(customer.total_refunded, customer.currency),
        "spent_by_currency": {c: format_money(Decimal(v), c) for c, v in customer.spent_by_currency.items()},
        "first_order_at": _iso(customer.first_order_at),
        "last_order_at": _iso(customer.last_order_at),
        "orders": [
            {
                "platform_id": o.platform_id,
                "name": o.name,
                "currency": o.currency,
                "total": format_money(o.total_price, o.currency),
                "refunded": format_money(o.refunded_amount, o.currency),
                "financial_status": o.financial_status,
                "placed_at": _iso(o.placed_at),
                "paid_at": _iso(o.paid_at),
                "fulfilled_at": _iso(o.fulfilled_at),
                "delivered_at": _iso(o.delivered_at),
                "cancelled_at": _iso(o.cancelled_at),
                "deleted_at": _iso(o.deleted_at),
            }
            for o in orders
        ],
    }
