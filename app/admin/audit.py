"""The audit log's one writer and reader: `record` an action in its own transaction, `page` a store's rows.

Who acts is taken from where the call runs, never from the caller's word:
- an admin API request (merchant_required has verified its bearer token and set g.store): the Shopify session
  token's `sub` (the staff user id, kind "shopify_user"), or a fingerprint of our admin token (kind
  "admin_token": the first 16 hex digits of its SHA-256, never the token);
- a command (a click context, no request): kind "cli";
- a surface that signs merchants in some other way sets `g.audit_actor` (an Actor) before calling the views'
  services: the dashboard (app/dashboard/registry.py) names the session token's user, or for a cookie session
  kind "dashboard_link" and the fingerprint of the sign-in link that opened it (whose issue is a row too);
anything else (a job, a webhook) is not a merchant action and raises. What a row's `diff` holds is the callers'
choice, kept to ids, statuses and the merchant's own settings; keys that name a secret are masked here too.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import click
import jwt
from flask import g, has_request_context, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.admin.auth import ADMIN_TOKEN_PREFIX
from app.admin.models import AuditEntry
from app.platform.types import utcnow
from app.security import bearer
from app.stores.models import Store

MAX_PAGE = 200
_SECRET_WORDS = ("secret", "token", "password", "credential")


@dataclass(frozen=True)
class Actor:
    kind: str
    id: str | None = None


CLI = Actor("cli")


def token_fingerprint(token: str) -> str:
    """How the log names an admin token: the first 16 hex digits of its SHA-256 (the token cannot be rebuilt
    from it, and the row of its issue names it the same way)."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def session_token_actor(token: str) -> Actor:
    """The staff user an App Bridge session token names (its `sub`), for a token the caller has verified."""
    claims = jwt.decode(token, options={"verify_signature": False})
    sub = claims.get("sub") if isinstance(claims, dict) else None
    if isinstance(sub, str | int) and str(sub):
        return Actor("shopify_user", str(sub)[:64])
    return Actor("shopify_session")


def current_actor() -> Actor:
    """Who is acting now (see the module's docstring); RuntimeError outside an admin request or a command."""
    if has_request_context():
        actor = g.get("audit_actor")
        if isinstance(actor, Actor):
            return actor
        token = bearer(request.headers.get("Authorization")) if g.get("store") is not None else ""
        if token.startswith(ADMIN_TOKEN_PREFIX):
            return Actor("admin_token", token_fingerprint(token))
        if token:
            # merchant_required verified this token's signature, audience and times in this request before the
            # view ran; only its user claim is read here.
            return session_token_actor(token)
        raise RuntimeError("audit: a request that is no merchant's (merchant_required did not run)")
    if click.get_current_context(silent=True) is not None:
        return CLI
    raise RuntimeError("audit: no merchant is acting here (not an admin request, not a command)")


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: "[masked]" if any(word in str(k).lower() for word in _SECRET_WORDS) else _masked(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def record(
    session: Session, store: Store, action: str, target: str | None = None, diff: dict[str, Any] | None = None
) -> AuditEntry:
    """Add the row to the caller's transaction (the caller commits it with the action)."""
    actor = current_actor()
    entry = AuditEntry(
        store_id=store.id,
        actor_kind=actor.kind,
        actor_id=actor.id,
        action=action,
        target=target,
        diff=_masked(diff or {}),
        created_at=utcnow(),
    )
    session.add(entry)
    return entry


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """{"a.b": leaf}: objects by key, lists and scalars as whole values."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flat(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value} if prefix else {}


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{"dotted.path": [before, after]} for every leaf that differs (None where absent)."""
    old, new = _flat(before), _flat(after)
    return {key: [old.get(key), new.get(key)] for key in sorted(set(old) | set(new)) if old.get(key) != new.get(key)}


@contextmanager
def settings_change(session: Session, store: Store, target: str, *keys: str) -> Iterator[None]:
    """Around a settings update: one `settings.update` row with what changed under Store.settings[key] for each
    key (default: the target), none when nothing did, none when the update raises."""
    keys = keys or (target,)
    before = {key: copy.deepcopy((store.settings or {}).get(key)) for key in keys}
    yield
    after = {key: (store.settings or {}).get(key) for key in keys}
    diff = changes(before, after)
    if diff:
        record(session, store, "settings.update", target, diff)
        session.flush()


def as_dict(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.created_at.isoformat(),
        "who": {"kind": entry.actor_kind, "id": entry.actor_id},
        "action": entry.action,
        "target": entry.target,
        "diff": entry.diff,
    }


def page(
    session: Session,
    store: Store,
    *,
    limit: int = 50,
    before: int | None = None,
    action: str | None = None,
    actor_kind: str | None = None,
) -> dict[str, Any]:
    """The store's rows newest first; `next_before` continues (None on the last page)."""
    limit = max(1, min(limit, MAX_PAGE))
    stmt = select(AuditEntry).where(AuditEntry.store_id == store.id)
    if before is not None:
        stmt = stmt.where(AuditEntry.id < before)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if actor_kind:
        stmt = stmt.where(AuditEntry.actor_kind == actor_kind)
    rows = session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {"entries": [as_dict(r) for r in rows], "next_before": rows[-1].id if more and rows else None}
