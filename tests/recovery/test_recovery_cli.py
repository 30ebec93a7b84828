"""`flask recovery list|show|open|close` against the Shopify stand-in (real HTTP): a case opened by hand gets its
coupon in the store like any other, and closing it deletes that coupon as a refund would; opening is refused for
the same reasons as for any programme and never makes a second case; a used code is not taken back; each change is
one audit row as `cli`, a refusal or a no-op none."""

from __future__ import annotations

import json

from sqlalchemy import select

from app.admin.models import AuditEntry
from app.extensions import db
from app.recovery import RecoveryCase
from app.recovery.models import FAILED, USED
from app.stores.models import Store
from tests.helpers import SHOP, add_store, process_all, shopify_order, shopify_standin
from tests.journeys.conftest import post_shopify
from tests.recovery.test_recovery_cases import _cases, _enable, _run_jobs


def _cli(app, *args: str):
    return app.test_cli_runner().invoke(args=["recovery", *args])


def _ok(app, *args: str) -> dict:
    result = _cli(app, *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _audit(app) -> list[tuple[str, str, str | None, dict]]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        out = [(r.action, r.actor_kind, r.target, r.diff) for r in rows if r.action.startswith("recovery.")]
        db.session.remove()
    return out


def test_open_list_show_close_takes_the_coupon_back_in_the_store(app, client, monkeypatch):
    with shopify_standin(app, monkeypatch) as server:
        with app.app_context():
            _enable(add_store("shopify", currency="USD"))
            sid = str(db.session.scalars(select(Store.id)).one())
        post_shopify(client, "orders/create", shopify_order(7500, customer_id=7501, email="m@example.com"))
        process_all(app)

        opened = _ok(app, "open", sid, "7500")
        assert opened["opened"] is True and (opened["order_id"], opened["reason"]) == ("7500", "manual")
        assert opened["status"] == "pending" and opened["source"] == "cli"
        again = _ok(app, "open", sid, "7500")  # once per order: the case is shown, not opened twice
        assert again["opened"] is False and again["id"] == opened["id"]
        assert len(_cases(app)) == 1

        _run_jobs(app)
        discounts = server.state(SHOP).writeback.discounts
        assert list(discounts) == [opened["code"]]
        listed = _ok(app, "list", sid)
        assert [(c["id"], c["status"]) for c in listed["cases"]] == [(opened["id"], "issued")]
        assert listed["next_before"] is None
        assert _ok(app, "list", sid, "--status", "reversed")["cases"] == []
        assert _ok(app, "show", sid, str(opened["id"]))["status"] == "issued"

        closed = _ok(app, "close", sid, str(opened["id"]))
        assert closed["closed"] is True and closed["status"] == "reversing"
        _run_jobs(app)
        assert [c.status for c in _cases(app)] == ["reversed"]
        assert discounts == {}  # deleted in the store, as a refund does
        assert [d["input"]["code"] for d in server.state(SHOP).writeback.deleted] == [opened["code"]]
        assert _ok(app, "close", sid, str(opened["id"]))["closed"] is False  # closed already: nothing written

    target = f"recovery_case:{opened['id']}"
    assert _audit(app) == [
        ("recovery.open", "cli", target, {"order_id": "7500", "reason": "manual"}),
        ("recovery.close", "cli", target, {"status": ["issued", "reversing"]}),
    ]


def test_refusals_say_why_and_write_nothing(app, client):
    with app.app_context():
        store = add_store("shopify", currency="USD")
        sid = str(store.id)
        other = str(add_store("shopify", domain="other-shop.myshopify.com").id)
        db.session.commit()
    post_shopify(client, "orders/create", shopify_order(7600, customer_id=7601, email="r@example.com"))
    process_all(app)

    off = _cli(app, "open", sid, "7600")
    assert off.exit_code == 1 and "recovery is off" in off.output
    with app.app_context():
        _enable(db.session.get(Store, int(sid)))
    for order_id, words in (("7699", "no order 7699"), ("x1", "not a numeric id")):
        refused = _cli(app, "open", sid, order_id)
        assert refused.exit_code == 1 and words in refused.output
    case = _ok(app, "open", sid, "7600")
    missing = _cli(app, "show", other, str(case["id"]))  # another store's case is not found
    assert missing.exit_code == 1 and "no recovery case" in missing.output
    assert _cli(app, "close", other, str(case["id"])).exit_code == 1

    with app.app_context():  # an order carried the code: a used coupon cannot be taken back
        row = db.session.get(RecoveryCase, case["id"])
        row.status, row.used_order_platform_id = USED, "7700"
        db.session.commit()
    used = _cli(app, "close", sid, str(case["id"]))
    assert used.exit_code == 1 and "used on order 7700" in used.output
    assert [a for a, *_ in _audit(app)] == ["recovery.open"]


def test_a_case_whose_coupon_the_store_refused_closes_at_once(app, client):
    """`failed` before any coupon existed: nothing to delete (the job would have had no coupon id to delete)."""
    with app.app_context():
        store = add_store("shopify", currency="USD")
        _enable(store)
        sid = str(store.id)
    post_shopify(client, "orders/create", shopify_order(7800, customer_id=7801, email="f@example.com"))
    process_all(app)
    case = _ok(app, "open", sid, "7800")
    with app.app_context():
        row = db.session.get(RecoveryCase, case["id"])
        row.status, row.last_error = FAILED, "ConnectorError: refused"
        db.session.commit()
    closed = _ok(app, "close", sid, str(case["id"]))
    assert closed["closed"] is True and closed["status"] == "reversed"
