"""A store's storefront keys: the secret its WordPress side signs customer tokens with, and a public store key.

Both live in the store's encrypted credentials (app/security.SecretBox), created on first need
(`flask stores storefront-secret <store>`). The public key is not a secret: widgets put it in their requests
to say which store they belong to (anonymous calls, CORS preflights). It has the form `ppk_<store id>_<random>`
so a lookup is one primary-key read, and the random part keeps store ids from being enumerated. Rotating the
secret (`--rotate`) invalidates every token signed with the old one at once and keeps the public key.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.security import SecretBox
from app.stores.models import Store

_SECRET = "storefront_secret"  # noqa: S105  (a credentials key name)
_PUBLIC = "storefront_public_key"
PUBLIC_KEY = re.compile(r"ppk_([1-9][0-9]{0,17})_([A-Za-z0-9_-]{16,64})")


@dataclass(frozen=True)
class StorefrontKeys:
    public_key: str
    secret: str | None  # None: never generated


def _public_key(store: Store, random_part: str) -> str:
    return f"ppk_{store.id}_{random_part}"


def read_keys(box: SecretBox, store: Store) -> StorefrontKeys | None:
    """The store's keys, or None before they were generated."""
    return keys_in(store, box.open(store.credentials))


def keys_in(store: Store, creds: dict[str, Any]) -> StorefrontKeys | None:
    """read_keys on credentials already opened (a caller that reads other secrets from them too)."""
    if not creds.get(_PUBLIC):
        return None
    return StorefrontKeys(public_key=_public_key(store, creds[_PUBLIC]), secret=creds.get(_SECRET))


def ensure_keys(session: Session, box: SecretBox, store: Store, *, rotate: bool = False) -> StorefrontKeys:
    """Generate what is missing (or a new secret with rotate=True) and save it; the caller commits."""
    creds = box.open(store.credentials)
    changed = False
    if not creds.get(_PUBLIC):
        creds[_PUBLIC] = secrets.token_urlsafe(12)
        changed = True
    if rotate or not creds.get(_SECRET):
        creds[_SECRET] = "pss_" + secrets.token_urlsafe(32)
        changed = True
    if changed:
        store.credentials = box.seal(creds)
        session.flush()
    return StorefrontKeys(public_key=_public_key(store, creds[_PUBLIC]), secret=creds[_SECRET])


def store_for_public_key(session: Session, box: SecretBox, public_key: str) -> Store | None:
    """The store a public key names (active or not: callers check), or None."""
    match = PUBLIC_KEY.fullmatch(public_key or "")
    if match is None:
        return None
    store = session.get(Store, int(match.group(1)))
    if store is None:
        return None
    keys = read_keys(box, store)
    if keys is None or not hmac.compare_digest(keys.public_key.encode(), public_key.encode()):
        return None
    return store
