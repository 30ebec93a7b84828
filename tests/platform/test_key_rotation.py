"""Rotating SECRET_KEY and ENCRYPTION_KEYS: during the overlap, what the old key signed or encrypted still reads,
and everything new uses the new key (docs/operations.md#secrets).

- ENCRYPTION_KEYS, newest first: MultiFernet encrypts with the first key and decrypts with any
  (https://cryptography.io/en/latest/fernet/#cryptography.fernet.MultiFernet).
- SECRET_KEY signs; SECRET_KEY_FALLBACKS still verify, for Flask's sessions
  (https://flask.palletsprojects.com/en/stable/config/#SECRET_KEY_FALLBACKS) and for our itsdangerous links through
  app.security.signing_keys() (https://itsdangerous.palletsprojects.com/en/stable/concepts/#key-rotation).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet, InvalidToken
from flask import Flask, session
from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer

from app.security import SecretBox, signing_keys

OLD_SECRET, NEW_SECRET = "old-secret-key-" + "o" * 30, "new-secret-key-" + "n" * 30
OLD_FERNET, NEW_FERNET = Fernet.generate_key().decode(), Fernet.generate_key().decode()
BEFORE = {"SECRET_KEY": OLD_SECRET, "SECRET_KEY_FALLBACKS": []}
AFTER = {"SECRET_KEY": NEW_SECRET, "SECRET_KEY_FALLBACKS": [OLD_SECRET]}  # as `flask keys generate --rotate` prints


def test_a_credential_encrypted_with_the_old_key_still_decrypts_and_new_ones_use_the_new_key():
    old_token = SecretBox(OLD_FERNET).seal({"access_token": "shpat_old"})
    rotated = SecretBox(f"{NEW_FERNET},{OLD_FERNET}")

    assert rotated.open(old_token) == {"access_token": "shpat_old"}
    new_token = rotated.seal({"access_token": "shpat_new"})
    assert Fernet(NEW_FERNET.encode()).decrypt(new_token)  # the new key alone reads it ...
    with pytest.raises(InvalidToken):
        Fernet(OLD_FERNET.encode()).decrypt(new_token)  # ... and the old one does not
    assert SecretBox(NEW_FERNET).open(rotated.rotate(old_token)) == {"access_token": "shpat_old"}
    with pytest.raises(RuntimeError, match="cannot be decrypted"):
        SecretBox(NEW_FERNET).open(old_token)  # why the old key stays until `flask keys reencrypt`


@pytest.mark.parametrize("serializer", [URLSafeSerializer, URLSafeTimedSerializer])
def test_a_link_signed_with_the_old_key_still_verifies_and_new_ones_use_the_new_key(serializer):
    old_link = serializer(signing_keys(BEFORE), salt="email-unsubscribe").dumps([1, "digest"])
    rotated = serializer(signing_keys(AFTER), salt="email-unsubscribe")

    assert rotated.loads(old_link) == [1, "digest"]
    new_link = rotated.dumps([2, "digest"])
    assert serializer(NEW_SECRET, salt="email-unsubscribe").loads(new_link) == [2, "digest"]
    with pytest.raises(BadSignature):
        serializer(OLD_SECRET, salt="email-unsubscribe").loads(new_link)
    with pytest.raises(BadSignature):  # a fallback dropped after the overlap no longer verifies
        serializer(signing_keys({"SECRET_KEY": NEW_SECRET}), salt="email-unsubscribe").loads(old_link)


def test_flask_sessions_read_the_same_fallbacks():
    """The settings' shape (SECRET_KEY_FALLBACKS a list) is what Flask's own session interface expects."""
    before, after = Flask("before"), Flask("after")
    before.config.update(BEFORE)
    after.config.update(AFTER)

    @before.get("/set")
    def set_value() -> str:
        session["who"] = "old"
        return ""

    @after.get("/get")
    def get_value() -> str:
        return str(session.get("who"))

    name, _, value = before.test_client().get("/set").headers["Set-Cookie"].split(";")[0].partition("=")
    client = after.test_client()
    client.set_cookie(name, value)
    assert client.get("/get").text == "old"


def _unsubscribe() -> tuple:
    from app.messaging.unsubscribe import make_token, read_token

    return lambda: make_token(1, "d" * 64, "en"), lambda token: read_token(token) is not None


def _review_star() -> tuple:
    from app.reviews.links import LinkInvalid, read_star_token, star_token

    def verify(token: str) -> bool:
        try:
            return read_star_token(token).rating == 5
        except LinkInvalid:  # what a bad signature raises
            return False

    return lambda: star_token(1, 2, "p", 5, "en"), verify


def _referral_landing() -> tuple:
    from app.referrals.service import landing_token, read_landing_token

    store = SimpleNamespace(id=1)
    return lambda: landing_token(store, SimpleNamespace(token="nonce")), lambda t: read_landing_token(store, t)


def _admin_token() -> tuple:
    from app.admin import auth
    from app.security import timed_serializer

    store = SimpleNamespace(id=1, settings={})
    prefix = auth.ADMIN_TOKEN_PREFIX
    return lambda: auth.issue_admin_token(store), lambda token: timed_serializer(auth._SALT).loads(token[len(prefix) :])


@pytest.mark.parametrize("purpose", [_unsubscribe, _review_star, _referral_landing, _admin_token])
def test_the_apps_links_signed_before_a_rotation_verify_after_it(app, monkeypatch, purpose):
    sign, verify = purpose()
    with app.app_context():
        monkeypatch.setitem(app.config, "SECRET_KEY", OLD_SECRET)
        monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [])
        old_link = sign()
        monkeypatch.setitem(app.config, "SECRET_KEY", NEW_SECRET)
        monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [OLD_SECRET])
        assert verify(old_link)


def test_reencrypt_rewrites_every_credential_with_the_first_key(app, ctx):
    from app.cli.config import reencrypt_credentials
    from app.extensions import db
    from app.stores.models import Store
    from tests.helpers import add_store

    shop, stranger = add_store("shopify"), add_store("woocommerce")
    shop.credentials = SecretBox(OLD_FERNET).seal({"access_token": "shpat_old"})  # written before the rotation
    stranger.credentials = SecretBox(Fernet.generate_key().decode()).seal({"x": 1})  # with no configured key
    db.session.commit()

    done, changed, unreadable = reencrypt_credentials(db.session, SecretBox(f"{NEW_FERNET},{OLD_FERNET}"))

    assert (done, changed, unreadable) == (1, 0, [stranger.id])
    db.session.expire_all()
    assert SecretBox(NEW_FERNET).open(db.session.get(Store, shop.id).credentials) == {"access_token": "shpat_old"}


def test_reencrypt_never_overwrites_a_credential_written_meanwhile(app, ctx):
    from sqlalchemy import update

    from app.cli.config import reencrypt_credentials
    from app.extensions import db
    from app.stores.models import Store
    from tests.helpers import add_store

    rotated = SecretBox(f"{NEW_FERNET},{OLD_FERNET}")
    store = add_store("shopify")
    store.credentials = SecretBox(OLD_FERNET).seal({"access_token": "before"})
    db.session.commit()
    refreshed = rotated.seal({"access_token": "refreshed"})

    class RefreshedMeanwhile:  # a token refresh commits between our read and our write
        def rotate(self, token: bytes) -> bytes:
            db.session.execute(update(Store).where(Store.id == store.id).values(credentials=refreshed))
            db.session.commit()
            return rotated.rotate(token)

    assert reencrypt_credentials(db.session, RefreshedMeanwhile()) == (0, 1, [])
    db.session.expire_all()
    assert rotated.open(db.session.get(Store, store.id).credentials) == {"access_token": "refreshed"}
