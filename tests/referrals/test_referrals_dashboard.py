"""The dashboard's Referrals page: referrals by status with their fraud reasons, flagged first; approve and
reject run the admin API's decision and audit it as the merchant; another store's referral is neither shown nor
decided; a decided one is not decided again; a cookie session's POST without its CSRF token is refused."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from app.admin.models import AuditEntry
from app.extensions import db
from app.records.models import Customer
from app.referrals.models import Referral
from tests.dashboard.conftest import bearer, signed_in
from tests.helpers import SHOP, add_store


def _referral(store, n: int, *, status: str = "flagged", reasons=("same_address",)) -> Referral:
    who = db.session.scalar(select(Customer).where(Customer.store_id == store.id))
    if who is None:
        who = Customer(
            store_id=store.id, email=f"referrer@{store.id}.example", email_key=f"referrer@{store.id}.example"
        )
        db.session.add(who)
        db.session.flush()
    row = Referral(
        store_id=store.id,
        referrer_customer_id=who.id,
        order_platform_id=str(n),
        via="discount_code",
        status=status,
        reasons=list(reasons),
        currency="EUR",
        order_total=Decimal("42.50"),
    )
    db.session.add(row)
    db.session.commit()
    return row


def _stores():
    return (
        add_store("woocommerce", domain="https://mine.example", name="Mine"),
        add_store("woocommerce", domain="https://other.example", name="Other"),
    )


def _audit(store) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.store_id == store.id).order_by(AuditEntry.id)))


def test_flagged_first_with_reasons_and_by_status(dash, ctx):
    mine, other = _stores()
    flagged = _referral(mine, 1, reasons=("same_email", "same_device"))
    _referral(mine, 2, status="pending", reasons=())
    theirs = _referral(other, 3)
    client, _ = signed_in(dash, mine, "/app/referrals")
    page = client.get("/app/referrals").text
    assert f'data-referral="{flagged.id}"' in page and f'data-referral="{theirs.id}"' not in page
    assert "Same mailbox as the referrer" in page and "Same device as the referrer" in page
    assert f"referrer@{mine.id}.example" in page and '<span class="ppe-money">42.50 EUR</span>' in page
    assert 'aria-current="page">Flagged <span class="ppe-count">1</span>' in page
    pending = client.get("/app/referrals?status=pending").text
    assert pending.count('data-referral="') == 1 and "Approve" not in pending.split('data-referral="')[1]


def test_reject_by_cookie_session_is_audited_as_the_link(dash, ctx):
    mine, _ = _stores()
    referral = _referral(mine, 1)
    client, csrf = signed_in(dash, mine, "/app/referrals")
    answer = client.post(f"/app/referrals/{referral.id}/reject?status=flagged", data={"csrf_token": csrf})
    assert answer.status_code == 303 and answer.headers["Location"] == "/app/referrals?done=reject&status=flagged"
    db.session.expire_all()
    row = db.session.get(Referral, referral.id)
    assert row.status == "rejected" and row.decided_by == "merchant:dashboard"
    entry = _audit(mine)[-1]
    assert (entry.action, entry.target, entry.diff) == (
        "referral.reject",
        f"referral:{referral.id}",
        {"status": ["flagged", "rejected"]},
    )
    assert entry.actor_kind == "dashboard_link" and entry.actor_id and len(entry.actor_id) == 16
    assert "Referral rejected" in client.get(answer.headers["Location"]).text
    # Decided already (another tab): said so, nothing changed, no row.
    again = client.post(f"/app/referrals/{referral.id}/approve", data={"csrf_token": csrf})
    assert again.headers["Location"] == "/app/referrals?done=not_flagged"
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status == "rejected" and _audit(mine)[-1].id == entry.id


def test_approve_inside_shopify_admin(dash, ctx):
    store = add_store("shopify", name="Shopify Shop")
    referral = _referral(store, 1)
    answer = dash.test_client().post(f"/app/referrals/{referral.id}/approve", headers=bearer(SHOP))
    assert answer.status_code == 303
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status == "pending"
    entry = _audit(store)[-1]
    assert (entry.action, entry.actor_kind, entry.actor_id) == ("referral.approve", "shopify_user", "42")


def test_another_stores_referral_and_a_missing_csrf_token_are_refused(dash, ctx):
    mine, other = _stores()
    mine_flagged = _referral(mine, 1)
    theirs = _referral(other, 2)
    client, csrf = signed_in(dash, mine, "/app/referrals")
    before = len(_audit(mine))
    assert client.post(f"/app/referrals/{theirs.id}/approve", data={"csrf_token": csrf}).status_code == 404
    assert client.post(f"/app/referrals/{2**63}/approve", data={"csrf_token": csrf}).status_code == 404
    assert client.post(f"/app/referrals/{mine_flagged.id}/approve").status_code == 400
    assert client.post(f"/app/referrals/{mine_flagged.id}/approve", data={"csrf_token": "0" * 64}).status_code == 400
    db.session.expire_all()
    assert db.session.get(Referral, theirs.id).status == "flagged"
    assert db.session.get(Referral, mine_flagged.id).status == "flagged"
    assert len(_audit(mine)) == before and _audit(other) == []
