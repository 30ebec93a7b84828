"""The end of an install: app/uninstalled now (shop/redact, 48 hours later, is compliance/shop_redact.py).

On app/uninstalled the platform has already revoked our access token; we drop
it at once (it is useless, and a secret we no longer need must not be kept)
and stop everything queued to act on the store. The store's records stay: the
merchant may reinstall (stores.add_store reactivates it with a new token), and
Shopify asks for the data to be erased only with shop/redact, 48 hours after
the uninstall: https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from app.security import SecretBox
from app.stores.models import Store

log = logging.getLogger(__name__)

#: Credential keys that let us act on the merchant's behalf; dropped on uninstall. The rest
#: (a WooCommerce webhook secret) only verifies what the store sends us.
TOKEN_KEYS = ("access_token", "refresh_token", "access_token_expires_at", "refresh_token_expires_at", "scope")

#: Called as hook(session, store) in the uninstall transaction. Features that queue work for a
#: store (outbox messages, write-backs, scheduled review requests) register a hook that cancels
#: it, e.g. `UPDATE messages SET status='cancelled' WHERE store_id=:id AND status='pending'`.
#: Their delivery jobs should also check `store.status == "active"` before acting, which covers
#: a job already taken by a worker.
UninstallHook = Callable[[Session, Store], Any]
UNINSTALL_HOOKS: list[UninstallHook] = []


def register_uninstall_hook(hook: UninstallHook) -> UninstallHook:
    UNINSTALL_HOOKS.append(hook)
    return hook


def revoke_tokens(session: Session, store: Store, box: SecretBox) -> list[str]:
    """Remove the API tokens from the store's encrypted credentials; returns the keys removed."""
    held = box.open(store.credentials)
    removed = sorted(k for k in TOKEN_KEYS if k in held)
    if removed:
        kept = {k: v for k, v in held.items() if k not in TOKEN_KEYS}
        store.credentials = box.seal(kept) if kept else None
        session.flush()
    return removed


def on_uninstalled(session: Session, store: Store, _event: object = None, *, box: SecretBox | None = None) -> None:
    """Pipeline handler for AppUninstalled, after stores.mark_uninstalled: revoke, then stop queued work."""
    if box is None:
        from app.security import secret_box

        box = secret_box()
    removed = revoke_tokens(session, store, box)
    for hook in UNINSTALL_HOOKS:
        hook(session, store)
    log.info("store.uninstall_cleanup", extra={"store_id": store.id, "tokens_removed": len(removed)})
