"""A store's name, currency, time zone and e-mail, kept as its platform reports them.

Read at connect or install and again on each WooCommerce reconcile (inbox/woo_upkeep.py), so a merchant's change
in their store's settings reaches our e-mails ("How was your order from <name>?"), money and quiet hours. A field
the platform did not report keeps its value (at first: the store's host as its name, no currency).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from app.stores.cache import forget_store
from app.stores.models import Store
from connectors.exceptions import ConnectorError
from connectors.store_details import StoreDetails

log = logging.getLogger(__name__)

FIELDS = ("name", "currency", "timezone", "contact_email")


def apply_details(store: Store, details: StoreDetails) -> list[str]:
    """Copy what the platform reported onto the store; the names of the fields that changed."""
    changed = []
    for field in FIELDS:
        value = getattr(details, field)
        if value is not None and getattr(store, field) != value:
            setattr(store, field, value)
            changed.append(field)
    return changed


def refresh_details(store: Store, read: Callable[[], StoreDetails]) -> list[str]:
    """Read the details with the platform's client (no transaction should be open) and apply them. A platform that
    cannot answer now changes nothing: the next reconcile or install tries again."""
    try:
        details = read()
    except ConnectorError as exc:
        log.warning("stores.details_failed", extra={"store_id": store.id, "error": type(exc).__name__})
        return []
    changed = apply_details(store, details)
    if "currency" in changed:  # the doors' snapshots carry it (others follow within STORE_CACHE_SECONDS)
        forget_store(store.platform, store.domain)
    if changed:
        log.info("stores.details_changed", extra={"store_id": store.id, "fields": changed})
    return changed
