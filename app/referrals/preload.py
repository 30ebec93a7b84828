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
from app.records.batch_rows import MISS, by_store, order_codes
from app.records.models import Order
from app.referrals.models import Referral, ReferralInvite


def preload_referrals(session: Session, store_id: int, orders: Sequence[Order]) -> None:
    preload_referrals_of(session, {store_id: orders})


def preload_referrals_of(session: Session, orders: dict[int, Sequence[Order]]) -> None:
    """For several stores of an inbox group at once (inbox/batch_group.py): one query per table and 500 keys,
    `store_id IN (...) AND key IN (...)`, each row kept in its own store's maps when that store named its key."""
    maps = {sid: m for sid in orders if (m := batch_rows.store_maps(session, sid)) is not None}
    wanted: dict[int, set[str]] = {}
    codes: dict[int, set[str]] = {}
    for sid, held in maps.items():
        found = held["referral"]
        wanted[sid] = {order.platform_id for order in orders[sid]} - found.keys()
        found.update(dict.fromkeys(wanted[sid]))
        invites = held.setdefault("invite_code", {})
        codes[sid] = {code for order in orders[sid] for code in order_codes(order)} - invites.keys()
        invites.update(dict.fromkeys(codes[sid]))
    for stores, chunk in by_store(wanted):
        stmt = select(Referral).where(
            in_keys(session, Referral.store_id, stores), in_keys(session, Referral.order_platform_id, chunk)
        )
        for r in session.scalars(stmt):
            if r.order_platform_id in wanted[r.store_id]:
                maps[r.store_id]["referral"][r.order_platform_id] = r
    upper = func.upper(ReferralInvite.discount_code, type_=String())  # typed: in_keys casts the array to it
    for stores, chunk in by_store(codes):
        invite_stmt = select(ReferralInvite).where(
            in_keys(session, ReferralInvite.store_id, stores), in_keys(session, upper, chunk)
        )
        for invite in session.scalars(invite_stmt.order_by(ReferralInvite.id)):
            key = invite.discount_code.upper()
            invites = maps[invite.store_id]["invite_code"]
            if key in codes[invite.store_id] and invites.get(key) is None:
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
