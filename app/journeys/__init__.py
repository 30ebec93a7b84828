"""The delivery journey: the customer told when the parcel ships, is out for delivery, arrives, could not be
delivered, or is late, on their channel and in their language, once per state per parcel and never backwards
(decide.py); late parcels open a recovery case (late.py, app/recovery).

A follower of the records (follower.py): states come from what records/ keeps of fulfilments and carrier events
(both platforms). "Delivered" itself stays a records fact (Fulfillment.delivered_at, Order.delivered_at), which
the review requests and the loyalty points' return window read; the journey only adds the message.
Settings: the store-wide section "delivery_updates" (settings.py). Docs: docs/delivery-and-recovery.md.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from app.journeys.states import MESSAGED

__all__ = ["MESSAGED", "init_app"]


def init_app(app: Flask) -> None:
    from app import scheduler
    from app.compliance.api import register_order_rows
    from app.journeys.follower import JourneyFollower
    from app.journeys.late import scan_late_parcels
    from app.journeys.models import DeliveryUpdate
    from app.journeys.send import send_due
    from app.journeys.settings import SECTION
    from app.messaging.api import register_templates
    from app.records import followers
    from app.stores.settings import register_section

    register_templates(Path(__file__).resolve().parent / "templates", tuple(f"delivery_{s}" for s in MESSAGED))
    register_section(SECTION)
    # A data request exports what was decided and sent for each parcel under its order; the rows hold no tracking
    # number or link (those are the fulfilment's, erased by customers/redact; the message's context is messaging's).
    register_order_rows(DeliveryUpdate, "delivery_updates")
    followers.register(JourneyFollower())
    scheduler.register_step(scan_late_parcels, phase="programmes")  # late parcels: recovery cases, delay notes
    scheduler.register_step(send_due, phase="delivery")  # the updates decided, queued on the customer's channel
