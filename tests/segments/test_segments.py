"""Segments: membership equals a from-scratch recomputation over generated store histories (the oracle below
restates docs/segments.md's definitions in plain arithmetic over the raw orders, sharing no code with the app);
time moves customers between lifecycle segments with no write; the merchant's own segments through the admin API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from statistics import median

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import add_store

NOW = datetime(2027, 6, 1, 12, tzinfo=UTC)

order_st = st.tuples(
    st.integers(min_value=0, max_value=900),  # days before NOW it was placed
    st.sampled_from(["10.00", "35.50", "120.00", "480.25", "0.00"]),
    st.sampled_from(["EUR", "EUR", "EUR", "USD"]),
    st.booleans(),  # cancelled
    st.sampled_from(["0", "0", "0", "5.00"]),  # refunded
)
#: Tags as a merchant spells them: case differs, "50%_off" and "50%xoff" tell an unescaped LIKE apart, and
#: "wholesale-eu" is not "wholesale".
TAGS = ["Wholesale", "wholesale", "wholesale-eu", "50%_off", "50%xoff", " VIP "]
customer_st = st.tuples(
    st.lists(order_st, min_size=0, max_size=5),
    st.sampled_from([None, None, "Silver", "Gold"]),
    st.sampled_from([None, "PL", "HU", "DE"]),
    st.lists(st.sampled_from(TAGS), max_size=3),
)
CUSTOM = [
    [{"field": "orders", "op": "gte", "value": 2}, {"field": "spent", "op": "gte", "value": "100", "currency": "EUR"}],
    [{"field": "last_order_days", "op": "gte", "value": 120}, {"field": "tier", "op": "in", "value": ["Gold"]}],
    [{"field": "lifecycle", "op": "eq", "value": "at_risk"}, {"field": "first_order_days", "op": "lte", "value": 400}],
    [{"field": "country", "op": "in", "value": ["PL", "hu"]}, {"field": "tag", "op": "has", "value": "WHOLESALE"}],
    [{"field": "tag", "op": "has", "value": "50%_off"}],
]


def _oracle(histories, tiers, places, *, top_tier: str, currency: str) -> dict[str, set[int]]:
    """Every segment's members, from the raw generated orders alone."""
    facts = {}
    for index, orders in enumerate(histories):
        if not orders:
            continue
        placed = [NOW - timedelta(days=o[0]) for o in orders]
        spent: dict[str, Decimal] = {}
        for _days, total, cur, cancelled, refunded in orders:
            if not cancelled:
                spent[cur] = spent.get(cur, Decimal(0)) + Decimal(total) - Decimal(refunded)
        counts = {}
        for o in orders:
            counts[o[2]] = counts.get(o[2], 0) + 1
        main = currency if currency in counts else min(counts, key=lambda c: (-counts[c], c))
        facts[index] = (len(orders), min(placed), max(placed), spent, main, tiers[index])
    repeat = sorted(((f[2] - f[1]).total_seconds() / 86400 / (f[0] - 1), f[2]) for f in facts.values() if f[0] >= 2)
    sample = [gap for gap, last in sorted(repeat, key=lambda g: g[1], reverse=True)[:5000]]
    interval = 60 if len(sample) < 20 else max(14, min(365, round(median(sample))))
    risk, lapse = NOW - timedelta(days=round(interval * 1.5)), NOW - timedelta(days=interval * 3)
    in_currency = sorted((f[3].get(currency, Decimal(0)) for f in facts.values() if f[4] == currency), reverse=True)
    vip_spend = in_currency[int(len(in_currency) * 0.05)] if in_currency else None
    keys = ("new", "repeat", "vip", "at_risk", "lapsed", "c0", "c1", "c2", "c3", "c4")
    out: dict[str, set[int]] = {k: set() for k in keys}
    for i, (count, first, last, spent, main, tier) in facts.items():
        recent = last >= risk
        out["new"] |= {i} if count == 1 and recent else set()
        out["repeat"] |= {i} if count >= 2 and recent else set()
        out["at_risk"] |= {i} if lapse <= last < risk else set()
        out["lapsed"] |= {i} if last < lapse else set()
        by_spend = vip_spend is not None and vip_spend > 0 and main == currency and spent.get(currency, 0) >= vip_spend
        out["vip"] |= {i} if tier == top_tier or by_spend else set()
        out["c0"] |= {i} if count >= 2 and currency in spent and spent[currency] >= 100 else set()
        out["c1"] |= {i} if last <= NOW - timedelta(days=120) and tier == "Gold" else set()
        out["c2"] |= {i} if lapse <= last < risk and first >= NOW - timedelta(days=400) else set()
        country, tags = places[i][0], {t.strip().lower() for t in places[i][1]}
        out["c3"] |= {i} if country in ("PL", "HU") and "wholesale" in tags else set()
        out["c4"] |= {i} if "50%_off" in tags else set()
    return out


