"""The Overview's numbers against a store history with known answers (tests/dashboard/history.py), over the
page a merchant opens; another store's rows must not count."""

from __future__ import annotations

from datetime import UTC, datetime

from app.extensions import db
from tests.dashboard import history, history_orders
from tests.dashboard.conftest import cells, figures, login_link
from tests.helpers import add_store

MARCH = "/app?from=2026-03-01&to=2026-03-31"


def _signed_in(app, store):
    client = app.test_client()
    assert client.get(login_link(app, store)).status_code == 303
    return client


def test_overview_figures_are_exact_over_the_chosen_period(dash, ctx):
    store = add_store("woocommerce", currency="EUR")
    expected = history.build(store)
    other = add_store("woocommerce", domain="https://other.example", currency="EUR")
    history.build(other, seed=7)  # rows of another store, in the same period
    db.session.expire_all()
    page = _signed_in(dash, store).get(MARCH)
    assert page.status_code == 200
    shown = figures(page.text)
    assert {key: shown.get(key) for key in expected} == expected
    # The history is drawn to exercise what the figures distinguish.
    assert int(expected["orders.count"]) > 10 and "orders.revenue.USD" in expected
    assert expected["orders.repeat_rate"] not in ("0.00 %", "100.00 %", "–")
    assert int(expected["loyalty.points_redeemed"]) > 0 and int(expected["reviews.collected"]) > 3
    assert expected["reviews.request_rate"] not in ("0.00 %", "100.00 %", "–")
    for key in ("orders.revenue_chart", "loyalty.points_chart", "reviews.ratings_chart", "referrals.status_chart"):
        assert f'data-chart="{key}"' in page.text


def test_presets_and_bad_periods(dash, ctx):
    store = add_store("woocommerce", currency="EUR")
    history.build(store)
    client = _signed_in(dash, store)
    last_30 = client.get("/app")  # today is 2026-04-01 (the fixture's clock): 2026-03-03 .. 2026-04-01
    assert "2026-03-03 – 2026-04-01" in last_30.text
    # Nonsense falls back to the default period rather than an error.
    for query in (
        "?days=13",
        "?from=2026-04-01&to=2026-03-01",
        "?from=garbage&to=2026-03-01",
        "?from=2020-01-01&to=2026-01-01",
    ):
        answer = client.get("/app" + query)
        assert answer.status_code == 200 and "2026-03-03 – 2026-04-01" in answer.text, query
    year = client.get("/app?days=365")
    assert "2025-04-02 – 2026-04-01" in year.text


def test_an_empty_store_shows_zeros_not_errors(dash, ctx):
    store = add_store("woocommerce", currency="EUR")
    shown = figures(_signed_in(dash, store).get(MARCH).text)
    assert shown["orders.count"] == "0" and shown["orders.repeat_rate"] == "–"
    assert shown["reviews.average_rating"] == "–" and shown["messaging.sent"] == "0"


def test_cohort_retention_table_is_exact(dash, ctx):
    """Four months (January to April 2026): each cohort's row against the plan, computed in Python."""
    store = add_store("woocommerce", currency="EUR")
    history.build(store)
    other = add_store("woocommerce", domain="https://other.example", currency="EUR")
    history.build(other, seed=7)
    db.session.expire_all()
    page = _signed_in(dash, store).get("/app?from=2026-01-01&to=2026-04-30")
    expected = history_orders.cohort_cells(store, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))
    assert cells(page.text) == expected
    # The history reaches what the table distinguishes: several cohorts, a month 1 that is neither 0 nor 100 %.
    assert len({key.split(":")[1] for key in expected}) >= 2
    assert any(key.endswith(":1") and value not in ("", "0.00 %", "100.00 %") for key, value in expected.items())
    assert "<caption" in page.text and "scope='row'" in page.text
