"""The must-show, with real processes: signed webhooks into gunicorn, a real `rq worker` and the scheduler, a
redemption through the admin API for a Shopify and a WooCommerce customer, each stand-in store throttling the
first discount-code creation; exactly one code per store, scoped to that customer; the points held stay spent;
the code's use on a later order marks the redemption used."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator

import pytest
import requests

from app.extensions import db
from app.loyalty.api import balance
from app.platform.types import utcnow
from app.records.models import Customer
from app.stores.models import Store
from app.stores.models.woocommerce import WooStoreState
from tests.helpers import WOO_SECRET, dumps, fixture_json, shopify_headers, shopify_order, woo_headers
from tests.standins.shopify import StandInServer, StandInShopify, admin_schema
from tests.standins.woocommerce import WooStandin
from tests.test_end_to_end import BIN, ROOT, _free_port, _wait_for, customer_record, flask_cli

pytestmark = pytest.mark.slow
SHOP = "e2e-loyalty.myshopify.com"
FIVE_OFF = {"id": "five", "type": "fixed_amount", "points": 40, "value": "5", "currency": "USD"}
REWARDS = json.dumps({"rewards": [FIVE_OFF]})


@pytest.fixture
def stores():
    admin_schema()
    woo = WooStandin().start()
    with StandInServer(StandInShopify(api_key="key", api_secret="secret")) as shopify:
        yield shopify, woo
    woo.stop()


@pytest.fixture
def service(app, backend_env, stores) -> Iterator[tuple[str, dict[str, str]]]:
    """gunicorn, one rq worker and the scheduler, pointed at the stand-in stores."""
    from app.cli.run import worker_argv

    shopify, _ = stores
    env = {
        **os.environ,
        **backend_env,
        "SHOPIFY_ADMIN_ORIGIN": shopify.origin(),
        "WOO_ALLOW_PRIVATE_SITES": "1",
        "REDEMPTION_MAX_RETRY_WAIT_SECONDS": "0.3",
    }
    port = _free_port()
    gunicorn = [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "wsgi:app"]
    quiet = {"cwd": ROOT, "env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    processes = [
        subprocess.Popen([*gunicorn, "--workers", "1"], **quiet),
        subprocess.Popen(worker_argv(env["REDIS_URL"], app.config["RQ_QUEUE"]), **quiet),
        subprocess.Popen([str(BIN / "flask"), "--app", "wsgi", "scheduler"], **quiet),
    ]
    base = f"http://127.0.0.1:{port}"
    _wait_for(lambda: _healthy(base), timeout=30)
    yield base, env
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=15)


def _healthy(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz?deep=1", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _redeem_and_follow(base: str, env: dict[str, str], store: str, customer_id: int) -> dict:
    token = json.loads(flask_cli(env, "stores", "admin-token", store))["token"]
    auth = {"Authorization": f"Bearer {token}"}
    url = f"{base}/admin/api/v1/customers/{customer_id}/redemptions"
    answer = requests.post(url, json={"reward_id": "five", "idempotency_key": "e2e-1"}, headers=auth, timeout=5)
    assert answer.status_code == 202 and answer.json()["status"] == "pending"
    again = requests.post(url, json={"reward_id": "five", "idempotency_key": "e2e-1"}, headers=auth, timeout=5)
    assert again.json()["id"] == answer.json()["id"]

    def issued():
        shown = requests.get(f"{url}/{answer.json()['id']}", headers=auth, timeout=5).json()
        return shown if shown["status"] != "pending" else None

    shown = _wait_for(issued, timeout=30)
    assert shown["status"] == "issued" and shown["attempts"] == 2 and shown["code"].startswith("PTS-")
    shown["_auth"], shown["_url"] = auth, f"{url}/{answer.json()['id']}"
    return shown


def _spendable(app, customer_id: int) -> int:
    with app.app_context():
        customer = db.session.get(Customer, customer_id)
        store = db.session.get(Store, customer.store_id) if customer else None
        points = balance(db.session, store, customer, utcnow()).spendable if customer else None
        db.session.remove()
        return points


def _used(shown: dict) -> dict | None:
    current = requests.get(shown["_url"], headers=shown["_auth"], timeout=5).json()
    return current if current["status"] == "used" else None


def test_redemptions_end_to_end_on_both_platforms(app, service, stores):
    base, env = service
    shopify, woo = stores

    # Shopify: an account signs up (50 points), redeems 40; the first discount creation is throttled.
    token = shopify.issue_tokens(SHOP)["access_token"]
    flask_cli(env, "stores", "add", "shopify", SHOP, "--access-token", token, "--currency", "USD")
    flask_cli(env, "loyalty", "settings", "set", SHOP, "--json", REWARDS)
    body = dumps({**fixture_json("shopify", "customers_create"), "id": 7001, "email": "erin@example.com"})
    headers = shopify_headers("customers/create", body, shop=SHOP)
    assert requests.post(f"{base}/webhooks/shopify", data=body, headers=headers, timeout=5).status_code == 200
    record = _wait_for(lambda: customer_record(env, SHOP, "erin@example.com"))
    _wait_for(lambda: _spendable(app, record["id"]) == 50)
    shopify.graphql_failures[:] = [None, "throttle"]  # the lookup answers; the create is THROTTLED
    shown = _redeem_and_follow(base, env, SHOP, record["id"])
    [(code, created)] = shopify.state(SHOP).writeback.discounts.items()
    assert code == shown["code"] and shopify.calls["discountCodeBasicCreate"] == 1
    assert created["input"]["context"] == {"customers": {"add": ["gid://shopify/Customer/7001"]}}
    assert _spendable(app, record["id"]) == 10

    order = shopify_order(6101, email="erin@example.com", customer_id=7001, total="30.00")
    order["discount_codes"] = [{"code": shown["code"], "amount": "5.00", "type": "fixed_amount"}]
    body = dumps(order)
    headers = shopify_headers("orders/create", body, shop=SHOP)
    assert requests.post(f"{base}/webhooks/shopify", data=body, headers=headers, timeout=5).status_code == 200
    used = _wait_for(lambda: _used(shown))
    assert used["used_order_platform_id"] == "6101" and _spendable(app, record["id"]) == 10

    # WooCommerce: the same, with a 429 Retry-After on the first coupon creation.
    key, secret = woo.add_key()
    flask_cli(env, "stores", "add", "woocommerce", woo.url, "--consumer-key", key, "--consumer-secret", secret,
              "--webhook-secret", WOO_SECRET, "--currency", "USD")  # fmt: skip
    with app.app_context():
        store_id = json.loads(flask_cli(env, "stores", "admin-token", woo.url))["store_id"]
        db.session.add(WooStoreState(store_id=store_id, api_url=woo.url, webhooks={}))  # as wc-auth connect records
        db.session.commit()
        db.session.remove()
    flask_cli(env, "loyalty", "settings", "set", woo.url, "--json", REWARDS)
    source = woo.url + "/"
    body = dumps({**fixture_json("woocommerce", "customer"), "id": 25})
    response = requests.post(
        f"{base}/webhooks/woocommerce", data=body, headers=woo_headers("customer.created", body, source=source)
    )
    assert response.status_code == 200
    woo_record = _wait_for(lambda: customer_record(env, woo.url, "john.doe@example.com"))
    _wait_for(lambda: _spendable(app, woo_record["id"]) == 50)
    woo.fail("POST", "/coupons", 429, times=1, **{"Retry-After": "1"})
    shown = _redeem_and_follow(base, env, woo.url, woo_record["id"])
    [coupon] = woo.writeback.coupons.values()
    assert coupon["code"] == shown["code"].lower() and coupon["email_restrictions"] == ["john.doe@example.com"]
    assert woo.writeback.calls["POST /coupons"] == 1  # the one creation reached the store
    assert woo.requests.count(("POST", "/wp-json/wc/v3/coupons")) == 2  # after the 429 that was never applied
    assert _spendable(app, woo_record["id"]) == 10

    order = {**fixture_json("woocommerce", "order"), "customer_id": 25, "id": 8101}
    order["coupon_lines"] = [{"id": 1, "code": shown["code"].lower(), "discount": "5.00"}]
    body = dumps(order)
    response = requests.post(
        f"{base}/webhooks/woocommerce", data=body, headers=woo_headers("order.created", body, source=source)
    )
    assert response.status_code == 200
    used = _wait_for(lambda: _used(shown))
    assert used["used_order_platform_id"] == "8101" and _spendable(app, woo_record["id"]) == 10
