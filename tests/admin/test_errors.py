"""An AppError a view lets through (app/errors.py) answers its own status and code, never a 500: the admin
blueprint's handler and the storefront's (JSON), and werkzeug's page of that status on the other paths."""

from __future__ import annotations

import pytest

from app.errors import AppError, Refused
from app.loyalty.settings import SettingsError
from tests.helpers import add_store


class KettleCold(Refused):
    code = "kettle_cold"


def _raises(*args, **kwargs):
    raise KettleCold("no tea today", kettle="cold")


def test_error_body_and_defaults():
    assert KettleCold("no tea", kettle="cold").body() == {"error": "kettle_cold", "message": "no tea", "kettle": "cold"}
    assert (AppError().status, AppError().body()) == (400, {"error": "bad_request"})
    with pytest.raises(ValueError):  # the domain errors keep the bases code catches them by
        raise SettingsError("must be an integer", "points")
    assert SettingsError("must be an integer", "points").body() == {
        "error": "invalid",
        "message": "must be an integer",
        "field": "points",
    }


def test_admin_view_answers_an_app_error(app, client, ctx, monkeypatch):
    from app.admin.auth import issue_admin_token
    from app.extensions import db

    store = add_store("woocommerce")
    token = issue_admin_token(store)

    def half_written(*args, **kwargs):
        store.name = "written before the refusal"
        _raises()

    monkeypatch.setattr("app.loyalty.admin.liability_report", half_written)
    answer = client.get("/admin/api/v1/loyalty/report", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 422
    assert answer.json == {"error": "kettle_cold", "message": "no tea today", "kettle": "cold"}
    assert db.session.get(type(store), store.id).name != "written before the refusal"  # rolled back


def test_storefront_view_answers_an_app_error(app, client, ctx, monkeypatch):
    from app.extensions import db
    from app.security import secret_box
    from app.stores.storefront_keys import ensure_keys

    keys = ensure_keys(db.session, secret_box(), add_store("woocommerce"))
    db.session.commit()
    monkeypatch.setattr("app.storefront.routes.program_description", _raises)
    answer = client.get("/api/v1/program", headers={"X-PPE-Store": keys.public_key})
    assert answer.status_code == 422 and answer.mimetype == "application/json"
    assert answer.json == {"error": "kettle_cold", "message": "no tea today", "kettle": "cold"}


def test_other_views_answer_its_status_not_a_500(app, client, ctx, monkeypatch):
    monkeypatch.setattr("app.stores.woo_install.normalise_site_url", _raises)
    monkeypatch.setitem(app.config, "APP_URL", "https://app.example.com")  # WooCommerce connects only over https
    answer = client.get("/woocommerce/connect?site=https://shop.example.com")
    assert answer.status_code == 422 and "no tea today" in answer.text


def test_the_review_form_answers_its_own_pages(app, client, ctx):
    for path, title in (("/r/not-a-token", "Write a review"), ("/r/help/not-a-token", "Get help")):
        answer = client.get(path)  # LinkInvalid: the form's own handler, an HTML page of its view
        assert answer.status_code == 400 and answer.mimetype == "text/html", path
        assert f"<title>{title}</title>" in answer.text and "This link is not valid." in answer.text


def test_the_storefront_fast_path_answers_an_app_error(app, client, ctx, monkeypatch):
    """A door route (answered before Flask, storefront/door.py) that raises an AppError answers as the Flask
    views do, with the CORS headers of the caller's origin, not a 500."""
    from app.extensions import db
    from app.security import secret_box
    from app.stores.storefront_keys import ensure_keys

    keys = ensure_keys(db.session, secret_box(), add_store("woocommerce"))
    db.session.commit()
    monkeypatch.setattr("app.reviews.storefront._product", _raises)  # the summary's first step
    answer = client.get(f"/api/v1/products/42/reviews/summary?store={keys.public_key}")
    assert answer.status_code == 422 and answer.mimetype == "application/json"
    assert answer.json == {"error": "kettle_cold", "message": "no tea today", "kettle": "cold"}
