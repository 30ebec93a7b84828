"""A share link is opened by link previewers, mail scanners and bots as often as by friends: a GET of
`/ref/<code>` changes nothing in the store (no coupon) nor in our tables (no invite). The friend's code is made
when they press the page's button (a POST), and a visitor or a link pressing it again and again is capped
(app/platform/guards.py: the referrer's lock around the counts), so the store never fills with coupons.

Counted where it matters: the coupons the WooCommerce stand-in holds after every queued job ran (real HTTP)."""

from __future__ import annotations

import re
import threading

import pytest
from rq import SimpleWorker
from sqlalchemy import func, select

from app.extensions import db
from app.platform.queue import get_queue
from app.referrals.models import ReferralInvite
from app.referrals.settings import update_settings
from app.stores.models import Store
from tests.helpers import add_store
from tests.referrals.conftest import code_for_a_customer, woo_store

UA = {"User-Agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"}


def _run_jobs(app) -> None:
    with app.app_context():
        queue = get_queue()
        SimpleWorker([queue], connection=queue.connection).work(burst=True)


def _invites() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(ReferralInvite.id))) or 0


def _visitor(app, ip: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def test_three_visits_make_no_coupon_and_the_button_makes_one(app, ctx, woo):
    code = code_for_a_customer(woo_store(woo))
    for n in range(3):  # three previewers, each without a cookie
        page = _visitor(app, f"203.0.113.{n}").get(f"/ref/{code}", headers=UA)
        assert page.status_code == 200 and "FRIEND-" not in page.text
        assert re.search(r'<form method="post"', page.text)
    assert _visitor(app, "203.0.113.9").head(f"/ref/{code}").status_code == 200
    _run_jobs(app)
    assert woo.writeback.coupons == {} and _invites() == 0

    friend = _visitor(app, "198.51.100.7")
    pressed = friend.post(f"/ref/{code}", headers={"User-Agent": "FriendBrowser/1.0"})
    assert pressed.status_code == 200
    [shown] = re.findall(r'id="code">([^<]+)<', pressed.text)
    again = friend.get(f"/ref/{code}")  # the cookie: the friend's own code, shown again, nothing new
    assert re.findall(r'id="code">([^<]+)<', again.text) == [shown]
    _run_jobs(app)
    [coupon] = woo.writeback.coupons.values()
    assert coupon["code"] == shown.lower() and _invites() == 1


def test_one_visitor_pressing_again_and_again_gets_their_code_back(app, ctx, woo):
    code = code_for_a_customer(woo_store(woo))
    shown = []
    for _ in range(6):  # no cookie kept: a script, or a browser that refuses cookies
        answer = _visitor(app, "198.51.100.8").post(f"/ref/{code}")
        assert answer.status_code == 200
        shown += re.findall(r'id="code">([^<]+)<', answer.text)
    assert len(shown) == 6 and len(set(shown)) == 3  # FRIEND_CODES_PER_VISITOR, then the newest again
    _run_jobs(app)
    assert len(woo.writeback.coupons) == 3 and _invites() == 3


def test_a_link_makes_at_most_its_daily_number_of_codes(app, ctx, woo):
    store = woo_store(woo)
    code = code_for_a_customer(store)
    update_settings(db.session, db.session.get(Store, store.id), {"friend_codes_per_day": 2})
    db.session.commit()
    answers = [_visitor(app, f"192.0.2.{n}").post(f"/ref/{code}").status_code for n in range(4)]
    assert answers == [200, 200, 429, 429]
    _run_jobs(app)
    assert len(woo.writeback.coupons) == 2 and _invites() == 2


def test_concurrent_presses_stay_within_the_link_cap(app, ctx):
    """Six friends press at once: the referrer's guard lock makes count-then-insert one step (PostgreSQL only;
    SQLite serialises its writers)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers; the race (and the advisory lock) is PostgreSQL's")
    store = add_store("shopify")
    code = code_for_a_customer(store)
    update_settings(db.session, store, {"friend_codes_per_day": 2})
    db.session.commit()
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def press(n: int) -> None:
        client = _visitor(app, f"192.0.2.{n}")
        barrier.wait(timeout=10)
        statuses.append(client.post(f"/ref/{code}").status_code)

    threads = [threading.Thread(target=press, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200, 200, 429, 429, 429, 429]
    assert _invites() == 2
