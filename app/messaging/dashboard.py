"""Messaging's section of the dashboard's Overview: e-mails sent in the period, and addresses that unsubscribed.

Sent: e-mail rows with status `sent` whose sent_at falls in the period. Unsubscribed: suppressions created in
the period by the shopper (the unsubscribe page or the one-click header), not bounces or manual entries.
Opens are not tracked (no tracking pixel), so there is no open rate to show.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.dashboard.figures import Chart, Figure, Period, Section, count_by_day, register_section, utc_day
from app.dashboard.i18n import N_
from app.dashboard.i18n import gettext as _
from app.dashboard.timeline import MAX_ENTRIES, Entry, register_timeline
from app.messaging.models import CANCELLED, EMAIL, FAILED, QUEUED, SENDING, SENT, SUPPRESSED, EmailSuppression, Message
from app.records.models import Customer
from app.stores.models import Store

SHOPPER_REASONS = ("unsubscribe", "one_click")


def messaging_section(session: Session, store: Store, period: Period) -> Section:
    day = utc_day(session, Message.sent_at)
    rows = session.execute(
        select(day, func.count())
        .where(
            Message.store_id == store.id,
            Message.channel == EMAIL,
            Message.status == SENT,
            Message.sent_at >= period.start,
            Message.sent_at < period.end,
        )
        .group_by(day)
    ).all()
    sent_by_day = count_by_day(rows)
    unsubscribed = session.scalar(
        select(func.count()).where(
            EmailSuppression.store_id == store.id,
            EmailSuppression.reason.in_(SHOPPER_REASONS),
            EmailSuppression.created_at >= period.start,
            EmailSuppression.created_at < period.end,
        )
    )
    sent = int(sum(sent_by_day.values()))
    figures = [
        Figure("messaging.sent", _("E-mails sent"), str(sent)),
        Figure("messaging.unsubscribed", _("Unsubscribed"), str(unsubscribed or 0)),
        # Shown so the merchant sees why there is no open rate: opens are not known without a tracking pixel.
        Figure("messaging.opened", _("E-mails opened"), "–", _("not known: our e-mails carry no tracking pixel")),
    ]
    charts = []
    if sent:
        labels = [d.isoformat() for d in period.buckets()]
        charts.append(
            Chart(
                "messaging.sent_chart",
                _("E-mails sent"),
                "columns",
                labels,
                [(_("Sent"), period.bucketed(sent_by_day))],
            )
        )
    return Section(
        "messaging", _("E-mails"), figures, charts, "" if sent or unsubscribed else _("No e-mails in this period.")
    )


register_section("messaging", messaging_section, order=50)


# The customer page's timeline (app/dashboard/timeline.py): the e-mails written to this customer, by template, with
# where each stands (sent, waiting, failed, suppressed). The address and content are not shown.
STATUS_LABELS = {
    QUEUED: N_("waiting to be sent"),
    SENDING: N_("sending"),
    SENT: N_("sent"),
    FAILED: N_("failed"),
    CANCELLED: N_("cancelled"),
    SUPPRESSED: N_("not sent: unsubscribed"),
}


def message_entries(session: Session, store: Store, customer: Customer) -> list[Entry]:
    rows = session.scalars(
        select(Message)
        .where(Message.store_id == store.id, Message.customer_id == customer.id)
        .order_by(Message.id.desc())
        .limit(MAX_ENTRIES)
    )
    return [
        Entry(
            message.sent_at or message.created_at,
            "message",
            _("E-mail “%(template)s”", template=message.template),
            _(STATUS_LABELS.get(message.status, message.status)),
        )
        for message in rows
    ]


register_timeline("messaging", message_entries, order=50)
