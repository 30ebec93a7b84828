"""Loyalty on the dashboard's customer page: the ledger rows in the timeline, the balance and tier panel, and the
manual points adjustment (POST /app/customers/<id>/points).

The adjustment applies the admin API's rule and writer (adjustments.check_adjustment, adjust_points: a ledger
row of kind `adjust` under the store's lock, idempotent by the form's one-time key, so a double click is one row)
and is audited as the merchant who signed in to the dashboard (`points.adjust`, the registry sets
g.audit_actor). The reason stays on the ledger row only, as in the admin API: the merchant's words may name the
shopper. A refused value renders the page again with the message next to its field (422); a saved one
redirects back to the customer (303, POST-redirect-GET).
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from flask import abort, redirect, request
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from app.admin import audit
from app.dashboard import add_template_folder
from app.dashboard.customers import render_customer
from app.dashboard.i18n import N_
from app.dashboard.i18n import gettext as _
from app.dashboard.registry import current_merchant, dashboard_page, page_url
from app.dashboard.timeline import MAX_ENTRIES, Entry, Panel, register_timeline
from app.extensions import db
from app.loyalty.adjustments import (
    MAX_ADJUST,
    MAX_REASON,
    AdjustmentConflict,
    AdjustmentInvalid,
    AdjustmentRefused,
    adjust_points,
    check_adjustment,
)
from app.loyalty.ledger import balance
from app.loyalty.models import LoyaltyAccount, PointsLedger
from app.platform.types import utcnow
from app.records.customers import store_customer
from app.records.models import Customer
from app.stores.models import Store

KINDS = {
    "earn": N_("Points earned"),
    "reverse": N_("Points reversed"),
    "redeem": N_("Points redeemed"),
    "redeem_release": N_("Redemption returned"),
    "action": N_("Points for an action"),
    "expire": N_("Points expired"),
    "adjust": N_("Points adjusted by the merchant"),
    "tier_reward": N_("Tier reward"),
}
_WHOLE = re.compile(r"^[+-]?[0-9]{1,9}$")

add_template_folder(Path(__file__).resolve().parent / "templates")


def ledger_entries(session: Session, store: Store, customer: Customer) -> list[Entry]:
    rows = session.scalars(
        select(PointsLedger)
        .where(PointsLedger.store_id == store.id, PointsLedger.customer_id == customer.id)
        .order_by(PointsLedger.id.desc())
        .limit(MAX_ENTRIES)
    )
    entries = []
    for row in rows:
        detail = f"{row.points:+d}"
        reason = (row.rule or {}).get("reason") if row.kind == "adjust" else None
        if isinstance(reason, str):
            detail += f" · {reason}"
        entries.append(Entry(row.created_at, "points", _(KINDS.get(row.kind, row.kind)), detail))
    return entries


def points_panel(session: Session, store: Store, customer: Customer) -> Panel:
    parts = balance(session, store, customer, utcnow())
    account = session.scalar(
        select(LoyaltyAccount).where(LoyaltyAccount.store_id == store.id, LoyaltyAccount.customer_id == customer.id)
    )
    return Panel(
        "loyalty",
        _("Points and tier"),
        "loyalty/dashboard_points.html",
        {
            "balance": parts,
            "tier": account.tier if account else None,
            "idempotency_key": secrets.token_urlsafe(16),
            "max_adjust": MAX_ADJUST,
            "max_reason": MAX_REASON,
        },
    )


register_timeline("loyalty", ledger_entries, panel=points_panel, order=20)


def _messages() -> dict[str, str]:
    return {
        "points": _("A whole number of points, not 0, from -%(max)s to %(max)s.", max=MAX_ADJUST),
        "reason": _("Say why, in at most %(max)s characters.", max=MAX_REASON),
        "insufficient": _("The customer has fewer spendable points than that."),
        "conflict": _("This form was already used for another amount. Reload the page and try again."),
    }


@dashboard_page("/customers/<int:customer_id>/points", title=N_("Customer"), methods=("POST",))
def adjust_customer_points(customer_id: int) -> BaseResponse | tuple[str, int]:
    store = current_merchant().store
    customer = store_customer(db.session, store, customer_id)
    if customer is None:
        abort(404)  # another store's customer looks like a missing one
    typed = {name: request.form.get(name, "") for name in ("points", "reason", "idempotency_key")}
    raw_points = typed["points"].strip()
    messages = _messages()
    errors: dict[str, str] = {}
    try:
        points, reason = check_adjustment(int(raw_points) if _WHOLE.match(raw_points) else None, typed["reason"])
        key = typed["idempotency_key"]
        if not 1 <= len(key) <= 100:
            abort(400, description="idempotency_key")
        row, created = adjust_points(db.session, store, customer, points, reason, key, utcnow())
    except AdjustmentInvalid as exc:
        errors[exc.field] = messages[exc.field]
    except AdjustmentRefused:
        errors["points"] = messages["insufficient"]
    except AdjustmentConflict:
        errors["points"] = messages["conflict"]
    if errors:
        db.session.rollback()
        return render_customer(store, customer, form_errors=errors, form_values=typed), 422
    if created:  # a replay of the same form is no new action
        audit.record(db.session, store, "points.adjust", f"customer:{customer.id}", {"points": points, "row": row.id})
    db.session.commit()
    return redirect(page_url("customer_timeline", customer_id=customer.id, saved="points"), code=303)
