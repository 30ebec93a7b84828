"""One customer's timeline: a registry every feature adds its entries (and, if it has one, a panel) to.

    from app.dashboard.timeline import Entry, Panel, register_timeline

    def loyalty_entries(session, store, customer) -> list[Entry]: ...
    def loyalty_panel(session, store, customer) -> Panel | None: ...
    register_timeline("loyalty", loyalty_entries, panel=loyalty_panel, order=20)

Like the Overview's sections (figures.register_section), so the customer page names no feature. Each function
reads its own rows of that one customer of that one store (filtered by both ids) and returns them already
worded (`title`, `detail` translated by the caller with app.dashboard.i18n); the page merges every feature's
entries into one list, newest first. A panel is a card above the timeline (the loyalty balance and its
adjustment form): a template of the feature's own, included with the page's context plus `panel.values`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.records.models import Customer
from app.stores.models import Store

MAX_ENTRIES = 100  # per feature: the page shows the newest of each, the admin API has the rest


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str  # stable: the entry's data-kind attribute ("order", "points", "review", ...)
    title: str
    detail: str = ""


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    template: str
    values: dict[str, Any] = field(default_factory=dict)


Entries = Callable[[Session, Store, Customer], list[Entry]]
PanelOf = Callable[[Session, Store, Customer], "Panel | None"]


@dataclass(frozen=True)
class Source:
    key: str
    entries: Entries
    panel: PanelOf | None
    order: int


SOURCES: dict[str, Source] = {}


def register_timeline(key: str, entries: Entries, *, panel: PanelOf | None = None, order: int = 100) -> None:
    """A feature's part of the page (its init_app); the same key again replaces it (create_app runs twice)."""
    SOURCES[key] = Source(key=key, entries=entries, panel=panel, order=order)


def _sorted_sources() -> list[Source]:
    return sorted(SOURCES.values(), key=lambda s: s.order)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def timeline(session: Session, store: Store, customer: Customer) -> list[Entry]:
    """Every feature's entries for the customer, newest first (same instant: by the sources' order)."""
    entries: list[tuple[datetime, int, Entry]] = []
    for rank, source in enumerate(_sorted_sources()):
        for entry in source.entries(session, store, customer):
            entries.append((_aware(entry.at), -rank, entry))
    entries.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [entry for _at, _rank, entry in entries]


def panels(session: Session, store: Store, customer: Customer) -> list[Panel]:
    found = (source.panel(session, store, customer) for source in _sorted_sources() if source.panel is not None)
    return [panel for panel in found if panel is not None]
