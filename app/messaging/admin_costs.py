"""Admin API: what the store's messages cost, per channel and currency.

GET /admin/api/v1/messaging/costs?since=YYYY-MM-DD&until=YYYY-MM-DD
    {"since", "until", "costs": [{"channel", "currency", "total": "0.0158", "messages": 2}],
     "unpriced": {"sms": 1}}
Messages sent in [since, until] (UTC days, both included; default: the last 30 days; since after until: none).
`total` is the exact sum (a decimal string) of the costs recorded from the providers' receipts (callbacks.py):
Twilio's price, WhatsApp's rate card by pricing category. `unpriced` counts sent phone messages with no cost
yet (no final receipt).
E-mail has no per-message cost here.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from flask import Response, g, jsonify, request
from sqlalchemy import select

from app.admin import bp
from app.admin.auth import merchant_required
from app.admin.openapi import documented, obj
from app.errors import InvalidInput
from app.extensions import db
from app.messaging.models import EMAIL, Message
from app.messaging.tasks import mail_now

_Q = {"in": "query", "required": False, "schema": {"type": "string", "format": "date"}}
LINE = obj("channel", "currency", "total", "messages", total={"type": "string"}, messages={"type": "integer"})


def _day(name: str, default: date) -> date:
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        return date.fromisoformat(raw) if len(raw) == 10 else date.fromisoformat("x")
    except ValueError:
        raise InvalidInput(f"{name} is a date (YYYY-MM-DD)", field=name) from None


@bp.get("/messaging/costs")
@documented(
    summary="What the store's SMS and WhatsApp messages cost, summed per channel and currency",
    query=[{"name": "since", **_Q}, {"name": "until", **_Q}],
    response=obj(
        "since", "until", "costs", "unpriced", costs={"type": "array", "items": LINE}, unpriced={"type": "object"}
    ),  # fmt: skip
    errors={400: "A date not in YYYY-MM-DD form"},
)
@merchant_required
def messaging_costs() -> Response:
    from flask import current_app

    today = mail_now(current_app).date()
    until = _day("until", today)
    since = _day("since", until - timedelta(days=29))
    start = datetime.combine(since, time(), UTC)  # since after until: an empty range, so nothing
    end = datetime.combine(until, time(), UTC) + timedelta(days=1)
    rows = db.session.execute(
        select(Message.channel, Message.cost, Message.cost_currency).where(
            Message.store_id == g.store.id,
            Message.channel != EMAIL,
            Message.sent_at >= start,
            Message.sent_at < end,
        )
    )
    totals: dict[tuple[str, str], list] = defaultdict(lambda: [Decimal("0"), 0])
    unpriced: dict[str, int] = defaultdict(int)
    for channel, cost, currency in rows:
        if cost is None or currency is None:
            unpriced[channel] += 1
            continue
        line = totals[(channel, currency)]
        line[0] += cost
        line[1] += 1
    costs = [
        {"channel": channel, "currency": currency, "total": str(total.quantize(Decimal("0.0001"))), "messages": count}
        for (channel, currency), (total, count) in sorted(totals.items())
    ]
    return jsonify({"since": since.isoformat(), "until": until.isoformat(), "costs": costs, "unpriced": dict(unpriced)})
