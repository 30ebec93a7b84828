"""The share link's landing page speaks the friend's language (their browser's, else the store's) and writes the
offer as that language writes amounts; in the store's frame like the other shopper pages."""

from __future__ import annotations

from app.extensions import db
from app.referrals.settings import update_settings
from app.stores.models import Store
from tests.messaging.conftest import seed_shopper_pages


def test_the_friend_s_language_then_the_store_s(app, client, ctx):
    paths = seed_shopper_pages()
    polish = client.get(paths["landing"], headers={"Accept-Language": "xx, pl-PL;q=0.9, en;q=0.5"}).text
    assert '<html lang="pl">' in polish and "10% zniżki na pierwsze zamówienie" in polish
    assert "Odbierz mój kod" in polish and "Kalina Ceramics" in polish
    store = db.session.scalars(db.select(Store)).one()
    store.settings = {**store.settings, "locale": "th"}
    db.session.commit()
    thai = client.get(paths["landing"], headers={"Accept-Language": "pt-BR"}).text
    assert '<html lang="th">' in thai and "รับโค้ดของฉัน" in thai
    pressed = client.post(paths["landing"], headers={"Accept-Language": "kk-KZ"})
    assert pressed.status_code == 200 and "Сіздің кодыңыз" in pressed.text and 'id="code">' in pressed.text


def test_amounts_as_the_language_writes_them(app, client, ctx):
    paths = seed_shopper_pages()
    store = db.session.scalars(db.select(Store)).one()
    update_settings(db.session, store, {"friend_discount": {"kind": "fixed_amount", "value": "5", "currency": "EUR"}})
    db.session.commit()
    assert "€5.00 off your first order" in client.get(paths["landing"]).text
    assert "5,00\xa0€ zniżki" in client.get(paths["landing"], headers={"Accept-Language": "pl"}).text
    update_settings(db.session, store, {"friend_discount": {"kind": "free_shipping", "value": "0"}})
    db.session.commit()
    assert "<h1>Free shipping on your first order</h1>" in client.get(paths["landing"]).text
