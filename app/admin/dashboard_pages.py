"""The dashboard's Audit log page (/app/audit): who did what, when, read through audit.page (the log's one reader).

Filters by action and by who (the actor's kind), 25 rows a page, newest first; paged by id like the admin API
(`before`), with links to the newest rows and to older ones. Read-only: the page writes nothing. Imported by
admin's init_app, which runs before the dashboard's blueprint is registered (app/__init__.py).
"""

from __future__ import annotations

import json
from typing import Any

from flask import request
from sqlalchemy import distinct, select

from app.admin import audit
from app.admin.models import AuditEntry
from app.admin.openapi import MAX_ID
from app.dashboard.i18n import N_
from app.dashboard.registry import current_merchant, dashboard_page, page_url, render_page
from app.extensions import db

PER_PAGE = 25
ACTIONS = {
    "settings.update": N_("Settings changed"),
    "review.publish": N_("Review approved"),
    "review.reject": N_("Review hidden"),
    "review.reply": N_("Review answered"),
    "referral.approve": N_("Referral approved"),
    "referral.reject": N_("Referral rejected"),
    "points.adjust": N_("Points adjusted"),
    "points.redeem": N_("Points redeemed"),
    "recovery.open": N_("Recovery case opened"),
    "recovery.close": N_("Recovery case closed"),
    "support.handled": N_("Message marked handled"),
    "support.unread": N_("Message marked unread"),
    "admin_token.issue": N_("Admin token issued"),
    "admin_token.revoke": N_("Admin tokens revoked"),
    "dashboard_link.issue": N_("Dashboard sign-in link issued"),
    "storefront_secret.rotate": N_("Storefront secret rotated"),
    "history.import": N_("Order history import started"),
}
ACTORS = {
    "shopify_user": N_("Shopify staff member"),
    "shopify_session": N_("Shopify admin"),
    "admin_token": N_("Admin token"),
    "cli": N_("Command line"),
    "dashboard_link": N_("Dashboard sign-in link"),
}


def _choices(column: Any, store_id: int) -> list[str]:
    """The values the store's log holds (so a filter never offers what cannot match)."""
    return sorted(db.session.scalars(select(distinct(column)).where(AuditEntry.store_id == store_id)))


def _changes(diff: dict[str, Any]) -> list[tuple[str, str]]:
    """Each changed key with "before → after" (audit rows keep [before, after] pairs), else the value as JSON."""
    shown = []
    for key, value in sorted((diff or {}).items()):
        if isinstance(value, list) and len(value) == 2:
            text = " → ".join(json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v for v in value)
        else:
            text = json.dumps(value, ensure_ascii=False)
        shown.append((key, text[:300]))
    return shown


@dashboard_page("/audit", title=N_("Audit log"), nav=N_("Audit log"), order=90)
def audit_log() -> str:
    store = current_merchant().store
    actions, actors = _choices(AuditEntry.action, store.id), _choices(AuditEntry.actor_kind, store.id)
    action = request.args.get("action") if request.args.get("action") in actions else None
    who = request.args.get("who") if request.args.get("who") in actors else None
    before = request.args.get("before", "")
    listed = audit.page(
        db.session,
        store,
        limit=PER_PAGE,
        before=int(before) if before.isdigit() and int(before) <= MAX_ID else None,
        action=action,
        actor_kind=who,
    )
    filters = {"action": action, "who": who}
    return render_page(
        "admin/dashboard_audit.html",
        entries=[{**entry, "changes": _changes(entry["diff"])} for entry in listed["entries"]],
        actions=actions,
        actors=actors,
        action_labels=ACTIONS,
        actor_labels=ACTORS,
        chosen=filters,
        newest_url=page_url("audit_log", **filters) if before else None,
        older_url=page_url("audit_log", before=listed["next_before"], **filters) if listed["next_before"] else None,
    )
