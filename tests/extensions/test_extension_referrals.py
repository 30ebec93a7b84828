"""GET /me/referral/results with the extension's session token: what the customer's own link brought (friends
invited, joined, ordered; rewards earned), and never another customer's."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from app.extensions import db
from app.platform.types import utcnow
from app.records.models import Customer
from app.referrals.models import Referral, ReferralInvite
from app.referrals.service import get_or_create_code
from app.stores.models import Store
from tests.extensions.seed import BOB, CLIENT_ID, seed
from tests.extensions.test_extension_api import bearer, documented, token


@pytest.fixture
def seeded(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "SHOPIFY_API_KEY", CLIENT_ID)
    return seed()


def _friends(store: Store, referrer: Customer, n_invites: int, with_email: int, statuses: list[str]) -> None:
    code = get_or_create_code(db.session, store, referrer)
    for i in range(n_invites):
        db.session.add(
            ReferralInvite(
                store_id=store.id,
                referral_code_id=code.id,
                token=f"t{referrer.id}-{i}",
                friend_key=f"{i:064d}" if i < with_email else None,
                discount_code=f"FRIEND{referrer.id}X{i}",
                discount_status="created",
            )
        )
    now = utcnow()
    for i, status in enumerate(statuses):
        reward = {"type": "points", "points": 500} if status == "rewarded" else {}
        db.session.add(
            Referral(
                store_id=store.id,
                referrer_customer_id=referrer.id,
                order_platform_id=f"{referrer.id}0{i}",
                via="landing_token",
                status=status,
                currency="EUR",
                order_total=Decimal("50"),
                reward=reward,
                rewarded_at=now - timedelta(days=i) if status == "rewarded" else None,
            )
        )
    db.session.commit()


def test_a_customer_sees_only_their_own_links_results(seeded, client):
    store = db.session.get(Store, seeded.store_id)
    alice, bob = db.session.get(Customer, seeded.alice_id), db.session.get(Customer, seeded.bob_id)
    _friends(store, alice, 4, 3, ["rewarded", "pending", "void", "rewarded"])
    _friends(store, bob, 7, 7, ["rewarded", "flagged", "qualified"])
    answer = client.get("/api/v1/me/referral/results", headers=bearer(token()))
    assert answer.status_code == 200, answer.json
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    body = answer.json
    assert (body["invited"], body["joined"], body["ordered"], body["rewarded"]) == (4, 3, 3, 2)
    assert [r["kind"] for r in body["rewards"]] == ["points", "points"]
    assert [r["points"] for r in body["rewards"]] == [500, 500]
    bobs = client.get(
        "/api/v1/me/referral/results", headers=bearer(token(documented(sub=f"gid://shopify/Customer/{BOB}")))
    ).json
    assert (bobs["invited"], bobs["joined"], bobs["ordered"], bobs["rewarded"]) == (7, 7, 3, 1)
    guest = client.get("/api/v1/me/referral/results", headers=bearer(token(documented(sub=None))))
    assert guest.status_code == 401


def test_a_customer_with_no_link_yet_has_nothing(seeded, client):
    answer = client.get("/api/v1/me/referral/results", headers=bearer(token()))
    assert answer.status_code == 200
    assert answer.json == {"invited": 0, "joined": 0, "ordered": 0, "rewarded": 0, "rewards": []}
