"""shop/redact: 48 hours after an uninstall, Shopify asks for every row of the store to be erased.

https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.compliance.data import delete_store_rows
from app.compliance.models import ComplianceRequest as Request
from app.platform.types import utcnow
from app.stores.models import Store

log = logging.getLogger(__name__)
#: How long after an uninstall Shopify sends shop/redact.
SHOP_REDACT_DELAY = timedelta(hours=48)


#: Personal data of the store kept outside its rows (files): hook(session, store) runs before the rows are deleted;
#: what it returns joins the request's summary. Messaging deletes the store's .eml copies.
ShopErasureHook = Callable[[Session, Store], dict[str, Any] | None]
SHOP_ERASURE_HOOKS: list[ShopErasureHook] = []


def register_shop_erasure_hook(hook: ShopErasureHook) -> None:
    if hook not in SHOP_ERASURE_HOOKS:  # create_app runs more than once
        SHOP_ERASURE_HOOKS.append(hook)


def redact_shop(session: Session, store: Store, request: Request) -> dict[str, Any]:
    """shop/redact: delete every row of the store and the store itself; keep the request rows as the audit.

    A shop/redact that reaches us after the merchant reinstalled (installed again later than the
    uninstall it was sent for) is not applied: the merchant is using the app again.
    """
    if store.status == "active" and store.installed_at >= request.requested_at - SHOP_REDACT_DELAY:
        log.warning(
            "compliance.shop_redact_skipped_reinstalled",
            extra={"store_id": store.id, "reason": "the store was installed again after the uninstall"},
        )
        return {"skipped": "store reinstalled"}
    store_id = store.id
    outside: dict[str, Any] = {}
    for hook in SHOP_ERASURE_HOOKS:
        outside.update(hook(session, store) or {})
    deleted = delete_store_rows(session, store_id, keep=(Request.__tablename__,))
    session.execute(
        update(Request)
        .where(Request.store_id == store_id, Request.export.is_not(None))
        .values(export=None, export_purged_at=utcnow())
    )
    session.delete(store)
    session.flush()
    deleted["stores"] = 1
    audit = session.scalars(select(Request.id).where(Request.store_id == store_id)).all()
    return {"deleted": deleted, "audit_rows_kept": len(audit), **outside}
