"""One discount call to a store from a job, with the outcome every programme's outbox row records the same way
(the recovery coupon, the repeat-customer surprise): created (or found: the connectors look the code up first, so
a retry after a lost answer never makes a second code, and a WooCommerce coupon is read back from what the store
stored: connectors/woocommerce_readback.py) or deleted; else the error and when to try again.

RateLimited waits what the store said (capped); StoreUnavailable backs off (platform/outbox.backoff); any other
ConnectorError, a store we cannot call (NotConnected) or a spec the connectors refuse (ValueError) is permanent:
the same input gets the same answer. The caller's transaction is committed before the HTTP call, so none is held
open across it; the caller re-reads its row afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session, scoped_session

from app.platform.outbox import backoff
from app.stores.clients import NotConnected, client_for
from app.stores.models import Store
from connectors.exceptions import ConnectorError, RateLimited, StoreUnavailable
from connectors.writeback import DiscountSpec


@dataclass(frozen=True)
class Outcome:
    platform_id: str | None = None  # done: the code's id at the store (created or found), or the id deleted
    error: str | None = None  # "<Exception>: <text>"
    wait: timedelta | None = None  # with an error: when to try again; None: permanent

    @property
    def done(self) -> bool:
        return self.platform_id is not None


def discount_call(
    session: Session | scoped_session[Session],
    store: Store,
    *,
    create: Callable[[], DiscountSpec] | None = None,
    delete_id: str | None = None,
    attempts: int,
    base_seconds: float,
    max_seconds: float,
) -> Outcome:
    """Create the spec `create` builds, or delete the code `delete_id`; commits the session before calling out."""
    try:
        spec = create() if create is not None else None
        client = client_for(store)
        session.commit()  # no transaction held open across the HTTP call
        if spec is not None:
            return Outcome(client.create_discount(spec).platform_id)
        if delete_id:
            client.delete_discount(delete_id)  # False (already gone) is done too: a retry after a lost answer
            return Outcome(delete_id)
        return Outcome(error="ValueError: nothing to create or delete")
    except RateLimited as exc:
        wait = timedelta(seconds=min(float(exc.retry_after), max_seconds))
        return Outcome(error=f"RateLimited: {exc}", wait=wait)
    except StoreUnavailable as exc:
        return Outcome(error=f"StoreUnavailable: {exc}", wait=backoff(attempts, base_seconds, max_seconds))
    except (ConnectorError, NotConnected, ValueError) as exc:
        return Outcome(error=f"{type(exc).__name__}: {exc}")
