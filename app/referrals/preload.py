"""Referrals' rows in an inbox batch's lookups (records/batch_rows.py): loaded by the follower, not at the start.

The referrals of the orders the batch derives and the invites their discount codes name are read only when the
referrals follower runs (inbox/batch_derived.py), once for all the store's orders: one query per table and 500
keys. referral_for and _attributed_invite (referrals/orders.py) answer from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, func, inspect, select
from sqlalchemy.orm import Session

from app.platform.sql import in_keys
from app.records import batch_rows
from app.records.batch_rows import MISS, order_codes, sorted_chunks
from app.records.models import Order
from app.referrals.models import Referral, ReferralInvite


def preload_referrals(session: Session, store_id: int, orders: Sequence[Order]) -> None:
    maps = batch_rows.store_maps(session, store_id)
    if maps is None:
        return
    found = maps["referral"]
    wanted = {order.platform_id for order in orders} - found.keys()
    found.update(dict.fromkeys(wanted))
    for chunk in sorted_chunks(wanted):
        stmt = select(Referral).where(
            Referral.store_id == store_id, in_keys(session, Referral.order_platform_id, chunk)
        )
        found.update((r.order_platform_id, r) for r in session.scalars(stmt))
    invites = maps.setdefault("invite_code", {})
    codes = {code for order in orders for code in order_codes(order)} - invites.keys()
    invites.update(dict.fromkeys(codes))
    upper = func.upper(ReferralInvite.discount_code, type_=String())  # typed: in_keys casts the array to it
    for chunk in sorted_chunks(codes):
        invite_stmt = select(ReferralInvite).where(ReferralInvite.store_id == store_id, in_keys(session, upper, chunk))
        for invite in session.scalars(invite_stmt.order_by(ReferralInvite.id)):
            if invites.get(key := invite.discount_code.upper()) is None:
                invites[key] = invite  # the first by id, as the per-order query picks


def invites_for_codes(session: Session, store_id: int, codes: Sequence[str]) -> Any:
    """The batch's invites for these codes (those that exist), or MISS when the caller must query. Invites are
    created by the storefront, never by a delivery: an invite that a batch's order names exists before it."""
    known = (batch_rows.store_maps(session, store_id) or {}).get("invite_code")
    if known is None or any(code not in known for code in codes):
        return MISS
    found = [known[code] for code in codes if known[code] is not None]
    for invite in found:
        if not inspect(invite).persistent or invite.discount_code.upper() not in codes:
            return MISS
    return found


def install() -> None:
    batch_rows.register("referral", "order_platform_id")  # loaded by preload_referrals, when the follower runs
