"""The Customers pages: search by e-mail or name within the signed-in store, one customer's timeline from every
feature, and the manual points adjustment (a ledger row, an audit row naming the dashboard's merchant, refusals)."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.admin.models import AuditEntry
from app.extensions import db
from app.loyalty.api import check_invariants
from app.loyalty.models import PointsLedger
from tests.dashboard import customer_story
from tests.dashboard.conftest import login_link, session_token
from tests.helpers import SHOP, add_store

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


def _signed_in(app, store):
    client = app.test_client()
    assert client.get(login_link(app, store)).status_code == 303
    return client


def _rows(text: str) -> list[str]:
    return re.findall(r'data-customer="(\d+)"', text)


def _form(client, customer_id: int) -> dict[str, str]:
    page = client.get(f"/app/customers/{customer_id}")
    assert page.status_code == 200
    return {"csrf_token": CSRF.search(page.text).group(1), "idempotency_key": KEY.search(page.text).group(1)}


def test_search_by_email_or_name_in_this_store_only(dash, ctx):
    store = add_store("woocommerce", name="Mine")
    ada = customer_story.build(store)
    other = add_store("woocommerce", domain="https://other.example", name="Theirs")
    twin = customer_story.customer(other, 1, "ada.lovelace@example.com", "Ada", "Lovelace")
    db.session.commit()
    client = _signed_in(dash, store)
    # The e-mail as typed (any case, spaces around), part of it, the first, last or whole name.
    for query in ("ADA.lovelace@example.com", "  lovelace@exa ", "ada", "Lovelace", "ada lovelace"):
        page = client.get("/app/customers", query_string={"q": query})
        assert page.status_code == 200 and _rows(page.text) == [str(ada.id)], query
    assert _rows(client.get("/app/customers", query_string={"q": "hopper"}).text) != [str(ada.id)]
    assert "No customer matches." in client.get("/app/customers", query_string={"q": "nobody"}).text
    # LIKE's wildcards are text here, not patterns.
    assert _rows(client.get("/app/customers", query_string={"q": "%"}).text) == []
    everyone = client.get("/app/customers").text
    assert str(twin.id) not in _rows(everyone) and len(_rows(everyone)) == 2
    # The other store's merchant sees their own Ada, never this one, and this one's page is a 404 to them.
    theirs = _signed_in(dash, other)
    assert _rows(theirs.get("/app/customers", query_string={"q": "ada"}).text) == [str(twin.id)]
    assert theirs.get(f"/app/customers/{ada.id}").status_code == 404


def test_search_pages_through_many_customers(dash, ctx):
    store = add_store("woocommerce")
    for n in range(30):
        customer_story.customer(store, n, f"buyer{n:02d}@example.com", "Buyer", f"No{n:02d}")
    db.session.commit()
    client = _signed_in(dash, store)
    first = client.get("/app/customers", query_string={"q": "buyer"})
    assert len(_rows(first.text)) == 25 and 'rel="next"' in first.text and 'rel="prev"' not in first.text
    second = client.get("/app/customers", query_string={"q": "buyer", "page": "2"})
    assert len(_rows(second.text)) == 5 and 'rel="prev"' in second.text and 'rel="next"' not in second.text
    assert not set(_rows(first.text)) & set(_rows(second.text))
    assert client.get("/app/customers", query_string={"page": "x"}).status_code == 200  # a bad page: the first


def test_timeline_shows_every_feature_in_time_order(dash, ctx):
    store = add_store("woocommerce")
    ada = customer_story.build(store)
    page = _signed_in(dash, store).get(f"/app/customers/{ada.id}")
    assert page.status_code == 200
    kinds = re.findall(r'<li data-kind="([a-z]+)">', page.text)
    assert kinds == ["message", "referral", "review", "points", "order"]  # newest first
    text = re.sub(r"\s+", " ", page.text)
    assert "Order #1001" in text and "42.50 EUR" in text and "(19.99 EUR)" in text
    assert "Review of Blue Mug: 5 of 5" in text and "published" in text
    assert "Referred a friend" in text and "flagged · same_address" in text
    assert "E-mail “review_request”" in text and "+120" in text
    assert 'data-figure="loyalty.spendable">120<' in page.text and 'data-figure="loyalty.total">120<' in page.text


def test_points_adjustment_writes_a_ledger_row_and_an_audit_row(dash, ctx):
    store = add_store("woocommerce")
    ada = customer_story.build(store)
    client = _signed_in(dash, store)
    form = _form(client, ada.id)
    answer = client.post(
        f"/app/customers/{ada.id}/points", data={**form, "points": "-20", "reason": "Damaged parcel goodwill"}
    )
    assert answer.status_code == 303 and answer.headers["Location"].startswith(f"/app/customers/{ada.id}?saved=points")
    # The same form again (a double click): one row, one audit entry.
    again = client.post(
        f"/app/customers/{ada.id}/points", data={**form, "points": "-20", "reason": "Damaged parcel goodwill"}
    )
    assert again.status_code == 303
    db.session.expire_all()
    rows = db.session.scalars(select(PointsLedger).where(PointsLedger.kind == "adjust")).all()
    assert [(r.points, r.rule["reason"], r.store_id, r.customer_id) for r in rows] == [
        (-20, "Damaged parcel goodwill", store.id, ada.id)
    ]
    audits = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "points.adjust")).all()
    assert len(audits) == 1
    entry = audits[0]
    assert entry.store_id == store.id and entry.target == f"customer:{ada.id}"
    assert entry.diff == {"points": -20, "row": rows[0].id}
    assert entry.actor_kind == "dashboard_link" and re.fullmatch(r"[0-9a-f]{16}", entry.actor_id)
    assert check_invariants(db.session, store) == []
    shown = client.get(answer.headers["Location"])
    assert "Saved." in shown.text and 'data-figure="loyalty.spendable">100<' in shown.text


def test_points_adjustment_refuses_bad_input_next_to_the_field(dash, ctx):
    store = add_store("woocommerce")
    ada = customer_story.build(store)
    client = _signed_in(dash, store)
    form = _form(client, ada.id)
    cases = [
        ({"points": "0", "reason": "x"}, "ppe-points-error"),
        ({"points": "1.5", "reason": "x"}, "ppe-points-error"),
        ({"points": "abc", "reason": "x"}, "ppe-points-error"),
        ({"points": "1000001", "reason": "x"}, "ppe-points-error"),
        ({"points": "5", "reason": "   "}, "ppe-reason-error"),
        ({"points": "5", "reason": "r" * 201}, "ppe-reason-error"),
        ({"points": "-121", "reason": "more than she has"}, "ppe-points-error"),
    ]
    for typed, error_id in cases:
        answer = client.post(f"/app/customers/{ada.id}/points", data={**form, **typed})
        assert answer.status_code == 422, typed
        assert f'id="{error_id}"' in answer.text and 'aria-invalid="true"' in answer.text, typed
        assert f'value="{typed["points"]}"' in answer.text  # what was typed stays in the field
    assert "fewer spendable points" in answer.text
    # Without the CSRF token: refused before anything is read.
    assert client.post(f"/app/customers/{ada.id}/points", data={"points": "5", "reason": "x"}).status_code == 400
    db.session.expire_all()
    assert db.session.scalars(select(PointsLedger).where(PointsLedger.kind == "adjust")).all() == []
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action != "dashboard_link.issue")).all() == []


def test_points_adjustment_of_another_stores_customer_is_refused(dash, ctx):
    store = add_store("woocommerce")
    other = add_store("woocommerce", domain="https://other.example")
    theirs = customer_story.build(other)
    customer_story.customer(store, 9, "me@example.com")
    db.session.commit()
    client = _signed_in(dash, store)
    csrf = CSRF.search(client.get("/app/customers").text).group(1)
    answer = client.post(
        f"/app/customers/{theirs.id}/points",
        data={"csrf_token": csrf, "idempotency_key": "k1", "points": "50", "reason": "try"},
    )
    assert answer.status_code == 404
    db.session.expire_all()
    assert db.session.scalars(select(PointsLedger).where(PointsLedger.kind == "adjust")).all() == []


def test_session_token_merchant_adjusts_as_the_shopify_user(dash, ctx):
    store = add_store("shopify", name="Test Shop")
    ada = customer_story.build(store)
    headers = {"Authorization": f"Bearer {session_token(SHOP)}", "X-PPE-Fragment": "1"}
    client = dash.test_client()
    page = client.get(f"/app/customers/{ada.id}", headers=headers)
    assert page.status_code == 200 and 'data-panel="loyalty"' in page.text
    key = KEY.search(page.text).group(1)
    answer = client.post(
        f"/app/customers/{ada.id}/points",
        headers=headers,
        data={"idempotency_key": key, "points": "15", "reason": "Birthday"},
    )
    assert answer.status_code == 303
    db.session.expire_all()
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action != "dashboard_link.issue")).one()
    assert (entry.actor_kind, entry.actor_id, entry.action) == ("shopify_user", "42", "points.adjust")


def test_concurrent_removals_cannot_both_pass_the_spendable_check(dash, ctx):
    """Two merchants' tabs remove 100 of Ada's 120 points at once: the store's lock makes the spendable check and
    the row one step, so one is saved and the other refused (PostgreSQL only; SQLite serialises its writers)."""
    import threading

    import pytest

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers; the race (and the advisory lock) is PostgreSQL's")
    store = add_store("woocommerce")
    ada = customer_story.build(store)
    tabs = []
    for _ in range(2):
        client = _signed_in(dash, store)
        tabs.append((client, _form(client, ada.id)))
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def press(client, form) -> None:
        barrier.wait(timeout=10)
        answer = client.post(f"/app/customers/{ada.id}/points", data={**form, "points": "-100", "reason": "race"})
        statuses.append(answer.status_code)

    threads = [threading.Thread(target=press, args=tab) for tab in tabs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [303, 422]
    db.session.expire_all()
    assert [r.points for r in db.session.scalars(select(PointsLedger).where(PointsLedger.kind == "adjust"))] == [-100]
    assert check_invariants(db.session, store) == []
