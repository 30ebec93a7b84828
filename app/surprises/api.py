"""What other features use of surprises: one import point (.importlinter's public_api contract).

- surprises_of(session, store, customer_id) -> [dict]: a customer's decided thresholds, lowest first (the
  dashboard's customer page, support), as the admin API shows them.
- get_settings(store) -> SurpriseSettings: Store.settings["surprises"] as its reader applies it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.stores.models import Store
from app.surprises.models import Surprise
from app.surprises.service import as_dict
from app.surprises.settings import SurpriseSettings, get_settings

__all__ = ["SurpriseSettings", "get_settings", "surprises_of"]


def surprises_of(session: Session, store: Store, customer_id: int) -> list[dict[str, Any]]:
    stmt = select(Surprise).where(Surprise.store_id == store.id, Surprise.customer_id == customer_id)
    return [as_dict(s) for s in session.scalars(stmt.order_by(Surprise.threshold))]
