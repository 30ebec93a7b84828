"""What other features use of segments (audiences for messages, conditions on rewards, the dashboard): one import
point (.importlinter's public_api contract).

- definitions(session, store) -> [Definition]; find(session, store, key) -> Definition | None
- counts(session, store, now) -> [(Definition, size)]
- member_ids(session, store, definition, now) -> SELECT of customer ids (join it: an audience)
- segments_of(session, store, customer, now) -> [key]: one customer's segments
"""

from __future__ import annotations

from app.segments.service import Definition, counts, definitions, find, member_ids, segments_of

__all__ = ["Definition", "counts", "definitions", "find", "member_ids", "segments_of"]
