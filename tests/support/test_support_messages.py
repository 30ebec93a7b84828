"""What shoppers send the merchant (issue 18 item 5): a get-help message or a 1-2 star review is stored first,
always, in the transaction that answers the shopper, and reaches the merchant through the e-mail outbox: the
notification list (admin API, CLI), else the store's own e-mail from the platform; with neither it waits, unread
in the admin API, and goes out once an address exists."""

from __future__ import annotations

from app.extensions import db
from app.stores.models import Store
from tests.helpers import add_store
from tests.messaging.conftest import parts
from tests.support.conftest import admin_headers, review_links, tick

OWNER = "owner@shop.example"
HELP_TEXT = "The parcel came open and one mug is missing."


def _to(smtp, address: str) -> list:
    return [message for _, recipients, message in smtp.messages if recipients == [address]]


def test_help_message_without_a_merchant_address_is_kept_and_sent_once_the_store_has_one(
    app, client, ctx, mail_clock, smtp
):
    store = add_store()  # no settings: no notification list, no e-mail from the platform yet
    help_path, _ = review_links(app, client, mail_clock)
    answer = client.post(help_path, data={"message": HELP_TEXT})
    assert answer.status_code == 200
    # The link's language (the order's, Polish): "saved", never "sent" (wysłana): there is no address to send to.
    page = answer.get_data(as_text=True)
    assert "została zapisana" in page and "wysłana" not in page
    tick(app)
    assert [r for _, r, _ in smtp.messages if r != ["ola@example.pl"]] == []  # only the shopper's review e-mail

    db.session.get(Store, store.id).contact_email = OWNER  # what the platform's store details fill in
    db.session.commit()
    mail_clock.advance(3600)  # the waiting message is looked at again within the hour
    tick(app)
    [sent] = _to(smtp, OWNER)
    text, html = parts(sent)
    assert HELP_TEXT in text and HELP_TEXT in html and "#9001" in sent["Subject"]

    listed = client.get("/admin/api/v1/support/messages", headers=admin_headers(app, store)).json["messages"]
    assert [(m["kind"], m["body"], m["status"], m["order_name"]) for m in listed] == [
        ("help", HELP_TEXT, "unread", "#9001")
    ]
    assert [(d["to"], d["status"]) for d in listed[0]["deliveries"]] == [(OWNER, "sent")]


def test_low_rating_alert_waits_then_goes_to_the_notification_list_set_in_the_admin(app, client, ctx, mail_clock, smtp):
    store = add_store()
    _, stars = review_links(app, client, mail_clock)
    assert client.post(stars[5], data={"rating": "1", "body": "Cracked in two"}).status_code == 201  # Talerz
    admin = admin_headers(app, store)
    [alert] = client.get("/admin/api/v1/support/messages", headers=admin).json["messages"]
    assert (alert["kind"], alert["rating"], alert["product_title"], alert["body"], alert["order_name"]) == (
        "low_rating", 1, "Talerz", "Cracked in two", "#9001"
    )  # fmt: skip
    assert alert["waiting_for_address"] is True and alert["deliveries"] == []

    db.session.get(Store, store.id).contact_email = "shop@shop.example"  # the list, once set, wins over it
    db.session.commit()
    answer = client.patch(
        "/admin/api/v1/support/settings", json={"notify_emails": [" Owner@Shop.example", "ops@shop.example"]},
        headers=admin,
    )  # fmt: skip
    assert answer.status_code == 200
    assert answer.json["notify_emails"] == [OWNER, "ops@shop.example"] and answer.json["handed_over"] == 1
    tick(app)  # no waiting: setting the list handed the message over; the outbox sends it on this tick
    for address in (OWNER, "ops@shop.example"):
        [sent] = _to(smtp, address)
        assert "Cracked in two" in parts(sent)[0] and "Talerz" in sent["Subject"]
    assert _to(smtp, "shop@shop.example") == []
    assert client.get("/admin/api/v1/support/settings", headers=admin).json == {
        "notify_emails": [OWNER, "ops@shop.example"],
        "store_email": "shop@shop.example",
        "recipients": [OWNER, "ops@shop.example"],
    }


def test_the_notification_list_takes_real_addresses_only_and_a_few(app, client, ctx):
    store = add_store()
    admin = admin_headers(app, store)

    def patch(value):
        return client.patch("/admin/api/v1/support/settings", json=value, headers=admin)

    for bad in (
        ["owner"], ["owner@localhost"], ["a@b@c.example"], ["owner@shop.example>"], ["Owner <o@shop.example>"],
        ["o@-shop.example"], [f"{'x' * 65}@shop.example"], [1], "owner@shop.example", ["ok@shop.example", ""],
    ):  # fmt: skip
        answer = patch({"notify_emails": bad})
        assert (answer.status_code, answer.json["error"], answer.json["field"]) == (422, "invalid", "notify_emails")
    assert patch({"notify_emails": [f"o{n}@shop.example" for n in range(6)]}).status_code == 422
    assert patch({"notify": ["o@shop.example"]}).json["field"] == "notify"
    assert patch(["o@shop.example"]).status_code == 422
    assert db.session.get(Store, store.id).settings.get("support") is None  # nothing refused was kept
    kept = patch({"notify_emails": ["o@shop.example", "O@SHOP.example", "b.c+d@mail.shop-x.example"]})
    assert kept.json["notify_emails"] == ["o@shop.example", "b.c+d@mail.shop-x.example"]
    assert patch({"notify_emails": []}).json["recipients"] == []  # cleared: back to the store's e-mail (none)


