"""Stand-in Twilio and WhatsApp Cloud servers wired into the app, our app served over real HTTP for their
callbacks, and helpers to run the outbox and the callback workers as an rq worker would."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from app.extensions import db
from app.messaging.callback_tasks import schedule_callbacks
from app.messaging.tasks import schedule_messages
from app.records.models import Customer
from tests.standins.twilio import StandInTwilio, TwilioServer
from tests.standins.whatsapp_cloud import StandInWhatsApp, WhatsAppServer

SENDER = "+15005550006"


def run_jobs(app) -> int:
    from rq import SimpleWorker

    from app.platform.queue import get_queue

    with app.app_context():
        queue = get_queue()
        count = queue.count
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        return count


def deliver(app) -> None:
    schedule_messages(app)
    run_jobs(app)


def process_callbacks(app) -> int:
    claimed = schedule_callbacks(app)["claimed"]
    run_jobs(app)
    return claimed


@pytest.fixture
def live(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def providers(app, live, monkeypatch) -> Iterator[tuple[StandInTwilio, StandInWhatsApp]]:
    twilio, whatsapp = StandInTwilio(), StandInWhatsApp()
    with TwilioServer(twilio), WhatsAppServer(whatsapp):
        whatsapp.webhook_url = f"{live}/webhooks/whatsapp"
        whatsapp.templates = {("review_request_v1", "pl"): 3, ("review_request_v1", "en"): 3}
        values = {
            "APP_URL": live,
            "TWILIO_ACCOUNT_SID": twilio.account_sid, "TWILIO_AUTH_TOKEN": twilio.auth_token,
            "TWILIO_FROM": SENDER, "TWILIO_API_BASE": twilio.base_url, "TWILIO_RATE_PER_SECOND": 50.0,
            "WHATSAPP_ACCESS_TOKEN": whatsapp.token, "WHATSAPP_PHONE_NUMBER_ID": whatsapp.phone_number_id,
            "WHATSAPP_APP_SECRET": whatsapp.app_secret, "WHATSAPP_VERIFY_TOKEN": "verify-me",
            "WHATSAPP_API_BASE": whatsapp.base_url,
            "WHATSAPP_TEMPLATES": {"review_request": {"pl": "review_request_v1", "en": "review_request_v1"}},
            "WHATSAPP_PRICES": {"currency": "USD", "utility": "0.0040", "marketing": "0.0250"},
            "MAIL_RETRY_BASE_SECONDS": 0.0,
        }  # fmt: skip
        for key, value in values.items():
            monkeypatch.setitem(app.config, key, value)
        yield twilio, whatsapp


def add_customer(store, **fields) -> Customer:
    values = {"email": "ola@example.com", "email_key": "ola@example.com", "first_name": "Ola", "locale": "pl"}
    values.update(fields)
    row = Customer(store_id=store.id, **values)
    db.session.add(row)
    db.session.commit()
    return row
