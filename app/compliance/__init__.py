"""Privacy requests: the platforms' compliance webhooks and the merchant's own, exports and erasure."""

from flask import Flask


def init_app(app: Flask) -> None:
    from app import scheduler
    from app.compliance.cli import compliance_cli
    from app.compliance.erasure import erase_parcels_if_redacted
    from app.compliance.service import erase_if_tombstone, record_compliance_request
    from app.compliance.tasks import sweep_step
    from app.inbox import pipeline
    from connectors.events import ComplianceRequest, CustomerChanged, FulfillmentChanged, OrderChanged

    # A late or still-queued delivery about an erased account must not refill its tombstone.
    pipeline.on(OrderChanged, erase_if_tombstone, stage="guard")
    pipeline.on(CustomerChanged, erase_if_tombstone, stage="guard")
    # Nor a late fulfilment (or WooCommerce order) update bring an erased parcel's tracking back.
    pipeline.on(OrderChanged, erase_parcels_if_redacted, stage="guard")
    pipeline.on(FulfillmentChanged, erase_parcels_if_redacted, stage="guard")
    # Privacy requests are recorded from the delivery (its id, its body) and carried out by their own job.
    pipeline.on_delivery(ComplianceRequest, record_compliance_request)
    scheduler.register_step(sweep_step, phase="intake")
    app.cli.add_command(compliance_cli)
