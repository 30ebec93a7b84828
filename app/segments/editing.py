"""Creating, changing and deleting a merchant's segment (the admin API and the CLI call these; each is audited)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.admin import audit
from app.platform.sql import insert_row
from app.segments import conditions, lifecycle
from app.segments.conditions import ConditionError
from app.segments.models import Segment
from app.stores.models import Store

KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
MAX_SEGMENTS = 50


def _name(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 120:
        raise ConditionError("1-120 characters", "name")
    return raw.strip()


def create(session: Session, store: Store, body: Any) -> Segment:
    if not isinstance(body, dict):
        raise ConditionError("an object with key, name and conditions", "body")
    key = body.get("key")
    if not isinstance(key, str) or not KEY.fullmatch(key) or key in lifecycle.BUILT_IN:
        raise ConditionError("lowercase letters, digits, - and _, not a built-in segment's key", "key")
    rule = conditions.validate(body.get("conditions"))
    existing = session.scalar(select(Segment.id).where(Segment.store_id == store.id).limit(MAX_SEGMENTS).offset(
        MAX_SEGMENTS - 1))  # fmt: skip
    if existing is not None:
        raise ConditionError(f"at most {MAX_SEGMENTS} segments per store", "key")
    row = Segment(store_id=store.id, key=key, name=_name(body.get("name")), conditions=conditions.as_json(rule))
    if not insert_row(session, row):  # the unique (store, key): a concurrent create of the same key loses here
        raise ConditionError("a segment with this key exists", "key")
    audit.record(session, store, "segment.create", f"segment:{key}", {"conditions": [None, row.conditions]})
    return row


def find(session: Session, store: Store, key: str) -> Segment | None:
    return session.scalar(select(Segment).where(Segment.store_id == store.id, Segment.key == key))


def change(session: Session, store: Store, row: Segment, body: Any) -> Segment:
    if not isinstance(body, dict) or not body or set(body) - {"name", "conditions"}:
        raise ConditionError("an object with name and/or conditions", "body")
    before = {"name": row.name, "conditions": row.conditions}
    if "name" in body:
        row.name = _name(body["name"])
    if "conditions" in body:
        row.conditions = conditions.as_json(conditions.validate(body["conditions"]))
    diff = {k: [before[k], getattr(row, k)] for k in before if before[k] != getattr(row, k)}
    audit.record(session, store, "segment.change", f"segment:{row.key}", diff)
    session.flush()
    return row


def delete(session: Session, store: Store, row: Segment) -> None:
    audit.record(session, store, "segment.delete", f"segment:{row.key}", {"conditions": [row.conditions, None]})
    session.delete(row)
    session.flush()
