"""The audit log: every action a merchant takes through the admin API or a command is one row (who, what, target,
diff, when) written with the action; replays, refusals and no-op changes write none; `GET /admin/api/v1/audit`
and `flask stores audit` list a store's rows only, newest first; shop/redact deletes them."""

from __future__ import annotations

import hashlib
import json
import time
from decimal import Decimal

import jwt
from sqlalchemy import func, select

from app.admin import audit
from app.admin.models import AuditEntry
from app.compliance.models import ComplianceRequest
from app.compliance.shop_redact import redact_shop
from app.extensions import db
from app.platform.types import utcnow
from app.referrals.models import Referral
from app.reviews.models.review import Review
from app.stores.models import Store
from app.support.models import SupportMessage
from tests.conftest import SHOPIFY_SECRET
from tests.helpers import SHOP, add_store
from tests.loyalty.conftest import apply, customer, order_event

REWARD = {"id": "five", "type": "fixed_amount", "points": 20, "value": "5", "currency": "EUR"}


def audit_dicts(store_id: int) -> list[dict]:
    return [audit.as_dict(r) for r in db.session.scalars(select(AuditEntry).where(AuditEntry.store_id == store_id))]


class Log:
    """The store's audit rows, and the ones added since the last look."""

    def __init__(self, store_id: int) -> None:
        self.store_id, self.seen = store_id, 0

    def new(self) -> list[AuditEntry]:
        db.session.expire_all()
        stmt = select(AuditEntry).where(AuditEntry.store_id == self.store_id, AuditEntry.id > self.seen)
        rows = list(db.session.scalars(stmt.order_by(AuditEntry.id)))
        self.seen = max([self.seen, *(r.id for r in rows)])
        return rows

    def one(self, action: str, target: str | None) -> AuditEntry:
        rows = self.new()
        assert [(r.action, r.target) for r in rows] == [(action, target)], [(r.action, r.target) for r in rows]
        return rows[0]


def _issue(app, store) -> tuple[dict[str, str], str]:
    """An admin token's header and its fingerprint (as the log names it)."""
    issued = json.loads(app.test_cli_runner().invoke(args=["stores", "admin-token", str(store.id)]).output)
    return {"Authorization": f"Bearer {issued['token']}"}, hashlib.sha256(issued["token"].encode()).hexdigest()[:16]


def _seed(store) -> dict[str, int]:
    """A customer with points, a held review, two flagged referrals and an unread help message."""
    apply(store, order_event("1", total="10.00"))
    who = customer()
    review = Review(store_id=store.id, product_id="111", order_platform_id="1", rating=3, status="held", body="ok")
    flagged = [
        Referral(
            store_id=store.id,
            referrer_customer_id=who.id,
            order_platform_id=str(n),
            via="discount_code",
            status="flagged",
            currency="EUR",
            order_total=Decimal("10.00"),
        )
        for n in (2, 3)
    ]
    message = SupportMessage(store_id=store.id, kind="help", source_key="help:1", body="where is my parcel?")
    db.session.add_all([review, *flagged, message])
    db.session.commit()
    return {"customer": who.id, "review": review.id, "approve": flagged[0].id, "reject": flagged[1].id,
            "message": message.id}  # fmt: skip


