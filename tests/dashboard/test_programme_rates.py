"""Loyalty's earn rates for other currencies on the Programmes page: a list of currency + rate rows (a blank one to
add a rate, a box to remove one) saved as `points_per_unit` by the admin API's own validation, so a rate the API
refuses is refused beside its row with the same message; the preview says what each listed currency earns."""

from __future__ import annotations

import re

from markupsafe import escape

from app.extensions import db
from app.loyalty.settings import update_settings
from app.stores.models import Store
from tests.dashboard.test_programmes import _form, _signed_in, _updates, admin_headers


def _rows(page: str) -> list[tuple[str, str]]:
    """The rate rows the page shows, as (currency, rate), the blank row included."""
    found = re.findall(r'name="loyalty-points_per_unit\[(\d+)\]\.(currency|rate)" type="text" value="([^"]*)"', page)
    rows: dict[int, dict[str, str]] = {}
    for index, column, value in found:
        rows.setdefault(int(index), {})[column] = value
    return [(rows[i]["currency"], rows[i]["rate"]) for i in sorted(rows)]


def _stored(store) -> dict:
    db.session.expire_all()
    return db.session.get(Store, store.id).settings["loyalty"]["points_per_unit"]


def test_a_rate_is_added_shown_and_removed(dash, ctx):
    store, client, token = _signed_in(dash)
    assert _rows(client.get("/app/programmes").text) == [("", "")]  # only the blank row to add one
    data = _form(
        client, token, **{"loyalty-points_per_unit[0].currency": "JPY", "loyalty-points_per_unit[0].rate": "0.01"}
    )
    data["loyalty-points_per_unit[]"] = ""
    answer = client.post("/app/programmes/loyalty", data=data)
    assert answer.status_code == 303, answer.text
    assert _stored(store) == {"default": "1", "JPY": "0.01"}
    (row,) = _updates(store)
    assert row.diff["loyalty.points_per_unit.JPY"] == [None, "0.01"]

    update_settings(db.session, store, {"points_per_unit": {"USD": "2"}})  # one set through the API meanwhile
    db.session.commit()
    page = client.get("/app/programmes").text
    assert _rows(page) == [("JPY", "0.01"), ("USD", "2"), ("", "")]
    data = _form(client, token, **{"loyalty-points_per_unit[1].rate": "3", "loyalty-points_per_unit[0]._remove": "1"})
    data["loyalty-points_per_unit[]"] = ""
    assert client.post("/app/programmes/loyalty", data=data).status_code == 303
    assert _stored(store) == {"default": "1", "USD": "3"}
    api = dash.test_client().get("/admin/api/v1/loyalty/settings", headers=admin_headers(dash, store))
    assert api.json["points_per_unit"] == {"default": "1", "USD": "3"}


def test_a_form_without_the_rate_list_keeps_the_stored_rates(dash, ctx):
    store, client, token = _signed_in(dash)
    update_settings(db.session, store, {"points_per_unit": {"JPY": "0.01"}})
    db.session.commit()
    data = _form(client, token, **{"loyalty-points_per_unit.default": "2"})
    data = {k: v for k, v in data.items() if not k.startswith("loyalty-points_per_unit[")}
    assert client.post("/app/programmes/loyalty", data=data).status_code == 303
    assert _stored(store) == {"default": "2", "JPY": "0.01"}


def _refused_beside(text: str, field: str) -> str | None:
    beside = re.search(
        rf'data-field="loyalty-{re.escape(field)}".*?<p class="ppe-field-error" id="[^"]+">([^<]*)</p>', text, re.S
    )
    return beside[1] if beside else None


def test_a_refused_rate_is_shown_beside_its_row_with_the_api_message(dash, ctx):
    store, client, token = _signed_in(dash)
    api = dash.test_client().patch(
        "/admin/api/v1/loyalty/settings", json={"points_per_unit": {"USD": "5000"}}, headers=admin_headers(dash, store)
    )
    assert api.status_code == 422 and api.json["field"] == "points_per_unit.USD"
    data = _form(
        client, token, **{"loyalty-points_per_unit[0].currency": "USD", "loyalty-points_per_unit[0].rate": "5000"}
    )
    data["loyalty-points_per_unit[]"] = ""
    answer = client.post("/app/programmes/loyalty", data=data)
    assert answer.status_code == 422
    assert _refused_beside(answer.text, "points_per_unit[0].rate") == api.json["message"]
    assert 'value="5000"' in answer.text  # what was typed, to correct
    # A currency code the API refuses: the list's refusal, in the API's words.
    data = _form(
        client, token, **{"loyalty-points_per_unit[0].currency": "usd", "loyalty-points_per_unit[0].rate": "2"}
    )
    data["loyalty-points_per_unit[]"] = ""
    answer = client.post("/app/programmes/loyalty", data=data)
    api = dash.test_client().patch(
        "/admin/api/v1/loyalty/settings", json={"points_per_unit": {"usd": "2"}}, headers=admin_headers(dash, store)
    )
    assert answer.status_code == 422 and api.json["field"] == "points_per_unit"
    assert f'data-field-error="loyalty-points_per_unit">{escape(api.json["message"])}</p>' in answer.text
    # The same currency twice: refused beside the second row, nothing saved.
    data = _form(
        client,
        token,
        **{
            "loyalty-points_per_unit[0].currency": "USD",
            "loyalty-points_per_unit[0].rate": "2",
            "loyalty-points_per_unit[1].currency": "USD",
            "loyalty-points_per_unit[1].rate": "3",
        },
    )
    data["loyalty-points_per_unit[]"] = ""
    answer = client.post("/app/programmes/loyalty", data=data)
    assert answer.status_code == 422
    assert _refused_beside(answer.text, "points_per_unit[1].currency") == "Listed already in another row."
    db.session.expire_all()
    assert "loyalty" not in (db.session.get(Store, store.id).settings or {})
    assert _updates(store) == []


def test_the_preview_says_what_a_listed_currency_earns(dash, ctx):
    store, client, token = _signed_in(dash)
    data = _form(
        client, token, **{"loyalty-points_per_unit[0].currency": "JPY", "loyalty-points_per_unit[0].rate": "0.01"}
    )
    data["loyalty-points_per_unit[]"] = ""
    answer = client.post("/app/programmes/preview", data=data)
    assert answer.status_code == 200 and answer.json["errors"] == {}
    assert "Orders in JPY earn 0.01 points per 1 JPY." in answer.json["notes"]
    bad = client.post("/app/programmes/preview", data={**data, "loyalty-points_per_unit[0].rate": "x"})
    assert bad.json["errors"] == {"loyalty-points_per_unit[0].rate": "not a decimal number"}
    db.session.expire_all()
    assert "loyalty" not in (db.session.get(Store, store.id).settings or {})
