"""A claimed batch's lease is renewed while its worker lives, and lapses soon after it stops."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.inbox.models import PENDING, PROCESSING, WebhookDelivery
from app.inbox.processing import claim_batch, release_expired_leases
from app.platform.leases import kept_leased
from tests.helpers import add_store, dumps, shopify_headers, shopify_order

LEASE = timedelta(seconds=0.6)


def test_a_living_workers_lease_outlasts_its_length_and_a_stopped_ones_lapses(app, client, ctx):
    add_store("shopify")
    for n in range(2):
        body = dumps(shopify_order(5001 + n))
        client.post("/webhooks/shopify", data=body, headers=shopify_headers("orders/create", body))
    ids = [delivery_id for delivery_id, _, _ in claim_batch(db.session, 10, LEASE)]
    assert len(ids) == 2
    finished = ids[1]
    claimed_until = db.session.get(WebhookDelivery, ids[0]).locked_until
    with kept_leased(db.engine, WebhookDelivery, ids, lease=LEASE, where=[WebhookDelivery.status == PROCESSING]):
        row = db.session.get(WebhookDelivery, finished)
        row.status = "done"  # the batch finished this one
        its_lease = row.locked_until
        db.session.commit()
        for _ in range(6):  # three lease lengths: the sweeper finds nothing to release meanwhile
            time.sleep(LEASE.total_seconds() / 2)
            assert release_expired_leases(db.session) == 0
        renewed = db.session.scalar(select(WebhookDelivery.locked_until).where(WebhookDelivery.id == ids[0]))
    assert db.session.get(WebhookDelivery, finished).locked_until == its_lease  # a finished row is left alone
    time.sleep(LEASE.total_seconds() + 0.1)  # no heartbeat any more: one lease later the row is due again
    assert release_expired_leases(db.session) == 1
    db.session.expire_all()
    assert db.session.get(WebhookDelivery, ids[0]).status == PENDING
    assert renewed > claimed_until + LEASE  # renewed more than once