def test_each_admin_api_action_writes_exactly_one_row(app, client, ctx):
    store = add_store("woocommerce", currency="EUR")
    ids = _seed(store)
    log = Log(store.id)
    auth, fingerprint = _issue(app, store)
    issued = log.one("admin_token.issue", f"admin_token:{fingerprint}")
    assert (issued.actor_kind, issued.diff) == ("cli", {})
    api = "/admin/api/v1"

    patched = client.patch(f"{api}/loyalty/settings", headers=auth, json={"rewards": [REWARD]})
    assert patched.status_code == 200, patched.json
    row = log.one("settings.update", "loyalty")
    assert (row.actor_kind, row.actor_id) == ("admin_token", fingerprint)
    assert row.diff == {"loyalty.rewards": [None, [REWARD]]}  # paths in Store.settings, stored values
    assert client.patch(f"{api}/loyalty/settings", headers=auth, json={"rewards": [REWARD]}).status_code == 200
    assert log.new() == []  # nothing changed, nothing to log

    adjust = {"points": 40, "reason": "late parcel for Ann", "idempotency_key": "t-1"}
    url = f"{api}/customers/{ids['customer']}/loyalty/adjust"
    assert client.post(url, headers=auth, json=adjust).status_code == 201
    row = log.one("points.adjust", f"customer:{ids['customer']}")
    assert row.diff["points"] == 40 and "Ann" not in json.dumps(row.diff)  # the reason stays on the ledger row
    assert client.post(url, headers=auth, json=adjust).status_code == 200 and log.new() == []  # a replay

    url = f"{api}/customers/{ids['customer']}/redemptions"
    made = client.post(url, headers=auth, json={"reward_id": "five", "idempotency_key": "r-1"})
    assert made.status_code in (201, 202), made.json
    row = log.one("points.redeem", f"redemption:{made.json['id']}")
    assert row.diff == {"customer_id": ids["customer"], "reward_id": "five", "points": 20}
    assert (
        client.post(url, headers=auth, json={"reward_id": "five", "idempotency_key": "r-1"}).json["id"]
        == (made.json["id"])
    )
    assert log.new() == []

    assert client.post(f"{api}/reviews/{ids['review']}/publish", headers=auth).status_code == 200
    assert log.one("review.publish", f"review:{ids['review']}").diff == {"status": ["held", "published"]}
    replied = client.post(f"{api}/reviews/{ids['review']}/reply", headers=auth, json={"reply": "Thanks!"})
    assert replied.status_code == 200
    assert log.one("review.reply", f"review:{ids['review']}").diff == {"reply_chars": [None, 7]}

    assert client.post(f"{api}/referrals/{ids['approve']}/approve", headers=auth).status_code == 200
    assert log.one("referral.approve", f"referral:{ids['approve']}").diff == {"status": ["flagged", "pending"]}
    assert client.post(f"{api}/referrals/{ids['reject']}/reject", headers=auth).status_code == 200
    assert log.one("referral.reject", f"referral:{ids['reject']}").diff == {"status": ["flagged", "rejected"]}

    assert client.post(f"{api}/support/messages/{ids['message']}/handled", headers=auth).status_code == 200
    row = log.one("support.handled", f"support_message:{ids['message']}")
    assert row.diff == {"status": ["unread", "handled"]} and "parcel" not in json.dumps(row.diff)

    for path, patch, target, changed in (
        ("reviews/settings", {"delay_days": 3}, "reviews", {"reviews.delay_days": [None, 3]}),
        ("support/settings", {"notify_emails": ["owner@shop.example"]}, "support",
         {"support.notify_emails": [None, ["owner@shop.example"]]}),
        ("referrals/settings", {"velocity": {"max": 3}}, "referrals", {"referrals.velocity.max": [None, 3]}),
        ("store/settings", {"locale": "pl"}, "store", {"locale": [None, "pl"]}),
    ):  # fmt: skip
        assert client.patch(f"{api}/{path}", headers=auth, json=patch).status_code == 200, path
        assert log.one("settings.update", target).diff == changed
        assert client.patch(f"{api}/{path}", headers=auth, json=patch).status_code == 200 and log.new() == []

    # Refused actions write nothing.
    assert client.patch(f"{api}/store/settings", headers=auth, json={"locale": "xx"}).status_code == 422
    assert client.patch(f"{api}/referrals/settings", headers=auth, json={"velocity": {"max": -1}}).status_code == 422
    assert client.post(f"{api}/referrals/{ids['approve']}/approve", headers=auth).status_code == 409  # decided
    assert client.post(f"{api}/reviews/999999/publish", headers=auth).status_code == 404
    assert log.new() == []


def test_each_command_writes_exactly_one_row_as_cli(app, ctx):
    store = add_store("woocommerce", currency="EUR")
    ids = _seed(store)
    log = Log(store.id)
    runner = app.test_cli_runner()
    sid = str(store.id)
    change = "settings.update"
    for args, action, target in (
        (["loyalty", "settings", "set", sid, "--json", json.dumps({"rewards": [REWARD]})], change, "loyalty"),
        (["reviews", "settings", "set", sid, "--json", '{"mode": "shipment"}'], change, "reviews"),
        (["referrals", "settings", sid, "--json", '{"auto_create": true}'], change, "referrals"),
        (["support", "settings", sid, "--json", '{"notify_emails": ["a@shop.example"]}'], change, "support"),
        (["stores", "settings", sid, "--json", '{"branding": {"primary_color": "#123456"}}'], change, "store"),
        (["referrals", "approve", sid, str(ids["approve"])], "referral.approve", f"referral:{ids['approve']}"),
        (["referrals", "reject", sid, str(ids["reject"])], "referral.reject", f"referral:{ids['reject']}"),
        (["support", "handled", sid, str(ids["message"])], "support.handled", f"support_message:{ids['message']}"),
        (["support", "unread", sid, str(ids["message"])], "support.unread", f"support_message:{ids['message']}"),
    ):
        done = runner.invoke(args=args)
        assert done.exit_code == 0, (args, done.output)
        row = log.one(action, target)
        assert (row.actor_kind, row.actor_id) == ("cli", None)
    runner.invoke(args=["stores", "settings", sid, "--json", '{"branding": {"primary_color": "#123456"}}'])
    assert log.new() == []
    assert runner.invoke(args=["stores", "settings", sid, "--json", '{"locale": "xx"}']).exit_code == 1
    assert log.new() == []
    revoked = runner.invoke(args=["stores", "admin-token", sid, "--revoke"])
    assert [r.action for r in log.new()] == ["admin_token.revoke", "admin_token.issue"], revoked.output
    assert runner.invoke(args=["stores", "storefront-secret", sid]).exit_code == 0 and log.new() == []  # shown only
    rotated = runner.invoke(args=["stores", "storefront-secret", sid, "--rotate"])
    row = log.one("storefront_secret.rotate", None)
    assert row.diff == {} and json.loads(rotated.output)["secret"] not in json.dumps(audit_dicts(store.id))