def test_admin_lists_newest_first_by_page_filters_unread_and_marks_handled(app, client, ctx, mail_clock):
    store, other = add_store(), add_store(domain="other-shop.myshopify.com")
    help_path, _ = review_links(app, client, mail_clock)
    for n in range(3):
        assert client.post(help_path, data={"message": f"Question {n}"}).status_code == 200
    assert client.post(help_path, data={"message": "Question 2"}).status_code == 200  # a resubmit: one message
    admin = admin_headers(app, store)
    first = client.get("/admin/api/v1/support/messages?limit=2", headers=admin).json
    assert [m["body"] for m in first["messages"]] == ["Question 2", "Question 1"]
    rest = client.get(f"/admin/api/v1/support/messages?limit=2&before={first['next_before']}", headers=admin).json
    assert [m["body"] for m in rest["messages"]] == ["Question 0"] and rest["next_before"] is None
    assert rest["messages"][0]["customer_email"] == "ola@example.pl"  # to answer the shopper

    oldest = rest["messages"][0]["id"]
    handled = client.post(f"/admin/api/v1/support/messages/{oldest}/handled", headers=admin)
    assert handled.status_code == 200 and handled.json["status"] == "handled" and handled.json["handled_at"]
    unread = client.get("/admin/api/v1/support/messages?status=unread", headers=admin).json["messages"]
    assert [m["body"] for m in unread] == ["Question 2", "Question 1"]
    assert client.get("/admin/api/v1/support/messages?kind=low_rating", headers=admin).json["messages"] == []
    for query in ("status=read", "kind=x", "limit=-1", "before=abc", "limit=1e3"):
        assert client.get(f"/admin/api/v1/support/messages?{query}", headers=admin).status_code == 400
    others = admin_headers(app, other)  # another store sees none of them and cannot mark them
    assert client.get("/admin/api/v1/support/messages", headers=others).json["messages"] == []
    assert client.post(f"/admin/api/v1/support/messages/{oldest}/unread", headers=others).status_code == 404


def test_cli_lists_marks_and_sets_the_notification_list(app, client, ctx, mail_clock):
    import json

    store = add_store()
    help_path, _ = review_links(app, client, mail_clock)
    client.post(help_path, data={"message": "Where is my parcel?"})
    runner = app.test_cli_runner()

    def run(*args):
        result = runner.invoke(args=["support", *args])
        return result.exit_code, (json.loads(result.output) if result.exit_code == 0 else result.output)

    code, listed = run("messages", str(store.id), "--status", "unread")
    assert code == 0 and [m["body"] for m in listed["messages"]] == ["Where is my parcel?"]
    assert run("handled", str(store.id), str(listed["messages"][0]["id"]))[1]["status"] == "handled"
    assert run("messages", str(store.id), "--status", "unread")[1]["messages"] == []
    code, output = run("handled", str(store.id), "999999")
    assert code == 1 and "no message 999999" in output
    code, output = run("settings", str(store.id), "--json", '{"notify_emails": ["not-an-address"]}')
    assert code == 1 and "notify_emails" in output
    code, settings = run("settings", str(store.id), "--json", '{"notify_emails": ["owner@shop.example"]}')
    assert code == 0 and settings["recipients"] == [OWNER] and settings["handed_over"] == 1
    assert run("settings", str(store.id))[1]["notify_emails"] == [OWNER]


def test_a_refused_delivery_is_retried_by_the_outbox(app, client, ctx, mail_clock, smtp):
    store = add_store()
    db.session.get(Store, store.id).contact_email = OWNER
    db.session.commit()
    help_path, _ = review_links(app, client, mail_clock)
    tick(app)  # the shopper's review e-mail goes first
    smtp.rcpt_replies = ["451 4.3.0 try again later"]
    assert client.post(help_path, data={"message": HELP_TEXT}).status_code == 200
    tick(app)
    assert _to(smtp, OWNER) == []
    admin = admin_headers(app, store)
    [waiting] = client.get("/admin/api/v1/support/messages", headers=admin).json["messages"]
    assert [(d["to"], d["status"]) for d in waiting["deliveries"]] == [(OWNER, "queued")]
    mail_clock.advance(app.config["MAIL_RETRY_BASE_SECONDS"])
    tick(app)
    [sent] = _to(smtp, OWNER)
    assert HELP_TEXT in parts(sent)[0]
