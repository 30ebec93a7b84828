"""Referrals' section of the dashboard's Overview: referred orders in the period, by status, and their revenue.

Revenue counts referred orders that stand for the programme (pending, qualified, rewarded): not void, not
flagged or rejected by the fraud rules; per currency, from the order total kept on the referral row.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.dashboard.figures import Chart, Figure, Period, Section, money_sum, money_value, register_section
from app.dashboard.i18n import N_
from app.dashboard.i18n import gettext as _
from app.dashboard.timeline import MAX_ENTRIES, Entry, register_timeline
from app.money import format_money
from app.records.models import Customer
from app.referrals.models import FLAGGED, PENDING, QUALIFIED, REJECTED, REWARDED, STATUSES, VOID, Referral
from app.stores.models import Store

EARNING = (PENDING, QUALIFIED, REWARDED)
#: Each status's label, translated when the page is drawn (the merchant's language is the request's).
STATUS_LABELS = {
    "pending": lambda: _("Pending"),
    "qualified": lambda: _("Qualified"),
    "rewarded": lambda: _("Rewarded"),
    "void": lambda: _("Void"),
    "flagged": lambda: _("Flagged"),
    "rejected": lambda: _("Rejected"),
}


def referrals_section(session: Session, store: Store, period: Period) -> Section:
    rows = session.execute(
        select(Referral.status, Referral.currency, func.count(), money_sum(session, Referral.order_total))
        .where(Referral.store_id == store.id, Referral.created_at >= period.start, Referral.created_at < period.end)
        .group_by(Referral.status, Referral.currency)
    ).all()
    by_status = dict.fromkeys(STATUSES, 0)
    revenue: dict[str, Decimal] = {}
    for status, currency, count, total in rows:
        by_status[status] = by_status.get(status, 0) + int(count)
        if status in EARNING:
            revenue[currency] = revenue.get(currency, Decimal(0)) + money_value(session, total)
    referred = sum(by_status.values())
    figures = [Figure("referrals.count", _("Referred orders"), str(referred))]
    for currency in sorted(revenue):
        figures.append(
            Figure(
                f"referrals.revenue.{currency}",
                _("Referral revenue (%(currency)s)", currency=currency),
                format_money(revenue[currency], currency),
            )
        )
    for status in STATUSES:
        figures.append(Figure(f"referrals.status.{status}", STATUS_LABELS[status](), str(by_status[status])))
    charts = []
    if referred:
        charts.append(
            Chart(
                "referrals.status_chart",
                _("Referrals by status"),
                "bars",
                [STATUS_LABELS[s]() for s in STATUSES],
                [(_("Referrals"), [Decimal(by_status[s]) for s in STATUSES])],
            )
        )
    empty = "" if referred else _("No referred orders in this period.")
    return Section("referrals", _("Referrals"), figures, charts, empty)


register_section("referrals", referrals_section, order=40)


# The customer page's timeline (app/dashboard/timeline.py): referrals this customer made, and the one that brought
# them, each with its status and, when flagged, the fraud checks that matched.
TIMELINE_STATUS = {
    PENDING: N_("pending"),
    QUALIFIED: N_("qualified"),
    REWARDED: N_("rewarded"),
    VOID: N_("void"),
    FLAGGED: N_("flagged"),
    REJECTED: N_("rejected"),
}


def referral_entries(session: Session, store: Store, customer: Customer) -> list[Entry]:
    rows = session.scalars(
        select(Referral)
        .where(
            Referral.store_id == store.id,
            or_(Referral.referrer_customer_id == customer.id, Referral.friend_customer_id == customer.id),
        )
        .order_by(Referral.id.desc())
        .limit(MAX_ENTRIES)
    )
    entries = []
    for referral in rows:
        amount = f"{format_money(referral.order_total, referral.currency)} {referral.currency}"
        if referral.referrer_customer_id == customer.id:
            title = _("Referred a friend's order (%(amount)s)", amount=amount)
        else:
            title = _("Came by a friend's referral (%(amount)s)", amount=amount)
        detail = _(TIMELINE_STATUS.get(referral.status, referral.status))
        if referral.status == FLAGGED and referral.reasons:
            detail += " · " + ", ".join(str(reason) for reason in referral.reasons)
        entries.append(Entry(referral.created_at, "referral", title, detail))
    return entries


register_timeline("referrals", referral_entries, order=40)