@pytest.fixture
def seg_app(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_CLOCK", lambda: NOW)
    return app


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(histories=st.lists(customer_st, min_size=1, max_size=60))
def test_membership_equals_a_from_scratch_recomputation(seg_app, histories):
    from app.extensions import db
    from app.loyalty.models import LoyaltyAccount
    from app.records.customers import refresh_totals
    from app.records.models import Customer, Order
    from app.records.models.customer import tags_text
    from app.segments import service
    from app.segments.conditions import as_json, validate
    from app.segments.models import Segment
    from connectors.parsing import tags as parse_tags

    with seg_app.app_context():
        try:
            store = add_store("shopify", domain=f"seg-{id(histories)}.myshopify.com", currency="EUR")
            store = db.session.merge(store)
            spec = {"basis": "amount_spent", "window": "lifetime", "multiplier": "1"}
            tiers = [{"name": "Silver", "threshold": "100", **spec}, {"name": "Gold", "threshold": "500", **spec}]
            store.settings = {"loyalty": {"tiers": tiers}}
            index_of: dict[int, int] = {}
            for i, (orders, tier, country, tags) in enumerate(histories):
                customer = Customer(
                    store_id=store.id,
                    platform_id=str(1000 + i),
                    email_key=f"c{i}@x",
                    country=country,
                    tags=tags_text(parse_tags(", ".join(tags))),
                )  # as a Shopify payload spells them
                db.session.add(customer)
                db.session.flush()
                index_of[customer.id] = i
                for n, (days, total, cur, cancelled, refunded) in enumerate(orders):
                    when = NOW - timedelta(days=days)
                    db.session.add(Order(store_id=store.id, platform_id=f"{i}-{n}", customer_id=customer.id,
                                         currency=cur, total_price=Decimal(total), subtotal_price=Decimal(total),
                                         refunded_amount=Decimal(refunded), placed_at=when, platform_updated_at=when,
                                         cancelled_at=when if cancelled else None))  # fmt: skip
                if tier:
                    db.session.add(LoyaltyAccount(store_id=store.id, customer_id=customer.id, tier=tier))
                db.session.flush()
                refresh_totals(db.session, store, customer)  # the pipeline's own aggregation
            for n, conditions in enumerate(CUSTOM):  # as editing.create stores them (it audits: no actor here)
                rule = as_json(validate(conditions))
                db.session.add(Segment(store_id=store.id, key=f"c{n}", name=f"Custom {n}", conditions=rule))
            db.session.flush()
            places = [(h[2], h[3]) for h in histories]
            expected = _oracle([h[0] for h in histories], [h[1] for h in histories], places, top_tier="Gold",
                               currency="EUR")  # fmt: skip
            sizes = {d.key: n for d, n in service.counts(db.session, store, NOW)}
            for definition in service.definitions(db.session, store):
                got = {index_of[c.id] for c in service.members(db.session, store, definition, NOW, limit=1000)}
                assert got == expected[definition.key], definition.key
                assert sizes[definition.key] == len(got), definition.key
            for customer in db.session.query(Customer).filter_by(store_id=store.id):
                mine = set(service.segments_of(db.session, store, customer, NOW))
                assert mine == {k for k, members in expected.items() if index_of[customer.id] in members}
        finally:
            db.session.rollback()
            db.session.remove()


def test_time_moves_a_customer_through_the_lifecycle_without_a_write(seg_app, client):
    from app.extensions import db
    from app.records.models import Customer
    from app.segments import service
    from tests.reviews.conftest import order, post

    with seg_app.app_context():
        db.session.merge(add_store("shopify"))
        db.session.commit()
    payload = order(5001, updated_at="2027-05-01T10:00:00+00:00")
    payload.update(created_at="2027-05-01T10:00:00+00:00", processed_at="2027-05-01T10:00:00+00:00")
    post(seg_app, client, "orders/create", payload)
    post(seg_app, client, "orders/create", payload)  # a duplicate changes nothing
    with seg_app.app_context():
        from app.stores.models import Store

        store = db.session.query(Store).one()
        customer = db.session.query(Customer).filter_by(store_id=store.id).one()
        seen = [service.segments_of(db.session, store, customer, NOW + timedelta(days=d)) for d in (0, 100, 200)]
        assert seen == [["new"], ["at_risk"], ["lapsed"]]  # 60-day default rhythm: at risk after 90, lapsed after 180


def test_the_merchants_own_segment_through_the_admin_api(seg_app, client):
    from app.admin.auth import issue_admin_token
    from app.extensions import db
    from app.stores.models import Store

    with seg_app.app_context():
        store = db.session.merge(add_store("shopify"))
        other = db.session.merge(add_store("woocommerce"))
        db.session.commit()
        auth = {"Authorization": "Bearer " + issue_admin_token(db.session.get(Store, store.id))}
        theirs = {"Authorization": "Bearer " + issue_admin_token(db.session.get(Store, other.id))}
    body = {"key": "big-eur", "name": "Big spenders",
            "conditions": [{"field": "spent", "op": "gte", "value": "300", "currency": "EUR"}]}  # fmt: skip
    bad = {**body, "conditions": [{"field": "spent", "op": "gte", "value": 300, "currency": "EUR"}]}
    refused = client.post("/admin/api/v1/segments", json=bad, headers=auth)
    assert refused.status_code == 422 and refused.json["field"] == "conditions[0].value"
    assert client.post("/admin/api/v1/segments", json={**body, "key": "vip"}, headers=auth).status_code == 422
    created = client.post("/admin/api/v1/segments", json=body, headers=auth)
    assert created.status_code == 201 and created.json["customers"] == 0
    assert client.post("/admin/api/v1/segments", json=body, headers=auth).json["field"] == "key"  # taken
    listed = client.get("/admin/api/v1/segments", headers=auth).json
    assert [s["key"] for s in listed["segments"]] == ["new", "repeat", "vip", "at_risk", "lapsed", "big-eur"]
    assert listed["interval_days"] == 60
    assert client.get("/admin/api/v1/segments/big-eur/customers", headers=theirs).status_code == 404
    assert client.patch("/admin/api/v1/segments/big-eur", json={"name": "x"}, headers=theirs).status_code == 404
    changed = client.patch("/admin/api/v1/segments/big-eur", json={"name": "Whales"}, headers=auth)
    assert changed.status_code == 200 and changed.json["name"] == "Whales"
    assert client.delete("/admin/api/v1/segments/big-eur", headers=auth).status_code == 200
    actions = [e["action"] for e in client.get("/admin/api/v1/audit", headers=auth).json["entries"]]
    assert actions[:3] == ["segment.delete", "segment.change", "segment.create"]


def test_the_rhythm_is_the_stores_own_median_and_moves_the_boundaries(seg_app):
    """25 customers reorder every 30 days, 5 every 200: the median interval is 30, so 50 days of silence is
    already at risk here (with the 60-day default it would still be recent)."""
    from app.extensions import db
    from app.records.customers import refresh_totals
    from app.records.models import Customer, Order
    from app.segments import rhythm, service

    with seg_app.app_context():
        store = db.session.merge(add_store("shopify", currency="EUR"))
        for i in range(30):
            gap = 30 if i < 25 else 200
            customer = Customer(store_id=store.id, platform_id=str(i), email_key=f"r{i}@x")
            db.session.add(customer)
            db.session.flush()
            for n in range(3):
                when = NOW - timedelta(days=50 + n * gap)
                db.session.add(Order(store_id=store.id, platform_id=f"{i}-{n}", customer_id=customer.id, currency="EUR",
                                     total_price=Decimal("20"), subtotal_price=Decimal("20"), placed_at=when,
                                     platform_updated_at=when))  # fmt: skip
            db.session.flush()
            refresh_totals(db.session, store, customer)
        row = rhythm.compute(db.session, store, NOW)
        assert (row.interval_days, row.repeat_customers) == (30, 30)
        sizes = {d.key: n for d, n in service.counts(db.session, store, NOW)}
        assert sizes["at_risk"] == 30 and sizes["repeat"] == 0
        db.session.rollback()
