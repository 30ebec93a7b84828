"""Every link the referral landing page puts in front of the friend is absolute: a bare domain in an href is
resolved by the browser against our own host, and the friend lands on our 404 instead of the shop."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from app.extensions import db
from app.records.models import Customer
from app.referrals.service import get_or_create_code
from app.referrals.settings import update_settings
from tests.helpers import add_store


@pytest.mark.parametrize(
    ("platform", "domain", "host"),
    [("shopify", "links.myshopify.com", "links.myshopify.com"), ("woocommerce", "https://woo.example.com/", None)],
)
def test_the_shop_link_is_absolute(app, client, ctx, platform, domain, host):
    store = add_store(platform, domain)
    update_settings(db.session, store, {"enabled": True})
    customer = Customer(store_id=store.id, email_key="ref@example.com", platform_id="7001")
    db.session.add(customer)
    db.session.flush()
    code = get_or_create_code(db.session, store, customer)
    db.session.commit()
    offer = client.get(f"/ref/{code.code}", headers={"User-Agent": "FriendBrowser/1.0"})
    page = client.post(f"/ref/{code.code}", headers={"User-Agent": "FriendBrowser/1.0"})  # "Get my code"
    assert offer.status_code == page.status_code == 200
    links = re.findall(r'href="([^"]+)"', page.text)
    assert links, page.text
    again = client.get(f"/ref/{code.code}")  # the cookie: the code and its link again
    assert re.findall(r'href="([^"]+)"', again.text) == links
    for link in [*links, *re.findall(r'href="([^"]+)"', offer.text)]:
        parts = urlsplit(link.replace("&amp;", "&"))
        assert parts.scheme == "https" and parts.netloc, link
        assert parts.netloc == (host or store.domain.split("/")[0]), link
