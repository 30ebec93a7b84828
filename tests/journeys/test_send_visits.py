"""The delivery-update sending step visits only the stores with an update due: with a thousand stores, a query and
a commit for every store every tick kept the scheduler busy all the time (bench/README.md, "Results at 1,000
stores"). That due updates are still sent: the journey tests (delivery_messages runs send_due)."""

from __future__ import annotations

from app.journeys import send
from tests.helpers import add_store


def test_send_due_skips_stores_with_nothing_due(app, ctx, monkeypatch):
    add_store("shopify")
    add_store("woocommerce")
    visited: list[int] = []
    send_store = send.send_store
    monkeypatch.setattr(
        send, "send_store", lambda session, store: visited.append(store.id) or send_store(session, store)
    )
    assert send.send_due(app) == {"delivery_updates": 0}
    assert visited == []
