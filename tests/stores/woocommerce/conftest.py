"""Shared by test_woocommerce_connect.py and test_woocommerce_upkeep.py beside it: our app on a loopback server,
the WooCommerce stand-in site (tests/standins/woocommerce.py), the connect flow, running the queued jobs, and
small readers.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from sqlalchemy import select, update
from werkzeug.serving import make_server

from app.extensions import db
from app.platform.queue import get_queue, get_redis
from app.platform.types import utcnow
from app.security import secret_box
from app.stores.models import Store
from app.stores.models.woocommerce import WooStoreState
from connectors import get_connector
from tests.helpers import fixture_json
from tests.standins.tls import loopback_certificate, server_context
from tests.standins.woocommerce import WooStandin

TOPICS = sorted(get_connector("woocommerce").topics)


# Our app is served over https (WooCommerce posts the keys to an https callback_url only), with a certificate of its
# own: this session trusts it, as does the stand-in store that posts the keys.
web = requests.Session()
web.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment replaces web.verify (requests' merge order)


@pytest.fixture(scope="module")
def woo_app(app, tmp_path_factory):
    """A second app on the same database and Redis, with the blueprint registered, served over https."""
    import threading

    from app import create_app
    from app.config import TestingConfig

    cert, key = loopback_certificate(tmp_path_factory.mktemp("tls"))
    web.verify = str(cert)
    application = create_app(TestingConfig())
    application.config["WOO_ALLOW_PRIVATE_SITES"] = True  # the stand-in is on loopback
    application.config["TLS_CERT_FOR_TESTS"] = str(cert)
    server = make_server("127.0.0.1", 0, application, threaded=True, ssl_context=server_context(cert, key))
    application.config["APP_URL"] = f"https://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield application
    server.shutdown()


@pytest.fixture
def site(app, woo_app):
    standin = WooStandin().start()
    standin.ca_bundle = woo_app.config["TLS_CERT_FOR_TESTS"]
    yield standin
    standin.stop()


@pytest.fixture
def wctx(woo_app):
    with woo_app.app_context():
        yield
        db.session.remove()


def app_url(woo_app) -> str:
    return woo_app.config["APP_URL"]


def delivery_url(woo_app) -> str:
    return app_url(woo_app) + "/webhooks/woocommerce"


def connect(woo_app, site: WooStandin) -> requests.Response:
    """The merchant clicks Connect, approves at the store, and lands back on our return page."""
    start = web.get(f"{app_url(woo_app)}/woocommerce/connect", params={"site": site.url}, allow_redirects=False)
    assert start.status_code == 302, start.text
    assert start.headers["Location"].startswith(site.url + "/wc-auth/v1/authorize?")
    return web.get(start.headers["Location"], timeout=10)  # follows the store's redirect to return_url


def run_jobs(woo_app) -> None:
    """What an rq worker does, in this process: every queued job (registration, upkeep, inbox drain)."""
    from rq import SimpleWorker

    with woo_app.app_context():
        SimpleWorker([get_queue()], connection=get_redis()).work(burst=True)


def the_store() -> Store:
    db.session.rollback()
    [store] = db.session.scalars(select(Store).where(Store.platform == "woocommerce")).all()
    return store


def credentials(store: Store) -> dict:
    return secret_box().open(store.credentials)


def make_due(store_id: int) -> None:
    db.session.execute(
        update(WooStoreState)
        .where(WooStoreState.store_id == store_id)
        .values(next_maintenance_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()


def woo_order(order_id: int, email: str, modified=None) -> dict:
    order = fixture_json("woocommerce", "order")
    stamp = (modified or utcnow()).strftime("%Y-%m-%dT%H:%M:%S")
    order.update(id=order_id, number=str(order_id), date_created_gmt=stamp, date_modified_gmt=stamp)
    order["billing"] = {**order["billing"], "email": email}
    return order
