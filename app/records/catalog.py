"""The product cache the messages read (title, image, storefront link); no HTTP here.

records/catalog_tasks.refresh_products (called by the review request job) asks `stale_product_ids` which products
of an order are missing or older than the TTL, fetches those through the store's client with no transaction open,
then calls `store_products` with what the store answered; ids the store did not return are recorded as not found, so a
deleted product is not asked for on every e-mail. `products_by_id` is what send_request reads.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.records.models import Order, Product
from connectors.catalog import ProductInfo

log = logging.getLogger(__name__)
DEFAULT_TTL = timedelta(days=7)


def order_product_ids(order: Order) -> list[str]:
    """Distinct product ids of an order's line items, in order."""
    ids = (str(item.get("product_id") or "") for item in order.line_items or [])
    return list(dict.fromkeys(i for i in ids if i))


def products_by_id(session: Session, store_id: int, product_ids: Iterable[str]) -> dict[str, Product]:
    ids = list(dict.fromkeys(product_ids))
    if not ids:
        return {}
    rows = session.scalars(select(Product).where(Product.store_id == store_id, Product.product_id.in_(ids)))
    return {row.product_id: row for row in rows}


def stale_product_ids(
    session: Session, store_id: int, product_ids: Iterable[str], now: datetime, ttl: timedelta = DEFAULT_TTL
) -> list[str]:
    ids = list(dict.fromkeys(product_ids))
    held = products_by_id(session, store_id, ids)
    return [i for i in ids if i not in held or held[i].fetched_at <= now - ttl]


def store_products(
    session: Session, store_id: int, asked: Iterable[str], found: Mapping[str, ProductInfo], now: datetime
) -> int:
    """Upsert what the store answered for `asked`; absent ids become not-found rows. Caller commits."""
    count = 0
    for product_id in dict.fromkeys(asked):
        info = found.get(product_id)
        for _ in range(2):  # a concurrent job may insert the same product between our read and our insert
            row = session.scalar(select(Product).where(Product.store_id == store_id, Product.product_id == product_id))
            try:
                with session.begin_nested():
                    if row is None:
                        row = Product(store_id=store_id, product_id=product_id)
                        session.add(row)
                    row.found = info is not None
                    row.title = info.title if info else None
                    row.image_url = info.image_url if info else None
                    row.url = info.url if info else None
                    row.fetched_at = now
                break
            except IntegrityError:
                continue
        count += 1
    log.info("catalog.stored", extra={"store_id": store_id, "asked": count, "found": len(found)})
    return count