def test_a_shopify_session_token_is_logged_as_its_staff_user(app, client, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "SHOPIFY_API_KEY", "test-api-key")
    store = add_store("shopify")
    now = time.time()
    claims = {"iss": f"https://{SHOP}/admin", "dest": f"https://{SHOP}", "aud": "test-api-key", "sub": "42",
              "exp": now + 60, "nbf": now - 5, "iat": now - 5, "jti": "jti-1", "sid": "sid-1"}  # fmt: skip
    token = jwt.encode(claims, SHOPIFY_SECRET, algorithm="HS256")
    answer = client.patch("/admin/api/v1/store/settings", headers={"Authorization": f"Bearer {token}"},
                          json={"locale": "kk"})  # fmt: skip
    assert answer.status_code == 200, answer.json
    row = Log(store.id).one("settings.update", "store")
    assert (row.actor_kind, row.actor_id) == ("shopify_user", "42")
    forged = jwt.encode({**claims, "sub": "7"}, "not-the-secret", algorithm="HS256")
    refused = client.patch("/admin/api/v1/store/settings", headers={"Authorization": f"Bearer {forged}"},
                           json={"locale": "th"})  # fmt: skip
    assert refused.status_code == 401
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 1


def test_the_log_is_listed_newest_first_in_pages_and_per_store(app, client, ctx):
    mine, theirs = add_store("woocommerce"), add_store("shopify")
    auth, _ = _issue(app, mine)
    their_auth, _ = _issue(app, theirs)
    for locale in ("pl", "hu", "lv", "th"):
        assert client.patch("/admin/api/v1/store/settings", headers=auth, json={"locale": locale}).status_code == 200
    client.patch("/admin/api/v1/store/settings", headers=their_auth, json={"locale": "kk"})
    first = client.get("/admin/api/v1/audit?limit=2", headers=auth)
    assert first.status_code == 200, first.json
    entries = first.json["entries"]
    assert [e["diff"]["locale"][1] for e in entries] == ["th", "lv"]
    assert entries[0]["who"]["kind"] == "admin_token" and entries[0]["at"]
    rest = client.get(f"/admin/api/v1/audit?limit=2&before={first.json['next_before']}", headers=auth).json
    assert [e["diff"]["locale"][1] for e in rest["entries"]] == ["hu", "pl"]
    last = client.get(f"/admin/api/v1/audit?limit=2&before={rest['next_before']}", headers=auth).json
    assert [e["action"] for e in last["entries"]] == ["admin_token.issue"] and last["next_before"] is None
    whole = client.get("/admin/api/v1/audit?action=settings.update", headers=auth).json["entries"]
    assert len(whole) == 4 and "kk" not in json.dumps(whole)  # never another store's rows
    theirs_listed = client.get("/admin/api/v1/audit", headers=their_auth).json["entries"]
    assert [e["action"] for e in theirs_listed] == ["settings.update", "admin_token.issue"]
    refused = (
        ("limit=0", "limit"),
        ("limit=x", "limit"),
        ("before=-1", "before"),
        ("before=" + "1" * 23, "before"),  # past a bigint: refused, not a database error
        ("action=" + "a" * 65, "action"),
    )
    for bad, field in refused:
        answer = client.get(f"/admin/api/v1/audit?{bad}", headers=auth)
        assert (answer.status_code, answer.json.get("field")) == (400, field), bad
    assert client.get("/admin/api/v1/audit").status_code == 401
    shown = app.test_cli_runner().invoke(args=["stores", "audit", str(mine.id), "--limit", "2"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output) == first.json


def test_shop_redact_deletes_the_stores_rows_only(app, ctx):
    gone, kept = add_store("shopify"), add_store("shopify", "other-shop.myshopify.com")
    runner = app.test_cli_runner()
    for store in (gone, kept):
        runner.invoke(args=["stores", "settings", str(store.id), "--json", '{"locale": "pl"}'])
    gone.status = "uninstalled"
    gone.installed_at = utcnow().replace(year=2020)
    request = ComplianceRequest(store_id=gone.id, delivery_id=0, platform="shopify", topic="shop/redact",
                                shop_domain=gone.domain, requested_at=utcnow())  # fmt: skip
    db.session.add(request)
    db.session.commit()
    summary = redact_shop(db.session, gone, request)
    db.session.commit()
    assert summary["deleted"]["audit_log"] == 1
    count = select(func.count()).select_from(AuditEntry)
    assert db.session.scalar(count.where(AuditEntry.store_id == gone.id)) == 0
    assert db.session.scalar(count.where(AuditEntry.store_id == kept.id)) == 1
    assert db.session.get(Store, kept.id) is not None
