"""Privacy requests a merchant files by hand (WooCommerce has no compliance webhooks).

Shopify sends customers/data_request, customers/redact and shop/redact as
webhooks; a WooCommerce merchant receives such requests by e-mail and files
them with `flask compliance request`. To keep one path, the request is
recorded as an inbox delivery shaped like Shopify's payload (already handled,
never re-parsed) and then as a ComplianceRequest run by the same job, which
reads the email from that delivery and scrubs it afterwards like any other.
"""

from __future__ import annotations

import json
import uuid

from sqlalchemy.orm import Session

from app.compliance.models import ComplianceRequest
from app.compliance.service import record_compliance_request
from app.errors import InvalidInput
from app.inbox.models import DONE, WebhookDelivery
from app.platform.types import utcnow
from app.stores.models import Store
from connectors.events import ComplianceRequest as ComplianceEvent

TOPICS = ("customers/data_request", "customers/redact", "shop/redact")


class PrivacyRequestError(InvalidInput, ValueError):
    """A request that names nobody, or an unknown topic."""

    code = "privacy_request_invalid"


def file_request(
    session: Session,
    store: Store,
    topic: str,
    *,
    customer_id: str | None = None,
    email: str | None = None,
    order_ids: tuple[str, ...] = (),
) -> ComplianceRequest:
    if topic not in TOPICS:
        raise PrivacyRequestError(f"topic must be one of {', '.join(TOPICS)}")
    if topic == "shop/redact" and store.status == "active":
        # An active store's data is in use; shop/redact also skips a store reinstalled since.
        raise PrivacyRequestError("disconnect the store first (flask woocommerce disconnect <store>)")
    payload: dict = {"shop_domain": store.domain, "filed_by": "merchant"}
    if topic != "shop/redact":
        if not customer_id and not email:
            raise PrivacyRequestError("name the customer: --customer-id and/or --email")
        payload["customer"] = {"id": customer_id, "email": email}
        payload["orders_requested" if topic == "customers/data_request" else "orders_to_redact"] = list(order_ids)
    now = utcnow()
    delivery = WebhookDelivery(
        store_id=store.id,
        platform=store.platform,
        topic=topic,
        dedupe_key=f"merchant|{uuid.uuid4().hex}",
        body=json.dumps(payload).encode(),
        received_at=now,
        status=DONE,
        attempts=0,
        processed_at=now,
    )
    session.add(delivery)
    session.flush()
    return record_compliance_request(session, store, ComplianceEvent(topic=topic, payload=payload), delivery)
