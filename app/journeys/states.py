"""A parcel's journey states, from the facts records keeps (app/records: the fulfilment's status, the carrier
statuses seen, delivered_at), and their rank: a message is only ever sent for a state ranked above every state the
parcel already had, so a late or repeated event never moves the customer's story backwards.

Carrier statuses are Shopify's fulfillment event statuses
(https://shopify.dev/docs/api/admin-graphql/latest/enums/FulfillmentEventStatus, lower-cased in webhooks);
WooCommerce's completion is a fulfilment with status success (connectors/woocommerce_snapshots.py), so it is
"shipped", and the tracking facts its connector normalises arrive as the same fulfilment fields and carrier events.
"""

from __future__ import annotations

from app.records.models import Fulfillment

SHIPPED, DELAYED, OUT_FOR_DELIVERY, ATTEMPTED, FAILED, DELIVERED = (
    "shipped", "delayed", "out_for_delivery", "attempted", "failed", "delivered",
)  # fmt: skip
#: The states a message exists for, in rank order.
MESSAGED = (SHIPPED, DELAYED, OUT_FOR_DELIVERY, ATTEMPTED, FAILED, DELIVERED)
RANK = {state: rank for rank, state in enumerate(MESSAGED, start=1)}
LATE = "late"  # the late-parcel scan's mark (late.py); ranked with nothing, never messaged itself
#: Carrier status -> journey state. label_*, confirmed, in_transit, carrier_picked_up say no more than "shipped".
CARRIER = {
    "delayed": DELAYED,
    "out_for_delivery": OUT_FOR_DELIVERY,
    "ready_for_pickup": OUT_FOR_DELIVERY,
    "attempted_delivery": ATTEMPTED,
    "failure": FAILED,
    "delivered": DELIVERED,
}
#: Shopify's fulfilment statuses are pending, open, success, cancelled, error, failure: only success has left the
#: warehouse (https://shopify.dev/docs/api/admin-rest/latest/resources/fulfillment); WooCommerce's is success.
SHIPPED_STATUS = "success"


def parcel_states(parcel: Fulfillment) -> set[str]:
    """Every state the parcel has been in, as far as the records know (in no order: events arrive shuffled)."""
    if parcel.status != SHIPPED_STATUS:
        return set()  # not left yet, cancelled, or only its carrier events seen so far
    states = {SHIPPED}
    states.update(CARRIER[s] for s in parcel.carrier_statuses or [] if s in CARRIER)
    if parcel.delivered_at is not None or parcel.shipment_status == "delivered":
        states.add(DELIVERED)
    if parcel.shipment_status in CARRIER:
        states.add(CARRIER[parcel.shipment_status])
    return states
