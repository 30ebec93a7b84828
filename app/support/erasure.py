"""Shoppers' words are personal data: what customers/redact and a guest's merge do to support messages.

- The `body` column is registered with compliance (register_personal_data): customers/redact sets it to NULL.
- The e-mails that carried it to the merchant are outbox rows with no customer_id (the merchant is their
  recipient), so the customer-keyed erasure does not find them: `erase_support_messages` (an erasure hook) clears
  their template variables and .eml copies through their dedupe keys, and cancels the unsent. It also replaces
  the `source_key`, which may hold a hash of the words (a guess could be checked against it).
- shop/redact deletes every row with the store's id (compliance/data.delete_store_rows), these included, and the
  store's .eml copies (messaging's shop erasure hook).
- A guest merged into an account takes their messages along (a merge hook), so a later erasure of the account
  finds them.
https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.messaging import forget_messages
from app.records.customers import MergeHook
from app.stores.models import Store
from app.support.models import SupportMessage
from app.support.service import outbox_keys


def erase_support_messages(session: Session, store: Store, customer_ids: list[int]) -> dict[str, Any]:
    """customers/redact hook: the merchant e-mails quoting these customers' messages lose the quote, the rows their
    content-derived key (the body itself goes with the registered columns)."""
    if not customer_ids:
        return {}
    ids = session.scalars(
        select(SupportMessage.id).where(
            SupportMessage.store_id == store.id, SupportMessage.customer_id.in_(customer_ids)
        )
    ).all()
    for support_id in ids:
        session.execute(
            update(SupportMessage)
            .where(SupportMessage.store_id == store.id, SupportMessage.id == support_id)
            .values(source_key=f"redacted:{support_id}")
            .execution_options(synchronize_session=False)
        )
    keys = [key for support_id in ids for key in outbox_keys(support_id)]
    forgotten = forget_messages(session, store, dedupe_keys=keys)
    return {"support_messages": len(ids), "support_mail_forgotten": forgotten["messages_forgotten"]}


def _move_guest(session: Session, store: Store, guest_id: int, account_id: int) -> None:
    session.execute(
        update(SupportMessage)
        .where(SupportMessage.store_id == store.id, SupportMessage.customer_id == guest_id)
        .values(customer_id=account_id)
        .execution_options(synchronize_session=False)
    )


#: Registered by support's init_app with records/customers.register_merge_hook.
MERGE_HOOK = MergeHook(move=_move_guest)
