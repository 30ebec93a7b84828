"""The win-back coupon: one single-use code per customer per run, made in the store by a job, then the message.

The code is drawn when the send row is inserted (sending.py), before any HTTP call, so it is the write-back's
idempotency key: the store's client looks the code up before creating it (connectors/writeback.create_discount),
so a retry after a lost answer, or a duplicated job, finds it instead of making a second coupon. What the store
answered (its spelling of the code and its id) is read back and is what the customer is sent. No transaction is
held during the HTTP call. Transient errors (throttling, a store down) back off; a refusal is `failed`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.campaigns.models import COUPON_PENDING, FAILED, Campaign, CampaignSend
from app.campaigns.sending import coupon_ends, queue_message
from app.platform.outbox import backoff
from app.platform.sql import get_in_store, get_one_in_store
from app.records.models import Customer
from app.stores.clients import NotConnected, client_for
from app.stores.models import Store
from connectors.exceptions import ConnectorError, RateLimited, StoreUnavailable
from connectors.writeback import DiscountSpec

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
RETRY_BASE_SECONDS, RETRY_MAX_SECONDS = 30.0, 3600.0


def discount_spec(store: Store, campaign: Campaign, send: CampaignSend, customer: Customer) -> DiscountSpec:
    """Single use, for this customer where the platform can say so (Shopify: the customer; Woo: the e-mail)."""
    coupon = campaign.coupon or {}
    shopify = store.platform == "shopify"
    return DiscountSpec(
        code=send.code or "",
        title=f"{campaign.name[:80]} ({send.code})",
        kind="percentage" if coupon.get("kind") == "percentage" else "fixed_amount",
        value=Decimal(str(coupon.get("value"))),
        currency=coupon.get("currency"),
        customer_platform_id=customer.platform_id if shopify else None,
        customer_email=None if shopify else customer.email,
        usage_limit=1,
        once_per_customer=True,
        starts_at=send.created_at,
        ends_at=coupon_ends(campaign, send),
    )


def create_coupon(session: Session, send_id: int, store_id: int, attempt: int | None, now: datetime) -> dict[str, Any]:
    send = get_in_store(session, CampaignSend, send_id, store_id)
    if send is None or send.status != COUPON_PENDING or (attempt is not None and send.attempts != attempt):
        session.commit()
        return {"status": send.status if send else "unknown"}
    store = session.get_one(Store, send.store_id)
    campaign = get_one_in_store(session, Campaign, send.campaign_id, store.id)
    customer = get_one_in_store(session, Customer, send.customer_id, store.id)
    attempts = send.attempts
    error, wait, created = None, None, None
    try:
        spec = discount_spec(store, campaign, send, customer)
        client = client_for(store)
        session.commit()  # no transaction held open across the HTTP call
        created = client.create_discount(spec)
    except RateLimited as exc:
        error, wait = f"RateLimited: {exc}", timedelta(seconds=min(float(exc.retry_after), RETRY_MAX_SECONDS))
    except StoreUnavailable as exc:
        error, wait = f"StoreUnavailable: {exc}", backoff(attempts, RETRY_BASE_SECONDS, RETRY_MAX_SECONDS)
    except (ConnectorError, NotConnected, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"  # permanent: the same input gets the same answer
    send = get_one_in_store(session, CampaignSend, send_id, store.id, for_update=True)
    if send.status != COUPON_PENDING:  # a twin finished it meanwhile
        session.commit()
        return {"status": send.status}
    if created is not None:
        send.code, send.coupon_platform_id, send.last_error, send.locked_until = (
            created.code,
            created.platform_id,
            None,
            None,
        )
        queue_message(session, store, campaign, customer, send)
        session.commit()
        return {"status": send.status, "created": created.created}
    assert error is not None
    if wait is None or attempts >= MAX_ATTEMPTS:
        send.status, send.last_error, send.locked_until = FAILED, error[:500], None
        log.warning("campaigns.coupon_failed", extra={"store_id": store.id, "send_id": send.id, "reason": error[:200]})
    else:
        send.last_error, send.next_attempt_at, send.locked_until = error[:500], now + wait, None
    session.commit()
    return {"status": send.status, "error": error.split(":", 1)[0]}
